package formats

import (
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/dsar-tool/dsar/exporter/model"
)

// Neutralise returns s prefixed with an apostrophe if it begins with a
// character that makes a spreadsheet treat the cell as a formula or
// command: '=', '+', '-', '@', a tab or a carriage return. Any other s is
// returned unchanged. Spreadsheets show the apostrophe-prefixed value as
// text (Excel hides the apostrophe when typed into a cell, but keeps it
// when reading a CSV file).
//
// CSV and XLSX writers apply it to every value of a String column, so a
// phone number "+441632960555" is written as "'+441632960555". JSON and
// Parquet hold text unchanged.
func Neutralise(s string) string {
	if needsNeutralising(s) {
		return "'" + s
	}
	return s
}

func needsNeutralising(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// validUTF8 returns s with every byte that is not part of a valid UTF-8
// sequence replaced by U+FFFD, as encoding/json does. Valid s is returned
// without copying.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\uFFFD"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}

// checkRecord reports whether r fits d as far as the formats care: the
// right length, and in every position a value of the column type's Go type,
// or nil where the column is nullable. Enumerations are not checked (that is
// model.Dataset.Check's job). row is the 1-based data row number, used only
// in the error, which never includes the value.
func checkRecord(d *model.Dataset, row int64, r model.Record) error {
	if len(r) != len(d.Columns) {
		return fmt.Errorf("formats: %s row %d has %d values, want %d", d.Name, row, len(r), len(d.Columns))
	}
	for i := range d.Columns {
		c := &d.Columns[i]
		v := r[i]
		if v == nil {
			if !c.Nullable {
				return fmt.Errorf("formats: %s row %d column %q is null but not nullable", d.Name, row, c.Name)
			}
			continue
		}
		ok := false
		switch c.Type {
		case model.String:
			_, ok = v.(string)
		case model.Int:
			_, ok = v.(int64)
		case model.Timestamp, model.Date:
			_, ok = v.(time.Time)
		case model.Bool:
			_, ok = v.(bool)
		default:
			return fmt.Errorf("formats: %s column %q has unsupported type %s", d.Name, c.Name, c.Type)
		}
		if !ok {
			return fmt.Errorf("formats: %s row %d column %q holds %T, want %s", d.Name, row, c.Name, v, c.Type)
		}
	}
	return nil
}

// checkDataset reports whether every column type of d is supported and
// the dataset has at least one column.
func checkDataset(d *model.Dataset) error {
	if d == nil {
		return fmt.Errorf("formats: nil dataset")
	}
	if len(d.Columns) == 0 {
		return fmt.Errorf("formats: %s has no columns", d.Name)
	}
	for _, c := range d.Columns {
		switch c.Type {
		case model.String, model.Int, model.Timestamp, model.Date, model.Bool:
		default:
			return fmt.Errorf("formats: %s column %q has unsupported type %s", d.Name, c.Name, c.Type)
		}
	}
	return nil
}

// appendTimestamp appends t in UTC as RFC 3339 with second precision,
// e.g. 2025-10-26T01:40:00Z. Sub-second parts are dropped.
func appendTimestamp(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, "2006-01-02T15:04:05Z07:00")
	}
	h, mi, s := t.Clock()
	b = append4(b, y)
	b = append(b, '-')
	b = append2(b, int(mo))
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, 'T')
	b = append2(b, h)
	b = append(b, ':')
	b = append2(b, mi)
	b = append(b, ':')
	b = append2(b, s)
	return append(b, 'Z')
}

// appendDate appends the UTC calendar date of t as YYYY-MM-DD.
func appendDate(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, "2006-01-02")
	}
	b = append4(b, y)
	b = append(b, '-')
	b = append2(b, int(mo))
	b = append(b, '-')
	return append2(b, d)
}

func append2(b []byte, n int) []byte {
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

func append4(b []byte, n int) []byte {
	return append(b, byte('0'+n/1000), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
}

// stickyWriter remembers the first error of w and returns it from every
// later Write, so that an error that a library drops is still seen.
type stickyWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (s *stickyWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.w.Write(p)
	s.n += int64(n)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	s.err = err
	return n, err
}
