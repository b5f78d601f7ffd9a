package register

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dsar-tool/dsar/exporter/itest"
)

// pgDSN is the PostgreSQL the tests use: DSAR_TEST_POSTGRES, or the local
// server with trust authentication.
func pgDSN() string {
	if d := os.Getenv("DSAR_TEST_POSTGRES"); d != "" {
		return d
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

var schemaSeq atomic.Int64

// pgSchema creates an empty schema for one test and returns a DSN that
// uses it; the schema is dropped when the test ends.
func pgSchema(t testing.TB) string {
	t.Helper()
	db, err := sql.Open("pgx", pgDSN())
	if err == nil {
		err = db.Ping()
	}
	itest.Need(t, "PostgreSQL on 127.0.0.1:5432 (database test)", err)
	name := fmt.Sprintf("dsar_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, schemaSeq.Add(1))
	if _, err := db.Exec(`CREATE SCHEMA ` + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Exec(`DROP SCHEMA ` + name + ` CASCADE`)
		db.Close()
	})
	return pgDSN() + "&search_path=" + name
}

func openPostgresStore(t *testing.T, policy string) *Store {
	t.Helper()
	s, err := OpenPostgres(context.Background(), pgSchema(t), "test database", Options{Calendar: calendar(t), ClockStart: policy})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Now = func() time.Time { return time.Date(2026, 2, 2, 10, 0, 0, 0, time.UTC) }
	return s
}

// TestPostgres runs the store tests again on PostgreSQL: the shared
// register must behave exactly as the embedded one.
func TestPostgres(t *testing.T) {
	openStore = openPostgresStore
	defer func() { openStore = openSQLiteStore }()
	for name, f := range map[string]func(*testing.T){
		"Lifecycle":             TestStoreLifecycle,
		"ClockStartPolicy":      TestClockStartPolicy,
		"CreateRejectsBadInput": TestCreateRejectsBadInput,
		"ClockScenarios":        TestClockScenarios,
		"ImpossibleTransitions": TestImpossibleTransitions,
		"RepeatFlagged":         TestRepeatFlagged,
		"ImportAllOrNothing":    TestImportAllOrNothing,
		"AuditChain":            TestAuditChain,
		"AuditTampering":        TestAuditTampering,
	} {
		t.Run(name, f)
	}
}

// TestPostgresConcurrentStart: several processes starting together on an
// empty database migrate it once, and number requests without clashes.
func TestPostgresConcurrentStart(t *testing.T) {
	dsn := pgSchema(t)
	ctx := context.Background()
	const n = 6
	errs := make(chan error, n)
	stores := make(chan *Store, n)
	for i := 0; i < n; i++ {
		go func() {
			s, err := OpenPostgres(ctx, dsn, "test database", Options{Calendar: calendar(t)})
			if err == nil {
				s.Now = func() time.Time { return time.Date(2026, 2, 2, 10, 0, 0, 0, time.UTC) }
				stores <- s
			}
			errs <- err
		}()
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	close(stores)
	var all []*Store
	for s := range stores {
		all = append(all, s)
		defer s.Close()
	}
	ids := make(chan string, 5*n)
	errs = make(chan error, 5*n)
	for _, s := range all {
		for j := 0; j < 5; j++ {
			go func(s *Store) {
				c, err := s.Create(ctx, NewRequest{Subject: "S-1", Types: []string{"access"}, Received: date("2026-01-05")})
				if err != nil {
					errs <- err
					return
				}
				ids <- c.ID
				errs <- nil
			}(s)
		}
	}
	seen := map[string]bool{}
	for i := 0; i < 5*n; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	close(ids)
	for id := range ids {
		if seen[id] {
			t.Fatalf("request id %s given twice", id)
		}
		seen[id] = true
	}
	if len(seen) != 5*n {
		t.Fatalf("%d ids for %d requests", len(seen), 5*n)
	}
}
