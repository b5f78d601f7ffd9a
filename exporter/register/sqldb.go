package register

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// conn runs queries written with ? placeholders on either database,
// rewriting them to $1, $2, ... for PostgreSQL.
type conn struct {
	q  querier
	pg bool
}

func rebind(pg bool, q string) string {
	if !pg || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	inStr := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inStr = !inStr
			b.WriteByte(c)
		case c == '?' && !inStr:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func (c conn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return c.q.ExecContext(ctx, rebind(c.pg, q), args...)
}

func (c conn) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return c.q.QueryContext(ctx, rebind(c.pg, q), args...)
}

func (c conn) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return c.q.QueryRowContext(ctx, rebind(c.pg, q), args...)
}

// txn is a transaction that rebinds like conn.
type txn struct {
	conn
	tx *sql.Tx
	// audit, when set, records each timeline event in the audit log in
	// the same transaction.
	audit func(ctx context.Context, t *txn, e AuditEntry) error
}

func (t *txn) Commit() error   { return t.tx.Commit() }
func (t *txn) Rollback() error { return t.tx.Rollback() }

// Lock numbers for PostgreSQL advisory locks.
const (
	lockMigrate  = 0x64736172_01 // "dsar" 1: schema migrations
	lockRegister = 0x64736172_02 // "dsar" 2: numbering requests and the audit chain
)

// begin starts a transaction. With serial set, the transaction holds the
// register's write lock (SQLite: every write transaction does; PostgreSQL:
// an advisory lock), so that request numbers and the audit chain are
// assigned one at a time across processes and machines.
func (s *Store) begin(ctx context.Context, serial bool) (*txn, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	t := &txn{conn: conn{q: tx, pg: s.pg}, tx: tx}
	if serial {
		t.audit = s.appendAudit
	}
	if serial && s.pg {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(lockRegister)); err != nil {
			tx.Rollback()
			return nil, err
		}
	}
	return t, nil
}

// c is the store's connection pool with rebinding.
func (s *Store) c() conn { return conn{q: s.db, pg: s.pg} }
