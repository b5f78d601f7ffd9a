package formats

import (
	"bytes"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// edge is a dataset with every column type, nullable and not, for edge
// values.
var edge = &model.Dataset{
	Name:        "edge",
	Title:       "Edge: cases/values?",
	Description: "Every column type, with and without nulls.",
	Columns: []model.Column{
		{Name: "text", Type: model.String, Description: "Any text."},
		{Name: "text_null", Type: model.String, Nullable: true},
		{Name: "kind", Type: model.String, Enum: []string{"a", "bb"}, Description: "An enumeration."},
		{Name: "n", Type: model.Int, Unit: "seconds"},
		{Name: "n_null", Type: model.Int, Nullable: true},
		{Name: "at_utc", Type: model.Timestamp, Unit: "UTC"},
		{Name: "at_null", Type: model.Timestamp, Nullable: true},
		{Name: "day", Type: model.Date},
		{Name: "day_null", Type: model.Date, Nullable: true},
		{Name: "flag", Type: model.Bool},
		{Name: "flag_null", Type: model.Bool, Nullable: true},
	},
}

// edgeStrings are the text values exercised in every format.
var edgeStrings = []string{
	`plain`,
	`say "hi"`,
	`a,b`,
	"line1\nline2",
	"cr\rinside",
	"crlf\r\nend",
	"Siân Ó Briain",
	"=SUM(A1:A2)",
	"=HYPERLINK(\"http://x\",\"y\")",
	"+441632960555",
	"-",
	"-5",
	"@home",
	"\tleading tab",
	"\rleading cr",
	"01632960555",
	"1673460610.10",
	"",
	" leading space",
	`back\slash`,
	"sep\u2028line\u2029para",
	"ctl\x01\x1f",
	"bad\xff\xfeutf8",
	"_x0041_ literal",
	"'quoted already",
	"日本語 📞",
	"<b>&amp;</b>",
	`\.`,
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func day(s string) time.Time { return mustTime(s + "T00:00:00Z") }

// edgeRecords returns one record per edge string, cycling through other
// edge values in the other columns.
func edgeRecords() []model.Record {
	ints := []int64{0, 1, -42, 1 << 53, -(1 << 53), 9223372036854775807}
	stamps := []time.Time{
		mustTime("2025-10-26T01:40:00Z"),
		mustTime("2025-10-26T00:59:59.999Z"), // sub-second part is dropped
		mustTime("1970-01-01T00:00:00Z"),
		mustTime("2000-02-29T23:59:59Z"),
		mustTime("1900-03-01T00:00:01Z"),
		mustTime("2038-01-19T03:14:08Z"),
		time.Date(2025, 3, 30, 2, 30, 0, 0, time.FixedZone("CEST", 7200)), // not UTC: written as UTC
	}
	days := []time.Time{day("2025-10-26"), day("1970-01-01"), day("1969-12-31"), day("2024-02-29")}
	var recs []model.Record
	for i, s := range edgeStrings {
		var textNull, nNull, atNull, dayNull, flagNull any
		if i%2 == 1 {
			textNull = s
			nNull = ints[(i+1)%len(ints)]
			atNull = stamps[(i+1)%len(stamps)]
			dayNull = days[(i+1)%len(days)]
			flagNull = i%4 == 1
		}
		recs = append(recs, model.Record{
			s, textNull, []string{"a", "bb"}[i%2],
			ints[i%len(ints)], nNull,
			stamps[i%len(stamps)], atNull,
			days[i%len(days)], dayNull,
			i%3 == 0, flagNull,
		})
	}
	return recs
}

// callRecords returns n plausible call records (model.Calls), the first
// few with awkward values.
func callRecords(n int) []model.Record {
	names := []string{"Siân Ó Briain", "", "=cmd|' /C calc'!A0", "Bob, \"the\" builder", "Zoë\nNewline"}
	others := []string{"+441632960555", "01632960555", "2001", "-", "@sip"}
	base := mustTime("2025-10-26T00:00:00Z")
	recs := make([]model.Record, 0, n)
	for i := range n {
		start := base.Add(time.Duration(i) * 97 * time.Second)
		ring := int64(3 + i%20)
		talk := int64(0)
		var answer any
		outcome, raw := "no_answer", "NO ANSWER"
		if i%3 != 0 {
			talk = int64(10 + i%600)
			answer = start.Add(time.Duration(ring) * time.Second)
			outcome, raw = "answered", "ANSWERED"
		}
		end := start.Add(time.Duration(ring+talk) * time.Second)
		recs = append(recs, model.Record{
			fmt.Sprintf("1673460%03d.%d", i%1000, i), // call_id
			int64(1 + i%2),                           // leg
			"asterisk",                               // source
			fmt.Sprintf("Master.csv:%d", i+2),        // source_ref
			start,                                    // start_utc
			answer,                                   // answer_utc
			end,                                      // end_utc
			ring + talk,                              // duration_s
			talk,                                     // talk_s
			model.Directions[i%3],                    // direction
			outcome,                                  // outcome
			raw,                                      // outcome_raw
			model.Roles[i%2],                         // subject_role
			"+441632960001",                          // subject_number
			names[i%len(names)],                      // subject_name_shown
			others[i%len(others)],                    // other_number
			names[(i+1)%len(names)],                  // other_name
			fmt.Sprintf("PJSIP/2001-%08x", i),        // channel
			fmt.Sprintf("PJSIP/trunk-%08x", i),       // dst_channel
			"Dial",                                   // application
			fmt.Sprintf("PJSIP/%s@trunk,30,tT", others[i%len(others)]), // application_data
			"", // account_code
			[]string{"", "note, with comma", "+1 callback"}[i%3], // user_field
			fmt.Sprintf("1673460610.%d", i),                      // unique_id
			[]string{"DOCUMENTATION", "BILLING", ""}[i%3],        // ama_flags
		})
	}
	return recs
}

// rightsRecords returns records of model.RightsRequests.
func rightsRecords() []model.Record {
	return []model.Record{
		{"RR-2025-001", "access,portability", "closed", day("2025-09-01"), "email", true, day("2025-09-03"), "photo ID", day("2025-09-03"), day("2025-10-03"), nil, day("2025-09-30")},
		{"RR-2025-014", "erasure", "open", day("2025-10-20"), "letter", false, nil, "", nil, nil, nil, nil},
	}
}

func eventRecords() []model.Record {
	return []model.Record{
		{"RR-2025-001", int64(1), mustTime("2025-09-01T09:00:00Z"), "created", "op:alice", "Received by email."},
		{"RR-2025-001", int64(2), mustTime("2025-09-03T10:30:00Z"), "verified", "op:alice", "=1+1 in a note"},
		{"RR-2025-001", int64(3), mustTime("2025-10-01T16:45:12Z"), "exported", "dsar", ""},
	}
}

func TestFixturesFitTheirDatasets(t *testing.T) {
	for _, tc := range []struct {
		d    *model.Dataset
		recs []model.Record
	}{
		{edge, edgeRecords()},
		{model.Calls, callRecords(50)},
		{model.RightsRequests, rightsRecords()},
		{model.RequestEvents, eventRecords()},
	} {
		for i, r := range tc.recs {
			if err := tc.d.Check(r); err != nil {
				t.Fatalf("%s record %d: %v", tc.d.Name, i, err)
			}
		}
	}
}

// writeAll writes recs with w and closes it.
func writeAll(t testing.TB, w Writer, recs []model.Record) {
	t.Helper()
	for i, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatalf("Write record %d: %v", i, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// streamFormats are the formats whose writers take an io.Writer.
var streamFormats = []struct {
	name string
	new  func(io.Writer, *model.Dataset) (Writer, error)
}{
	{"json", func(w io.Writer, d *model.Dataset) (Writer, error) { return NewJSON(w, d), nil }},
	{"csv", func(w io.Writer, d *model.Dataset) (Writer, error) { return NewCSV(w, d), nil }},
	{"parquet", NewParquet},
}

// encode writes recs of d in the named stream format.
func encode(t testing.TB, format string, d *model.Dataset, recs []model.Record) []byte {
	t.Helper()
	for _, f := range streamFormats {
		if f.name == format {
			var buf bytes.Buffer
			w, err := f.new(&buf, d)
			if err != nil {
				t.Fatal(err)
			}
			writeAll(t, w, recs)
			return buf.Bytes()
		}
	}
	t.Fatalf("no format %q", format)
	return nil
}

var testCreated = mustTime("2025-10-27T09:30:00Z")

var testAbout = [][2]string{
	{"Request", "RR-2025-001"},
	{"Subject", "Siân Ó Briain"},
	{"Exported", "2025-10-27 09:30:00 UTC"},
	{"Note", "=not a formula\nsecond line"},
}

type sheetData struct {
	d    *model.Dataset
	recs []model.Record
}

// encodeXLSX writes a workbook with the About rows and one dataset per
// sheet.
func encodeXLSX(t testing.TB, about [][2]string, sheets ...sheetData) []byte {
	t.Helper()
	wb, err := NewWorkbook(WorkbookOptions{About: about, Created: testCreated, TmpDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	for _, s := range sheets {
		w, err := wb.Sheet(s.d)
		if err != nil {
			t.Fatal(err)
		}
		writeAll(t, w, s.recs)
	}
	var buf bytes.Buffer
	n, err := wb.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Errorf("WriteTo returned %d, wrote %d bytes", n, buf.Len())
	}
	if err := wb.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got: %q\nwant: %q\n(run go test -update if the change is intended)", path, i+1, g, w)
			}
		}
		t.Fatalf("%s differs (run go test -update if the change is intended)", path)
	}
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		d    *model.Dataset
		recs []model.Record
	}{
		{edge, edgeRecords()},
		{model.Calls, callRecords(6)},
		{model.RightsRequests, rightsRecords()},
		{model.RequestEvents, nil},
	} {
		for _, f := range []string{"json", "csv"} {
			t.Run(tc.d.Name+"."+f, func(t *testing.T) {
				golden(t, tc.d.Name+"."+f+".golden", encode(t, f, tc.d, tc.recs))
			})
		}
		t.Run(tc.d.Name+".parquet", func(t *testing.T) {
			golden(t, tc.d.Name+".parquet.golden", []byte(describeParquet(t, encode(t, "parquet", tc.d, tc.recs))))
		})
	}
	t.Run("workbook.xlsx", func(t *testing.T) {
		b := encodeXLSX(t, testAbout, sheetData{model.Calls, callRecords(3)}, sheetData{edge, edgeRecords()[:8]}, sheetData{model.RequestEvents, nil})
		golden(t, "workbook.xlsx.golden", []byte(describeXLSX(t, b)))
	})
}

func TestNeutralise(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"=SUM(A1)", "'=SUM(A1)"},
		{"+441632960555", "'+441632960555"},
		{"-", "'-"},
		{"-5", "'-5"},
		{"@home", "'@home"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"\nx", "\nx"},
		{" =x", " =x"},
		{"a=b", "a=b"},
		{"01632960555", "01632960555"},
		{"1673460610.10", "1673460610.10"},
		{"'already", "'already"},
		{"Siân Ó Briain", "Siân Ó Briain"},
		{"＝fullwidth", "＝fullwidth"},
	} {
		if got := Neutralise(tc.in); got != tc.want {
			t.Errorf("Neutralise(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestValidUTF8(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ok", "ok"},
		{"Siân", "Siân"},
		{"a\xffb", "a\uFFFDb"},
		{"\xff\xfe", "\uFFFD\uFFFD"},
		{"\xe2\x82", "\uFFFD\uFFFD"}, // truncated sequence: one per byte
	} {
		if got := validUTF8(tc.in); got != tc.want {
			t.Errorf("validUTF8(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestDeterministic writes the same records twice in every format and
// expects identical bytes.
func TestDeterministic(t *testing.T) {
	recs := callRecords(300)
	for _, f := range streamFormats {
		a := encode(t, f.name, model.Calls, recs)
		b := encode(t, f.name, model.Calls, recs)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two runs differ", f.name)
		}
	}
	// Several sheets: excelize keeps stream-written sheets in a map.
	sheets := []sheetData{
		{model.Calls, recs},
		{model.RightsRequests, rightsRecords()},
		{model.RequestEvents, eventRecords()},
		{edge, edgeRecords()},
	}
	first := encodeXLSX(t, testAbout, sheets...)
	for range 4 {
		if again := encodeXLSX(t, testAbout, sheets...); !bytes.Equal(first, again) {
			t.Fatal("xlsx: two runs differ")
		}
	}
}

var errFail = errors.New("disk on fire")

// failWriter fails every Write after the first ok bytes.
type failWriter struct{ ok int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) <= w.ok {
		w.ok -= len(p)
		return len(p), nil
	}
	n := w.ok
	w.ok = 0
	return n, errFail
}

// TestWriteErrors checks that an io.Writer's error comes back from Write
// or Close, and is sticky.
func TestWriteErrors(t *testing.T) {
	recs := callRecords(2000)
	for _, f := range streamFormats {
		for _, ok := range []int{0, 3, 100, 70000} {
			t.Run(fmt.Sprintf("%s/after%d", f.name, ok), func(t *testing.T) {
				w, err := f.new(&failWriter{ok: ok}, model.Calls)
				if err != nil {
					t.Fatal(err)
				}
				var first error
				for _, r := range recs {
					if err := w.Write(r); err != nil {
						first = err
						break
					}
				}
				cerr := w.Close()
				if first == nil {
					first = cerr
				}
				if !errors.Is(first, errFail) {
					t.Fatalf("got %v, want %v", first, errFail)
				}
				if !errors.Is(cerr, errFail) {
					t.Errorf("Close after a failed write returned %v", cerr)
				}
				if !strings.HasPrefix(first.Error(), "formats: ") || !strings.Contains(first.Error(), "calls") {
					t.Errorf("error %q does not name the package and dataset", first)
				}
			})
		}
	}
	t.Run("xlsx", func(t *testing.T) {
		wb, err := NewWorkbook(WorkbookOptions{Created: testCreated, TmpDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer wb.Close()
		w, err := wb.Sheet(model.Calls)
		if err != nil {
			t.Fatal(err)
		}
		writeAll(t, w, recs[:10])
		if _, err := wb.WriteTo(&failWriter{ok: 100}); !errors.Is(err, errFail) || !strings.HasPrefix(err.Error(), "formats: ") {
			t.Fatalf("WriteTo: got %v, want %v", err, errFail)
		}
	})
}

// TestBadRecords checks that records that do not fit are rejected with an
// error that names the dataset, row and column but not the value, that
// nothing of them is written, and that the writer stays usable.
func TestBadRecords(t *testing.T) {
	good := callRecords(2)
	const secret = "+447700900123"
	bad := []struct {
		name string
		rec  func() model.Record
		want string
	}{
		{"short", func() model.Record { return good[0][:5] }, fmt.Sprintf("formats: calls row 2 has 5 values, want %d", len(model.Calls.Columns))},
		{"type", func() model.Record {
			r := append(model.Record(nil), good[0]...)
			r[1] = secret // leg is an Int
			return r
		}, `formats: calls row 2 column "leg" holds string, want integer`},
		{"int", func() model.Record {
			r := append(model.Record(nil), good[0]...)
			r[1] = 7 // int, not int64
			return r
		}, `formats: calls row 2 column "leg" holds int, want integer`},
		{"null", func() model.Record {
			r := append(model.Record(nil), good[0]...)
			r[15] = nil
			return r
		}, `formats: calls row 2 column "other_number" is null but not nullable`},
		{"time", func() model.Record {
			r := append(model.Record(nil), good[0]...)
			r[4] = secret
			return r
		}, `formats: calls row 2 column "start_utc" holds string, want timestamp`},
	}
	run := func(t *testing.T, w Writer, check func()) {
		if err := w.Write(good[0]); err != nil {
			t.Fatal(err)
		}
		for _, b := range bad {
			err := w.Write(b.rec())
			if err == nil || err.Error() != b.want {
				t.Errorf("%s: got %v, want %s", b.name, err, b.want)
			}
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error reveals the value: %v", b.name, err)
			}
		}
		if err := w.Write(good[1]); err != nil {
			t.Fatalf("Write after rejected records: %v", err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err == nil {
			t.Error("second Close returned nil")
		}
		if err := w.Write(good[1]); err == nil {
			t.Error("Write after Close returned nil")
		}
		check()
	}
	for _, f := range streamFormats {
		t.Run(f.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := f.new(&buf, model.Calls)
			if err != nil {
				t.Fatal(err)
			}
			run(t, w, func() {
				if want := encode(t, f.name, model.Calls, good); !bytes.Equal(buf.Bytes(), want) {
					t.Error("output differs from writing only the good records")
				}
			})
		})
	}
	t.Run("xlsx", func(t *testing.T) {
		wb, err := NewWorkbook(WorkbookOptions{Created: testCreated, TmpDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer wb.Close()
		w, err := wb.Sheet(model.Calls)
		if err != nil {
			t.Fatal(err)
		}
		run(t, w, func() {
			var buf bytes.Buffer
			if _, err := wb.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			if want := encodeXLSX(t, nil, sheetData{model.Calls, good}); !bytes.Equal(buf.Bytes(), want) {
				t.Error("output differs from writing only the good records")
			}
		})
	})
}

// readCSV parses CSV output with encoding/csv.
func readCSV(t testing.TB, b []byte) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(b))
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("encoding/csv cannot read the output: %v", err)
	}
	return rows
}

// sampleRecord returns a record that fits d, with a null in every nullable
// column if nulls is set.
func sampleRecord(d *model.Dataset, nulls bool) model.Record {
	r := make(model.Record, len(d.Columns))
	for i, c := range d.Columns {
		if nulls && c.Nullable {
			continue
		}
		switch c.Type {
		case model.String:
			r[i] = "+44 " + c.Name
			if len(c.Enum) > 0 {
				r[i] = c.Enum[len(c.Enum)-1]
			}
		case model.Int:
			r[i] = int64(i)
		case model.Timestamp:
			r[i] = mustTime("2025-10-26T01:40:00Z")
		case model.Date:
			r[i] = day("2025-10-26")
		case model.Bool:
			r[i] = i%2 == 0
		}
	}
	return r
}

// TestAllDatasets writes every declared dataset in every format, so that
// a new dataset or column type cannot slip past the writers.
func TestAllDatasets(t *testing.T) {
	var sheets []sheetData
	for _, d := range model.Datasets {
		recs := []model.Record{sampleRecord(d, false), sampleRecord(d, true)}
		for _, r := range recs {
			if err := d.Check(r); err != nil {
				t.Fatalf("%s: sample record: %v", d.Name, err)
			}
		}
		for _, f := range streamFormats {
			encode(t, f.name, d, recs)
			encode(t, f.name, d, nil)
		}
		if got := parquetRows(t, encode(t, "parquet", d, recs), d); len(got) != 2 {
			t.Errorf("%s: parquet read %d rows", d.Name, len(got))
		}
		sheets = append(sheets, sheetData{d, recs})
	}
	encodeXLSX(t, testAbout, sheets...)
}
