// Package textrec is the low-level reading the line-oriented file
// connectors (cucm-cdr, generic-csv, generic-jsonl) share: a reader of a
// file's physical lines, numbered and bounded in length, and a splitter of
// one delimited record whose fields may be quoted.
//
// Both are written for files of millions of rows: a line is a slice of
// the reader's reused buffer, and a record's fields are offsets into it,
// appended to a slice the caller reuses, so neither allocates per line or
// per field.
package textrec

import (
	"bufio"
	"errors"
	"io"
)

// MaxLine bounds one physical line: a line longer than MaxLine bytes
// (counting the '\r' of a "\r\n" ending) is reported as long, without its
// bytes.
const MaxLine = 1 << 20

// Line is one physical line of a file.
type Line struct {
	// B is the line without its line ending ("\n" or "\r\n"); nil when
	// Long. It is valid until the reader's next call.
	B []byte
	// N is the line's 1-based number in the file.
	N int64
	// Long says the line was longer than MaxLine and was skipped.
	Long bool
}

// LineReader yields a file's physical lines. Its zero value is ready for
// Reset; its buffer (MaxLine+1 bytes, allocated on first use) is reused
// from one file to the next. It is not safe for concurrent use.
type LineReader struct {
	br *bufio.Reader
	n  int64 // number of the last line read
}

// Reset makes the reader read rd from its first line.
func (r *LineReader) Reset(rd io.Reader) {
	if r.br == nil {
		r.br = bufio.NewReaderSize(rd, MaxLine+1)
	} else {
		r.br.Reset(rd)
	}
	r.n = 0
}

// Next returns the next line, valid until the next call, or io.EOF after
// the last one, or a read error. A last line without a line ending is a
// line; a line longer than MaxLine is returned with Long set and its
// bytes skipped, and reading goes on after it.
func (r *LineReader) Next() (Line, error) {
	b, err := r.br.ReadSlice('\n')
	switch {
	case err == nil:
		r.n++
		return Line{B: trimCR(b[:len(b)-1]), N: r.n}, nil
	case errors.Is(err, bufio.ErrBufferFull):
		r.n++
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = r.br.ReadSlice('\n')
		}
		if err != nil && err != io.EOF {
			return Line{}, err
		}
		return Line{N: r.n, Long: true}, nil
	case err == io.EOF:
		if len(b) == 0 {
			return Line{}, io.EOF
		}
		r.n++ // a last line without a line ending
		return Line{B: trimCR(b), N: r.n}, nil
	default:
		return Line{}, err
	}
}

func trimCR(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		return b[:len(b)-1]
	}
	return b
}
