package asterisk

import (
	"bufio"
	"errors"
	"io"
)

// maxRecord bounds one record (cdr_csv itself never writes more than 1 KiB).
const maxRecord = 1 << 20

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
