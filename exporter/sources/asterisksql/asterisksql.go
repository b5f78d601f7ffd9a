// Package asterisksql is the asterisk-sql connector: it reads the
// Asterisk cdr table as cdr_pgsql, cdr_odbc and cdr_adaptive_odbc fill
// it, on PostgreSQL, MariaDB/MySQL or SQLite, and emits the calls of the
// wanted subjects with the same meaning as the asterisk-csv connector.
//
// # Schemas
//
// Two schemas exist in the wild and columns are mapped by name, found
// when Fetch starts (pg_attribute, information_schema.COLUMNS or
// PRAGMA table_info):
//
//   - classic: calldate (the call's start), clid, src, dst, dcontext,
//     channel, dstchannel, lastapp, lastdata, duration, billsec,
//     disposition, amaflags, accountcode, uniqueid, userfield (NOT NULL),
//     optionally peeraccount, linkedid, sequence. There is no answer or
//     end column: end is calldate + duration and, for an answered call,
//     answer is end - billsec.
//   - Alembic (contrib/ast-db-manage, what Asterisk ships today): start,
//     answer, "end" instead of calldate, every column nullable; a NULL
//     answer means not answered.
//
// src, dst, channel, dstchannel and start or calldate are required; the
// other columns are read when present. disposition is read as text
// (ANSWERED, NO ANSWER, ...) or as Asterisk's integer code (NOANSWER 0,
// NULL 1, FAILED 2, BUSY 4, ANSWERED 8, CONGESTION 16, CANCEL 32), which
// cdr_pgsql writes into an integer column. amaflags is read likewise, as
// text or as its code (OMIT 1, BILLING 2, DOCUMENTATION 3), and kept by
// name in ama_flags. dcontext (the dialplan context, a setting of the PBX
// rather than a fact about the call) has no column in the calls dataset
// and is not read.
//
// # Times
//
// Timestamps without a zone (timestamp, DATETIME, MySQL TIMESTAMP as the
// server returns it, SQLite text) are wall-clock times in the configured
// timezone; the repeated hour of an autumn clock change is resolved with
// the row's duration and billsec as the asterisk-csv connector does, and
// a time in the spring-forward gap rejects the row. PostgreSQL
// timestamptz values are instants and taken as they are; integer values
// are Unix epoch seconds (cdr_pgsql writes those into numeric columns).
//
// # The pushed-down filter
//
// A Fetch runs one query for all of its subjects. The subjects'
// extensions and phone numbers (E.164, 00-international, without +,
// national and national significant forms, also behind the site's
// outside-line prefixes) are bound parameters of
//
//	src IN (...) OR dst IN (...)                      -- = ANY($1) on PostgreSQL
//	OR channel LIKE 'PJSIP/<endpoint>-%' ESCAPE '!'   -- per endpoint and technology
//	OR dstchannel LIKE ...
//
// and, when every identifier's validity is bounded, the start time is
// bounded too (two days wider). The result is a superset: each row is
// then matched whole, at its own time, by the run's Matcher, exactly as
// the asterisk-csv connector matches a CSV row. Numbers appear in the
// query only as parameters, never in the statement's text. A query
// naming no subjects reads the whole table (to check it and count its
// rows) and emits nothing. Past 1,000 endpoints or 30,000 parameters (a
// bulk run over thousands of subjects) the query selects on the time
// range only and Go does all the matching. The source's rows_read counts
// the rows the query returned.
//
// # Indexes
//
// Without indexes every Fetch reads the whole table. These make the
// filter an index lookup:
//
//	-- PostgreSQL (text_pattern_ops lets LIKE 'prefix%' use the index
//	-- whatever the database's collation)
//	CREATE INDEX cdr_src_idx ON cdr (src);
//	CREATE INDEX cdr_dst_idx ON cdr (dst);
//	CREATE INDEX cdr_channel_idx ON cdr (channel text_pattern_ops);
//	CREATE INDEX cdr_dstchannel_idx ON cdr (dstchannel text_pattern_ops);
//	-- MariaDB/MySQL and SQLite
//	CREATE INDEX cdr_src_idx ON cdr (src);
//	CREATE INDEX cdr_dst_idx ON cdr (dst);
//	CREATE INDEX cdr_channel_idx ON cdr (channel);
//	CREATE INDEX cdr_dstchannel_idx ON cdr (dstchannel);
//
// MariaDB/MySQL use the channel indexes for LIKE 'prefix%'; on SQLite the
// connector turns on case_sensitive_like (Asterisk writes PJSIP/... in
// one case) so that they serve LIKE there too. An index on the start
// column (calldate or start) helps when the subjects' identifiers are
// dated.
//
// # References and rejected rows
//
// source_ref is <table>:<key>, the key being the key_column (by default
// an id or acctid column, if the table has one) or else uniqueid (which
// the rows of one call's legs share), or a row number in the query's
// order when there is neither. A row that cannot be read (a value of the
// wrong kind, a missing start, a time that does not exist in the zone,
// invalid UTF-8) is reported to the sink with that reference and the
// column at fault, never its content, and reading goes on.
package asterisksql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/sources/asterisk"
)

// KindName is the connector kind in a configuration's sources list.
const KindName = "asterisk-sql"

// Config configures an asterisk-sql source.
type Config struct {
	// Driver is postgres, mysql (also MariaDB) or sqlite.
	Driver string `yaml:"driver"`
	// DSN is the connection string: a pgx URL or key=value string
	// (postgres://dsar@db/asterisk), a go-sql-driver DSN
	// (dsar@tcp(db:3306)/asteriskcdrdb), or for sqlite the database
	// file (already resolved against the configuration's folder; a file
	// named by DSNEnv is taken as it is).
	DSN string `yaml:"dsn"`
	// DSNEnv names an environment variable that holds the DSN instead,
	// so that a password stays out of the configuration file.
	DSNEnv string `yaml:"dsn_env"`
	// Table is the cdr table, optionally schema-qualified; default cdr.
	Table string `yaml:"table"`
	// Timezone is the zone of timestamps stored without one: cdr_pgsql's
	// timezone= setting, or the PBX host's zone. Required.
	Timezone string `yaml:"timezone"`
	// KeyColumn names a column that identifies a row, for source_ref;
	// default id or acctid if present, else uniqueid.
	KeyColumn string `yaml:"key_column"`
	// Strict makes Fetch fail when any row could not be read.
	Strict bool `yaml:"strict"`
}

// Kind declares the asterisk-sql connector for the registry.
var Kind = source.Kind{
	Name:    KindName,
	Summary: "Asterisk call detail records in the SQL cdr table (cdr_pgsql, cdr_odbc, cdr_adaptive_odbc) on PostgreSQL, MariaDB/MySQL or SQLite.",
	Keys: []source.Key{
		{Name: "driver", Required: true, Description: "the database: postgres, mysql (also for MariaDB) or sqlite"},
		{Name: "dsn", Description: "how to connect: a PostgreSQL URL (postgres://dsar@db.example.ac.uk/asterisk), a MySQL DSN (dsar@tcp(db.example.ac.uk:3306)/asteriskcdrdb), or for sqlite the database file, relative to the config file. Give dsn or dsn_env"},
		{Name: "dsn_env", Description: "the name of an environment variable holding the DSN instead of dsn, to keep a password out of this file"},
		{Name: "table", Description: "the cdr table, optionally schema-qualified (asterisk.cdr); default cdr"},
		{Name: "timezone", Required: true, Description: "the zone of timestamps stored without one: cdr_pgsql.conf's timezone, or the PBX host's zone (e.g. Europe/London); timestamptz columns are read as they are"},
		{Name: "key_column", Description: "a column that identifies a row, used in references to it; default id or acctid if the table has one, else uniqueid"},
		{Name: "strict", Description: "true to fail the export when any row cannot be read (default false: such rows are listed in the manifest)"},
	},
	New: func(name string, decode func(any) error, resolve func(string) string) (source.Source, error) {
		var c Config
		if err := decode(&c); err != nil {
			return nil, err
		}
		if d, ok := dialects[strings.ToLower(strings.TrimSpace(c.Driver))]; ok && d == sqlite && c.DSN != "" {
			c.DSN = resolve(c.DSN)
		}
		return New(name, c)
	},
}

// SQL is a configured asterisk-sql source. It is immutable once built and
// safe for concurrent Fetches; each Fetch opens and closes its own
// connection.
type SQL struct {
	name    string
	cfg     Config
	dialect dialect
	table   []string
	loc     *time.Location
}

var _ source.Source = (*SQL)(nil)

// New checks cfg and returns the source called name. It does not
// connect: Fetch does.
func New(name string, cfg Config) (*SQL, error) {
	if strings.TrimSpace(name) == "" {
		return nil, errors.New("asterisk-sql: source name is required")
	}
	d, ok := dialects[strings.ToLower(strings.TrimSpace(cfg.Driver))]
	if !ok {
		return nil, fmt.Errorf("source %q: driver %q is not supported: want postgres, mysql (also for MariaDB) or sqlite", name, cfg.Driver)
	}
	switch {
	case cfg.DSN == "" && cfg.DSNEnv == "":
		return nil, fmt.Errorf("source %q: dsn or dsn_env is required", name)
	case cfg.DSN != "" && cfg.DSNEnv != "":
		return nil, fmt.Errorf("source %q: give dsn or dsn_env, not both", name)
	}
	if cfg.Table == "" {
		cfg.Table = "cdr"
	}
	parts, ok := splitTable(cfg.Table)
	if !ok {
		return nil, fmt.Errorf("source %q: table %q: want a table name or schema.table", name, cfg.Table)
	}
	tz := strings.TrimSpace(cfg.Timezone)
	switch tz {
	case "":
		return nil, fmt.Errorf("source %q: timezone is required: the zone the PBX writes times in (cdr_pgsql.conf timezone=, else the PBX host's zone, e.g. Europe/London)", name)
	case "Local":
		return nil, fmt.Errorf("source %q: timezone \"Local\" is not allowed: name the PBX's zone (e.g. Europe/London)", name)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("source %q: timezone %q: %w", name, tz, err)
	}
	cfg.Timezone = tz
	cfg.KeyColumn = strings.TrimSpace(cfg.KeyColumn)
	return &SQL{name: name, cfg: cfg, dialect: d, table: parts, loc: loc}, nil
}

// Name is the configured name of the source.
func (s *SQL) Name() string { return s.name }

// Kind is "asterisk-sql".
func (s *SQL) Kind() string { return KindName }

// dsn returns the connection string and a redactor for its password.
func (s *SQL) dsn() (string, redactor, error) {
	dsn := s.cfg.DSN
	if s.cfg.DSNEnv != "" {
		v, ok := os.LookupEnv(s.cfg.DSNEnv)
		if !ok || strings.TrimSpace(v) == "" {
			return "", redactor{}, fmt.Errorf("source %q: environment variable %q (dsn_env) is not set", s.name, s.cfg.DSNEnv)
		}
		dsn = v
	}
	r := redactor{dsn: dsn, password: s.dialect.passwordOf(dsn)}
	if s.dialect == sqlite {
		r = redactor{} // a file name, and the config names it anyway
		if _, err := os.Stat(dsn); err != nil {
			return "", r, fmt.Errorf("source %q: sqlite database: %w", s.name, err)
		}
		// Read only: never create a missing file or write to the PBX's;
		// wait for a writer's lock rather than fail; let the channel
		// indexes serve LIKE 'PJSIP/x-%' (SQLite's LIKE optimisation needs
		// case-sensitive LIKE).
		dsn = (&url.URL{Scheme: "file", Path: dsn, RawQuery: "mode=ro&_pragma=busy_timeout(5000)&_pragma=case_sensitive_like(1)"}).String()
	}
	return dsn, r, nil
}

// open connects to the database and discovers the table.
func (s *SQL) open(ctx context.Context) (*sql.DB, table, redactor, error) {
	var t table
	dsn, red, err := s.dsn()
	if err != nil {
		return nil, t, red, err
	}
	db, err := sql.Open(s.dialect.driverName(), dsn)
	if err != nil {
		return nil, t, red, red.errorf("source %q: cannot open the %s database: %v", s.name, s.dialect, err)
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		if ctx.Err() != nil {
			return nil, t, red, ctx.Err()
		}
		return nil, t, red, red.errorf("source %q: cannot connect to the %s database: %v", s.name, s.dialect, err)
	}
	cols, err := s.dialect.columns(ctx, db, s.table)
	if err != nil {
		db.Close()
		if ctx.Err() != nil {
			return nil, t, red, ctx.Err()
		}
		return nil, t, red, red.errorf("source %q: reading the columns of table %q: %v", s.name, s.cfg.Table, err)
	}
	if len(cols) == 0 {
		db.Close()
		return nil, t, red, fmt.Errorf("source %q: table %q not found in the %s database (names are case-sensitive; qualify it as schema.table if needed)", s.name, s.cfg.Table, s.dialect)
	}
	t, err = s.describe(cols)
	if err != nil {
		db.Close()
		return nil, t, red, err
	}
	return db, t, red, nil
}

// describe maps the table's columns (by name, case-insensitively) onto
// the logical columns.
func (s *SQL) describe(cols []column) (table, error) {
	t := table{quoted: s.dialect.quoteTable(s.table), cols: map[string]column{}}
	byName := map[string]column{}
	for _, c := range cols {
		byName[strings.ToLower(c.name)] = c
	}
	for _, name := range readColumns {
		if c, ok := byName[name]; ok {
			t.cols[name] = c
		}
	}
	for _, name := range requiredColumns {
		if _, ok := t.cols[name]; !ok {
			return t, fmt.Errorf("source %q: table %q has no %s column: an Asterisk cdr table has src, dst, channel, dstchannel and start or calldate", s.name, s.cfg.Table, name)
		}
	}
	switch {
	case t.cols[colStart].name != "":
		t.timeCol = colStart
	case t.cols[colCalldate].name != "":
		t.timeCol = colCalldate
	default:
		return t, fmt.Errorf("source %q: table %q has neither a start nor a calldate column: an Asterisk cdr table has one", s.name, s.cfg.Table)
	}
	if k := s.cfg.KeyColumn; k != "" {
		c, ok := byName[strings.ToLower(k)]
		if !ok {
			return t, fmt.Errorf("source %q: key_column %q is not a column of table %q", s.name, k, s.cfg.Table)
		}
		if lk := strings.ToLower(k); contains(readColumns, lk) {
			t.key = lk
		} else {
			t.key = "key:" + lk
			t.cols[t.key] = c
		}
	} else {
		for _, k := range []string{"id", "acctid"} {
			if c, ok := byName[k]; ok {
				t.key = "key:" + k
				t.cols[t.key] = c
				break
			}
		}
		if t.key == "" {
			if _, ok := t.cols[colUniqueID]; ok {
				t.key = colUniqueID
			}
		}
	}
	return t, nil
}

// ctxEvery is how many rows are read between checks for cancellation.
const ctxEvery = 1024

// Fetch runs one query for all of q's subjects and emits a calls record
// per wanted subject each row matches. See the package documentation.
func (s *SQL) Fetch(ctx context.Context, q source.Query, sink source.Sink) (source.Stats, error) {
	var st source.Stats
	if err := ctx.Err(); err != nil {
		return st, err
	}
	if q.Matcher == nil {
		return st, fmt.Errorf("source %q: query has no matcher", s.name)
	}
	db, t, red, err := s.open(ctx)
	if err != nil {
		return st, err
	}
	defer db.Close()
	qu := buildQuery(s.dialect, t, newFilter(q))
	rows, err := db.QueryContext(ctx, qu.sql, qu.args...)
	if err != nil {
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
		return st, red.errorf("source %q: querying table %q: %v", s.name, s.cfg.Table, err)
	}
	defer rows.Close()
	sc := &scan{src: s, q: q, sink: sink, st: &st, t: t, zone: newZoneResolver(s.loc), want: map[string]bool{}}
	for _, subj := range q.Subjects {
		sc.want[subj.ID] = true
	}
	sc.calls = asterisk.NewCalls(s.name, q, func(id string) bool { return sc.want[id] }, sink, &st)
	sc.index(qu.cols)
	vals := make([]any, len(qu.cols))
	ptrs := make([]any, len(qu.cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		st.Read++
		if st.Read%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return st, err
			}
		}
		clear(vals)
		if err := rows.Scan(ptrs...); err != nil {
			if ctx.Err() != nil {
				return st, ctx.Err()
			}
			return st, red.errorf("source %q: reading table %q: %v", s.name, s.cfg.Table, err)
		}
		if err := sc.row(vals, st.Read); err != nil {
			return st, err
		}
	}
	if err := rows.Err(); err != nil {
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
		return st, red.errorf("source %q: reading table %q: %v", s.name, s.cfg.Table, err)
	}
	if s.cfg.Strict && st.Rejected > 0 {
		return st, source.StrictError(s.name, st.Rejected, fmt.Sprintf("row(s) of table %q", s.cfg.Table))
	}
	return st, nil
}

// scan is the state of one Fetch.
type scan struct {
	src   *SQL
	q     source.Query
	sink  source.Sink
	st    *source.Stats
	t     table
	zone  zoneResolver
	want  map[string]bool
	pos   map[string]int // logical column -> position in the row
	calls *asterisk.Calls
}

func (sc *scan) index(cols []string) {
	sc.pos = map[string]int{}
	for i, c := range cols {
		sc.pos[c] = i
	}
}

// badRow is why a row cannot be read: the column and what is wrong.
type badRow struct{ col, what string }

// row reads one row and emits it to every wanted subject it matches.
// Only a sink error is returned.
func (sc *scan) row(vals []any, n int64) error {
	ref, line := sc.ref(vals, n)
	reject := func(b badRow) {
		sc.st.Rejected++
		reason := b.what + " in column " + b.col
		sc.sink.Reject(model.Rejection{Source: sc.src.name, File: ref, Line: line, Reason: reason})
	}
	r, bad := sc.read(vals)
	if bad != nil {
		reject(*bad)
		return nil
	}
	if len(sc.want) == 0 {
		return nil
	}
	return sc.match(r, ref)
}

// ref returns the row's reference: table:key, or the table and the row
// number when the row has no key.
func (sc *scan) ref(vals []any, n int64) (string, int64) {
	if i, ok := sc.pos[sc.t.key]; ok && sc.t.key != "" {
		if k, ok := decodeString(vals[i]); ok && strings.TrimSpace(k) != "" {
			return sc.src.cfg.Table + ":" + strings.TrimSpace(k), 0
		}
	}
	return sc.src.cfg.Table, n
}

// cdr is one row, read.
type cdr struct {
	times                                                  times
	dur, bill                                              int64
	clid, src, dst, channel, dstchannel, lastapp, lastdata string
	disposition, dispositionRaw                            string
	amaflags                                               string
	accountcode, uniqueid, userfield, linkedid             string
}

// read decodes a row, or says what is wrong with it.
func (sc *scan) read(vals []any) (cdr, *badRow) {
	var r cdr
	get := func(c string) any {
		if i, ok := sc.pos[c]; ok {
			return vals[i]
		}
		return nil
	}
	strs := []struct {
		col string
		dst *string
	}{
		{colCLID, &r.clid}, {colSrc, &r.src}, {colDst, &r.dst}, {colChannel, &r.channel},
		{colDstChannel, &r.dstchannel}, {colLastApp, &r.lastapp}, {colLastData, &r.lastdata},
		{colAccountCode, &r.accountcode}, {colUniqueID, &r.uniqueid}, {colUserField, &r.userfield},
		{colLinkedID, &r.linkedid},
	}
	for _, f := range strs {
		v, ok := decodeString(get(f.col))
		if !ok {
			return r, sc.bad(f.col, "invalid UTF-8 or a value that is not text")
		}
		*f.dst = v
	}
	var ok bool
	if r.disposition, r.dispositionRaw, ok = decodeDisposition(get(colDisposition)); !ok {
		return r, sc.bad(colDisposition, "invalid UTF-8 or a value that is not text")
	}
	if r.amaflags, ok = decodeAMAFlags(get(colAMAFlags)); !ok {
		return r, sc.bad(colAMAFlags, "invalid UTF-8 or a value that is not text")
	}
	var rt rowTimes
	var present bool
	if rt.dur, present, ok = decodeInt(get(colDuration)); !ok {
		return r, sc.bad(colDuration, "not an integer")
	}
	rt.hasDur = present
	if rt.bill, present, ok = decodeInt(get(colBillsec)); !ok {
		return r, sc.bad(colBillsec, "not an integer")
	}
	rt.hasBill = present
	tcol := sc.t.timeCol
	if rt.start, ok = decodeTime(get(tcol), sc.t.cols[tcol].isTZ()); !ok {
		return r, sc.bad(tcol, "not a date and time")
	}
	if rt.start.kind == tUnset {
		return r, sc.bad(tcol, "no date and time")
	}
	if _, has := sc.pos[colAnswer]; has {
		if rt.answer, ok = decodeTime(get(colAnswer), sc.t.cols[colAnswer].isTZ()); !ok {
			return r, sc.bad(colAnswer, "not a date and time")
		}
	} else {
		rt.deriveAnswer = r.disposition == "ANSWERED"
	}
	if rt.end, ok = decodeTime(get(colEnd), sc.t.cols[colEnd].isTZ()); !ok {
		return r, sc.bad(colEnd, "not a date and time")
	}
	rt.hint = uniqueidTime(r.uniqueid)
	t, badCol, ok := sc.zone.resolveTimes(rt)
	if !ok {
		col := map[string]string{"start": tcol, "answer": colAnswer, "end": colEnd}[badCol]
		return r, sc.bad(col, "a time that does not exist in zone "+sc.src.loc.String()+" (clock change)")
	}
	r.times = t
	sc.st.Cover(time.Unix(t.start, 0).UTC())
	r.dur, r.bill = rt.dur, rt.bill
	if !rt.hasDur {
		r.dur = t.end - t.start
	}
	if !rt.hasBill {
		r.bill = 0
		if t.answered {
			r.bill = t.end - t.answer
		}
	}
	return r, nil
}

// bad names a column by its name in the table.
func (sc *scan) bad(logical, what string) *badRow {
	name := logical
	if c, ok := sc.t.cols[logical]; ok {
		name = c.name
	}
	return &badRow{col: name, what: what}
}

// match emits the row once for each wanted subject among its parties, by
// the asterisk-csv connector's rules (asterisk.Calls); a padded channel
// name (a CHAR column) is trimmed to find its endpoint.
func (sc *scan) match(r cdr, ref string) error {
	at := time.Unix(r.times.start, 0).UTC()
	if !sc.calls.Match(at, r.src, r.dst, strings.TrimSpace(r.channel), strings.TrimSpace(r.dstchannel)) {
		return nil
	}
	c := asterisk.CDR{
		Start: at, End: time.Unix(r.times.end, 0).UTC(),
		Duration: r.dur, Billsec: r.bill,
		CLID: r.clid, Src: r.src, Dst: r.dst, Channel: r.channel, DstChannel: r.dstchannel,
		LastApp: r.lastapp, LastData: r.lastdata, AccountCode: r.accountcode, UserField: r.userfield,
		UniqueID: r.uniqueid, LinkedID: r.linkedid,
		Disposition: r.disposition, DispositionRaw: r.dispositionRaw,
		AMAFlags: r.amaflags,
	}
	if r.times.answered {
		c.Answer = time.Unix(r.times.answer, 0).UTC()
	}
	return sc.calls.Emit(&c, ref)
}
