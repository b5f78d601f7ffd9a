package generic

import (
	"bufio"
	"errors"
	"io"
)

// maxLine bounds one line, and one CSV record however many lines it spans.
const maxLine = 1 << 20

// line is one physical line without its line ending ("\n" or "\r\n"), its
// number in the file, and whether it was too long to keep (then b is nil).
type line struct {
	b    []byte
	n    int64
	long bool
}

// lineReader yields a file's physical lines: first any handed back for
// re-reading, then from the file. Its buffer is reused from file to file.
type lineReader struct {
	br     *bufio.Reader
	n      int64 // number of the last line read from the file
	replay []line
}

func (r *lineReader) reset(rd io.Reader) {
	if r.br == nil {
		r.br = bufio.NewReaderSize(rd, maxLine+1)
	} else {
		r.br.Reset(rd)
	}
	r.n = 0
	r.replay = r.replay[:0]
}

// next returns the next line, valid until the next call, or io.EOF.
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
		return line{b: trimCR(b[:len(b)-1]), n: r.n}, nil
	case errors.Is(err, bufio.ErrBufferFull):
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
		r.n++ // a last line without a line ending
		return line{b: trimCR(b), n: r.n}, nil
	default:
		return line{}, err
	}
}

// unread hands lines (which must not alias the reader's buffer) back to
// be read again before anything else.
func (r *lineReader) unread(ls []line) {
	r.replay = append(append([]line(nil), ls...), r.replay...)
}

func trimCR(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		return b[:len(b)-1]
	}
	return b
}
