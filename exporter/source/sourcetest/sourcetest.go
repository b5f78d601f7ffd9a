// Package sourcetest is the conformance suite every connector passes: one
// call to Run from the connector's tests, with a sample and the subjects
// it should find, checks the Source contract the exporter relies on. It
// also holds what connectors' own tests share: a Recorder sink that
// checks every record, the samples' Query, and small helpers.
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

func (c Case) query(t testing.TB, subjects []model.Subject) source.Query {
	t.Helper()
	region, loc := c.Region, c.Location
	if region == "" {
		region = "GB"
	}
	if loc == nil {
		loc = London(t)
	}
	m, err := source.NewMatcher(subjects, region, loc)
	if err != nil {
		t.Fatal(err)
	}
	return source.Query{Subjects: subjects, Matcher: m}
}

func key(e Emitted) string { return fmt.Sprintf("%s|%s|%v", e.Subject, e.Dataset.Name, e.Record) }

// Run checks the connector's contract.
func Run(t *testing.T, c Case) {
	ctx := context.Background()
	var all *Recorder
	t.Run("Identity", func(t *testing.T) {
		s := c.New(t)
		if s.Name() == "" || s.Kind() == "" {
			t.Fatalf("Name %q, Kind %q: both are required", s.Name(), s.Kind())
		}
	})
	t.Run("AllSubjects", func(t *testing.T) {
		s := c.New(t)
		all = &Recorder{T: t}
		st, err := s.Fetch(ctx, c.query(t, c.Subjects), all)
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for _, subj := range c.Subjects {
			ids[subj.ID] = true
		}
		got := map[string]map[string]int{}
		for _, e := range all.Records { // the Recorder has checked each against its dataset
			d := model.DatasetByName(e.Dataset.Name)
			if d == nil {
				t.Fatalf("record for unknown dataset %q", e.Dataset.Name)
			}
			if !ids[e.Subject] {
				t.Errorf("record for subject %q, who was not asked for", e.Subject)
			}
			if got[e.Subject] == nil {
				got[e.Subject] = map[string]int{}
			}
			got[e.Subject][d.Name]++
			if i := d.Index("source"); i >= 0 && e.Record[i] != s.Name() {
				t.Errorf("record's source column is %q, want the source's name %q", e.Record[i], s.Name())
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
		if st.Selected != int64(len(all.Records)) {
			t.Errorf("Stats.Selected = %d, but %d records were emitted", st.Selected, len(all.Records))
		}
		if st.Rejected != c.Rejected || int64(len(all.Rejects)) != c.Rejected {
			t.Errorf("Stats.Rejected = %d with %d rejections reported, want %d", st.Rejected, len(all.Rejects), c.Rejected)
		}
		if st.Read < st.Rejected {
			t.Errorf("Stats.Read %d < Stats.Rejected %d", st.Read, st.Rejected)
		}
		values := identifierValues(c.Subjects)
		for _, r := range all.Rejects {
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
			one := &Recorder{T: t}
			if _, err := s.Fetch(ctx, c.query(t, []model.Subject{subj}), one); err != nil {
				t.Fatal(err)
			}
			var a, b []string
			for _, e := range all.Records {
				if e.Subject == subj.ID {
					a = append(a, key(e))
				}
			}
			for _, e := range one.Records {
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
		k := &Recorder{T: t}
		if _, err := s.Fetch(ctx, c.query(t, nil), k); err != nil {
			t.Fatal(err)
		}
		if len(k.Records) != 0 {
			t.Errorf("%d records emitted with no subjects", len(k.Records))
		}
	})
	t.Run("Repeatable", func(t *testing.T) {
		if all == nil {
			t.Skip("AllSubjects failed")
		}
		s := c.New(t)
		again := &Recorder{T: t}
		if _, err := s.Fetch(ctx, c.query(t, c.Subjects), again); err != nil {
			t.Fatal(err)
		}
		if len(again.Records) != len(all.Records) {
			t.Fatalf("second Fetch emitted %d records, first %d", len(again.Records), len(all.Records))
		}
		for i := range again.Records {
			if key(again.Records[i]) != key(all.Records[i]) {
				t.Fatalf("record %d differs between two Fetches", i)
			}
		}
	})
	t.Run("Cancelled", func(t *testing.T) {
		s := c.New(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := s.Fetch(cctx, c.query(t, c.Subjects), &Recorder{T: t})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Fetch with a cancelled context: err = %v, want context.Canceled", err)
		}
	})
	t.Run("SinkError", func(t *testing.T) {
		if all == nil || len(all.Records) == 0 {
			t.Skip("no records to emit")
		}
		s := c.New(t)
		_, err := s.Fetch(ctx, c.query(t, c.Subjects), &Recorder{T: t, FailOn: 1})
		if !errors.Is(err, ErrSinkFull) {
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
