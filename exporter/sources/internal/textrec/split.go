package textrec

import "bytes"

// Field is where one field's content lies in a record: rec[Start:End],
// without the surrounding quotes.
type Field struct {
	Start, End int32
	Quoted     bool // written in double quotes
	Escaped    bool // the content holds doubled quotes ("") to undo
}

// Raw returns the field's content as written (doubled quotes intact).
func (f Field) Raw(rec []byte) []byte { return rec[f.Start:f.End] }

// AppendValue appends the field's value (doubled quotes undone) to dst.
func (f Field) AppendValue(dst, rec []byte) []byte {
	b := rec[f.Start:f.End]
	if !f.Escaped {
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

// Str returns the field's value, doubled quotes undone.
func (f Field) Str(rec []byte) string {
	if !f.Escaped {
		return string(rec[f.Start:f.End])
	}
	return string(f.AppendValue(make([]byte, 0, f.End-f.Start), rec))
}

// SplitErr is what Split found wrong with a record's structure.
type SplitErr uint8

// The results of Split.
const (
	SplitOK           SplitErr = iota
	SplitUnterminated          // the record ended inside a quoted field
	SplitStrayQuote            // a quote inside an unquoted field
	SplitAfterQuote            // something other than the delimiter after a closing quote
)

// String describes the error as rejection reasons do ("ok" for SplitOK).
func (e SplitErr) String() string {
	switch e {
	case SplitUnterminated:
		return "unterminated quote"
	case SplitStrayQuote:
		return "stray quote"
	case SplitAfterQuote:
		return "unexpected character after closing quote"
	}
	return "ok"
}

// Split appends the fields of one record to fs[:0], storing at most limit
// of them but counting all, and returns the fields, the count and, on a
// structural error, the error and the 0-based field at fault (the fields
// after it are neither read nor counted).
//
// The grammar is RFC 4180's with delim for the comma: a field is either
// "..." with embedded quotes doubled, which may hold delimiters and line
// breaks, or text without quotes (possibly empty). An empty record is one
// empty field. delim must not be '"'.
func Split(rec []byte, delim byte, fs []Field, limit int) (out []Field, n int, e SplitErr, at int) {
	fs = fs[:0]
	keep := func(f Field) {
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
					return fs, n + 1, SplitUnterminated, n
				}
				j += k
				if j+1 < len(rec) && rec[j+1] == '"' {
					esc = true
					j += 2
					continue
				}
				break
			}
			keep(Field{Start: int32(i + 1), End: int32(j), Quoted: true, Escaped: esc})
			n++
			j++
			if j == len(rec) {
				return fs, n, SplitOK, 0
			}
			if rec[j] != delim {
				return fs, n, SplitAfterQuote, n - 1
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
			return fs, n + 1, SplitStrayQuote, n
		}
		keep(Field{Start: int32(i), End: int32(end)})
		n++
		if k < 0 {
			return fs, n, SplitOK, 0
		}
		i = end + 1
	}
}
