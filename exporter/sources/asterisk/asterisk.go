// Package asterisk is the asterisk-csv connector: it reads Asterisk call
// detail records as the cdr_csv backend writes them (Master.csv) and emits
// the calls of the wanted subjects.
//
// The file format, as cdr/cdr_csv.c writes it: no header; one record per
// line; 16 base columns (accountcode, src, dst, dcontext, clid, channel,
// dstchannel, lastapp, lastdata, start, answer, end, duration, billsec,
// disposition, amaflags) followed by the optional columns cdr.conf turns on
// (uniqueid, userfield, then peeraccount, linkedid, sequence). Strings are
// always double-quoted with an embedded quote doubled and nothing else
// escaped (a string may hold commas and, in principle, newlines); integers
// are bare; dates are "YYYY-MM-DD HH:MM:SS" in the PBX host's zone (or GMT
// with usegmtime=yes), and an unset date is an empty unquoted field.
//
// A file is read once, streaming, in bounded memory; a row is turned into
// strings only when it may belong to a wanted subject.
package asterisk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
)

// KindName is the connector kind in a configuration's sources list.
const KindName = "asterisk-csv"

// ExtraColumns lists the optional columns cdr_csv can append after the 16
// base columns, in the order it writes them: uniqueid (loguniqueid=yes),
// userfield (loguserfield=yes), and peeraccount, linkedid, sequence
// (newcdrcolumns=yes, always the three together).
var ExtraColumns = []string{"uniqueid", "userfield", "peeraccount", "linkedid", "sequence"}

// Config configures an asterisk-csv source.
type Config struct {
	// Paths are file globs (already resolved against the configuration's
	// directory), e.g. /var/log/asterisk/cdr-csv/Master*.csv. Every glob
	// must match at least one file. Do not also match the per-account
	// files (cdr-csv/<accountcode>.csv): they repeat Master.csv's rows.
	Paths []string `yaml:"paths"`
	// Timezone is the zone the dates are written in: the PBX host's zone
	// (e.g. Europe/London), or UTC (or GMT) when cdr.conf sets
	// usegmtime=yes. Required: the file does not say.
	Timezone string `yaml:"timezone"`
	// ExtraColumns are the optional columns the PBX writes after the 16
	// base columns, in the order it writes them (a subsequence of
	// ExtraColumns; peeraccount, linkedid and sequence come together).
	ExtraColumns []string `yaml:"extra_columns"`
	// Strict makes Fetch fail when any row could not be read. By default
	// such rows are reported to the sink (and so listed in the manifest)
	// and reading goes on.
	Strict bool `yaml:"strict"`
}

// KeyDoc documents one configuration key.
type KeyDoc struct {
	Name     string
	Desc     string
	Required bool
}

// Doc is the static description of a connector kind.
type Doc struct {
	Kind    string
	Summary string
	Keys    []KeyDoc
}

// Describe returns the description of the asterisk-csv kind and its keys.
func Describe() Doc {
	return Doc{
		Kind:    KindName,
		Summary: "Asterisk call detail records as cdr_csv writes them (Master.csv: no header, 16 columns plus the optional ones).",
		Keys: []KeyDoc{
			{Name: "paths", Required: true, Desc: "list of file globs, relative to the config file (e.g. cdr-csv/Master*.csv); each must match a file. Do not include the per-account files, which repeat Master.csv's rows"},
			{Name: "timezone", Required: true, Desc: "the zone the dates are written in: the PBX host's zone (e.g. Europe/London), or UTC when cdr.conf sets usegmtime=yes"},
			{Name: "extra_columns", Desc: "the optional columns this PBX writes after the 16 base columns, in order: uniqueid (loguniqueid=yes), userfield (loguserfield=yes), peeraccount, linkedid, sequence (newcdrcolumns=yes); default none"},
			{Name: "strict", Desc: "true to fail the export when any row cannot be read (default false: such rows are listed in the manifest)"},
		},
	}
}

// CSV is a configured asterisk-csv source. It is immutable once built and
// safe for concurrent Fetches.
type CSV struct {
	name   string
	cfg    Config
	loc    *time.Location
	layout layout
}

var _ source.Source = (*CSV)(nil)

// New checks cfg and returns the source called name.
func New(name string, cfg Config) (*CSV, error) {
	if strings.TrimSpace(name) == "" {
		return nil, errors.New("asterisk-csv: source name is required")
	}
	paths, err := source.CheckPaths(name, cfg.Paths, "/var/log/asterisk/cdr-csv/Master*.csv")
	if err != nil {
		return nil, err
	}
	cfg.Paths = paths
	tz := strings.TrimSpace(cfg.Timezone)
	switch tz {
	case "":
		return nil, fmt.Errorf("source %q: timezone is required: the PBX host's zone (e.g. Europe/London), or UTC if cdr.conf sets usegmtime=yes", name)
	case "Local":
		return nil, fmt.Errorf("source %q: timezone \"Local\" is not allowed: name the PBX host's zone (e.g. Europe/London)", name)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("source %q: timezone %q: %w", name, tz, err)
	}
	lay, err := newLayout(cfg.ExtraColumns)
	if err != nil {
		return nil, fmt.Errorf("source %q: extra_columns: %w", name, err)
	}
	cfg.Timezone = tz
	cfg.Paths = append([]string(nil), cfg.Paths...)
	cfg.ExtraColumns = append([]string(nil), cfg.ExtraColumns...)
	return &CSV{name: name, cfg: cfg, loc: loc, layout: lay}, nil
}

// Name is the configured name of the source.
func (c *CSV) Name() string { return c.name }

// Kind is "asterisk-csv".
func (c *CSV) Kind() string { return KindName }

// Fetch reads every file once and emits a calls record per wanted subject
// a row matches. See the package documentation for the format, and
// resolveTimes and match for the rules.
func (c *CSV) Fetch(ctx context.Context, q source.Query, sink source.Sink) (source.Stats, error) {
	var st source.Stats
	files, err := source.Files(c.name, q, c.cfg.Paths)
	if err != nil {
		return st, err
	}
	sc := c.newScan(ctx, q, sink, &st)
	if err := source.EachFile(ctx, c.name, files, sc.read); err != nil {
		return st, err
	}
	if c.cfg.Strict && st.Rejected > 0 {
		return st, source.StrictError(c.name, st.Rejected, "row(s)")
	}
	return st, nil
}

// newScan returns the state of one Fetch that counts into st.
func (c *CSV) newScan(ctx context.Context, q source.Query, sink source.Sink, st *source.Stats) *scan {
	want := newPrefilter(q)
	return &scan{
		src:   c,
		q:     q,
		sink:  sink,
		st:    st,
		ctx:   ctx,
		zone:  newZoneResolver(c.loc),
		want:  want,
		rname: c.loc.String(),
		calls: NewCalls(c.name, q, want.wants, sink, st),
	}
}

// Column positions of the 16 base columns.
const (
	colAccountCode = iota
	colSrc
	colDst
	colDContext
	colCLID
	colChannel
	colDstChannel
	colLastApp
	colLastData
	colStart
	colAnswer
	colEnd
	colDuration
	colBillsec
	colDisposition
	colAMAFlags
	numBase
)

const maxFields = numBase + 5

var baseNames = [numBase]string{"accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata", "start", "answer", "end", "duration", "billsec", "disposition", "amaflags"}

type colType uint8

const (
	typString colType = iota
	typDate
	typInt
)

// layout is the column layout of one configuration.
type layout struct {
	n        int // fields per record
	names    [maxFields]string
	types    [maxFields]colType
	uniqueid int // position, or -1
	userfld  int
	linkedid int
}

func newLayout(extra []string) (layout, error) {
	var l layout
	l.uniqueid, l.userfld, l.linkedid = -1, -1, -1
	for i, n := range baseNames {
		l.names[i] = n
	}
	l.types[colStart], l.types[colAnswer], l.types[colEnd] = typDate, typDate, typDate
	l.types[colDuration], l.types[colBillsec] = typInt, typInt
	l.n = numBase
	next := 0 // position in ExtraColumns of the next allowed column
	newCols := 0
	for _, raw := range extra {
		e := strings.ToLower(strings.TrimSpace(raw))
		k := -1
		for j, name := range ExtraColumns {
			if name == e {
				k = j
			}
		}
		if k < 0 {
			return l, fmt.Errorf("unknown column %q (known: %s)", raw, strings.Join(ExtraColumns, ", "))
		}
		if k < next {
			return l, fmt.Errorf("column %q is out of order or repeated: cdr_csv writes %s in that order", raw, strings.Join(ExtraColumns, ", "))
		}
		next = k + 1
		pos := l.n
		l.names[pos] = e
		switch e {
		case "uniqueid":
			l.uniqueid = pos
		case "userfield":
			l.userfld = pos
		case "linkedid":
			l.linkedid = pos
		case "sequence":
			l.types[pos] = typInt
		}
		if k >= 2 {
			newCols++
		}
		l.n++
	}
	if newCols != 0 && newCols != 3 {
		return l, errors.New("peeraccount, linkedid and sequence come together (newcdrcolumns=yes writes all three)")
	}
	return l, nil
}

// scanState names the rejection reasons shared by several places.
const (
	reasonUnterminated = "unterminated quote"
	reasonTooLong      = "record longer than 1 MiB"
	reasonUTF8         = "invalid UTF-8"
)

// reject reports one unreadable row.
func (s *scan) reject(line int64, reason string) {
	s.st.Rejected++
	s.sink.Reject(model.Rejection{Source: s.src.name, File: s.base, Line: line, Reason: reason})
}
