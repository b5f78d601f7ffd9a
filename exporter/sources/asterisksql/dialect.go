package asterisksql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers database/sql driver "pgx"
	_ "modernc.org/sqlite"             // registers database/sql driver "sqlite"
)

// dialect is what differs between the three databases.
type dialect uint8

const (
	postgres dialect = iota + 1
	mysqlDB
	sqlite
)

// dialects maps the driver names a configuration may use.
var dialects = map[string]dialect{
	"postgres":   postgres,
	"postgresql": postgres,
	"mysql":      mysqlDB,
	"mariadb":    mysqlDB,
	"sqlite":     sqlite,
}

func (d dialect) String() string {
	switch d {
	case postgres:
		return "postgres"
	case mysqlDB:
		return "mysql"
	case sqlite:
		return "sqlite"
	}
	return "dialect(" + strconv.Itoa(int(d)) + ")"
}

// driverName is the database/sql driver.
func (d dialect) driverName() string {
	switch d {
	case postgres:
		return "pgx"
	case mysqlDB:
		return "mysql"
	}
	return "sqlite"
}

// quote quotes an identifier: "end" is a reserved word everywhere.
func (d dialect) quote(name string) string {
	if d == mysqlDB {
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// quoteTable quotes a table name given as table or schema.table.
func (d dialect) quoteTable(parts []string) string {
	q := make([]string, len(parts))
	for i, p := range parts {
		q[i] = d.quote(p)
	}
	return strings.Join(q, ".")
}

// placeholder is the n-th (1-based) bind parameter.
func (d dialect) placeholder(n int) string {
	if d == postgres {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// column is one column of the table as the database describes it.
type column struct {
	name string // as stored
	typ  string // the declared type, lower case
}

// isTZ reports whether the column holds instants rather than wall-clock
// times (PostgreSQL timestamptz).
func (c column) isTZ() bool {
	return strings.Contains(c.typ, "with time zone") || c.typ == "timestamptz"
}

// isDateTime reports whether the column's declared type is a date/time
// type, so that comparing it with a 'YYYY-MM-DD HH:MM:SS' parameter
// compares times.
func (c column) isDateTime() bool {
	return strings.Contains(c.typ, "timestamp") || strings.Contains(c.typ, "date")
}

// columns lists the table's columns: PostgreSQL's catalogue (resolving
// the name through search_path as the server would), MySQL's
// information_schema (in the connection's database unless the table is
// schema-qualified), SQLite's table_info pragma. No rows means no table.
func (d dialect) columns(ctx context.Context, db *sql.DB, parts []string) ([]column, error) {
	var q string
	var args []any
	switch d {
	case postgres:
		q = `SELECT a.attname, format_type(a.atttypid, a.atttypmod)
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`
		args = []any{d.quoteTable(parts)}
	case mysqlDB:
		q = `SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?
ORDER BY ORDINAL_POSITION`
		var schema any
		if len(parts) == 2 {
			schema = parts[0]
		}
		args = []any{schema, parts[len(parts)-1]}
	case sqlite:
		q = `SELECT name, type FROM pragma_table_info(?)`
		args = []any{parts[len(parts)-1]}
		if len(parts) == 2 {
			q = `SELECT name, type FROM pragma_table_info(?, ?)`
			args = append(args, parts[0])
		}
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []column
	for rows.Next() {
		var name, typ sql.NullString
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, err
		}
		out = append(out, column{name: name.String, typ: strings.ToLower(typ.String)})
	}
	return out, rows.Err()
}

// passwordOf returns the password a DSN carries, if the driver's own
// parser finds one, so that it can be kept out of error messages.
func (d dialect) passwordOf(dsn string) string {
	switch d {
	case postgres:
		if c, err := pgx.ParseConfig(dsn); err == nil {
			return c.Password
		}
	case mysqlDB:
		if c, err := mysql.ParseDSN(dsn); err == nil {
			return c.Passwd
		}
	}
	return ""
}

var (
	urlPassword = regexp.MustCompile(`(://[^:/@\s]*:)[^@\s]*@`)
	kvPassword  = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)
	mysqlUser   = regexp.MustCompile(`([\w.-]*:)[^@\s]*@(tcp|unix)\(`)
)

// redactor removes a DSN's password (and the DSN itself) from the text
// of errors, whatever a driver chose to quote.
type redactor struct {
	dsn, password string
}

func (r redactor) text(s string) string {
	if r.dsn != "" {
		s = strings.ReplaceAll(s, r.dsn, "<dsn>")
	}
	if len(r.password) >= 2 {
		s = strings.ReplaceAll(s, r.password, "xxxxx")
	}
	s = urlPassword.ReplaceAllString(s, "${1}xxxxx@")
	s = kvPassword.ReplaceAllString(s, "${1}xxxxx")
	return mysqlUser.ReplaceAllString(s, "${1}xxxxx@${2}(")
}

// errorf formats an error and redacts its text. The driver's error is
// deliberately not wrapped: its own text may hold the password.
func (r redactor) errorf(format string, args ...any) error {
	return errors.New(r.text(fmt.Sprintf(format, args...)))
}
