package formats

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/dsar-tool/dsar/exporter/itest"
	"github.com/dsar-tool/dsar/exporter/model"
)

// describeXLSX lists the entries of an .xlsx file with their XML, for a
// reviewable golden file. The theme, which excelize copies verbatim, is
// shown as a digest.
func describeXLSX(t testing.TB, b []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&sb, "== %s (modified %s, %d bytes)\n", f.Name, f.Modified.Format("2006-01-02 15:04:05"), len(data))
		if strings.HasPrefix(f.Name, "xl/theme/") {
			fmt.Fprintf(&sb, "sha256 %x\n", sha256.Sum256(data))
			continue
		}
		sb.Write(bytes.ReplaceAll(data, []byte("><"), []byte(">\n<")))
		sb.WriteString("\n")
	}
	return sb.String()
}

func TestXLSXZip(t *testing.T) {
	b := encodeXLSX(t, testAbout, sheetData{model.Calls, callRecords(3)}, sheetData{model.RequestEvents, eventRecords()}, sheetData{edge, edgeRecords()})
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if !f.Modified.Equal(time.Date(2025, 10, 27, 9, 30, 0, 0, time.UTC)) && !f.Modified.Equal(time.Date(2025, 10, 27, 9, 30, 0, 0, time.Local)) {
			t.Errorf("%s: modified %v", f.Name, f.Modified)
		}
		if f.Method != zip.Deflate {
			t.Errorf("%s: method %d", f.Name, f.Method)
		}
	}
	if !slices.IsSorted(names) || names[0] != "[Content_Types].xml" {
		t.Errorf("entries not sorted: %q", names)
	}
	for _, want := range []string{"xl/worksheets/sheet1.xml", "xl/worksheets/sheet4.xml", "docProps/core.xml", "xl/workbook.xml"} {
		if !slices.Contains(names, want) {
			t.Errorf("no %s in %q", want, names)
		}
	}
	core := readZipEntry(t, zr, "docProps/core.xml")
	for _, want := range []string{"<dc:creator>dsar</dc:creator>", `<dcterms:created xsi:type="dcterms:W3CDTF">2025-10-27T09:30:00Z</dcterms:created>`, `<dcterms:modified xsi:type="dcterms:W3CDTF">2025-10-27T09:30:00Z</dcterms:modified>`} {
		if !strings.Contains(core, want) {
			t.Errorf("core.xml lacks %s:\n%s", want, core)
		}
	}
	if app := readZipEntry(t, zr, "docProps/app.xml"); !strings.Contains(app, "<Application>dsar</Application>") {
		t.Errorf("app.xml: %s", app)
	}
	wbx := readZipEntry(t, zr, "xl/workbook.xml")
	if strings.Contains(wbx, "Sheet1") {
		t.Errorf("workbook.xml still has Sheet1: %s", wbx)
	}
	colMin := regexp.MustCompile(`<col min="(\d+)"`)
	for _, s := range readZipEntries(t, zr, "xl/worksheets/") {
		if strings.Contains(s, "<f>") || strings.Contains(s, `t="str"`) || strings.Contains(s, `t="s"`) {
			t.Errorf("worksheet has a formula or shared string")
		}
		// Excel repairs a file whose <col> elements are out of order.
		prev := 0
		for _, m := range colMin.FindAllStringSubmatch(s, -1) {
			n, _ := strconv.Atoi(m[1])
			if n <= prev {
				t.Fatalf("<col> elements out of order: %v", colMin.FindAllString(s, -1))
			}
			prev = n
		}
		if prev == 0 {
			t.Error("worksheet without column widths")
		}
	}
}

func readZipEntry(t testing.TB, zr *zip.Reader, name string) string {
	t.Helper()
	rc, err := zr.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readZipEntries(t testing.TB, zr *zip.Reader, prefix string) []string {
	var out []string
	for _, f := range zr.File {
		if strings.HasPrefix(f.Name, prefix) && strings.HasSuffix(f.Name, ".xml") {
			out = append(out, readZipEntry(t, zr, f.Name))
		}
	}
	return out
}

// openpyxlDump loads a workbook with openpyxl (warnings are errors) and
// prints every sheet's layout and cells as JSON.
const openpyxlDump = `
import json, sys, warnings, datetime
warnings.simplefilter("error")
import openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
out = []
for ws in wb.worksheets:
    rows = []
    formulas = 0
    bold = []
    for r, row in enumerate(ws.iter_rows()):
        cells = []
        for c in row:
            v = c.value
            if c.data_type == "f":
                formulas += 1
            if v is None:
                cells.append(["n", None, ""])
            elif isinstance(v, bool):
                cells.append(["b", v, ""])
            elif isinstance(v, int):
                cells.append(["i", str(v), c.number_format])
            elif isinstance(v, float):
                cells.append(["f", repr(v), c.number_format])
            elif isinstance(v, datetime.datetime):
                cells.append(["d", v.isoformat(), c.number_format])
            elif isinstance(v, str):
                cells.append(["s", v, ""])
            else:
                cells.append(["?", repr(v), ""])
            if r == 0 or ws.title == "About":
                bold.append(bool(c.font and c.font.b))
        rows.append(cells)
    widths = {k: d.width for k, d in ws.column_dimensions.items()}
    out.append({"title": ws.title, "freeze": ws.freeze_panes, "filter": ws.auto_filter.ref,
                "rows": rows, "bold": bold, "formulas": formulas, "widths": widths})
print(json.dumps({"sheets": out, "active": wb.active.title}))
`

type pyCell struct {
	Kind   string
	Value  any
	Format string
}

func (c *pyCell) UnmarshalJSON(b []byte) error {
	var a []any
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	c.Kind, c.Value, c.Format = a[0].(string), a[1], a[2].(string)
	return nil
}

type pySheet struct {
	Title    string
	Freeze   *string
	Filter   *string
	Rows     [][]pyCell
	Bold     []bool
	Formulas int
	Widths   map[string]float64
}

func openpyxlRead(t *testing.T, b []byte) (sheets []pySheet, active string) {
	t.Helper()
	py := itest.Python(t, "openpyxl")
	path := filepath.Join(t.TempDir(), "book.xlsx")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", openpyxlDump, path).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("openpyxl: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var res struct {
		Sheets []pySheet
		Active string
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	return res.Sheets, res.Active
}

// xmlText is what survives of s in XML text: characters XML 1.0 cannot
// hold become U+FFFD, and CRLF compares as LF (encoding/csv's reader reads
// it so).
func xmlText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
			return '\uFFFD'
		}
		return r
	}, s)
	return strings.ReplaceAll(s, "\r\n", "\n")
}

// compareSheetWithCSV compares an openpyxl sheet value by value with the
// CSV written from the same records.
func compareSheetWithCSV(t *testing.T, d *model.Dataset, s pySheet, csvRows [][]string) {
	t.Helper()
	if len(s.Rows) != len(csvRows) {
		t.Fatalf("%s: %d rows, CSV has %d", s.Title, len(s.Rows), len(csvRows))
	}
	for j, c := range d.Columns {
		h := s.Rows[0][j]
		if h.Kind != "s" || h.Value != c.Name {
			t.Errorf("%s header %d: %v, want %q", s.Title, j, h, c.Name)
		}
		if !s.Bold[j] {
			t.Errorf("%s header %q is not bold", s.Title, c.Name)
		}
	}
	for i := 1; i < len(csvRows); i++ {
		for j, c := range d.Columns {
			want := csvRows[i][j]
			cell := s.Rows[i][j]
			var got string
			switch cell.Kind {
			case "n":
			case "s":
				got = cell.Value.(string)
				want = xmlText(want)
				got = strings.ReplaceAll(got, "\r\n", "\n")
				// excelize escapes a literal "_x0041_" as "_x005F_x0041_"
				// (ECMA-376 ST_Xstring), which Excel shows as "_x0041_"
				// but openpyxl does not decode.
				got = strings.ReplaceAll(got, "_x005F_", "_")
			case "i":
				got = cell.Value.(string)
			case "b":
				got = fmt.Sprint(cell.Value)
			case "d":
				iso := cell.Value.(string)
				switch c.Type {
				case model.Timestamp:
					got = iso + "Z"
					if cell.Format != "yyyy-mm-dd hh:mm:ss" {
						t.Errorf("%s row %d %s: number format %q", s.Title, i, c.Name, cell.Format)
					}
				case model.Date:
					got = strings.TrimSuffix(iso, "T00:00:00")
					if cell.Format != "yyyy-mm-dd" {
						t.Errorf("%s row %d %s: number format %q", s.Title, i, c.Name, cell.Format)
					}
				}
			default:
				t.Errorf("%s row %d %s: unexpected cell %v", s.Title, i, c.Name, cell)
				continue
			}
			wantKind := map[model.Type]string{model.String: "s", model.Int: "i", model.Timestamp: "d", model.Date: "d", model.Bool: "b"}[c.Type]
			if want == "" {
				wantKind = "n"
			}
			if cell.Kind != wantKind {
				t.Errorf("%s row %d %s: cell kind %q, want %q", s.Title, i, c.Name, cell.Kind, wantKind)
			}
			if got != want {
				t.Errorf("%s row %d %s: got %q, want %q", s.Title, i, c.Name, got, want)
			}
		}
	}
}

// TestXLSXOpenpyxl reads a workbook with openpyxl and compares it with
// the CSV of the same records.
func TestXLSXOpenpyxl(t *testing.T) {
	calls := callRecords(40)
	b := encodeXLSX(t, testAbout,
		sheetData{model.Calls, calls},
		sheetData{edge, edgeRecords()},
		sheetData{model.RightsRequests, rightsRecords()},
		sheetData{model.RequestEvents, nil},
	)
	sheets, active := openpyxlRead(t, b)
	var titles []string
	for _, s := range sheets {
		titles = append(titles, s.Title)
	}
	if want := []string{"About", "Calls", "Edge_ cases_values_", "Rights requests", "Request events"}; !slices.Equal(titles, want) {
		t.Fatalf("sheets %q, want %q", titles, want)
	}
	if active != "About" {
		t.Errorf("active sheet %q", active)
	}

	about := sheets[0]
	if len(about.Rows) != len(testAbout) {
		t.Fatalf("About has %d rows", len(about.Rows))
	}
	for i, kv := range testAbout {
		row := about.Rows[i]
		if row[0].Value != kv[0] || row[1].Value != Neutralise(kv[1]) {
			t.Errorf("About row %d: %v", i, row)
		}
		if !about.Bold[2*i] || about.Bold[2*i+1] {
			t.Errorf("About row %d: label bold %v, value bold %v", i, about.Bold[2*i], about.Bold[2*i+1])
		}
	}
	if about.Widths["A"] < 10 || about.Widths["B"] < float64(len("2025-10-27 09:30:00 UTC")) {
		t.Errorf("About widths %v", about.Widths)
	}

	for i, sd := range []sheetData{{model.Calls, calls}, {edge, edgeRecords()}, {model.RightsRequests, rightsRecords()}, {model.RequestEvents, nil}} {
		s := sheets[i+1]
		t.Run(s.Title, func(t *testing.T) {
			if s.Formulas != 0 {
				t.Errorf("%d formula cells", s.Formulas)
			}
			if s.Freeze == nil || *s.Freeze != "A2" {
				t.Errorf("freeze panes %v, want A2", s.Freeze)
			}
			last := string(rune('A' + len(sd.d.Columns) - 1))
			if len(sd.d.Columns) > 26 {
				last = "A" + string(rune('A'+len(sd.d.Columns)-27))
			}
			wantFilter := fmt.Sprintf("A1:%s%d", last, len(sd.recs)+1)
			if filterRef(s.Filter) != wantFilter {
				t.Errorf("autofilter %v, want %s", deref(s.Filter), wantFilter)
			}
			for j, c := range sd.d.Columns {
				col := string(rune('A' + j))
				if j >= 26 {
					col = "A" + string(rune('A'+j-26))
				}
				w := s.Widths[col]
				if w < float64(len(c.Name)) || w > maxColumnWidth {
					t.Errorf("column %s (%s) width %v", col, c.Name, w)
				}
				if c.Type == model.Timestamp && w < 19 {
					t.Errorf("timestamp column %s width %v", c.Name, w)
				}
			}
			compareSheetWithCSV(t, sd.d, s, readCSV(t, encode(t, "csv", sd.d, sd.recs)))
		})
	}
}

// TestXLSXOverflow lowers the row limit and checks that a dataset
// continues on numbered sheets, each with its header.
func TestXLSXOverflow(t *testing.T) {
	defer func(n int) { maxSheetRows = n }(maxSheetRows)
	maxSheetRows = 4
	recs := callRecords(10)
	b := encodeXLSX(t, nil, sheetData{model.Calls, recs}, sheetData{model.RequestEvents, eventRecords()[:2]})
	sheets, active := openpyxlRead(t, b)
	var titles []string
	for _, s := range sheets {
		titles = append(titles, s.Title)
	}
	if want := []string{"Calls", "Calls (2)", "Calls (3)", "Request events"}; !slices.Equal(titles, want) {
		t.Fatalf("sheets %q, want %q", titles, want)
	}
	if active != "Calls" {
		t.Errorf("active sheet %q", active)
	}
	csvRows := readCSV(t, encode(t, "csv", model.Calls, recs))
	lastCol, _ := excelize.ColumnNumberToName(len(model.Calls.Columns))
	for i, n := range []int{4, 4, 2} {
		s := sheets[i]
		if filterRef(s.Filter) != fmt.Sprintf("A1:%s%d", lastCol, n+1) {
			t.Errorf("%s: autofilter %v", s.Title, deref(s.Filter))
		}
		if s.Freeze == nil || *s.Freeze != "A2" {
			t.Errorf("%s: freeze panes %v", s.Title, s.Freeze)
		}
		part := append([][]string{csvRows[0]}, csvRows[1+4*i:1+4*i+n]...)
		compareSheetWithCSV(t, model.Calls, s, part)
	}
}

// TestXLSXTmpDir writes a sheet large enough for excelize to spill to a
// temporary file and checks that it goes to TmpDir and that Close removes
// it.
func TestXLSXTmpDir(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 20,000 rows")
	}
	dir := t.TempDir()
	wb, err := NewWorkbook(WorkbookOptions{Created: testCreated, TmpDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	w, err := wb.Sheet(model.Calls)
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, w, callRecords(20000))
	files, _ := os.ReadDir(dir)
	if len(files) == 0 {
		t.Error("no temporary file in TmpDir")
	}
	if _, err := wb.WriteTo(io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := wb.Close(); err != nil {
		t.Fatal(err)
	}
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Errorf("Close left %d files in TmpDir", len(files))
	}
}

func TestWorkbookMisuse(t *testing.T) {
	wb, err := NewWorkbook(WorkbookOptions{TmpDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	if _, err := wb.WriteTo(io.Discard); err == nil || !strings.Contains(err.Error(), "no sheets") {
		t.Errorf("WriteTo with no sheets: %v", err)
	}
	w, err := wb.Sheet(model.Calls)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wb.Sheet(model.RequestEvents); err == nil || !strings.Contains(err.Error(), "still open") {
		t.Errorf("second Sheet while open: %v", err)
	}
	if _, err := wb.WriteTo(io.Discard); err == nil || !strings.Contains(err.Error(), "still open") {
		t.Errorf("WriteTo while open: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w, err = wb.Sheet(model.Calls)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), `duplicate sheet name "Calls"`) {
		t.Errorf("duplicate sheet: %v", err)
	}
	if _, err := wb.WriteTo(io.Discard); err == nil {
		t.Error("WriteTo after a failed sheet returned nil")
	}
	if err := wb.Close(); err != nil {
		t.Fatal(err)
	}
	if err := wb.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := wb.Sheet(model.Calls); err == nil {
		t.Error("Sheet after Close returned nil")
	}
}

func TestSheetName(t *testing.T) {
	for _, tc := range []struct {
		title string
		n     int
		want  string
	}{
		{"Calls", 1, "Calls"},
		{"Calls", 2, "Calls (2)"},
		{"Rights requests", 12, "Rights requests (12)"},
		{"a:b\\c/d?e*f[g]h", 1, "a_b_c_d_e_f_g_h"},
		{"'quoted'", 1, "’quoted’"},
		{"", 1, "Data"},
		{"  ", 2, "Data (2)"},
		{"A very long dataset title that goes on", 1, "A very long dataset title that"},
		{"A very long dataset title that goes on", 3, "A very long dataset title t (3)"},
		{"Ünïcödé ünïcödé ünïcödé ünïcödé ü", 1, "Ünïcödé ünïcödé ünïcödé ünïcödé"},
		{"emoji 📞📞📞📞📞📞📞📞📞📞📞📞📞📞", 1, "emoji 📞📞📞📞📞📞📞📞📞📞📞📞"},
	} {
		got := sheetName(tc.title, tc.n)
		if got != tc.want {
			t.Errorf("sheetName(%q, %d) = %q, want %q", tc.title, tc.n, got, tc.want)
		}
		units := 0
		for _, r := range got {
			units++
			if r > 0xFFFF {
				units++
			}
		}
		if units > 31 {
			t.Errorf("sheetName(%q, %d) = %q is %d UTF-16 units", tc.title, tc.n, got, units)
		}
	}
}

func TestExcelSerial(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		date bool
		want float64
		ok   bool
	}{
		{mustTime("1970-01-01T00:00:00Z"), false, 25569, true},
		{mustTime("1900-03-01T00:00:00Z"), true, 61, true},
		{mustTime("1900-02-28T23:59:59Z"), false, 0, false},
		{mustTime("2025-10-26T12:00:00Z"), false, 45956.5, true},
		{mustTime("2025-10-26T12:00:00.9Z"), false, 45956.5, true},
		{mustTime("2025-10-26T00:00:00Z"), true, 45956, true},
		{mustTime("1969-12-31T00:00:00Z"), true, 25568, true},
		{mustTime("9999-12-31T23:59:59Z"), false, 2958465 + 86399.0/86400, true},
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), false, 0, false},
	} {
		got, ok := excelSerial(tc.t, tc.date)
		if got != tc.want || ok != tc.ok {
			t.Errorf("excelSerial(%v, %v) = %v, %v; want %v, %v", tc.t, tc.date, got, ok, tc.want, tc.ok)
		}
	}
}

// filterRef returns an autofilter reference without the dollar signs of
// the absolute form excelize writes ("$A$1:$X$5", which Excel accepts).
func filterRef(s *string) string {
	return strings.ReplaceAll(deref(s), "$", "")
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
