package asterisk

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// maxRecord bounds one record (cdr_csv itself never writes more than 1 KiB).
const maxRecord = 1 << 20

// field is where one field's content lies in a record: rec[start:end],
// without the surrounding quotes.
type field struct {
	start, end int32
	quoted     bool // the field was written in quotes
	escaped    bool // the content holds doubled quotes ("") to undo
}

// splitErr is what splitFields found wrong with a record's structure.
type splitErr uint8

const (
	splitOK           splitErr = iota
	splitUnterminated          // the input ended inside a quoted field
	splitStrayQuote            // a quote inside an unquoted field
	splitAfterQuote            // something other than a comma after a closing quote
)

// splitFields finds the fields of one record (without its line ending),
// storing up to len(fs) of them, and returns how many there are. On a
// structural error it returns the error and the (0-based) field at fault.
//
// The grammar is the one cdr_csv writes: a field is either "..." with
// embedded quotes doubled, or unquoted text without quotes (an integer, a
// date, or empty for an unset date); fields are separated by commas.
func splitFields(rec []byte, fs []field) (n int, e splitErr, at int) {
	i := 0
	for {
		if i < len(rec) && rec[i] == '"' {
			j := i + 1
			esc := false
			for {
				k := bytes.IndexByte(rec[j:], '"')
				if k < 0 {
					return n + 1, splitUnterminated, n
				}
				j += k
				if j+1 < len(rec) && rec[j+1] == '"' {
					esc = true
					j += 2
					continue
				}
				break
			}
			if n < len(fs) {
				fs[n] = field{start: int32(i + 1), end: int32(j), quoted: true, escaped: esc}
			}
			n++
			j++
			if j == len(rec) {
				return n, splitOK, 0
			}
			if rec[j] != ',' {
				return n, splitAfterQuote, n - 1
			}
			i = j + 1
			continue
		}
		end := len(rec)
		k := bytes.IndexByte(rec[i:], ',')
		if k >= 0 {
			end = i + k
		}
		if bytes.IndexByte(rec[i:end], '"') >= 0 {
			return n + 1, splitStrayQuote, n
		}
		if n < len(fs) {
			fs[n] = field{start: int32(i), end: int32(end)}
		}
		n++
		if k < 0 {
			return n, splitOK, 0
		}
		i = end + 1
	}
}

// bytesOf returns the field's content as written (doubled quotes intact).
func (f field) bytesOf(rec []byte) []byte { return rec[f.start:f.end] }

// appendValue appends the field's value (doubled quotes undone) to dst.
func (f field) appendValue(dst, rec []byte) []byte {
	b := rec[f.start:f.end]
	if !f.escaped {
		return append(dst, b...)
	}
	for i := 0; i < len(b); i++ {
		dst = append(dst, b[i])
		if b[i] == '"' && i+1 < len(b) && b[i+1] == '"' {
			i++
		}
	}
	return dst
}

// str returns the field's value as a string.
func (f field) str(rec []byte) string {
	if !f.escaped {
		return string(rec[f.start:f.end])
	}
	return string(f.appendValue(make([]byte, 0, f.end-f.start), rec))
}

// parseLocal reads "YYYY-MM-DD HH:MM:SS" and returns the wall-clock time
// as seconds since 1970-01-01 00:00:00 of the same wall clock (that is,
// as if the zone were UTC). Years 1000-9999 only.
func parseLocal(b []byte) (int64, bool) {
	if len(b) != 19 || b[4] != '-' || b[7] != '-' || b[10] != ' ' || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	num := func(i, n int) (int64, bool) {
		var v int64
		for _, c := range b[i : i+n] {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int64(c-'0')
		}
		return v, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 2)
	d, ok3 := num(8, 2)
	h, ok4 := num(11, 2)
	mi, ok5 := num(14, 2)
	s, ok6 := num(17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return 0, false
	}
	if y < 1000 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || s > 59 {
		return 0, false
	}
	return daysFromCivil(y, mo, d)*86400 + h*3600 + mi*60 + s, true
}

func daysIn(y, m int64) int64 {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is the number of days from 1970-01-01 to y-m-d in the
// proleptic Gregorian calendar (H. Hinnant's algorithm), for y >= 1.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12 // March = 0
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// line is one physical line: its bytes without the '\n' (a '\r' before
// it is kept), its number in the file, and whether it was too long to
// keep (then b is nil).
type line struct {
	b    []byte
	n    int64
	long bool
}

// lineReader yields a file's physical lines, first any that were handed
// back for re-reading (see scan.multiline), then from the file.
type lineReader struct {
	br     *bufio.Reader
	n      int64 // number of the last line read from the file
	replay []line
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, maxRecord+1)}
}

// next returns the next line. Its bytes are valid until the next call.
// At the end of input it returns io.EOF.
func (r *lineReader) next() (line, error) {
	if len(r.replay) > 0 {
		l := r.replay[0]
		r.replay = r.replay[1:]
		return l, nil
	}
	b, err := r.br.ReadSlice('\n')
	switch {
	case err == nil:
		r.n++
		return line{b: b[:len(b)-1], n: r.n}, nil
	case errors.Is(err, bufio.ErrBufferFull):
		// Longer than a record may be: skip to the end of the line.
		r.n++
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = r.br.ReadSlice('\n')
		}
		if err != nil && err != io.EOF {
			return line{}, err
		}
		return line{n: r.n, long: true}, nil
	case err == io.EOF:
		if len(b) == 0 {
			return line{}, io.EOF
		}
		r.n++ // a last line without '\n'
		return line{b: b, n: r.n}, nil
	default:
		return line{}, err
	}
}

// unread hands lines back to be read again before anything else.
func (r *lineReader) unread(ls []line) {
	if len(ls) == 0 {
		return
	}
	r.replay = append(ls, r.replay...)
}

func trimCR(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		return b[:len(b)-1]
	}
	return b
}
