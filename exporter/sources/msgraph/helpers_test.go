package msgraph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
)

const sampleDir = "../../../samples/msgraph"

// Sample identities (samples/msgraph/subjects.yaml).
const (
	alexID   = "6d2f1a3b-8c4e-4f5a-9b6c-1d2e3f4a5b6c"
	alexBID  = "6d2f1a3b-8c4e-4f5a-9b6c-1d2e3f4a5b7d" // a colleague, not a subject
	sioID    = "0a7c3e55-2b1d-4e8f-a6b3-9c4d5e6f7a80"
	chenID   = "c4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70"
	tenantID = "5f2b7c1e-3a4d-4e8f-9b0a-6c1d2e3f4a5b"
)

type emitted struct {
	subject string
	d       *model.Dataset
	rec     model.Record
}

// memSink keeps what a Fetch hands over and checks every record.
type memSink struct {
	t       testing.TB
	recs    []emitted
	rejects []model.Rejection
	failOn  int // Emit fails on this call (1-based); 0 never
}

var errSinkFull = errors.New("sink full")

func (s *memSink) Emit(subject string, d *model.Dataset, rec model.Record) error {
	if err := d.Check(rec); err != nil {
		s.t.Errorf("bad record: %v", err)
	}
	s.recs = append(s.recs, emitted{subject, d, rec})
	if s.failOn > 0 && len(s.recs) == s.failOn {
		return errSinkFull
	}
	return nil
}

func (s *memSink) Reject(r model.Rejection) { s.rejects = append(s.rejects, r) }

func (s *memSink) bySubject(id string) []model.Record {
	var out []model.Record
	for _, e := range s.recs {
		if e.subject == id {
			out = append(out, e.rec)
		}
	}
	return out
}

// col returns the named column of a record of d.
func col(d *model.Dataset, rec model.Record, name string) any {
	i := d.Index(name)
	if i < 0 {
		panic("no column " + name)
	}
	return rec[i]
}

func london(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

var (
	subjectsOnce   sync.Once
	subjectsCached []model.Subject
)

// sampleSubjects reads samples/msgraph/subjects.yaml (once).
func sampleSubjects(t testing.TB) []model.Subject {
	t.Helper()
	subjectsOnce.Do(func() { subjectsCached = loadSubjects(t) })
	if subjectsCached == nil {
		t.Fatal("no subjects")
	}
	return subjectsCached
}

func loadSubjects(t testing.TB) []model.Subject {
	data, err := os.ReadFile(filepath.Join(sampleDir, "subjects.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var raw []struct {
		ID          string `yaml:"id"`
		Name        string `yaml:"name"`
		Identifiers []struct {
			Kind  string `yaml:"kind"`
			Value string `yaml:"value"`
			From  string `yaml:"from"`
			To    string `yaml:"to"`
		} `yaml:"identifiers"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		t.Fatal(err)
	}
	day := func(s string) time.Time {
		if s == "" {
			return time.Time{}
		}
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	var out []model.Subject
	for _, r := range raw {
		s := model.Subject{ID: r.ID, Name: r.Name}
		for _, id := range r.Identifiers {
			s.Identifiers = append(s.Identifiers, model.Identifier{Kind: id.Kind, Value: id.Value, From: day(id.From), To: day(id.To)})
		}
		out = append(out, s)
	}
	return out
}

func query(t testing.TB, subjects []model.Subject) source.Query {
	t.Helper()
	m, err := source.NewMatcher(subjects, "GB", london(t))
	if err != nil {
		t.Fatal(err)
	}
	return source.Query{Subjects: subjects, Matcher: m}
}

// writeFile writes content to a new file in a temporary folder.
func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// kinds builds a source of each kind over paths.
var newByKind = map[string]func(name string, paths []string) (*Source, error){
	KindCallRecords: func(n string, p []string) (*Source, error) { return NewCallRecords(n, Config{Paths: p}) },
	KindPSTN:        func(n string, p []string) (*Source, error) { return NewPSTN(n, Config{Paths: p}) },
	KindPresence:    func(n string, p []string) (*Source, error) { return NewPresence(n, Config{Paths: p}) },
	KindSignIns: func(n string, p []string) (*Source, error) {
		return NewSignIns(n, SignInsConfig{Config: Config{Paths: p}})
	},
}

func mustNew(t testing.TB, kind string, paths ...string) *Source {
	t.Helper()
	s, err := newByKind[kind]("graph", paths)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fetch runs one Fetch for the sample subjects.
func fetch(t testing.TB, s *Source, subjects []model.Subject) (*memSink, source.Stats) {
	t.Helper()
	sink := &memSink{t: t}
	st, err := s.Fetch(context.Background(), query(t, subjects), sink)
	if err != nil {
		t.Fatal(err)
	}
	if st.Selected != int64(len(sink.recs)) || st.Rejected != int64(len(sink.rejects)) || st.Rejected > st.Read {
		t.Errorf("stats %+v with %d records and %d rejections", st, len(sink.recs), len(sink.rejects))
	}
	return sink, st
}

var (
	queryOnce   sync.Once
	queryCached source.Query
)

// readBytes runs the reader of kind over data as the file name base, for
// the subjects of the sample directory.
func readBytes(t testing.TB, kind string, data []byte, base string) (*memSink, source.Stats, error) {
	t.Helper()
	queryOnce.Do(func() { queryCached = query(t, sampleSubjects(t)) })
	return readWith(t, mustNew(t, kind, "unused"), data, base, queryCached)
}

// readWith runs s's reader over data as the file name base.
func readWith(t testing.TB, s *Source, data []byte, base string, q source.Query) (*memSink, source.Stats, error) {
	sink := &memSink{t: t}
	var st source.Stats
	r := &run{src: s, ctx: context.Background(), m: q.Matcher, sink: sink, st: &st}
	w := &walker{r: r, job: s.newJob(r)}
	err := w.read(bytes.NewReader(data), base)
	if err == nil {
		err = w.job.flush()
	}
	return sink, st, err
}

func jsonIndent(w *bytes.Buffer, s string) error { return json.Indent(w, []byte(s), "", "  ") }

func globSample(glob string) ([]string, error) { return filepath.Glob(filepath.Join(sampleDir, glob)) }

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
