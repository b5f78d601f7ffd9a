package exporter

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dsar-tool/dsar/exporter/letter"
	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/redact"
	"github.com/dsar-tool/dsar/exporter/source"
)

// MaxListedRejections caps how many rejected rows per source are listed
// individually in the manifest; the count is always exact.
const MaxListedRejections = 1000

// SourceReport is what one source contributed, as stated in the manifest.
type SourceReport struct {
	Name       string            `json:"name"`
	Kind       string            `json:"kind"`
	Read       int64             `json:"rows_read"`
	Selected   int64             `json:"rows_selected"`
	Duplicates int64             `json:"rows_duplicate"`
	Rejected   int64             `json:"rows_rejected"`
	Rejections []model.Rejection `json:"rejected"`
	Truncated  bool              `json:"rejected_truncated,omitempty"`
	First      *time.Time        `json:"first_record_utc,omitempty"`
	Last       *time.Time        `json:"last_record_utc,omitempty"`
}

// Data is everything collected for one subject.
type Data struct {
	Tables  map[string][]model.Record // by dataset name
	Sources []*SourceReport
}

// Rows returns the number of records of dataset d.
func (d *Data) Rows(name string) int { return len(d.Tables[name]) }

// Rejected is the total of rejected rows over all sources.
func (d *Data) Rejected() int64 {
	var n int64
	for _, s := range d.Sources {
		n += s.Rejected
	}
	return n
}

// collectSink routes each record to its subject's tables.
type collectSink struct {
	source   string
	tables   map[string]map[string][]model.Record // subject -> dataset -> records
	rejected []model.Rejection
	trunc    bool
}

func (s *collectSink) Emit(subject string, d *model.Dataset, rec model.Record) error {
	t, ok := s.tables[subject]
	if !ok {
		return nil // not asked for
	}
	if err := d.Check(rec); err != nil {
		return fmt.Errorf("source %q emitted a bad record: %w", s.source, err)
	}
	t[d.Name] = append(t[d.Name], rec)
	return nil
}

func (s *collectSink) Reject(r model.Rejection) {
	if len(s.rejected) < MaxListedRejections {
		s.rejected = append(s.rejected, r)
	} else {
		s.trunc = true
	}
}

// Collect reads every source once and keeps the subject's records. A source
// that cannot be read fails the whole collection: an access response must
// not silently leave a system out.
func Collect(ctx context.Context, subject model.Subject, m *source.Matcher, sources []source.Source) (*Data, error) {
	all, err := CollectMany(ctx, []model.Subject{subject}, m, sources)
	if err != nil {
		return nil, err
	}
	return all[subject.ID], nil
}

// CollectMany reads every source once for all the subjects (a bulk run
// costs one scan per source, not one per subject) and returns each
// subject's data. m must have been built from the same subjects.
func CollectMany(ctx context.Context, subjects []model.Subject, m *source.Matcher, sources []source.Source) (map[string]*Data, error) {
	out := map[string]*Data{}
	for _, s := range subjects {
		out[s.ID] = &Data{Tables: map[string][]model.Record{}}
	}
	q := source.Query{Subjects: subjects, Matcher: m}
	for _, src := range sources {
		sink := &collectSink{source: src.Name(), tables: map[string]map[string][]model.Record{}}
		for _, s := range subjects {
			sink.tables[s.ID] = map[string][]model.Record{}
		}
		st, err := src.Fetch(ctx, q, sink)
		if err != nil {
			return nil, fmt.Errorf("source %q: %w", src.Name(), err)
		}
		for _, subj := range subjects {
			rep := &SourceReport{Name: src.Name(), Kind: src.Kind(), Read: st.Read, Rejected: st.Rejected,
				Rejections: append([]model.Rejection{}, sink.rejected...), Truncated: sink.trunc}
			data := out[subj.ID]
			for _, d := range model.Datasets {
				recs := sink.tables[subj.ID][d.Name]
				if len(recs) == 0 {
					continue
				}
				kept := dedupe(d, recs)
				rep.Selected += int64(len(recs))
				rep.Duplicates += int64(len(recs) - len(kept))
				span(d, kept, rep)
				data.Tables[d.Name] = append(data.Tables[d.Name], kept...)
			}
			data.Sources = append(data.Sources, rep)
		}
	}
	for _, d := range out {
		normalise(d)
	}
	return out, nil
}

// dedupe drops exact duplicates (a re-delivered file): records equal in
// every column but where they were found.
func dedupe(d *model.Dataset, recs []model.Record) []model.Record {
	skip := map[int]bool{}
	for _, name := range []string{"source_ref", "leg"} {
		if i := d.Index(name); i >= 0 {
			skip[i] = true
		}
	}
	seen := make(map[string]bool, len(recs))
	out := recs[:0]
	var b strings.Builder
	for _, r := range recs {
		b.Reset()
		for i, v := range r {
			if !skip[i] {
				fmt.Fprintf(&b, "%T\x00%v\x01", v, v)
			}
		}
		k := b.String()
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, r)
	}
	return out
}

// span records the time range a source's records cover.
func span(d *model.Dataset, recs []model.Record, rep *SourceReport) {
	i := -1
	for j, c := range d.Columns {
		if c.Type == model.Timestamp {
			i = j
			break
		}
	}
	if i < 0 {
		return
	}
	for _, r := range recs {
		t, ok := r[i].(time.Time)
		if !ok {
			continue
		}
		if rep.First == nil || t.Before(*rep.First) {
			tt := t
			rep.First = &tt
		}
		if rep.Last == nil || t.After(*rep.Last) {
			tt := t
			rep.Last = &tt
		}
	}
}

// normalise sorts every dataset and numbers the legs of each call.
func normalise(data *Data) {
	for _, d := range []*model.Dataset{model.Logins, model.Presence} {
		recs := data.Tables[d.Name]
		iAt, iSrc, iRef := d.Index("at_utc"), d.Index("source"), d.Index("source_ref")
		sort.SliceStable(recs, func(a, b int) bool {
			ta, tb := recs[a][iAt].(time.Time), recs[b][iAt].(time.Time)
			if !ta.Equal(tb) {
				return ta.Before(tb)
			}
			if x, y := recs[a][iSrc].(string), recs[b][iSrc].(string); x != y {
				return x < y
			}
			return refLess(recs[a][iRef].(string), recs[b][iRef].(string))
		})
	}
	calls := data.Tables[model.Calls.Name]
	iStart, iID, iRef, iLeg, iSrc := model.Calls.Index("start_utc"), model.Calls.Index("call_id"), model.Calls.Index("source_ref"), model.Calls.Index("leg"), model.Calls.Index("source")
	sort.SliceStable(calls, func(a, b int) bool {
		ta, tb := calls[a][iStart].(time.Time), calls[b][iStart].(time.Time)
		if !ta.Equal(tb) {
			return ta.Before(tb)
		}
		if x, y := calls[a][iSrc].(string), calls[b][iSrc].(string); x != y {
			return x < y
		}
		if x, y := calls[a][iID].(string), calls[b][iID].(string); x != y {
			return x < y
		}
		return refLess(calls[a][iRef].(string), calls[b][iRef].(string))
	})
	legs := map[string]int64{}
	for _, r := range calls {
		k := r[iSrc].(string) + "\x00" + r[iID].(string)
		legs[k]++
		r[iLeg] = legs[k]
	}
}

// refLess orders "file:line" references by file, then numerically by line.
func refLess(a, b string) bool {
	fa, la, _ := strings.Cut(a, ":")
	fb, lb, _ := strings.Cut(b, ":")
	if fa != fb {
		return fa < fb
	}
	if len(la) != len(lb) {
		return len(la) < len(lb)
	}
	return la < lb
}

// Redact returns a copy of data with r applied to every record of every
// dataset; data itself is left as it was (a bulk run shares it between the
// bundles of one subject).
func Redact(data *Data, r *redact.Redactor) *Data {
	out := &Data{Tables: map[string][]model.Record{}, Sources: data.Sources}
	for _, d := range model.Datasets {
		recs := data.Tables[d.Name]
		if recs == nil {
			continue
		}
		cp := make([]model.Record, len(recs))
		for i, rec := range recs {
			c := append(model.Record(nil), rec...)
			r.Apply(d, c)
			cp[i] = c
		}
		out.Tables[d.Name] = cp
	}
	return out
}

// Redactions turns a redactor's report into the letter's list.
func Redactions(r *redact.Redactor) []letter.Redaction {
	var out []letter.Redaction
	for _, a := range r.Report() {
		cond := a.Condition
		switch {
		case cond == redact.WhenAlways:
			cond = ""
		case cond == redact.WhenExternal:
			cond = "the other party is outside the organisation"
		case cond == redact.WhenInternal:
			cond = "the other party is inside the organisation"
		case strings.HasPrefix(cond, redact.WhenAlways+", "):
			cond = strings.TrimPrefix(cond, redact.WhenAlways+", ")
		}
		out = append(out, letter.Redaction{Rule: a.Rule, Dataset: a.Dataset, Column: a.Column, Action: a.Action, Condition: cond, Rows: a.Rows, Reason: a.Reason})
	}
	return out
}
