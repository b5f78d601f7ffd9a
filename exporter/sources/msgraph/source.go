package msgraph

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
)

// The connector kinds of this package.
const (
	KindCallRecords = "msgraph-callrecords"
	KindPSTN        = "msgraph-pstn"
	KindPresence    = "msgraph-presence"
	KindSignIns     = "entra-signins"
)

// Config configures a source of any kind of this package.
type Config struct {
	// Paths are file globs (already resolved against the configuration's
	// directory), e.g. /srv/dsar/graph/callrecords/*.json. Every glob
	// must match at least one file.
	Paths []string `yaml:"paths"`
	// Strict makes Fetch fail when any record could not be read. By
	// default such records are reported to the sink (and so listed in the
	// manifest) and reading goes on.
	Strict bool `yaml:"strict"`
}

// SignInsConfig configures an entra-signins source.
type SignInsConfig struct {
	Config `yaml:",inline"`
	// Apps, when set, keeps only the sign-ins to these applications, each
	// given by its appDisplayName (compared case-insensitively) or appId.
	// Empty keeps every sign-in.
	Apps []string `yaml:"apps"`
}

// Source is a configured source of one of this package's kinds. It is
// immutable once built (but for the duplicate counter) and safe for
// concurrent Fetches.
type Source struct {
	name   string
	kind   string
	paths  []string
	strict bool
	apps   map[string]bool // entra-signins: lower-cased names and ids; nil keeps all
	newJob func(r *run) job

	dups atomic.Int64
}

var _ source.Source = (*Source)(nil)

// NewCallRecords returns an msgraph-callrecords source.
func NewCallRecords(name string, cfg Config) (*Source, error) {
	return newSource(name, KindCallRecords, cfg, newCallJob)
}

// NewPSTN returns an msgraph-pstn source.
func NewPSTN(name string, cfg Config) (*Source, error) {
	return newSource(name, KindPSTN, cfg, newPSTNJob)
}

// NewPresence returns an msgraph-presence source.
func NewPresence(name string, cfg Config) (*Source, error) {
	return newSource(name, KindPresence, cfg, newPresenceJob)
}

// NewSignIns returns an entra-signins source.
func NewSignIns(name string, cfg SignInsConfig) (*Source, error) {
	s, err := newSource(name, KindSignIns, cfg.Config, newSignInJob)
	if err != nil {
		return nil, err
	}
	for i, a := range cfg.Apps {
		a = strings.TrimSpace(a)
		if a == "" {
			return nil, fmt.Errorf("source %q: apps[%d] is empty", name, i)
		}
		if s.apps == nil {
			s.apps = map[string]bool{}
		}
		s.apps[strings.ToLower(a)] = true
	}
	return s, nil
}

func newSource(name, kind string, cfg Config, newJob func(*run) job) (*Source, error) {
	if strings.TrimSpace(name) == "" {
		return nil, fmt.Errorf("%s: source name is required", kind)
	}
	paths, err := source.CheckPaths(name, cfg.Paths, "graph/"+kind+"/*.json")
	if err != nil {
		return nil, err
	}
	return &Source{
		name:   name,
		kind:   kind,
		paths:  paths,
		strict: cfg.Strict,
		newJob: newJob,
	}, nil
}

// Name is the configured name of the source.
func (s *Source) Name() string { return s.name }

// Kind is the connector kind, e.g. "msgraph-callrecords".
func (s *Source) Kind() string { return s.kind }

// Duplicates is the number of records the most recent Fetch dropped
// because a record with the same id (for call records: the same id and a
// version no newer) had already been taken, as happens when page files
// are saved twice. Only records that matched a wanted subject are
// counted: the others are not remembered.
func (s *Source) Duplicates() int64 { return s.dups.Load() }

// Fetch reads every file once, in name order, and emits the records that
// belong to the query's subjects. See the package documentation for the
// formats and the rules of each kind.
func (s *Source) Fetch(ctx context.Context, q source.Query, sink source.Sink) (source.Stats, error) {
	var st source.Stats
	if err := ctx.Err(); err != nil {
		return st, err
	}
	files, err := source.Files(s.name, q, s.paths)
	if err != nil {
		return st, err
	}
	r := &run{src: s, ctx: ctx, m: q.Matcher, sink: sink, st: &st}
	if len(q.Subjects) > 0 {
		r.wants = map[string]bool{}
		for _, subj := range q.Subjects {
			r.wants[subj.ID] = true
		}
	}
	w := &walker{r: r, job: s.newJob(r)}
	if err := source.EachFile(ctx, s.name, files, w.read); err != nil {
		return st, err
	}
	if err := ctx.Err(); err != nil {
		return st, err
	}
	if err := w.job.flush(); err != nil {
		return st, err
	}
	s.dups.Store(r.dups)
	if s.strict && st.Rejected > 0 {
		return st, source.StrictError(s.name, st.Rejected, "record(s)")
	}
	return st, nil
}

// run is the state of one Fetch.
type run struct {
	src   *Source
	ctx   context.Context
	m     *source.Matcher
	sink  source.Sink
	st    *source.Stats
	wants map[string]bool // the query's subjects; nil when it names none
	base  string          // the current file's base name
	dups  int64
}

// reject reports one record that could not be read. The reason is fixed
// text, never the record's content.
func (r *run) reject(at pos, reason string) {
	r.st.Rejected++
	r.sink.Reject(model.Rejection{
		Source: r.src.name,
		File:   r.base,
		Line:   at.line,
		Reason: fmt.Sprintf("record %d: %s", at.n, reason),
	})
}

// ref is the source_ref of a record.
func (r *run) ref(at pos) string { return fmt.Sprintf("%s:%d", r.base, at.line) }

// emit hands one record to the sink.
func (r *run) emit(subject string, d *model.Dataset, rec model.Record) error {
	r.st.Selected++
	return r.sink.Emit(subject, d, rec)
}

// lookup returns the wanted subjects whose identifier of kind is value
// at t. Phone kinds go through Matcher.Number (extension or E.164).
func (r *run) lookup(kind, value string, t time.Time) []source.Match {
	var ms []source.Match
	if kind == model.KindPhone {
		ms = r.m.Number(value, t)
	} else {
		ms = r.m.Lookup(kind, value, t)
	}
	if r.wants == nil {
		return ms
	}
	out := ms[:0]
	for _, m := range ms {
		if r.wants[m.Subject] {
			out = append(out, m)
		}
	}
	return out
}

// hit is one subject a record belongs to, with the identifier value it
// matched on.
type hit struct {
	subject string
	value   string
}

// addHits appends the subjects of ms not yet in hs.
func addHits(hs []hit, ms []source.Match) []hit {
	for _, m := range ms {
		dup := false
		for _, h := range hs {
			if h.subject == m.Subject {
				dup = true
				break
			}
		}
		if !dup {
			hs = append(hs, hit{m.Subject, m.ID.Value})
		}
	}
	return hs
}

// userHits looks a user up by UPN, then by object id.
func (r *run) userHits(hs []hit, id, upn string, t time.Time) []hit {
	hs = addHits(hs, r.lookup(model.KindUPN, upn, t))
	return addHits(hs, r.lookup(model.KindEntraID, id, t))
}
