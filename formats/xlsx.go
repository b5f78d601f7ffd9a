package formats

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/dsar-tool/dsar/exporter/model"
)

// maxSheetRows is the number of data rows on one sheet: Excel's limit of
// 1,048,576 rows less the header row. Tests lower it.
var maxSheetRows = 1_048_575

// widthSampleRows is how many records a sheet buffers to choose its column
// widths, which the stream writer must know before the first row.
const widthSampleRows = 200

// maxColumnWidth caps a data column's width, in characters.
const maxColumnWidth = 60

// aboutSheet is the name of the sheet that WorkbookOptions.About fills.
const aboutSheet = "About"

// WorkbookOptions configures a Workbook.
type WorkbookOptions struct {
	// About holds label/value rows for an "About" sheet, shown first.
	// With no rows there is no About sheet.
	About [][2]string
	// Created is written as the document's created and modified time and as
	// the time of every entry of the .xlsx zip, so that equal inputs give
	// equal bytes. The zero value means 1980-01-01T00:00:00Z.
	Created time.Time
	// TmpDir is where the stream writer may spill sheet data (plain text)
	// once a sheet passes 16 MiB; pass a private directory. Empty means
	// os.TempDir(). If excelize cannot create a file there it keeps the
	// data in memory instead. Close removes the files.
	TmpDir string
}

// Workbook writes datasets as the sheets of one .xlsx file, through
// excelize's StreamWriter.
//
// Sheets are written one after another: the Writer returned by Sheet must be
// closed before the next call to Sheet or to WriteTo. WriteTo then writes
// the whole file (excelize builds it in memory first; sheet data above
// 16 MiB is held in TmpDir until then). Close releases temporary files and
// must be called whether or not WriteTo was, including on error paths.
type Workbook struct {
	f       *excelize.File
	created time.Time
	bold    int // style IDs
	wrap    int
	stamp   int
	date    int
	spare   string          // excelize's initial sheet while unclaimed ("Sheet1")
	names   map[string]bool // sheet names in use, lower-cased
	open    *sheetWriter
	sheets  int
	err     error // a failed sheet: the workbook can no longer be written
	written bool
	closed  bool
}

// NewWorkbook returns an empty workbook; if opt.About has rows, it already
// holds the About sheet.
func NewWorkbook(opt WorkbookOptions) (*Workbook, error) {
	created := opt.Created.UTC().Truncate(time.Second)
	if opt.Created.IsZero() || created.Year() < 1980 {
		created = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	f := excelize.NewFile(excelize.Options{TmpDir: opt.TmpDir})
	wb := &Workbook{f: f, created: created, spare: f.GetSheetName(0), names: map[string]bool{}}
	if err := wb.init(opt.About); err != nil {
		_ = f.Close()
		return nil, err
	}
	return wb, nil
}

func (wb *Workbook) init(about [][2]string) error {
	f := wb.f
	stamp := wb.created.Format(time.RFC3339)
	// excelize's template says creator "xuri", created 2006-09-16 and
	// application "Go Excelize"; replace them with fixed values.
	if err := f.SetDocProps(&excelize.DocProperties{
		Creator:        "dsar",
		LastModifiedBy: "dsar",
		Created:        stamp,
		Modified:       stamp,
	}); err != nil {
		return fmt.Errorf("formats: setting workbook properties: %w", err)
	}
	if err := f.SetAppProps(&excelize.AppProperties{Application: "dsar"}); err != nil {
		return fmt.Errorf("formats: setting workbook properties: %w", err)
	}
	styles := []struct {
		id    *int
		style excelize.Style
	}{
		{&wb.bold, excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: &excelize.Alignment{Vertical: "top"}}},
		{&wb.wrap, excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}}},
		{&wb.stamp, excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd hh:mm:ss")}},
		{&wb.date, excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd")}},
	}
	for _, s := range styles {
		id, err := f.NewStyle(&s.style)
		if err != nil {
			return fmt.Errorf("formats: creating workbook style: %w", err)
		}
		*s.id = id
	}
	if len(about) > 0 {
		return wb.writeAbout(about)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// writeAbout writes the About sheet: bold labels in column A, values in
// column B, both neutralised.
func (wb *Workbook) writeAbout(about [][2]string) error {
	if err := wb.claim(aboutSheet); err != nil {
		return err
	}
	sw, err := wb.f.NewStreamWriter(aboutSheet)
	if err != nil {
		return fmt.Errorf("formats: creating about sheet: %w", err)
	}
	labelW, valueW := 10.0, 20.0
	for _, row := range about {
		labelW = max(labelW, textWidth(row[0])+2)
		valueW = max(valueW, textWidth(row[1])+2)
	}
	// excelize prepends each column's width, and Excel wants them in
	// ascending order: set them from the last column to the first.
	if err := sw.SetColWidth(2, 2, min(valueW, 100)); err != nil {
		return fmt.Errorf("formats: about sheet: %w", err)
	}
	if err := sw.SetColWidth(1, 1, min(labelW, 40)); err != nil {
		return fmt.Errorf("formats: about sheet: %w", err)
	}
	for i, row := range about {
		cells := []any{
			excelize.Cell{StyleID: wb.bold, Value: textCell(row[0])},
			excelize.Cell{StyleID: wb.wrap, Value: textCell(row[1])},
		}
		if err := sw.SetRow("A"+strconv.Itoa(i+1), cells); err != nil {
			return fmt.Errorf("formats: about sheet row %d: %w", i+1, err)
		}
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("formats: about sheet: %w", err)
	}
	return nil
}

// textCell returns s made valid and neutralised, or nil (an empty cell)
// for an empty string.
func textCell(s string) any {
	if s == "" {
		return nil
	}
	return Neutralise(validUTF8(s))
}

// claim takes name for a new sheet, reusing excelize's initial sheet for
// the first one so that no "Sheet1" remains.
func (wb *Workbook) claim(name string) error {
	key := strings.ToLower(name)
	if wb.names[key] {
		return fmt.Errorf("formats: duplicate sheet name %q", name)
	}
	if wb.spare != "" {
		if err := wb.f.SetSheetName(wb.spare, name); err != nil {
			return fmt.Errorf("formats: naming sheet %q: %w", name, err)
		}
		wb.spare = ""
	} else if _, err := wb.f.NewSheet(name); err != nil {
		return fmt.Errorf("formats: adding sheet %q: %w", name, err)
	}
	wb.names[key] = true
	wb.sheets++
	return nil
}

// Sheet starts the sheet(s) of dataset d and returns the Writer for its
// records. The sheet is named after d.Title, made a valid sheet name
// (at most 31 characters, none of : \ / ? * [ ], apostrophes replaced by
// U+2019). Records beyond 1,048,575 continue on sheets "<Title> (2)",
// "<Title> (3)" and so on, each with the header row.
//
// Each sheet has a bold header row of the column names, frozen, and an
// autofilter over the data. Column widths are chosen from the header and
// the first 200 records. Values of String columns are inline text passed
// through Neutralise (never a formula; an empty string is an empty cell;
// control characters other than tab, CR and LF, which XML cannot hold,
// become U+FFFD; Excel's limit of 32,767 characters a cell truncates longer
// text). Integers are numbers, booleans booleans, timestamps date cells
// formatted yyyy-mm-dd hh:mm:ss (UTC, whole seconds), dates date cells
// formatted yyyy-mm-dd, and a null is an empty cell. A timestamp or date
// Excel cannot show (before 1900-03-01 or after 9999) is written as RFC 3339
// text.
//
// The returned Writer's Close finishes the sheet; the workbook is written
// by WriteTo.
func (wb *Workbook) Sheet(d *model.Dataset) (Writer, error) {
	switch {
	case wb.closed:
		return nil, errors.New("formats: workbook already closed")
	case wb.written:
		return nil, errors.New("formats: workbook already written")
	case wb.open != nil:
		return nil, fmt.Errorf("formats: sheet for %s is still open", wb.open.d.Name)
	case wb.err != nil:
		return nil, wb.err
	}
	if err := checkDataset(d); err != nil {
		return nil, err
	}
	s := &sheetWriter{wb: wb, d: d, part: 1}
	s.lastCol, _ = excelize.ColumnNumberToName(len(d.Columns))
	s.row = make([]any, len(d.Columns))
	s.header = make([]any, len(d.Columns))
	for i, c := range d.Columns {
		s.header[i] = excelize.Cell{StyleID: wb.bold, Value: c.Name}
	}
	wb.open = s
	return s, nil
}

// WriteTo writes the .xlsx file to w. Every sheet must be closed. It may
// be called once.
func (wb *Workbook) WriteTo(w io.Writer) (int64, error) {
	switch {
	case wb.closed:
		return 0, errors.New("formats: workbook already closed")
	case wb.written:
		return 0, errors.New("formats: workbook already written")
	case wb.open != nil:
		return 0, fmt.Errorf("formats: sheet for %s is still open", wb.open.d.Name)
	case wb.err != nil:
		return 0, wb.err
	case wb.sheets == 0:
		return 0, errors.New("formats: workbook has no sheets")
	}
	wb.written = true
	// excelize adds the sheets' zip entries in map order; sortedZip
	// reorders all entries by name and gives them a fixed time.
	wb.f.SetZipWriter(func(w io.Writer) excelize.ZipWriter { return newSortedZip(w, wb.created) })
	n, err := wb.f.WriteTo(w)
	if err != nil {
		return n, fmt.Errorf("formats: writing workbook: %w", err)
	}
	return n, nil
}

// Close releases the workbook's temporary files. It is safe to call after
// WriteTo, with a sheet still open, or more than once.
func (wb *Workbook) Close() error {
	if wb.closed {
		return nil
	}
	wb.closed = true
	if err := wb.f.Close(); err != nil {
		return fmt.Errorf("formats: removing workbook temporary files: %w", err)
	}
	return nil
}

// sheetName returns a valid sheet name for part n of a dataset titled
// title.
func sheetName(title string, n int) string {
	suffix := ""
	if n > 1 {
		suffix = " (" + strconv.Itoa(n) + ")"
	}
	title = strings.Map(func(r rune) rune {
		switch {
		case strings.ContainsRune(`:\/?*[]`, r):
			return '_'
		case r == '\'':
			return '\u2019'
		case r < 0x20 || r == utf8.RuneError:
			return ' '
		}
		return r
	}, title)
	title = strings.TrimSpace(title)
	if title == "" {
		title = "Data"
	}
	room := 31 - len(suffix) // UTF-16 units; the suffix is ASCII
	used := 0
	for i, r := range title {
		used += utf16.RuneLen(r)
		if used > room {
			title = strings.TrimSpace(title[:i])
			break
		}
	}
	return title + suffix
}

// textWidth estimates the display width of s in characters: its longest
// line, counting runes.
func textWidth(s string) float64 {
	w := 0
	for line := range strings.SplitSeq(s, "\n") {
		w = max(w, utf8.RuneCountInString(line))
	}
	return float64(w)
}

// excelSerial returns t as an Excel 1900-system serial date, truncated to
// the second (to the day if date), or false if Excel cannot show it.
func excelSerial(t time.Time, date bool) (float64, bool) {
	const (
		minUnix   = -2203891200 // 1900-03-01T00:00:00Z, serial 61
		maxUnix   = 253402300799
		epochDays = 25569 // serial of 1970-01-01
	)
	u := t.Unix()
	if u < minUnix || u > maxUnix {
		return 0, false
	}
	if date {
		return float64(floorDiv(u, 86400) + epochDays), true
	}
	return float64(u+epochDays*86400) / 86400, true
}

// sheetWriter writes one dataset's sheets.
type sheetWriter struct {
	wb      *Workbook
	d       *model.Dataset
	sw      *excelize.StreamWriter
	name    string
	part    int    // 1 for the first sheet, 2 for "<Title> (2)", ...
	lastCol string // letters of the last column
	onSheet int    // data rows on the current sheet
	rows    int64  // data rows written in all
	header  []any
	row     []any     // reused cell slice
	sample  [][]any   // cells buffered until the widths are chosen
	widths  []float64 // nil until chosen
	err     error
	closed  bool
}

func (s *sheetWriter) Write(r model.Record) error {
	if s.closed {
		return errClosed
	}
	if s.err != nil {
		return s.err
	}
	if err := checkRecord(s.d, s.rows+1, r); err != nil {
		return err
	}
	s.rows++
	if s.widths == nil {
		s.sample = append(s.sample, s.cells(r, make([]any, len(r))))
		if len(s.sample) >= widthSampleRows {
			s.fail(s.start())
		}
		return s.err
	}
	s.fail(s.emit(s.cells(r, s.row)))
	return s.err
}

func (s *sheetWriter) Close() error {
	if s.closed {
		return errClosed
	}
	s.closed = true
	s.wb.open = nil
	if s.err != nil {
		return s.err
	}
	if s.widths == nil {
		if s.fail(s.start()) {
			return s.err
		}
	}
	s.fail(s.finish())
	return s.err
}

// fail records err, if any, as the writer's and the workbook's error and
// reports whether there was one.
func (s *sheetWriter) fail(err error) bool {
	if err == nil {
		return false
	}
	if s.err == nil {
		s.err = err
		if s.wb.err == nil {
			s.wb.err = err
		}
	}
	return true
}

// cells converts r into out, ready for StreamWriter.SetRow.
func (s *sheetWriter) cells(r model.Record, out []any) []any {
	for i, v := range r {
		switch v := v.(type) {
		case string:
			out[i] = textCell(v)
		case time.Time:
			date := s.d.Columns[i].Type == model.Date
			if serial, ok := excelSerial(v, date); !ok {
				out[i] = string(appendTimestamp(nil, v))
			} else if date {
				out[i] = excelize.Cell{StyleID: s.wb.date, Value: serial}
			} else {
				out[i] = excelize.Cell{StyleID: s.wb.stamp, Value: serial}
			}
		default: // nil, int64, bool
			out[i] = v
		}
	}
	return out
}

// start chooses the column widths from the header and the sampled rows,
// opens the first sheet and writes the sample.
func (s *sheetWriter) start() error {
	s.widths = make([]float64, len(s.d.Columns))
	for i, c := range s.d.Columns {
		w := textWidth(c.Name) + 3 // bold text and the filter button
		content := 0.0
		switch c.Type {
		case model.Timestamp:
			content = 19
		case model.Date:
			content = 10
		case model.Bool:
			content = 5
		}
		for _, e := range c.Enum {
			content = max(content, textWidth(e))
		}
		for _, row := range s.sample {
			switch v := row[i].(type) {
			case string:
				content = max(content, textWidth(v))
			case int64:
				content = max(content, float64(len(strconv.FormatInt(v, 10))))
			}
		}
		s.widths[i] = min(max(w, content+2, 8), maxColumnWidth)
	}
	if err := s.openSheet(); err != nil {
		return err
	}
	for _, row := range s.sample {
		if err := s.emit(row); err != nil {
			return err
		}
	}
	s.sample = nil
	return nil
}

// openSheet adds sheet number s.part and writes its header row.
func (s *sheetWriter) openSheet() error {
	s.name = sheetName(s.d.Title, s.part)
	if err := s.wb.claim(s.name); err != nil {
		return err
	}
	sw, err := s.wb.f.NewStreamWriter(s.name)
	if err != nil {
		return fmt.Errorf("formats: %s sheet %q: %w", s.d.Name, s.name, err)
	}
	s.sw = sw
	s.onSheet = 0
	// excelize prepends each column's width, and Excel wants them in
	// ascending order: set them from the last column to the first.
	for i := len(s.widths) - 1; i >= 0; i-- {
		if err := sw.SetColWidth(i+1, i+1, s.widths[i]); err != nil {
			return fmt.Errorf("formats: %s sheet %q: %w", s.d.Name, s.name, err)
		}
	}
	if err := sw.SetPanes(&excelize.Panes{
		Freeze:      true,
		YSplit:      1,
		TopLeftCell: "A2",
		ActivePane:  "bottomLeft",
		Selection:   []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}},
	}); err != nil {
		return fmt.Errorf("formats: %s sheet %q: %w", s.d.Name, s.name, err)
	}
	if err := sw.SetRow("A1", s.header); err != nil {
		return fmt.Errorf("formats: %s sheet %q header: %w", s.d.Name, s.name, err)
	}
	return nil
}

// emit writes one row of cells, moving to a new sheet when this one is
// full.
func (s *sheetWriter) emit(cells []any) error {
	if s.onSheet == maxSheetRows {
		if err := s.finish(); err != nil {
			return err
		}
		s.part++
		if err := s.openSheet(); err != nil {
			return err
		}
	}
	s.onSheet++
	if err := s.sw.SetRow("A"+strconv.Itoa(s.onSheet+1), cells); err != nil {
		return fmt.Errorf("formats: %s sheet %q row %d: %w", s.d.Name, s.name, s.onSheet+1, err)
	}
	return nil
}

// finish adds the autofilter and flushes the current sheet.
func (s *sheetWriter) finish() error {
	ref := "A1:" + s.lastCol + strconv.Itoa(s.onSheet+1)
	// The stream writer writes <autoFilter> from the worksheet at Flush;
	// File.AutoFilter also adds the _FilterDatabase name Excel expects.
	if err := s.wb.f.AutoFilter(s.name, ref, nil); err != nil {
		return fmt.Errorf("formats: %s sheet %q autofilter: %w", s.d.Name, s.name, err)
	}
	if err := s.sw.Flush(); err != nil {
		return fmt.Errorf("formats: %s sheet %q: %w", s.d.Name, s.name, err)
	}
	return nil
}
