package generic

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// field is where one CSV field's content lies in a record: rec[start:end],
// without the surrounding quotes.
type field struct {
	start, end int32
	quoted     bool // written in double quotes
	escaped    bool // the content holds doubled quotes ("") to undo
}

// splitErr is what splitCSV found wrong with a record's structure.
type splitErr uint8

const (
	splitOK           splitErr = iota
	splitUnterminated          // the record ended inside a quoted field
	splitStrayQuote            // a quote inside an unquoted field
	splitAfterQuote            // something other than the delimiter after a closing quote
)

func (e splitErr) String() string {
	switch e {
	case splitUnterminated:
		return "unterminated quote"
	case splitStrayQuote:
		return "stray quote"
	case splitAfterQuote:
		return "unexpected character after closing quote"
	}
	return "ok"
}

// splitCSV appends the fields of one record (RFC 4180: a field is either
// "..." with embedded quotes doubled, which may hold delimiters and line
// breaks, or text without quotes) to fs[:0], storing at most limit of them
// but counting all. On a structural error it returns the error and the
// 0-based field at fault.
func splitCSV(rec []byte, delim byte, fs []field, limit int) (out []field, n int, e splitErr, at int) {
	fs = fs[:0]
	keep := func(f field) {
		if len(fs) < limit {
			fs = append(fs, f)
		}
	}
	i := 0
	for {
		if i < len(rec) && rec[i] == '"' {
			j := i + 1
			esc := false
			for {
				k := bytes.IndexByte(rec[j:], '"')
				if k < 0 {
					return fs, n + 1, splitUnterminated, n
				}
				j += k
				if j+1 < len(rec) && rec[j+1] == '"' {
					esc = true
					j += 2
					continue
				}
				break
			}
			keep(field{start: int32(i + 1), end: int32(j), quoted: true, escaped: esc})
			n++
			j++
			if j == len(rec) {
				return fs, n, splitOK, 0
			}
			if rec[j] != delim {
				return fs, n, splitAfterQuote, n - 1
			}
			i = j + 1
			continue
		}
		end := len(rec)
		k := bytes.IndexByte(rec[i:], delim)
		if k >= 0 {
			end = i + k
		}
		if bytes.IndexByte(rec[i:end], '"') >= 0 {
			return fs, n + 1, splitStrayQuote, n
		}
		keep(field{start: int32(i), end: int32(end)})
		n++
		if k < 0 {
			return fs, n, splitOK, 0
		}
		i = end + 1
	}
}

// str returns the field's value, doubled quotes undone.
func (f field) str(rec []byte) string {
	b := rec[f.start:f.end]
	if !f.escaped {
		return string(b)
	}
	return strings.ReplaceAll(string(b), `""`, `"`)
}

// csvRecord is one logical CSV record.
type csvRecord struct {
	b      []byte // valid until the next read
	n      int64  // its first line
	fs     []field
	count  int    // fields in the record
	reason string // why it cannot be read; "" if it can
}

// nextCSV reads the next logical record: a line, and the lines that
// follow while a quoted field is open. Blank lines are skipped. limit bounds
// the fields kept. If no well-formed record results within maxLine bytes,
// the first line is returned with the reason, and the lines read after it
// are handed back to be read again, so that one stray quote costs one row.
func (sc *scan) nextCSV(limit int) (csvRecord, error) {
	var l line
	var err error
	for {
		if l, err = sc.next(); err != nil {
			return csvRecord{}, err
		}
		if l.long || len(l.b) > 0 {
			break
		}
	}
	r := csvRecord{n: l.n}
	if l.long {
		r.reason = fmt.Sprintf("record longer than %d bytes", maxLine)
		return r, nil
	}
	var e splitErr
	var at int
	sc.fs, r.count, e, at = splitCSV(l.b, sc.src.delim, sc.fs, limit)
	r.b, r.fs = l.b, sc.fs
	switch e {
	case splitOK:
		return r, nil
	case splitUnterminated:
	default:
		r.reason = fmt.Sprintf("%s in field %d", e, at+1)
		return r, nil
	}
	// A quoted field holds a line break: read on until the quotes balance.
	sc.acc = append(sc.acc[:0], l.b...)
	// The lines read after the first: their bytes are in acc from
	// starts[i], or in taken[i].b where starts[i] is -1.
	var taken []line
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
		if l2.long || len(sc.acc)+1+len(l2.b) > maxLine {
			if !l2.long {
				l2.b = append([]byte(nil), l2.b...)
			}
			taken, starts = append(taken, l2), append(starts, -1)
			break
		}
		taken, starts = append(taken, line{n: l2.n}), append(starts, len(sc.acc)+1)
		sc.acc = append(append(sc.acc, '\n'), l2.b...)
		if bytes.Count(l2.b, []byte{'"'})%2 == 1 {
			odd = !odd
		}
	}
	if !odd {
		var e2 splitErr
		sc.fs, r.count, e2, _ = splitCSV(sc.acc, sc.src.delim, sc.fs, limit)
		if e2 == splitOK {
			r.b, r.fs = sc.acc, sc.fs
			return r, nil
		}
	}
	// Hand the lines after the first back, copied (acc is reused).
	back := make([]line, len(taken))
	for i, t := range taken {
		if starts[i] < 0 {
			back[i] = t
			continue
		}
		end := len(sc.acc)
		if i+1 < len(taken) && starts[i+1] >= 0 {
			end = starts[i+1] - 1
		}
		back[i] = line{b: append([]byte(nil), sc.acc[starts[i]:end]...), n: t.n}
	}
	sc.lr.unread(back)
	r.reason = fmt.Sprintf("%s in field %d", splitUnterminated, at+1)
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
					names[i] = strings.TrimSpace(f.str(r.b))
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
				sc.vals[i] = r.fs[p].str(r.b)
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
