package msgraph

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/source/sourcetest"
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

var (
	subjectsOnce   sync.Once
	subjectsCached []model.Subject
)

// sampleSubjects reads samples/msgraph/subjects.yaml (once).
func sampleSubjects(t testing.TB) []model.Subject {
	t.Helper()
	subjectsOnce.Do(func() { subjectsCached = sourcetest.LoadSubjects(t, filepath.Join(sampleDir, "subjects.yaml")) })
	if subjectsCached == nil {
		t.Fatal("no subjects")
	}
	return subjectsCached
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
func fetch(t testing.TB, s *Source, subjects []model.Subject) (*sourcetest.Recorder, source.Stats) {
	t.Helper()
	sink := &sourcetest.Recorder{T: t}
	st, err := s.Fetch(context.Background(), sourcetest.Query(t, subjects), sink)
	if err != nil {
		t.Fatal(err)
	}
	if st.Selected != int64(len(sink.Records)) || st.Rejected != int64(len(sink.Rejects)) || st.Rejected > st.Read {
		t.Errorf("stats %+v with %d records and %d rejections", st, len(sink.Records), len(sink.Rejects))
	}
	return sink, st
}

var (
	queryOnce   sync.Once
	queryCached source.Query
)

// readBytes runs the reader of kind over data as the file name base, for
// the subjects of the sample directory.
func readBytes(t testing.TB, kind string, data []byte, base string) (*sourcetest.Recorder, source.Stats, error) {
	t.Helper()
	queryOnce.Do(func() { queryCached = sourcetest.Query(t, sampleSubjects(t)) })
	return readWith(t, mustNew(t, kind, "unused"), data, base, queryCached)
}

// readWith runs s's reader over data as the file name base.
func readWith(t testing.TB, s *Source, data []byte, base string, q source.Query) (*sourcetest.Recorder, source.Stats, error) {
	sink := &sourcetest.Recorder{T: t}
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
