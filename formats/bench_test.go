package formats

import (
	"io"
	"testing"

	"github.com/dsar-tool/dsar/exporter/model"
)

// benchRows is the number of call records each benchmark iteration writes.
const benchRows = 100_000

var benchRecs []model.Record

func benchRecords() []model.Record {
	if benchRecs == nil {
		benchRecs = callRecords(benchRows)
	}
	return benchRecs
}

func benchWriter(b *testing.B, newW func(io.Writer) (Writer, error)) {
	recs := benchRecords()
	cw := &countWriter{}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		w, err := newW(cw)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			if err := w.Write(r); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(recs)*b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(cw.n)/float64(b.N), "outbytes/op")
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func BenchmarkJSON(b *testing.B) {
	benchWriter(b, func(w io.Writer) (Writer, error) { return NewJSON(w, model.Calls), nil })
}

func BenchmarkCSV(b *testing.B) {
	benchWriter(b, func(w io.Writer) (Writer, error) { return NewCSV(w, model.Calls), nil })
}

func BenchmarkParquet(b *testing.B) {
	benchWriter(b, func(w io.Writer) (Writer, error) { return NewParquet(w, model.Calls) })
}

// BenchmarkXLSX includes WriteTo, where excelize assembles and compresses
// the file.
func BenchmarkXLSX(b *testing.B) {
	recs := benchRecords()
	dir := b.TempDir()
	cw := &countWriter{}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		wb, err := NewWorkbook(WorkbookOptions{About: [][2]string{{"Request", "RR-1"}}, TmpDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		w, err := wb.Sheet(model.Calls)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			if err := w.Write(r); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		if _, err := wb.WriteTo(cw); err != nil {
			b.Fatal(err)
		}
		if err := wb.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(recs)*b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(cw.n)/float64(b.N), "outbytes/op")
}
