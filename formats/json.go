package formats

import (
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/dsar-tool/dsar/exporter/model"
)

// jsonFlushSize is the buffered size at which the JSON and CSV writers pass
// their buffer to the underlying io.Writer.
const jsonFlushSize = 64 << 10

// NewJSON returns a Writer that writes the records of d to w as one JSON
// array of objects, one object per line, with keys in column order:
//
//	[
//	{"call_id":"c1","leg":1,...},
//	{"call_id":"c2","leg":1,...}
//	]
//
// An empty dataset is written as "[]\n". Strings are written exactly (not
// neutralised, not HTML-escaped); control characters, quotes, backslashes,
// U+2028 and U+2029 are escaped, and invalid UTF-8 bytes become \ufffd.
// Integers are JSON numbers, booleans true/false, timestamps RFC 3339 UTC
// strings with second precision, dates "YYYY-MM-DD" strings, and a null is
// null.
//
// Output is buffered in chunks of about 64 KiB; Close writes the rest.
func NewJSON(w io.Writer, d *model.Dataset) Writer {
	j := &jsonWriter{w: w, d: d, err: checkDataset(d)}
	if j.err == nil {
		j.keys = make([][]byte, len(d.Columns))
		for i, c := range d.Columns {
			k := appendJSONString(nil, c.Name)
			j.keys[i] = append(k, ':')
		}
	}
	return j
}

type jsonWriter struct {
	w      io.Writer
	d      *model.Dataset
	keys   [][]byte // `"name":` per column
	buf    []byte
	rows   int64
	err    error // sticky: a dataset or io.Writer error
	closed bool
}

func (j *jsonWriter) Write(r model.Record) error {
	if j.closed {
		return errClosed
	}
	if j.err != nil {
		return j.err
	}
	if err := checkRecord(j.d, j.rows+1, r); err != nil {
		return err
	}
	j.rows++
	b := j.buf
	if j.rows == 1 {
		b = append(b, "[\n{"...)
	} else {
		b = append(b, ",\n{"...)
	}
	for i, v := range r {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, j.keys[i]...)
		switch v := v.(type) {
		case nil:
			b = append(b, "null"...)
		case string:
			b = appendJSONString(b, v)
		case int64:
			b = strconv.AppendInt(b, v, 10)
		case bool:
			b = strconv.AppendBool(b, v)
		case time.Time:
			b = append(b, '"')
			if j.d.Columns[i].Type == model.Date {
				b = appendDate(b, v)
			} else {
				b = appendTimestamp(b, v)
			}
			b = append(b, '"')
		}
	}
	j.buf = append(b, '}')
	if len(j.buf) >= jsonFlushSize {
		return j.flush()
	}
	return nil
}

func (j *jsonWriter) flush() error {
	if len(j.buf) == 0 {
		return nil
	}
	n, err := j.w.Write(j.buf)
	if err == nil && n < len(j.buf) {
		err = io.ErrShortWrite
	}
	j.buf = j.buf[:0]
	if err != nil {
		j.err = fmt.Errorf("formats: writing %s as json: %w", j.d.Name, err)
	}
	return j.err
}

func (j *jsonWriter) Close() error {
	if j.closed {
		return errClosed
	}
	j.closed = true
	if j.err != nil {
		return j.err
	}
	if j.rows == 0 {
		j.buf = append(j.buf, "[]\n"...)
	} else {
		j.buf = append(j.buf, "\n]\n"...)
	}
	return j.flush()
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. It escapes '"', '\\',
// control characters, U+2028 and U+2029, and replaces each invalid UTF-8
// byte with \ufffd, as encoding/json does; unlike encoding/json it does not
// escape '<', '>' and '&'.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
