// Package sourcetest is the conformance suite every connector passes: one
// call to Run from the connector's tests, with a sample and the subjects
// it should find, checks the Source contract the exporter relies on.
package sourcetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
)

// Case is one connector configured over a sample.
type Case struct {
	// New builds the source afresh (it is built several times).
	New func(t testing.TB) source.Source
	// Subjects are the subject directory for the sample.
	Subjects []model.Subject
	// Region and Location configure the matcher (GB and Europe/London
	// when empty).
	Region   string
	Location *time.Location
	// Want is the exact number of records each subject must get, per
	// dataset: Want["S-1001"]["calls"] = 12. Subjects not listed must get
	// nothing.
	Want map[string]map[string]int
	// Rejected is the exact number of rows the sample holds that cannot
	// be read.
	Rejected int64
}

type emitted struct {
	subject, dataset string
	rec              model.Record
}

type sink struct {
	emits   []emitted
	rejects []model.Rejection
	fail    error
}

func (s *sink) Emit(subject string, d *model.Dataset, rec model.Record) error {
	if s.fail != nil {
		return s.fail
	}
	s.emits = append(s.emits, emitted{subject, d.Name, rec})
	return nil
}

func (s *sink) Reject(r model.Rejection) { s.rejects = append(s.rejects, r) }

func (c Case) query(t testing.TB, subjects []model.Subject) source.Query {
	t.Helper()
	region, loc := c.Region, c.Location
	if region == "" {
		region = "GB"
	}
	if loc == nil {
		var err error
		if loc, err = time.LoadLocation("Europe/London"); err != nil {
			t.Fatal(err)
		}
	}
	m, err := source.NewMatcher(subjects, region, loc)
	if err != nil {
		t.Fatal(err)
	}
	return source.Query{Subjects: subjects, Matcher: m}
}

func key(e emitted) string { return fmt.Sprintf("%s|%s|%v", e.subject, e.dataset, e.rec) }

// Run checks the connector's contract.
func Run(t *testing.T, c Case) {
	ctx := context.Background()
	var all *sink
	t.Run("Identity", func(t *testing.T) {
		s := c.New(t)
		if s.Name() == "" || s.Kind() == "" {
			t.Fatalf("Name %q, Kind %q: both are required", s.Name(), s.Kind())
		}
	})
	t.Run("AllSubjects", func(t *testing.T) {
		s := c.New(t)
		all = &sink{}
		st, err := s.Fetch(ctx, c.query(t, c.Subjects), all)
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for _, subj := range c.Subjects {
			ids[subj.ID] = true
		}
		got := map[string]map[string]int{}
		for _, e := range all.emits {
			d := model.DatasetByName(e.dataset)
			if d == nil {
				t.Fatalf("record for unknown dataset %q", e.dataset)
			}
			if err := d.Check(e.rec); err != nil {
				t.Errorf("bad record: %v", err)
			}
			if !ids[e.subject] {
				t.Errorf("record for subject %q, who was not asked for", e.subject)
			}
			if got[e.subject] == nil {
				got[e.subject] = map[string]int{}
			}
			got[e.subject][e.dataset]++
			if i := d.Index("source"); i >= 0 && e.rec[i] != s.Name() {
				t.Errorf("record's source column is %q, want the source's name %q", e.rec[i], s.Name())
			}
		}
		want := c.Want
		if want == nil {
			want = map[string]map[string]int{}
		}
		for subj := range ids {
			if !reflect.DeepEqual(nonEmpty(got[subj]), nonEmpty(want[subj])) {
				t.Errorf("subject %s: got %v records, want %v", subj, got[subj], want[subj])
			}
		}
		if st.Selected != int64(len(all.emits)) {
			t.Errorf("Stats.Selected = %d, but %d records were emitted", st.Selected, len(all.emits))
		}
		if st.Rejected != c.Rejected || int64(len(all.rejects)) != c.Rejected {
			t.Errorf("Stats.Rejected = %d with %d rejections reported, want %d", st.Rejected, len(all.rejects), c.Rejected)
		}
		if st.Read < st.Rejected {
			t.Errorf("Stats.Read %d < Stats.Rejected %d", st.Read, st.Rejected)
		}
		values := identifierValues(c.Subjects)
		for _, r := range all.rejects {
			if r.Source != s.Name() || r.Reason == "" {
				t.Errorf("rejection %+v: want Source %q and a reason", r, s.Name())
			}
			for _, v := range values {
				if strings.Contains(r.Reason, v) {
					t.Errorf("rejection reason %q contains a subject's identifier", r.Reason)
				}
			}
		}
	})
	t.Run("EachSubjectAlone", func(t *testing.T) {
		if all == nil {
			t.Skip("AllSubjects failed")
		}
		// A bulk run routes each record to every subject it matches: asking
		// for one subject must give exactly that subject's share.
		for _, subj := range c.Subjects {
			s := c.New(t)
			one := &sink{}
			if _, err := s.Fetch(ctx, c.query(t, []model.Subject{subj}), one); err != nil {
				t.Fatal(err)
			}
			var a, b []string
			for _, e := range all.emits {
				if e.subject == subj.ID {
					a = append(a, key(e))
				}
			}
			for _, e := range one.emits {
				b = append(b, key(e))
			}
			sort.Strings(a)
			sort.Strings(b)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("subject %s alone: %d records, with the others: %d", subj.ID, len(b), len(a))
			}
		}
	})
	t.Run("NoSubjects", func(t *testing.T) {
		s := c.New(t)
		k := &sink{}
		if _, err := s.Fetch(ctx, c.query(t, nil), k); err != nil {
			t.Fatal(err)
		}
		if len(k.emits) != 0 {
			t.Errorf("%d records emitted with no subjects", len(k.emits))
		}
	})
	t.Run("Repeatable", func(t *testing.T) {
		if all == nil {
			t.Skip("AllSubjects failed")
		}
		s := c.New(t)
		again := &sink{}
		if _, err := s.Fetch(ctx, c.query(t, c.Subjects), again); err != nil {
			t.Fatal(err)
		}
		if len(again.emits) != len(all.emits) {
			t.Fatalf("second Fetch emitted %d records, first %d", len(again.emits), len(all.emits))
		}
		for i := range again.emits {
			if key(again.emits[i]) != key(all.emits[i]) {
				t.Fatalf("record %d differs between two Fetches", i)
			}
		}
	})
	t.Run("Cancelled", func(t *testing.T) {
		s := c.New(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := s.Fetch(cctx, c.query(t, c.Subjects), &sink{})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Fetch with a cancelled context: err = %v, want context.Canceled", err)
		}
	})
	t.Run("SinkError", func(t *testing.T) {
		if all == nil || len(all.emits) == 0 {
			t.Skip("no records to emit")
		}
		s := c.New(t)
		boom := errors.New("sink full")
		_, err := s.Fetch(ctx, c.query(t, c.Subjects), &sink{fail: boom})
		if !errors.Is(err, boom) {
			t.Errorf("a failing sink: err = %v, want it passed through", err)
		}
	})
}

func nonEmpty(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

func identifierValues(subjects []model.Subject) []string {
	var out []string
	for _, s := range subjects {
		for _, id := range s.Identifiers {
			if len(id.Value) >= 4 {
				out = append(out, id.Value)
			}
		}
	}
	return out
}
