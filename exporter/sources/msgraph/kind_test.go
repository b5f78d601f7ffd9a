package msgraph

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/source/sourcetest"
)

// newFromYAML builds a source of kind k from a YAML entry, as
// exporter/sources/all does (paths resolved against dir).
func newFromYAML(t *testing.T, k source.Kind, dir, entry string) (source.Source, error) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(entry), &n); err != nil {
		t.Fatal(err)
	}
	node := n.Content[0]
	known := map[string]bool{"name": true, "kind": true}
	for _, key := range k.Keys {
		known[key.Name] = true
	}
	for i := 0; i < len(node.Content); i += 2 {
		if !known[node.Content[i].Value] {
			t.Fatalf("key %q is not declared by %s", node.Content[i].Value, k.Name)
		}
	}
	resolve := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	return k.New("teams", node.Decode, resolve)
}

func TestKinds(t *testing.T) {
	dir, err := filepath.Abs(sampleDir)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kind    source.Kind
		entry   string
		records int
	}{
		{CallRecordsKind, "name: teams-calls\nkind: msgraph-callrecords\npaths: [\"callrecords/*.json\"]\n", 11},
		{PSTNKind, "name: teams-pstn\nkind: msgraph-pstn\npaths: [pstn/pstn-*.page-1.json, pstn/pstn-*.page-2.json]\nstrict: false\n", 6},
		{PresenceKind, "name: teams-presence\nkind: msgraph-presence\npaths: [presence/*.jsonl]\n", 8},
		{SignInsKind, "name: entra\nkind: entra-signins\npaths: [signins/*.json]\napps: [Microsoft Teams, Microsoft Teams Web Client]\n", 5},
	}
	for _, tc := range tests {
		t.Run(tc.kind.Name, func(t *testing.T) {
			k := tc.kind
			if k.Summary == "" || k.New == nil || len(k.Keys) < 2 {
				t.Fatalf("incomplete kind %+v", k)
			}
			for _, key := range k.Keys {
				if key.Description == "" || key.Required != (key.Name == "paths") {
					t.Errorf("key %+v", key)
				}
			}
			s, err := newFromYAML(t, k, dir, tc.entry)
			if err != nil {
				t.Fatal(err)
			}
			if s.Kind() != k.Name || s.Name() != "teams" {
				t.Errorf("Kind %q, Name %q", s.Kind(), s.Name())
			}
			sink := &sourcetest.Recorder{T: t}
			if _, err := s.Fetch(context.Background(), sourcetest.Query(t, sampleSubjects(t)), sink); err != nil {
				t.Fatal(err)
			}
			if len(sink.Records) != tc.records {
				t.Errorf("%d records, want %d", len(sink.Records), tc.records)
			}
		})
	}
}

func TestKindDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		kind  source.Kind
		entry string
		want  string
	}{
		{CallRecordsKind, "name: x\npaths: callrecords\n", "cannot unmarshal"},
		{CallRecordsKind, "name: x\npaths: []\n", `source "teams": paths: at least one file glob is required`},
		{PSTNKind, "name: x\npaths: [\"\"]\n", `source "teams": paths[0] is empty`},
		{PresenceKind, "name: x\npaths: [\"[\"]\n", `source "teams": paths[0]`},
		{SignInsKind, "name: x\npaths: [a]\napps: [\" \"]\n", `source "teams": apps[0] is empty`},
		{SignInsKind, "name: x\npaths: [a]\nstrict: maybe\n", "cannot unmarshal"},
	} {
		_, err := newFromYAML(t, tc.kind, t.TempDir(), tc.entry)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %q: err %v, want %q", tc.kind.Name, tc.entry, err, tc.want)
		}
	}
	if _, err := NewPSTN(" ", Config{Paths: []string{"a"}}); err == nil || err.Error() != "msgraph-pstn: source name is required" {
		t.Errorf("empty name: %v", err)
	}
}

func TestNewCopiesConfig(t *testing.T) {
	paths := []string{"a.json"}
	s, err := NewCallRecords("teams", Config{Paths: paths})
	if err != nil {
		t.Fatal(err)
	}
	paths[0] = "b.json"
	if s.paths[0] != "a.json" {
		t.Error("the source shares the caller's paths slice")
	}
}

func TestFetchErrors(t *testing.T) {
	dir := t.TempDir()
	file := sourcetest.WriteFile(t, "s.json", signInJSON(1))
	ctx := context.Background()
	q := sourcetest.Query(t, sampleSubjects(t))

	s := mustNew(t, KindSignIns, filepath.Join(dir, "missing-*.json"))
	_, err := s.Fetch(ctx, q, &sourcetest.Recorder{T: t})
	if !errors.Is(err, source.ErrNoFiles) || !strings.Contains(err.Error(), `source "graph"`) {
		t.Errorf("no files: %v", err)
	}

	s = mustNew(t, KindSignIns, dir)
	if _, err := s.Fetch(ctx, q, &sourcetest.Recorder{T: t}); err == nil || !strings.Contains(err.Error(), "matches a directory") {
		t.Errorf("a directory: %v", err)
	}

	s = mustNew(t, KindSignIns, file)
	if _, err := s.Fetch(ctx, source.Query{}, &sourcetest.Recorder{T: t}); err == nil || !strings.Contains(err.Error(), "no matcher") {
		t.Errorf("no matcher: %v", err)
	}

	unreadable := sourcetest.WriteFile(t, "u.json", "[]")
	if err := os.Chmod(unreadable, 0); err == nil && os.Geteuid() != 0 {
		s = mustNew(t, KindSignIns, unreadable)
		if _, err := s.Fetch(ctx, q, &sourcetest.Recorder{T: t}); err == nil || !strings.Contains(err.Error(), `source "graph"`) {
			t.Errorf("unreadable file: %v", err)
		}
	}
}

func TestStrict(t *testing.T) {
	bad := sourcetest.WriteFile(t, "s.json", "["+signInJSON(1)+",{\"id\":1}]")
	s, err := NewSignIns("graph", SignInsConfig{Config: Config{Paths: []string{bad}, Strict: true}})
	if err != nil {
		t.Fatal(err)
	}
	sink := &sourcetest.Recorder{T: t}
	st, err := s.Fetch(context.Background(), sourcetest.Query(t, sampleSubjects(t)), sink)
	if err == nil || err.Error() != `source "graph": 1 record(s) could not be read (strict mode)` {
		t.Errorf("strict: %v", err)
	}
	if st.Rejected != 1 || len(sink.Rejects) != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestSinkErrorWhileFlushing checks that a call-records sink error, which
// comes after every file was read, is passed through at once.
func TestSinkErrorWhileFlushing(t *testing.T) {
	s := mustNew(t, KindCallRecords, filepath.Join(sampleDir, "callrecords/*.json"))
	sink := &sourcetest.Recorder{T: t, FailOn: 2}
	_, err := s.Fetch(context.Background(), sourcetest.Query(t, sampleSubjects(t)), sink)
	if !errors.Is(err, sourcetest.ErrSinkFull) || len(sink.Records) != 2 {
		t.Errorf("err %v after %d records", err, len(sink.Records))
	}
}

// cancelSink cancels the Fetch's context on the first record.
type cancelSink struct {
	sourcetest.Recorder
	cancel context.CancelFunc
}

func (c *cancelSink) Emit(subject string, d *model.Dataset, rec model.Record) error {
	c.cancel()
	return c.Recorder.Emit(subject, d, rec)
}

func TestCancelledWhileReading(t *testing.T) {
	var b strings.Builder
	b.WriteString("[")
	for i := 1; i <= 3*ctxEvery; i++ {
		if i > 1 {
			b.WriteString(",")
		}
		b.WriteString(signInJSON(i))
	}
	b.WriteString("]")
	s := mustNew(t, KindSignIns, sourcetest.WriteFile(t, "s.json", b.String()))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sink := &cancelSink{Recorder: sourcetest.Recorder{T: t}, cancel: cancel}
	_, err := s.Fetch(ctx, sourcetest.Query(t, sampleSubjects(t)), sink)
	if !errors.Is(err, context.Canceled) || len(sink.Records) > ctxEvery {
		t.Errorf("err %v after %d records", err, len(sink.Records))
	}
}
