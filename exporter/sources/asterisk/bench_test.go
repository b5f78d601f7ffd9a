package asterisk

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source/sourcetest"
	"github.com/dsar-tool/dsar/samples/gencdr/cdrgen"
)

// BenchmarkScan reads a generated 200,000-row Master.csv (2,000 staff)
// for one subject, who is in few of the rows, and reports rows/s.
func BenchmarkScan(b *testing.B) {
	const rows, staff = 200000, 2000
	path := filepath.Join(b.TempDir(), "Master.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := cdrgen.Write(f, cdrgen.Options{Rows: rows, Staff: staff, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	list, err := cdrgen.StaffList(staff)
	if err != nil {
		b.Fatal(err)
	}
	s := list[41] // S-0042, as the export benchmark uses
	subjects := []model.Subject{{ID: s.ID, Name: s.Name, Identifiers: []model.Identifier{
		{Kind: model.KindExtension, Value: s.Ext},
		{Kind: model.KindSIP, Value: s.SIP},
		{Kind: model.KindPhone, Value: s.Phone},
	}}}
	c := newCSV(b, Config{Paths: []string{path}, ExtraColumns: []string{"uniqueid", "userfield"}})
	q := sourcetest.Query(b, subjects)

	b.SetBytes(fi.Size())
	b.ReportAllocs()
	var selected int64
	for b.Loop() {
		sink := newSink(b)
		st, err := c.Fetch(context.Background(), q, sink)
		if err != nil {
			b.Fatal(err)
		}
		if st.Read != rows || st.Rejected != 0 || st.Selected == 0 || st.Selected > rows/100 {
			b.Fatalf("stats %+v", st)
		}
		selected = st.Selected
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(selected), "selected")
}
