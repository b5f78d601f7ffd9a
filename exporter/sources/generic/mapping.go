package generic

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
)

// datasets are the datasets a generic source may fill.
var datasets = []*model.Dataset{model.Calls, model.Logins, model.Presence}

// numberKind is the subject_columns kind that looks a value up both as an
// extension and as a phone number (source.Matcher.Number).
const numberKind = "number"

// colFrom says where a dataset column's value comes from.
type colFrom uint8

const (
	fromDefault colFrom = iota // unmapped: an empty value, or derived (see build)
	fromField                  // a source column or field
	fromConst                  // a constant
	fromDsar                   // set by dsar: source, source_ref, leg
)

// column is how one dataset column is filled.
type column struct {
	col   model.Column
	from  colFrom
	field int    // index into mapping.fields (fromField)
	konst any    // the converted constant (fromConst)
	raw   string // the constant as written (fromConst)
	// values maps raw values to the enum: exact first, then folded.
	values, fold map[string]string
	rawCol       int  // the dataset's <name>_raw column, filled from this one; -1 if none
	phone        bool // a number column: E.164 where it is a phone number
}

// subjectCol is one source column that identifies the subject.
type subjectCol struct {
	field int
	kind  string // an identifier kind, or numberKind
	role  string // calls: caller or callee; "" if subject_role is mapped
}

// condition keeps the rows whose field holds one of values.
type condition struct {
	field  int
	values []string
}

// keep reports whether a row passes every where condition.
func (m *mapping) keep(vals []string) bool {
	for _, c := range m.where {
		if !slices.Contains(c.values, strings.TrimSpace(vals[c.field])) {
			return false
		}
	}
	return true
}

// mapping turns one source row (the values of its fields) into a record.
type mapping struct {
	ds        *model.Dataset
	cols      []column
	fields    []string // distinct source columns or field paths, in order of first use
	fieldKeys []string // the configuration key that first names each field
	subjects  []subjectCol
	where     []condition
	match     int // the column whose time decides identifier validity
	times     timeParser
	// Columns filled per matched subject when unmapped (-1 otherwise or
	// absent): the identifier the record matched on and, for calls, the
	// subject's role.
	ident, role int
	// calls: the columns derived from one another when unmapped.
	derived                            bool
	start, answer, end, duration, talk int
}

// newMapping checks the dataset, columns, values, subject_columns,
// time_format, timezone and match_time keys. named is false for CSV files
// without a header, whose columns are named by position.
func newMapping(cfg Config, named bool) (*mapping, error) {
	var names []string
	for _, d := range datasets {
		names = append(names, d.Name)
	}
	var ds *model.Dataset
	for _, d := range datasets {
		if d.Name == strings.TrimSpace(cfg.Dataset) {
			ds = d
		}
	}
	if ds == nil {
		if cfg.Dataset == "" {
			return nil, fmt.Errorf("dataset is required: one of %s", strings.Join(names, ", "))
		}
		return nil, fmt.Errorf("dataset %q: want one of %s", cfg.Dataset, strings.Join(names, ", "))
	}
	tp, err := newTimeParser(cfg.TimeFormat, cfg.Timezone)
	if err != nil {
		return nil, err
	}
	m := &mapping{ds: ds, times: tp, cols: make([]column, len(ds.Columns))}
	idx := func(name string) int { return ds.Index(name) }
	m.start, m.answer, m.end, m.duration, m.talk = -1, -1, -1, -1, -1
	if ds == model.Calls {
		m.start, m.answer, m.end = idx("start_utc"), idx("answer_utc"), idx("end_utc")
		m.duration, m.talk = idx("duration_s"), idx("talk_s")
		m.derived = min(m.start, m.answer, m.end, m.duration, m.talk) >= 0
	}
	for i, c := range ds.Columns {
		m.cols[i] = column{col: c, rawCol: -1, phone: ds == model.Calls && (c.Name == "subject_number" || c.Name == "other_number")}
		if len(c.Enum) > 0 {
			m.cols[i].rawCol = idx(c.Name + "_raw")
		}
		switch c.Name {
		case "source", "source_ref":
			m.cols[i].from = fromDsar
		case "leg":
			if ds == model.Calls {
				m.cols[i].from = fromDsar
			}
		}
	}

	// values: per enum column, raw value -> enum value.
	for _, name := range sortedKeys(cfg.Values) {
		i := idx(name)
		if i < 0 || len(ds.Columns[i].Enum) == 0 {
			return nil, fmt.Errorf("values.%s: not an enum column of dataset %s (enum columns: %s)", name, ds.Name, strings.Join(enumColumns(ds), ", "))
		}
		c := &m.cols[i]
		c.values, c.fold = map[string]string{}, map[string]string{}
		for _, raw := range sortedKeys(cfg.Values[name]) {
			v := cfg.Values[name][raw]
			if !slices.Contains(c.col.Enum, v) {
				return nil, fmt.Errorf("values.%s.%s: %q is not one of %s", name, raw, v, strings.Join(c.col.Enum, ", "))
			}
			c.values[raw] = v
			c.fold[strings.ToLower(strings.TrimSpace(raw))] = v
		}
	}

	// columns.
	if len(cfg.Columns) == 0 {
		return nil, fmt.Errorf("columns is required: map dataset %s's columns (%s) to source columns", ds.Name, strings.Join(columnNames(ds), ", "))
	}
	fieldIdx := map[string]int{}
	field := func(key, name string) (int, error) {
		name = strings.TrimSpace(name)
		if name == "" {
			return 0, fmt.Errorf("%s: empty source column name", key)
		}
		if !named {
			if n, err := strconv.Atoi(name); err != nil || n < 1 {
				return 0, fmt.Errorf("%s: %q: with header: false, name source columns by position (1, 2, ...)", key, name)
			}
		}
		if i, ok := fieldIdx[name]; ok {
			return i, nil
		}
		fieldIdx[name] = len(m.fields)
		m.fields = append(m.fields, name)
		m.fieldKeys = append(m.fieldKeys, key)
		return len(m.fields) - 1, nil
	}
	for _, name := range sortedKeys(cfg.Columns) {
		spec := cfg.Columns[name]
		key := "columns." + name
		i := idx(name)
		if i < 0 {
			return nil, fmt.Errorf("%s: unknown column %q for dataset %s (known: %s)", key, name, ds.Name, strings.Join(columnNames(ds), ", "))
		}
		c := &m.cols[i]
		if c.from == fromDsar {
			return nil, fmt.Errorf("%s: set by dsar (source: the source's name; source_ref: file and line; leg: numbered by the exporter), do not map it", key)
		}
		if konst, ok := strings.CutPrefix(spec, "="); ok {
			v, reason := m.convert(c, konst)
			if reason != "" {
				return nil, fmt.Errorf("%s: constant %q: %s", key, konst, reason)
			}
			c.from, c.konst, c.raw = fromConst, v, konst
			continue
		}
		f, err := field(key, spec)
		if err != nil {
			return nil, err
		}
		c.from, c.field = fromField, f
	}

	// subject_columns.
	if len(cfg.SubjectColumns) == 0 {
		return nil, fmt.Errorf("subject_columns is required: list the source columns that identify the subject, each with its identifier kind, e.g. [{column: agent_upn, kind: upn}]")
	}
	m.ident, m.role = -1, -1
	for _, n := range []string{"subject_number", "subject_identifier"} {
		if i := idx(n); i >= 0 && m.cols[i].from == fromDefault {
			m.ident = i
		}
	}
	if i := idx("subject_role"); i >= 0 && m.cols[i].from == fromDefault {
		m.role = i
	}
	kinds := append(append([]string(nil), model.IdentifierKinds...), numberKind)
	for i, sc := range cfg.SubjectColumns {
		key := fmt.Sprintf("subject_columns[%d]", i)
		f, err := field(key+".column", sc.Column)
		if err != nil {
			return nil, err
		}
		kind := strings.TrimSpace(sc.Kind)
		if !slices.Contains(kinds, kind) {
			return nil, fmt.Errorf("%s.kind %q: want one of %s", key, sc.Kind, strings.Join(kinds, ", "))
		}
		role := strings.TrimSpace(sc.Role)
		switch {
		case role != "" && ds != model.Calls:
			return nil, fmt.Errorf("%s.role: only the calls dataset has a subject role", key)
		case role != "" && !slices.Contains(model.Roles, role):
			return nil, fmt.Errorf("%s.role %q: want one of %s", key, sc.Role, strings.Join(model.Roles, ", "))
		case role == "" && m.role >= 0:
			return nil, fmt.Errorf("%s.role is required (caller or callee) when columns.subject_role is not mapped", key)
		case role != "" && m.role < 0:
			return nil, fmt.Errorf("%s.role: columns.subject_role is mapped; give one or the other", key)
		}
		m.subjects = append(m.subjects, subjectCol{field: f, kind: kind, role: role})
	}

	// where.
	for _, name := range sortedKeys(cfg.Where) {
		key := "where." + name
		f, err := field(key, name)
		if err != nil {
			return nil, err
		}
		if len(cfg.Where[name]) == 0 {
			return nil, fmt.Errorf("%s: list the values of the rows to keep", key)
		}
		var vals []string
		for _, v := range cfg.Where[name] {
			vals = append(vals, strings.TrimSpace(v))
		}
		m.where = append(m.where, condition{field: f, values: vals})
	}

	// Unmapped columns need a value.
	first := -1
	for i, c := range m.cols {
		if c.col.Type == model.Timestamp && first < 0 {
			first = i
		}
		if c.from != fromDefault || i == m.role {
			continue
		}
		key := "columns." + c.col.Name
		switch {
		case len(c.col.Enum) > 0 && !slices.Contains(c.col.Enum, "unknown"):
			return nil, fmt.Errorf("%s is required: dataset %s has no \"unknown\" %s; map it to a source column, or give a constant such as \"=%s\"", key, ds.Name, c.col.Name, c.col.Enum[0])
		case c.col.Type == model.Timestamp && !c.col.Nullable && (i != m.end || !m.derived):
			return nil, fmt.Errorf("%s is required: the time of each record", key)
		case c.col.Type != model.String && c.col.Type != model.Int && c.col.Type != model.Timestamp:
			return nil, fmt.Errorf("%s is required", key)
		}
	}

	// match_time.
	m.match = first
	if name := strings.TrimSpace(cfg.MatchTime); name != "" {
		i := idx(name)
		switch {
		case i < 0 || ds.Columns[i].Type != model.Timestamp:
			return nil, fmt.Errorf("match_time %q: not a timestamp column of dataset %s (%s)", name, ds.Name, strings.Join(timestampColumns(ds), ", "))
		case ds.Columns[i].Nullable:
			return nil, fmt.Errorf("match_time %q: may be empty; name a column every record has (%s)", name, strings.Join(timestampColumns(ds), ", "))
		}
		m.match = i
	}
	return m, nil
}

// convert turns a raw value into column c's value. A non-empty reason
// says why it cannot (never quoting the value).
func (m *mapping) convert(c *column, raw string) (any, string) {
	v := strings.TrimSpace(raw)
	switch c.col.Type {
	case model.String:
		if len(c.col.Enum) > 0 {
			if e, ok := enumValue(c, v); ok {
				return e, ""
			}
			if slices.Contains(c.col.Enum, "unknown") {
				return "unknown", ""
			}
			return nil, fmt.Sprintf("value is not one of %s (map it under values.%s)", strings.Join(c.col.Enum, ", "), c.col.Name)
		}
		return raw, ""
	case model.Int:
		if v == "" {
			if c.col.Nullable {
				return nil, ""
			}
			return int64(0), ""
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, "not an integer"
		}
		return n, ""
	case model.Timestamp:
		if v == "" {
			if c.col.Nullable {
				return nil, ""
			}
			return nil, "empty"
		}
		t, reason := m.times.parse(v)
		if reason != "" {
			return nil, reason
		}
		return t, ""
	}
	return nil, "unsupported column type " + c.col.Type.String()
}

// enumValue maps a raw value through the column's values table, or takes
// it as it is when it is one of the enum's values (in any case).
func enumValue(c *column, v string) (string, bool) {
	if e, ok := c.values[v]; ok {
		return e, true
	}
	l := strings.ToLower(v)
	if e, ok := c.fold[l]; ok {
		return e, true
	}
	if slices.Contains(c.col.Enum, l) {
		return l, true
	}
	return "", false
}

// build makes the record of one row from its field values, or says why
// it cannot. ref is the row's source_ref. The identifying columns (see
// mapping.ident and mapping.role) and phone numbers (see phones) are left
// until the row matches a subject.
func (m *mapping) build(vals []string, name, ref string) (model.Record, string) {
	r := make(model.Record, len(m.cols))
	for i := range m.cols {
		c := &m.cols[i]
		switch c.from {
		case fromField:
			v, reason := m.convert(c, vals[c.field])
			if reason != "" {
				return nil, fmt.Sprintf("field %q (columns.%s): %s", m.fields[c.field], c.col.Name, reason)
			}
			r[i] = v
			if c.rawCol >= 0 && m.cols[c.rawCol].from == fromDefault {
				r[c.rawCol] = vals[c.field]
			}
		case fromConst:
			r[i] = c.konst
			if c.rawCol >= 0 && m.cols[c.rawCol].from == fromDefault {
				r[c.rawCol] = c.raw
			}
		case fromDsar:
			switch c.col.Name {
			case "source":
				r[i] = name
			case "source_ref":
				r[i] = ref
			default: // leg: the exporter numbers the legs of a call
				r[i] = int64(0)
			}
		}
	}
	for i := range m.cols {
		c := &m.cols[i]
		if c.from != fromDefault || r[i] != nil {
			continue
		}
		switch {
		case c.col.Nullable:
		case len(c.col.Enum) > 0:
			r[i] = "unknown"
		case c.col.Type == model.String:
			r[i] = ""
		case c.col.Type == model.Int:
			r[i] = int64(0)
		}
	}
	if m.derived {
		m.derive(r)
	}
	return r, ""
}

// derive fills the calls columns that follow from others when unmapped:
// end_utc is start_utc plus duration_s (or start_utc), duration_s the time
// from start to end, talk_s the time from answer to end (0 if never
// answered).
func (m *mapping) derive(r model.Record) {
	start := r[m.start].(time.Time)
	if m.cols[m.end].from == fromDefault {
		end := start
		if m.cols[m.duration].from != fromDefault {
			end = start.Add(time.Duration(r[m.duration].(int64)) * time.Second)
		}
		r[m.end] = end
	}
	end := r[m.end].(time.Time)
	if m.cols[m.duration].from == fromDefault {
		r[m.duration] = seconds(end.Sub(start))
	}
	if m.cols[m.talk].from == fromDefault {
		talk := int64(0)
		if a, ok := r[m.answer].(time.Time); ok {
			talk = seconds(end.Sub(a))
		}
		r[m.talk] = talk
	}
}

// phones writes the number columns (subject_number, other_number) in
// E.164 where they hold phone numbers.
func (m *mapping) phones(r model.Record, mt *source.Matcher) {
	for i := range m.cols {
		if s, ok := r[i].(string); ok && m.cols[i].phone {
			if e, ok := mt.E164(s); ok {
				r[i] = e
			}
		}
	}
}

func seconds(d time.Duration) int64 { return max(int64(d/time.Second), 0) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func columnNames(ds *model.Dataset) []string {
	var out []string
	for _, c := range ds.Columns {
		out = append(out, c.Name)
	}
	return out
}

func enumColumns(ds *model.Dataset) []string {
	var out []string
	for _, c := range ds.Columns {
		if len(c.Enum) > 0 {
			out = append(out, c.Name)
		}
	}
	return out
}

func timestampColumns(ds *model.Dataset) []string {
	var out []string
	for _, c := range ds.Columns {
		if c.Type == model.Timestamp && !c.Nullable {
			out = append(out, c.Name)
		}
	}
	return out
}
