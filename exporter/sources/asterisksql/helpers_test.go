package asterisksql

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dsar-tool/dsar/exporter/itest"
	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/source/sourcetest"
)

// The servers the integration tests use (see DESIGN.md: the SQL
// connector is tested against the real PostgreSQL and MariaDB).
const (
	pgDSN    = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable&connect_timeout=5"
	mysqlDSN = "root@tcp(127.0.0.1:3306)/test?timeout=5s"
)

// sampleSubjects mirrors samples/subjects.yaml.
func sampleSubjects() []model.Subject {
	id := sourcetest.ID
	return []model.Subject{
		{ID: "S-1001", Name: "Alex Example", Identifiers: []model.Identifier{
			id(model.KindExtension, "4321", "2024-09-01", ""),
			id(model.KindSIP, "4321", "2024-09-01", ""),
			id(model.KindPhone, "01632 960555", "", ""),
		}},
		{ID: "S-1002", Name: "Siobhán Ní Bhriain", Identifiers: []model.Identifier{
			id(model.KindExtension, "4312", "", ""),
			id(model.KindSIP, "siobhan-desk", "", ""),
			id(model.KindPhone, "020 7946 0312", "", ""),
		}},
		{ID: "S-1003", Name: "Priya Raman", Identifiers: []model.Identifier{
			id(model.KindExtension, "43210", "", ""),
			id(model.KindSIP, "43210", "", ""),
		}},
		{ID: "S-1004", Name: "Zoë Łukasik", Identifiers: []model.Identifier{
			id(model.KindExtension, "1432", "", ""),
			id(model.KindSIP, "1432", "", ""),
		}},
		{ID: "S-1005", Name: "Dana Whitfield", Identifiers: []model.Identifier{
			id(model.KindExtension, "4400", "", "2025-06-30"),
			id(model.KindSIP, "4400", "", "2025-06-30"),
		}},
		{ID: "S-1006", Name: "陈伟 (Chen Wei)", Identifiers: []model.Identifier{
			id(model.KindExtension, "4400", "2025-07-01", ""),
			id(model.KindSIP, "4400", "2025-07-01", ""),
		}},
	}
}

// wantCalls is what the sample rows hold for each subject: the same as
// the asterisk-csv connector finds in testdata/Master.csv (a copy of
// samples/cdr-csv/Master.csv). The traps: 4321 only inside lastdata,
// accountcode and userfield; 4321's earlier owner (before 2024-09-01);
// 4400 reassigned on 2025-07-01; near misses 43210, 1432, 01432, 14320,
// siobhan-desk2 and IAX2/branch-office-4321; calls across midnight and
// both 2025 clock changes; quotes, commas and non-ASCII names.
var wantCalls = map[string]map[string]int{
	"S-1001": {"calls": 23},
	"S-1002": {"calls": 10},
	"S-1003": {"calls": 5},
	"S-1004": {"calls": 6},
	"S-1005": {"calls": 4},
	"S-1006": {"calls": 4},
}

// cdrRow is one sample CDR with every field as Asterisk renders it.
type cdrRow struct {
	accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata string
	start, answer, end                                                            string // "" = unset
	duration, billsec                                                             string // text so that a bad value can be planted
	disposition, amaflags, uniqueid, userfield                                    string
}

// sampleRows reads testdata/Master.csv (cdr_csv with uniqueid and
// userfield) and adds the rows only a SQL table has.
func sampleRows(t testing.TB) []cdrRow {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "Master.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []cdrRow
	for _, r := range recs {
		if len(r) != 18 {
			t.Fatalf("sample row has %d fields", len(r))
		}
		rows = append(rows, cdrRow{r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15], r[16], r[17]})
	}
	// A start in the spring-forward gap (01:30 on 30 March 2025 does not
	// exist in London): the row is rejected, whichever schema.
	rows = append(rows, cdrRow{"", "4321", "4399", "from-internal", `"Alex Example" <4321>`, "PJSIP/4321-00000201", "PJSIP/4399-00000202",
		"Dial", "PJSIP/4399,20", "2025-03-30 01:30:00", "2025-03-30 03:30:05", "2025-03-30 03:31:00", "60", "55", "ANSWERED", "DOCUMENTATION", "1743298200.950", ""})
	return rows
}

// extra bad rows planted per database.
func mysqlZeroDate() cdrRow {
	return cdrRow{"", "4321", "4399", "from-internal", `"Alex Example" <4321>`, "PJSIP/4321-00000203", "PJSIP/4399-00000204",
		"Dial", "PJSIP/4399,20", "0000-00-00 00:00:00", "", "0000-00-00 00:00:00", "0", "0", "NO ANSWER", "DOCUMENTATION", "1743500000.951", ""}
}

func sqliteBadDuration() cdrRow {
	return cdrRow{"", "1432", "4399", "from-internal", `"Zoë Łukasik" <1432>`, "PJSIP/1432-00000205", "PJSIP/4399-00000206",
		"Dial", "PJSIP/4399,20", "2025-04-02 10:00:00", "2025-04-02 10:00:05", "2025-04-02 10:01:00", "sixty", "55", "ANSWERED", "DOCUMENTATION", "1743584400.952", ""}
}

// schema is a cdr table layout.
type schema int

const (
	classic    schema = iota // calldate, text disposition, integer amaflags (the documented cdr_pgsql table)
	classicInt               // the same with an integer disposition (cdr_pgsql then writes codes)
	alembic                  // start/answer/"end", all nullable, text disposition and amaflags
)

func (s schema) String() string { return [...]string{"classic", "classic_int", "alembic"}[s] }

// backend is a database the tests load sample tables into.
type backend struct {
	d      dialect
	dsn    string // for the connector
	admin  *sql.DB
	schema string // a per-test PostgreSQL schema, or ""
}

func randomName() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// pgBackend connects to the PostgreSQL server and makes a schema of its
// own, dropped after the test.
func pgBackend(t *testing.T) *backend {
	t.Helper()
	db, err := sql.Open("pgx", pgDSN)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = db.PingContext(ctx)
		cancel()
	}
	itest.Need(t, "PostgreSQL on 127.0.0.1:5432", err)
	b := &backend{d: postgres, dsn: pgDSN, admin: db, schema: "dsar_test_" + randomName()}
	b.exec(t, "CREATE SCHEMA "+b.schema)
	t.Cleanup(func() {
		db.Exec("DROP SCHEMA " + b.schema + " CASCADE")
		db.Close()
	})
	return b
}

func mysqlBackend(t *testing.T) *backend {
	t.Helper()
	db, err := sql.Open("mysql", mysqlDSN)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = db.PingContext(ctx)
		cancel()
	}
	itest.Need(t, "MariaDB/MySQL on 127.0.0.1:3306", err)
	t.Cleanup(func() { db.Close() })
	return &backend{d: mysqlDB, dsn: mysqlDSN, admin: db}
}

func sqliteBackend(t *testing.T) *backend {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cdr.db")
	// Test tables need no durability: do not wait for the disk.
	db, err := sql.Open("sqlite", path+"?_pragma=synchronous(off)&_pragma=journal_mode(memory)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &backend{d: sqlite, dsn: path, admin: db}
}

func (b *backend) exec(t testing.TB, q string, args ...any) {
	t.Helper()
	if _, err := b.admin.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// table creates a uniquely named table of the given layout, dropped after
// the test, and returns its name as the connector's table key.
func (b *backend) table(t *testing.T, s schema) string {
	t.Helper()
	name := "cdr_" + s.String() + "_" + randomName()
	if b.schema != "" {
		name = b.schema + "." + name
	}
	ts, txt, it := "timestamp", "varchar", "integer"
	switch b.d {
	case mysqlDB:
		ts = "datetime"
	case sqlite:
		if s == classicInt {
			ts = "text" // SQLite stores what it is given; read it as text
		}
	}
	v := func(n int) string { return txt + "(" + strconv.Itoa(n) + ")" }
	nn := " NOT NULL DEFAULT ''"
	var cols []string
	switch s {
	case classic, classicInt:
		disp := v(45) + nn
		if s == classicInt {
			disp = it + " NOT NULL DEFAULT 0"
		}
		cols = []string{
			"calldate " + ts + " NOT NULL", "clid " + v(80) + nn, "src " + v(80) + nn, "dst " + v(80) + nn,
			"dcontext " + v(80) + nn, "channel " + v(80) + nn, "dstchannel " + v(80) + nn, "lastapp " + v(80) + nn,
			"lastdata " + v(80) + nn, "duration " + it + " NOT NULL DEFAULT 0", "billsec " + it + " NOT NULL DEFAULT 0",
			"disposition " + disp, "amaflags " + it + " NOT NULL DEFAULT 0", "accountcode " + v(20) + nn,
			"uniqueid " + v(150) + nn, "userfield " + v(255) + nn,
		}
	case alembic:
		q := b.d.quote
		cols = []string{
			"accountcode " + v(80), "src " + v(80), "dst " + v(80), "dcontext " + v(80), "clid " + v(80),
			"channel " + v(80), "dstchannel " + v(80), "lastapp " + v(80), "lastdata " + v(80),
			"start " + ts, "answer " + ts, q("end") + " " + ts, "duration " + it, "billsec " + it,
			"disposition " + v(45), "amaflags " + v(45), "userfield " + v(256), "uniqueid " + v(150),
			"linkedid " + v(150), "peeraccount " + v(80), "sequence " + it,
		}
	}
	ddl := "CREATE TABLE " + b.quoted(name) + " (" + strings.Join(cols, ", ") + ")"
	if b.d == mysqlDB {
		ddl += " DEFAULT CHARSET=utf8mb4"
	}
	b.exec(t, ddl)
	t.Cleanup(func() { b.admin.Exec("DROP TABLE IF EXISTS " + b.quoted(name)) })
	return name
}

func (b *backend) quoted(name string) string {
	parts, _ := splitTable(name)
	return b.d.quoteTable(parts)
}

var dispositionNames = map[string]int64{"NO ANSWER": 0, "FAILED": 2, "BUSY": 4, "ANSWERED": 8, "CONGESTION": 16, "CANCEL": 32}
var amaNames = map[string]int64{"OMIT": 1, "BILLING": 2, "DOCUMENTATION": 3}

// load inserts rows as cdr_pgsql would: bound values, NULL for an empty
// value in a nullable column (Alembic), ” or 0 in a NOT NULL one.
func (b *backend) load(t *testing.T, name string, s schema, rows []cdrRow) {
	t.Helper()
	null := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	num := func(v string) any {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
		return v // a planted bad value
	}
	tx, err := b.admin.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for i, r := range rows {
		var cols []string
		var args []any
		switch s {
		case classic, classicInt:
			var disp any = r.disposition
			if s == classicInt {
				disp = dispositionNames[r.disposition]
			}
			cols = []string{"calldate", "clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp", "lastdata",
				"duration", "billsec", "disposition", "amaflags", "accountcode", "uniqueid", "userfield"}
			args = []any{r.start, r.clid, r.src, r.dst, r.dcontext, r.channel, r.dstchannel, r.lastapp, r.lastdata,
				num(r.duration), num(r.billsec), disp, amaNames[r.amaflags], r.accountcode, r.uniqueid, r.userfield}
		case alembic:
			cols = []string{"accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata",
				"start", "answer", "end", "duration", "billsec", "disposition", "amaflags", "userfield", "uniqueid",
				"linkedid", "sequence"}
			args = []any{null(r.accountcode), null(r.src), null(r.dst), null(r.dcontext), null(r.clid), null(r.channel),
				null(r.dstchannel), null(r.lastapp), null(r.lastdata), null(r.start), null(r.answer), null(r.end),
				num(r.duration), num(r.billsec), null(r.disposition), null(r.amaflags), null(r.userfield),
				null(r.uniqueid), null(r.uniqueid), int64(i + 1)}
		}
		ph := make([]string, len(cols))
		for j := range cols {
			cols[j] = b.d.quote(cols[j])
			ph[j] = b.d.placeholder(j + 1)
		}
		q := "INSERT INTO " + b.quoted(name) + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(ph, ", ") + ")"
		if _, err := tx.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// newSource configures the connector over a table of b.
func (b *backend) newSource(t testing.TB, tableName string, mod func(*Config)) *SQL {
	t.Helper()
	cfg := Config{Driver: b.d.String(), DSN: b.dsn, Table: tableName, Timezone: "Europe/London"}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New("pbx", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newSink returns a sink that checks every record, which must be a call.
func newSink(t testing.TB) *sourcetest.Recorder {
	return &sourcetest.Recorder{T: t, Dataset: model.Calls}
}

// get returns the named column of a calls record.
func get(rec model.Record, col string) any { return sourcetest.Col(model.Calls, rec, col) }

func fetch(t testing.TB, s *SQL, subjects []model.Subject) (*sourcetest.Recorder, source.Stats, error) {
	t.Helper()
	sink := newSink(t)
	st, err := s.Fetch(context.Background(), sourcetest.Query(t, subjects), sink)
	return sink, st, err
}
