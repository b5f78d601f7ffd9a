package generic

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dsar-tool/dsar/exporter/sources/internal/textrec"
)

// csvRecord is one logical CSV record.
type csvRecord struct {
	b      []byte // valid until the next read
	n      int64  // its first line
	fs     []textrec.Field
	count  int    // fields in the record
	reason string // why it cannot be read; "" if it can
}

// nextCSV reads the next logical record: a line, and the lines that
// follow while a quoted field is open. Blank lines are skipped. limit bounds
// the fields kept. If no well-formed record results within maxLine bytes,
// the first line is returned with the reason, and the lines read after it
// are handed back to be read again, so that one stray quote costs one row.
func (sc *scan) nextCSV(limit int) (csvRecord, error) {
	var l textrec.Line
	var err error
	for {
		if l, err = sc.next(); err != nil {
			return csvRecord{}, err
		}
		if l.Long || len(l.B) > 0 {
			break
		}
	}
	r := csvRecord{n: l.N}
	if l.Long {
		r.reason = fmt.Sprintf("record longer than %d bytes", maxLine)
		return r, nil
	}
	var e textrec.SplitErr
	var at int
	sc.fs, r.count, e, at = textrec.Split(l.B, sc.src.delim, sc.fs, limit)
	r.b, r.fs = l.B, sc.fs
	switch e {
	case textrec.SplitOK:
		return r, nil
	case textrec.SplitUnterminated:
	default:
		r.reason = fmt.Sprintf("%s in field %d", e, at+1)
		return r, nil
	}
	// A quoted field holds a line break: read on until the quotes balance.
	sc.acc = append(sc.acc[:0], l.B...)
	// The lines read after the first: their bytes are in acc from
	// starts[i], or in taken[i].B where starts[i] is -1.
	var taken []textrec.Line
	var starts []int
	odd := true
	for odd {
		l2, err := sc.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return csvRecord{}, err
		}
		if l2.Long || len(sc.acc)+1+len(l2.B) > maxLine {
			if !l2.Long {
				l2.B = append([]byte(nil), l2.B...)
			}
			taken, starts = append(taken, l2), append(starts, -1)
			break
		}
		taken, starts = append(taken, textrec.Line{N: l2.N}), append(starts, len(sc.acc)+1)
		sc.acc = append(append(sc.acc, '\n'), l2.B...)
		if bytes.Count(l2.B, []byte{'"'})%2 == 1 {
			odd = !odd
		}
	}
	if !odd {
		var e2 textrec.SplitErr
		sc.fs, r.count, e2, _ = textrec.Split(sc.acc, sc.src.delim, sc.fs, limit)
		if e2 == textrec.SplitOK {
			r.b, r.fs = sc.acc, sc.fs
			return r, nil
		}
	}
	// Hand the lines after the first back, copied (acc is reused).
	back := make([]textrec.Line, len(taken))
	for i, t := range taken {
		if starts[i] < 0 {
			back[i] = t
			continue
		}
		end := len(sc.acc)
		if i+1 < len(taken) && starts[i+1] >= 0 {
			end = starts[i+1] - 1
		}
		back[i] = textrec.Line{B: append([]byte(nil), sc.acc[starts[i]:end]...), N: t.N}
	}
	sc.lr.unread(back)
	r.reason = fmt.Sprintf("%s in field %d", textrec.SplitUnterminated, at+1)
	r.b, r.fs, r.count = nil, nil, 0
	return r, nil
}

// readCSV reads one CSV file.
func (sc *scan) readCSV() error {
	m := sc.src.m
	var (
		started bool   // the header (or the first good record) has been read
		pos     []int  // where each mapped field is in a record
		expect  int    // fields per record
		fileErr string // why no record of the file can be read
	)
	limit := maxLine
	for {
		r, err := sc.nextCSV(limit)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if !started && sc.src.header {
			started = true
			switch {
			case r.reason != "":
				fileErr = r.reason
			case !utf8.Valid(r.b):
				fileErr = "invalid UTF-8"
			default:
				names := make([]string, len(r.fs))
				for i, f := range r.fs {
					names[i] = strings.TrimSpace(f.Str(r.b))
				}
				names[0] = strings.TrimPrefix(names[0], "\ufeff")
				pos, fileErr = m.positions(names)
				expect, limit = r.count, r.count+1
			}
			if fileErr != "" {
				fileErr = "unusable file header: " + fileErr
				if err := sc.counted(); err != nil {
					return err
				}
				sc.reject(r.n, fileErr)
			}
			continue
		}
		if err := sc.counted(); err != nil {
			return err
		}
		if !started && r.reason == "" {
			// No header: the first good record sets the field count, and
			// columns are named by position.
			started = true
			expect, limit = r.count, r.count+1
			pos = make([]int, len(m.fields))
			for i, name := range m.fields {
				p, _ := strconv.Atoi(name)
				pos[i] = p - 1
				if p > expect {
					fileErr = fmt.Sprintf("records have %d fields but a column is mapped to position %d", expect, p)
				}
			}
		}
		switch {
		case fileErr != "":
			sc.reject(r.n, fileErr)
		case r.reason != "":
			sc.reject(r.n, r.reason)
		case r.count != expect:
			sc.reject(r.n, fmt.Sprintf("expected %d fields (as the first line), got %d", expect, r.count))
		case !utf8.Valid(r.b):
			sc.reject(r.n, "invalid UTF-8")
		default:
			for i, p := range pos {
				sc.vals[i] = r.fs[p].Str(r.b)
			}
			if err := sc.row(r.n); err != nil {
				return err
			}
		}
	}
}

// positions finds the mapped source columns in a file's header: by exact
// name, else ignoring case. It says which is missing or ambiguous.
func (m *mapping) positions(names []string) ([]int, string) {
	pos := make([]int, len(m.fields))
	for i, f := range m.fields {
		p, dup := -1, false
		for j, n := range names {
			if n == f {
				dup = dup || p >= 0
				p = j
			}
		}
		if p < 0 {
			for j, n := range names {
				if strings.EqualFold(n, f) {
					dup = dup || p >= 0
					p = j
				}
			}
		}
		switch {
		case p < 0:
			return nil, fmt.Sprintf("no column %q (%s)", f, m.fieldKeys[i])
		case dup:
			return nil, fmt.Sprintf("column %q (%s) appears more than once", f, m.fieldKeys[i])
		}
		pos[i] = p
	}
	return pos, ""
}
