package asterisk

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
)

type emitted struct {
	subject string
	rec     model.Record
}

// memSink keeps what a Fetch hands over and checks every record.
type memSink struct {
	t       testing.TB
	recs    []emitted
	rejects []model.Rejection
	failOn  int // Emit fails on this call (1-based); 0 never
}

func (s *memSink) Emit(subject string, d *model.Dataset, rec model.Record) error {
	if d != model.Calls {
		s.t.Errorf("emitted to dataset %s", d.Name)
	}
	if err := d.Check(rec); err != nil {
		s.t.Errorf("bad record: %v", err)
	}
	s.recs = append(s.recs, emitted{subject, rec})
	if s.failOn > 0 && len(s.recs) == s.failOn {
		return errSinkFull
	}
	return nil
}

func (s *memSink) Reject(r model.Rejection) { s.rejects = append(s.rejects, r) }

var errSinkFull = errors.New("sink full")

// get returns the named column of rec.
func get(rec model.Record, col string) any {
	i := model.Calls.Index(col)
	if i < 0 {
		panic("no column " + col)
	}
	return rec[i]
}

func (s *memSink) bySubject(id string) []model.Record {
	var out []model.Record
	for _, e := range s.recs {
		if e.subject == id {
			out = append(out, e.rec)
		}
	}
	return out
}

func london(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// sampleSubjects mirrors samples/subjects.yaml.
func sampleSubjects() []model.Subject {
	id := func(kind, value, from, to string) model.Identifier {
		i := model.Identifier{Kind: kind, Value: value}
		if from != "" {
			i.From = date(from)
		}
		if to != "" {
			i.To = date(to)
		}
		return i
	}
	return []model.Subject{
		{ID: "S-1001", Name: "Alex Example", Identifiers: []model.Identifier{
			id(model.KindExtension, "4321", "2024-09-01", ""),
			id(model.KindSIP, "4321", "2024-09-01", ""),
			id(model.KindPhone, "01632 960555", "", ""),
		}},
		{ID: "S-1002", Name: "Siobhán Ní Bhriain", Identifiers: []model.Identifier{
			id(model.KindExtension, "4312", "", ""),
			id(model.KindSIP, "siobhan-desk", "", ""),
			id(model.KindPhone, "020 7946 0312", "", ""),
		}},
		{ID: "S-1003", Name: "Priya Raman", Identifiers: []model.Identifier{
			id(model.KindExtension, "43210", "", ""),
			id(model.KindSIP, "43210", "", ""),
		}},
		{ID: "S-1004", Name: "Zoë Łukasik", Identifiers: []model.Identifier{
			id(model.KindExtension, "1432", "", ""),
			id(model.KindSIP, "1432", "", ""),
		}},
		{ID: "S-1005", Name: "Dana Whitfield", Identifiers: []model.Identifier{
			id(model.KindExtension, "4400", "", "2025-06-30"),
			id(model.KindSIP, "4400", "", "2025-06-30"),
		}},
		{ID: "S-1006", Name: "陈伟 (Chen Wei)", Identifiers: []model.Identifier{
			id(model.KindExtension, "4400", "2025-07-01", ""),
			id(model.KindSIP, "4400", "2025-07-01", ""),
			id(model.KindPhone, "07700 900123", "2025-07-01", ""),
			id(model.KindPhone, "+44 20 7946 0777", "2025-07-01", ""),
		}},
	}
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

func newCSV(t testing.TB, cfg Config) *CSV {
	t.Helper()
	if cfg.Timezone == "" {
		cfg.Timezone = "Europe/London"
	}
	c, err := New("pbx", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fetch runs one Fetch over content (18-column layout unless cfg says).
func fetch(t testing.TB, cfg Config, content string, subjects []model.Subject) (*memSink, source.Stats, error) {
	t.Helper()
	if cfg.Paths == nil {
		cfg.Paths = []string{writeFile(t, "Master.csv", content)}
	}
	if cfg.ExtraColumns == nil {
		cfg.ExtraColumns = []string{"uniqueid", "userfield"}
	}
	c := newCSV(t, cfg)
	sink := &memSink{t: t}
	st, err := c.Fetch(context.Background(), query(t, subjects), sink)
	return sink, st, err
}

// row builds an 18-column row as cdr_csv writes it from the fields that
// matter; dates are written as given ("" = unset, unquoted).
type row struct {
	acct, src, dst, clid, ch, dch, app, data string
	start, answer, end                       string
	dur, bill                                string
	disp, uid, user                          string
}

func (r row) String() string {
	q := func(s string) string {
		out := []byte{'"'}
		for i := 0; i < len(s); i++ {
			if s[i] == '"' {
				out = append(out, '"')
			}
			out = append(out, s[i])
		}
		return string(append(out, '"'))
	}
	d := func(s string) string {
		if s == "" {
			return ""
		}
		return q(s)
	}
	or := func(s, def string) string {
		if s == "" {
			return def
		}
		return s
	}
	return q(r.acct) + "," + q(r.src) + "," + q(r.dst) + "," + q("from-internal") + "," + q(r.clid) + "," +
		q(r.ch) + "," + q(r.dch) + "," + q(or(r.app, "Dial")) + "," + q(r.data) + "," +
		d(r.start) + "," + d(r.answer) + "," + d(r.end) + "," + or(r.dur, "0") + "," + or(r.bill, "0") + "," +
		q(or(r.disp, "ANSWERED")) + "," + q("DOCUMENTATION") + "," + q(or(r.uid, "1700000000.1")) + "," + q(r.user) + "\n"
}
