package asterisk

import (
	"context"
	"testing"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/source/sourcetest"
)

// newSink returns a sink that checks every record, which must be a call.
func newSink(t testing.TB) *sourcetest.Recorder {
	return &sourcetest.Recorder{T: t, Dataset: model.Calls}
}

// get returns the named column of a calls record.
func get(rec model.Record, col string) any { return sourcetest.Col(model.Calls, rec, col) }

// sampleSubjects mirrors samples/subjects.yaml.
func sampleSubjects() []model.Subject {
	id := sourcetest.ID
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
func fetch(t testing.TB, cfg Config, content string, subjects []model.Subject) (*sourcetest.Recorder, source.Stats, error) {
	t.Helper()
	if cfg.Paths == nil {
		cfg.Paths = []string{sourcetest.WriteFile(t, "Master.csv", content)}
	}
	if cfg.ExtraColumns == nil {
		cfg.ExtraColumns = []string{"uniqueid", "userfield"}
	}
	c := newCSV(t, cfg)
	sink := newSink(t)
	st, err := c.Fetch(context.Background(), sourcetest.Query(t, subjects), sink)
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
