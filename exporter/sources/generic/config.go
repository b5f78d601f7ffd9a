package generic

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dsar-tool/dsar/exporter/source"
)

// Kind names.
const (
	KindCSV   = "generic-csv"
	KindJSONL = "generic-jsonl"
)

// Config configures a generic-csv or generic-jsonl source.
type Config struct {
	// Paths are file globs (resolved against the configuration's folder).
	// Each must match a file.
	Paths []string `yaml:"paths"`
	// Dataset is the dataset the records go to: calls, logins or presence.
	Dataset string `yaml:"dataset"`
	// Columns maps a dataset column to the source column (CSV) or field
	// (JSONL; a dotted path such as caller.number reaches into nested
	// objects) it comes from, or to a constant written "=value".
	Columns map[string]string `yaml:"columns"`
	// Values maps, per enum column (direction, outcome, subject_role,
	// event, result, state), raw source values to the dataset's values,
	// e.g. {state: {DND: do_not_disturb}}. Raw values not listed that
	// already are one of the column's values (in any case) pass through;
	// others become "unknown" where the column allows it, and make the row
	// rejected where it does not.
	Values map[string]map[string]string `yaml:"values"`
	// TimeFormat is how times are written: a Go layout (e.g. "2006-01-02
	// 15:04:05", "02/01/2006 15:04"), or RFC3339, DateTime, epoch
	// (seconds) or epoch_ms. Default RFC3339.
	TimeFormat string `yaml:"time_format"`
	// Timezone is the zone of times written without an offset (IANA name,
	// e.g. Europe/London); required when time_format has no zone.
	Timezone string `yaml:"timezone"`
	// SubjectColumns are the source columns that identify the subject,
	// each with the identifier kind it holds.
	SubjectColumns []SubjectColumn `yaml:"subject_columns"`
	// Where keeps only the rows whose source column (or field) holds one of
	// the listed values, e.g. {event: [login, logout]}, for files that mix
	// several kinds of record. Other rows are counted as read and skipped.
	Where map[string][]string `yaml:"where"`
	// MatchTime is the dataset timestamp column whose time decides whether
	// an identifier was the subject's (default: the dataset's first
	// timestamp, start_utc or at_utc).
	MatchTime string `yaml:"match_time"`
	// Delimiter separates CSV fields: one character, or "tab" (default ",").
	Delimiter string `yaml:"delimiter"`
	// Header says whether a CSV file's first line names its columns
	// (default true). Without one, source columns are named by position:
	// "1", "2", ...
	Header *bool `yaml:"header"`
	// Strict makes Fetch fail when any row could not be read.
	Strict bool `yaml:"strict"`
}

// SubjectColumn is a source column that identifies the subject.
type SubjectColumn struct {
	// Column is the source column or field (dotted path in JSONL).
	Column string `yaml:"column"`
	// Kind is the identifier kind it holds (extension, phone, upn, email,
	// cucm_user, device, entra_id, sip, agent), or "number": an extension
	// or a phone number.
	Kind string `yaml:"kind"`
	// Role is, for the calls dataset, the subject's role when matched on
	// this column: caller or callee. It fills subject_role when that is
	// not mapped.
	Role string `yaml:"role"`
}

var commonKeys = []source.Key{
	{Name: "paths", Required: true, Description: "list of file globs, relative to the config file; each must match a file"},
	{Name: "dataset", Required: true, Description: "the dataset the records go to: calls, logins or presence"},
	{Name: "columns", Required: true, Description: `map of dataset column to the source column (JSONL: field, dotted for nested objects, e.g. caller.number) it comes from, or to a constant written "=value"; source and source_ref (file:line) are set by dsar`},
	{Name: "subject_columns", Required: true, Description: "list of {column, kind[, role]}: the source columns that identify the subject and the identifier kind each holds (extension, phone, number = extension or phone, upn, email, cucm_user, device, entra_id, sip, agent); role (caller or callee) fills subject_role for calls"},
	{Name: "values", Description: "per enum column, a map of raw source values to the dataset's values, e.g. {state: {DND: do_not_disturb}}; the raw value is kept in the column's _raw column where the dataset has one"},
	{Name: "where", Description: "only the rows whose source column holds one of the listed values, e.g. {event: [login, logout]}, for files that mix kinds of record; other rows are counted as read and skipped"},
	{Name: "time_format", Description: "how times are written: a Go layout such as \"2006-01-02 15:04:05\", or RFC3339 (default), DateTime, epoch (seconds) or epoch_ms"},
	{Name: "timezone", Description: "the zone of times written without an offset, e.g. Europe/London; required when time_format has no zone"},
	{Name: "match_time", Description: "the dataset timestamp column whose time decides whether an identifier was the subject's (default start_utc for calls, at_utc otherwise)"},
}

var csvOnlyKeys = []source.Key{
	{Name: "delimiter", Description: `the field separator: one character, or "tab" (default ",")`},
	{Name: "header", Description: `whether each file's first line names the columns (default true); without one, name source columns by position: "1", "2", ...`},
}

var strictKey = source.Key{Name: "strict", Description: "true to fail the export when any row cannot be read (default false: such rows are listed in the manifest)"}

// CSVKind declares the generic-csv connector for the registry.
var CSVKind = source.Kind{
	Name:    KindCSV,
	Summary: "Any system's CSV export (a call recorder's or softphone's call log, a login or presence log), mapped onto the calls, logins or presence dataset by the configuration.",
	Keys:    append(append(append([]source.Key(nil), commonKeys...), csvOnlyKeys...), strictKey),
	New:     newKind(KindCSV),
}

// JSONLKind declares the generic-jsonl connector for the registry.
var JSONLKind = source.Kind{
	Name:    KindJSONL,
	Summary: "Any system's JSON Lines export (one JSON object per line), mapped onto the calls, logins or presence dataset by the configuration.",
	Keys:    append(append([]source.Key(nil), commonKeys...), strictKey),
	New:     newKind(KindJSONL),
}

func newKind(kind string) func(string, func(any) error, func(string) string) (source.Source, error) {
	return func(name string, decode func(any) error, resolve func(string) string) (source.Source, error) {
		var c Config
		if err := decode(&c); err != nil {
			return nil, fmt.Errorf("source %q: %w", name, err)
		}
		for i, p := range c.Paths {
			c.Paths[i] = resolve(p)
		}
		return New(name, kind, c)
	}
}

// New checks cfg and returns the source called name of the given kind
// (KindCSV or KindJSONL). Errors name the configuration key at fault.
func New(name, kind string, cfg Config) (*Source, error) {
	if strings.TrimSpace(name) == "" {
		return nil, fmt.Errorf("%s: source name is required", kind)
	}
	s, err := newSource(name, kind, cfg)
	if err != nil {
		return nil, fmt.Errorf("source %q: %w", name, err)
	}
	return s, nil
}

func newSource(name, kind string, cfg Config) (*Source, error) {
	s := &Source{name: name, kind: kind, delim: ',', header: true}
	switch kind {
	case KindCSV:
		if cfg.Header != nil {
			s.header = *cfg.Header
		}
		switch d := cfg.Delimiter; {
		case d == "":
		case strings.EqualFold(d, "tab") || d == `\t`:
			s.delim = '\t'
		case len(d) == 1 && d != `"` && d != "\n" && d != "\r":
			s.delim = d[0]
		default:
			return nil, fmt.Errorf("delimiter %q: want one ASCII character other than a quote or a line break, or \"tab\"", d)
		}
	case KindJSONL:
		if cfg.Delimiter != "" || cfg.Header != nil {
			return nil, errors.New("delimiter and header apply to generic-csv only")
		}
	default:
		return nil, fmt.Errorf("unknown kind %q (want %s or %s)", kind, KindCSV, KindJSONL)
	}
	if len(cfg.Paths) == 0 {
		return nil, errors.New("paths: at least one file glob is required")
	}
	for i, p := range cfg.Paths {
		if strings.TrimSpace(p) == "" {
			return nil, fmt.Errorf("paths[%d] is empty", i)
		}
		if _, err := filepath.Match(p, ""); err != nil {
			return nil, fmt.Errorf("paths[%d] %q: %w", i, p, err)
		}
	}
	s.paths = append([]string(nil), cfg.Paths...)
	s.strict = cfg.Strict
	m, err := newMapping(cfg, s.header || kind == KindJSONL)
	if err != nil {
		return nil, err
	}
	s.m = m
	return s, nil
}
