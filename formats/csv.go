package formats

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dsar-tool/dsar/exporter/model"
)

// NewCSV returns a Writer that writes the records of d to w as RFC 4180
// CSV: UTF-8 without a byte-order mark, comma-separated, CRLF line ends,
// and a header row of the column names.
//
// Fields are quoted when they contain a comma, a double quote, CR or LF,
// or begin with white space (the rule of encoding/csv). Unlike
// encoding/csv with UseCRLF, line breaks inside a quoted field are written
// as they are, so "a\rb" keeps its CR.
//
// Values of String columns are passed through Neutralise; invalid UTF-8
// bytes become U+FFFD. Integers are decimal, booleans true/false,
// timestamps RFC 3339 UTC with second precision, dates YYYY-MM-DD, and a
// null is an empty field (as is an empty string).
//
// Output is buffered in chunks of about 64 KiB; Close writes the rest.
func NewCSV(w io.Writer, d *model.Dataset) Writer {
	c := &csvWriter{w: w, d: d, err: checkDataset(d)}
	if c.err == nil {
		for i, col := range d.Columns {
			if i > 0 {
				c.buf = append(c.buf, ',')
			}
			c.buf = appendCSVField(c.buf, col.Name)
		}
		c.buf = append(c.buf, '\r', '\n')
	}
	return c
}

type csvWriter struct {
	w      io.Writer
	d      *model.Dataset
	buf    []byte
	rows   int64
	err    error
	closed bool
}

func (c *csvWriter) Write(r model.Record) error {
	if c.closed {
		return errClosed
	}
	if c.err != nil {
		return c.err
	}
	if err := checkRecord(c.d, c.rows+1, r); err != nil {
		return err
	}
	c.rows++
	b := c.buf
	for i, v := range r {
		if i > 0 {
			b = append(b, ',')
		}
		switch v := v.(type) {
		case nil:
		case string:
			v = validUTF8(v)
			if needsNeutralising(v) {
				// The apostrophe removes the leading tab or CR, so only
				// embedded separators can require quotes.
				b = appendCSVField(b, "'"+v)
			} else {
				b = appendCSVField(b, v)
			}
		case int64:
			b = strconv.AppendInt(b, v, 10)
		case bool:
			b = strconv.AppendBool(b, v)
		case time.Time:
			if c.d.Columns[i].Type == model.Date {
				b = appendDate(b, v)
			} else {
				b = appendTimestamp(b, v)
			}
		}
	}
	c.buf = append(b, '\r', '\n')
	if len(c.buf) >= jsonFlushSize {
		return c.flush()
	}
	return nil
}

func (c *csvWriter) flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	n, err := c.w.Write(c.buf)
	if err == nil && n < len(c.buf) {
		err = io.ErrShortWrite
	}
	c.buf = c.buf[:0]
	if err != nil {
		c.err = fmt.Errorf("formats: writing %s as csv: %w", c.d.Name, err)
	}
	return c.err
}

func (c *csvWriter) Close() error {
	if c.closed {
		return errClosed
	}
	c.closed = true
	if c.err != nil {
		return c.err
	}
	return c.flush()
}

// appendCSVField appends s as one CSV field, quoted if needed.
func appendCSVField(b []byte, s string) []byte {
	if !csvNeedsQuotes(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		b = append(b, s[:i+1]...)
		b = append(b, '"')
		s = s[i+1:]
	}
	b = append(b, s...)
	return append(b, '"')
}

// csvNeedsQuotes follows encoding/csv's fieldNeedsQuotes for a comma
// separator.
func csvNeedsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` {
		return true
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', '"', '\r', '\n':
			return true
		}
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}
