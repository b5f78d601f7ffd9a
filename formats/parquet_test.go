package formats

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/parquet-go/parquet-go"

	"github.com/dsar-tool/dsar/exporter/model"
)

// Parquet files are read back with parquet-go, a reader independent of
// the arrow writer.

func openParquet(t testing.TB, b []byte) *parquet.File {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("parquet-go cannot open the output: %v", err)
	}
	return f
}

// describeParquet summarises a Parquet file's schema and layout for a
// golden file.
func describeParquet(t testing.TB, b []byte) string {
	t.Helper()
	f := openParquet(t, b)
	md := f.Metadata()
	var sb strings.Builder
	fmt.Fprintf(&sb, "size %d\ncreated_by %q\nversion %d\nrows %d\n", len(b), md.CreatedBy, md.Version, md.NumRows)
	for _, kv := range md.KeyValueMetadata {
		v := kv.Value
		if kv.Key == "ARROW:schema" {
			v = fmt.Sprintf("(%d bytes)", len(v))
		}
		fmt.Fprintf(&sb, "metadata %s = %s\n", kv.Key, v)
	}
	sb.WriteString(f.Schema().String())
	sb.WriteString("\n")
	for i, rg := range md.RowGroups {
		fmt.Fprintf(&sb, "row group %d: %d rows\n", i, rg.NumRows)
		for _, cc := range rg.Columns {
			m := cc.MetaData
			var enc []string
			for _, e := range m.Encoding {
				enc = append(enc, e.String())
			}
			slices.Sort(enc)
			fmt.Fprintf(&sb, "  %s: %s %s %v values=%d dict=%v\n", strings.Join(m.PathInSchema, "."), m.Type, m.Codec, enc, m.NumValues, m.DictionaryPageOffset != 0)
		}
	}
	return sb.String()
}

// parquetRows reads every row of a flat Parquet file as text, in column
// order of d: strings exact, timestamps RFC 3339, dates YYYY-MM-DD, nulls
// empty.
func parquetRows(t testing.TB, b []byte, d *model.Dataset) [][]string {
	t.Helper()
	f := openParquet(t, b)
	cols := f.Schema().Columns()
	if len(cols) != len(d.Columns) {
		t.Fatalf("parquet has %d columns, dataset %d", len(cols), len(d.Columns))
	}
	pos := make([]int, len(cols)) // parquet leaf index -> dataset column
	for i, path := range cols {
		pos[i] = d.Index(strings.Join(path, "."))
		if pos[i] < 0 {
			t.Fatalf("parquet column %q not in the dataset", path)
		}
	}
	var out [][]string
	buf := make([]parquet.Row, 100)
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		for {
			n, err := rows.ReadRows(buf)
			for _, row := range buf[:n] {
				rec := make([]string, len(d.Columns))
				for _, v := range row {
					j := pos[v.Column()]
					if v.IsNull() {
						continue
					}
					switch d.Columns[j].Type {
					case model.String:
						rec[j] = string(v.ByteArray())
					case model.Int:
						rec[j] = strconv.FormatInt(v.Int64(), 10)
					case model.Timestamp:
						rec[j] = time.UnixMilli(v.Int64()).UTC().Format(time.RFC3339)
					case model.Date:
						rec[j] = time.Unix(int64(v.Int32())*86400, 0).UTC().Format("2006-01-02")
					case model.Bool:
						rec[j] = strconv.FormatBool(v.Boolean())
					}
				}
				out = append(out, rec)
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		rows.Close()
	}
	return out
}

// TestParquetReadBack reads the output with parquet-go and compares it
// value by value with the CSV of the same records.
func TestParquetReadBack(t *testing.T) {
	defer func(n int) { parquetRowGroup = n }(parquetRowGroup)
	parquetRowGroup = 16 // several row groups, the last one short
	for _, tc := range []struct {
		d    *model.Dataset
		recs []model.Record
	}{
		{edge, edgeRecords()},
		{model.Calls, callRecords(100)},
		{model.RightsRequests, rightsRecords()},
		{model.RequestEvents, nil},
	} {
		t.Run(tc.d.Name, func(t *testing.T) {
			b := encode(t, "parquet", tc.d, tc.recs)
			f := openParquet(t, b)
			if got, want := len(f.RowGroups()), (len(tc.recs)+15)/16; got != want {
				t.Errorf("%d row groups, want %d", got, want)
			}
			got := parquetRows(t, b, tc.d)
			csvRows := readCSV(t, encode(t, "csv", tc.d, tc.recs))[1:]
			if len(got) != len(csvRows) {
				t.Fatalf("%d rows, CSV has %d", len(got), len(csvRows))
			}
			for i := range got {
				for j, c := range tc.d.Columns {
					g := got[i][j]
					if c.Type == model.String {
						g = Neutralise(g)
					}
					// encoding/csv's reader turns CRLF inside a quoted field into LF.
					g = strings.ReplaceAll(g, "\r\n", "\n")
					if g != csvRows[i][j] {
						t.Errorf("row %d %s: parquet %q, csv %q", i+1, c.Name, g, csvRows[i][j])
					}
				}
			}
			// Strings are exact, not neutralised.
			if tc.d == edge {
				for i, r := range tc.recs {
					if want := validUTF8(r[0].(string)); got[i][0] != want {
						t.Errorf("row %d text: %q, want %q", i+1, got[i][0], want)
					}
				}
			}
		})
	}
}

func TestParquetSchema(t *testing.T) {
	b := encode(t, "parquet", edge, edgeRecords())
	f := openParquet(t, b)
	if f.Metadata().CreatedBy != "dsar" {
		t.Errorf("created_by %q", f.Metadata().CreatedBy)
	}
	want := map[string]struct {
		logical  string
		physical string
	}{
		"text":      {"STRING", "BYTE_ARRAY"},
		"text_null": {"STRING", "BYTE_ARRAY"},
		"kind":      {"STRING", "BYTE_ARRAY"},
		"n":         {"INT(64,true)", "INT64"},
		"n_null":    {"INT(64,true)", "INT64"},
		"at_utc":    {"TIMESTAMP(isAdjustedToUTC=true,unit=MILLIS)", "INT64"},
		"at_null":   {"TIMESTAMP(isAdjustedToUTC=true,unit=MILLIS)", "INT64"},
		"day":       {"DATE", "INT32"},
		"day_null":  {"DATE", "INT32"},
		"flag":      {"", "BOOLEAN"},
		"flag_null": {"", "BOOLEAN"},
	}
	for _, c := range edge.Columns {
		leaf, ok := f.Schema().Lookup(c.Name)
		if !ok {
			t.Fatalf("no column %q", c.Name)
		}
		typ := leaf.Node.Type()
		logical := ""
		if lt := typ.LogicalType(); lt != nil {
			logical = lt.String()
		}
		w := want[c.Name]
		if logical != w.logical || typ.Kind().String() != w.physical {
			t.Errorf("%s: %s %s, want %s %s", c.Name, typ.Kind(), logical, w.physical, w.logical)
		}
		if leaf.Node.Optional() != c.Nullable || leaf.Node.Required() == c.Nullable {
			t.Errorf("%s: optional %v, nullable %v", c.Name, leaf.Node.Optional(), c.Nullable)
		}
	}
	for _, rg := range f.Metadata().RowGroups {
		for _, cc := range rg.Columns {
			name := strings.Join(cc.MetaData.PathInSchema, ".")
			dict := cc.MetaData.DictionaryPageOffset != 0
			if wantDict := len(edge.Columns[edge.Index(name)].Enum) > 0; dict != wantDict {
				t.Errorf("%s: dictionary %v, want %v", name, dict, wantDict)
			}
			if cc.MetaData.Codec.String() != "SNAPPY" {
				t.Errorf("%s: codec %s", name, cc.MetaData.Codec)
			}
		}
	}
	if _, ok := f.Lookup("ARROW:schema"); !ok {
		t.Error("no ARROW:schema metadata")
	}
	if v, _ := f.Lookup("dsar.dataset"); v != "edge" {
		t.Errorf("dsar.dataset = %q", v)
	}

	// Column descriptions travel as arrow field metadata, which only an
	// arrow reader decodes.
	pr, err := file.NewParquetReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	ar, err := pqarrow.NewFileReader(pr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := ar.Schema()
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range edge.Columns {
		f := schema.Field(i)
		got := ""
		if k := f.Metadata.FindKey("description"); k >= 0 {
			got = f.Metadata.Values()[k]
		}
		if f.Name != c.Name || got != c.Description {
			t.Errorf("field %d: %s description %q, want %s %q", i, f.Name, got, c.Name, c.Description)
		}
		if c.Type == model.Timestamp && f.Type.String() != "timestamp[ms, tz=UTC]" {
			t.Errorf("%s: arrow type %s", c.Name, f.Type)
		}
	}
}

// closeRecorder is an io.WriteCloser (and nothing else: no Seek) that
// records Close.
type closeRecorder struct {
	bytes.Buffer
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestParquetLeavesWriterOpen(t *testing.T) {
	var w struct {
		io.WriteCloser
	}
	rec := &closeRecorder{}
	w.WriteCloser = rec
	pw, err := NewParquet(w, model.Calls)
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, pw, callRecords(5))
	if rec.closed {
		t.Error("Close closed the caller's writer")
	}
	if got := parquetRows(t, rec.Bytes(), model.Calls); len(got) != 5 {
		t.Errorf("read %d rows", len(got))
	}
}
