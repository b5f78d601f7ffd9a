// Package generic is the generic-csv and generic-jsonl connectors: any
// other system's export, a CSV file or JSON Lines (one object per line),
// mapped onto the calls, logins or presence dataset by the configuration.
//
// # Mapping
//
// columns maps each dataset column to a source column (CSV: by header
// name, or by position "1", "2", ... with header: false; JSONL: a field
// name, or a dotted path such as caller.number into nested objects), or
// to a constant written "=value". dsar sets source (the source's name),
// source_ref (file:line) and, for calls, leg (numbered by the exporter).
// An unmapped column is empty: "" for text, 0 for integers, null where
// the dataset allows it, "unknown" for an enum column that has it; an
// unmapped enum column without "unknown" (direction, subject_role when no
// subject column gives a role, event) and an unmapped record time are
// configuration errors. For calls, an unmapped end_utc is start_utc plus
// duration_s, an unmapped duration_s the time from start to end, and an
// unmapped talk_s the time from answer to end (0 if never answered).
//
// Enum values are mapped through values (raw -> dataset value, exact or
// ignoring case); a raw value that already is a dataset value passes in
// any case. The raw value is kept in the column's _raw column
// (outcome_raw, event_raw, state_raw) unless that is mapped itself.
// subject_number and other_number become E.164 where they are phone
// numbers.
//
// # Whose records
//
// subject_columns lists the source columns that identify the subject,
// each with an identifier kind (or "number": an extension or a phone
// number). A row belongs to every subject one of them names, whole and
// after normalisation, with an identifier valid at the match_time column's
// time; the first subject column that names a subject decides the role
// (calls) and the identifier shown (subject_number or
// subject_identifier, unless mapped). Values in other columns never match.
//
// where keeps only the rows whose source column holds one of the listed
// values, for files that mix kinds of record (logins and status changes
// in one agent-event log, say): other rows are counted as read and
// skipped, unconverted.
//
// # Times
//
// time_format is a Go layout, or RFC3339 (the default), DateTime, epoch or
// epoch_ms. Times without an offset are read in timezone; a wall-clock
// time that occurs twice when the clocks go back is read as the first
// occurrence, and one that never occurs when they go forward is rejected.
//
// # Bad rows
//
// A row that cannot be read (a field count that differs from the
// header's, bad quoting, invalid UTF-8 or JSON, a value that does not
// convert) is rejected with file, line and a reason that names the field
// but never quotes it, and reading goes on. A CSV file whose header lacks
// a mapped column has its header and every record rejected. A quoted CSV
// field may span lines (up to 1 MiB a record); an unterminated quote
// rejects its first line only.
package generic

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/sources/internal/textrec"
)

// Source is a configured generic-csv or generic-jsonl source. It is
// immutable once built and safe for concurrent Fetches.
type Source struct {
	name, kind string
	paths      []string
	strict     bool
	delim      byte // CSV
	header     bool // CSV
	m          *mapping
}

var _ source.Source = (*Source)(nil)

// Name is the configured name of the source.
func (s *Source) Name() string { return s.name }

// Kind is generic-csv or generic-jsonl.
func (s *Source) Kind() string { return s.kind }

// Dataset is the dataset the source's records go to.
func (s *Source) Dataset() *model.Dataset { return s.m.ds }

// ctxEvery is how many rows are read between checks for cancellation.
const ctxEvery = 1024

// Fetch reads every file once and emits a record per wanted subject a row
// names. See the package documentation for the rules.
func (s *Source) Fetch(ctx context.Context, q source.Query, sink source.Sink) (source.Stats, error) {
	var st source.Stats
	if err := ctx.Err(); err != nil {
		return st, err
	}
	files, err := source.Files(s.name, q, s.paths)
	if err != nil {
		return st, err
	}
	sc := s.newScan(ctx, q, sink, &st)
	if err := source.EachFile(ctx, s.name, files, sc.read); err != nil {
		return st, err
	}
	if s.strict && st.Rejected > 0 {
		return st, source.StrictError(s.name, st.Rejected, "row(s)")
	}
	return st, nil
}

// scan is the state of one Fetch.
type scan struct {
	src  *Source
	ctx  context.Context
	mt   *source.Matcher
	sink source.Sink
	st   *source.Stats
	want map[string]bool // the query's subjects

	lr   lineReader
	base string          // the file's base name, for source_ref and rejections
	vals []string        // the current row's value of each mapped source field
	bad  string          // why one of vals could not be read, if so
	fs   []textrec.Field // CSV: the current record's fields
	acc  []byte          // CSV: a record spanning several lines
}

// newScan returns the state of one Fetch that counts into st.
func (s *Source) newScan(ctx context.Context, q source.Query, sink source.Sink, st *source.Stats) *scan {
	sc := &scan{src: s, ctx: ctx, mt: q.Matcher, sink: sink, st: st, want: map[string]bool{},
		vals: make([]string, len(s.m.fields))}
	for _, subj := range q.Subjects {
		sc.want[subj.ID] = true
	}
	return sc
}

// read reads one file's content; base names it in references.
func (sc *scan) read(r io.Reader, base string) error {
	sc.base = base
	sc.lr.reset(r)
	if sc.src.kind == KindCSV {
		return sc.readCSV()
	}
	return sc.readJSONL()
}

// next returns the file's next line, or io.EOF, or a read error that names
// the source and file.
func (sc *scan) next() (textrec.Line, error) {
	l, err := sc.lr.next()
	if err != nil && err != io.EOF {
		err = fmt.Errorf("source %q: reading %s: %w", sc.src.name, sc.base, err)
	}
	return l, err
}

// counted counts one row read and checks for cancellation now and then.
func (sc *scan) counted() error {
	sc.st.Read++
	if sc.st.Read%ctxEvery == 0 {
		return sc.ctx.Err()
	}
	return nil
}

// reject reports one unreadable row.
func (sc *scan) reject(ln int64, reason string) {
	sc.st.Rejected++
	sc.sink.Reject(model.Rejection{Source: sc.src.name, File: sc.base, Line: ln, Reason: reason})
}

// row converts one row whose field values are in sc.vals and emits it to
// every wanted subject it names; a row the where conditions leave out is
// skipped.
func (sc *scan) row(ln int64) error {
	m := sc.src.m
	bad := sc.bad
	sc.bad = ""
	if !m.keep(sc.vals) {
		return nil
	}
	if bad != "" {
		sc.reject(ln, bad)
		return nil
	}
	rec, reason := m.build(sc.vals, sc.src.name, sc.base+":"+strconv.FormatInt(ln, 10))
	if reason != "" {
		sc.reject(ln, reason)
		return nil
	}
	at := rec[m.match].(time.Time)
	sc.st.Cover(at)
	type hit struct {
		subject, value, role string
	}
	var hits []hit
	for _, s := range m.subjects {
		v := strings.TrimSpace(sc.vals[s.field])
		var ms []source.Match
		if s.kind == numberKind {
			ms = sc.mt.Number(v, at)
		} else {
			ms = sc.mt.Lookup(s.kind, v, at)
		}
		for _, mt := range ms {
			if !sc.want[mt.Subject] || slices.ContainsFunc(hits, func(h hit) bool { return h.subject == mt.Subject }) {
				continue
			}
			value := v
			if mt.ID.Kind == model.KindPhone {
				value = mt.ID.Value
			}
			hits = append(hits, hit{mt.Subject, value, s.role})
		}
	}
	if len(hits) == 0 {
		return nil
	}
	m.phones(rec, sc.mt)
	for i, h := range hits {
		r := rec
		if i < len(hits)-1 {
			r = slices.Clone(rec) // the sink owns what it is handed
		}
		if m.ident >= 0 {
			r[m.ident] = h.value
		}
		if m.role >= 0 {
			r[m.role] = h.role
		}
		sc.st.Selected++
		if err := sc.sink.Emit(h.subject, m.ds, r); err != nil {
			return err
		}
	}
	return nil
}
