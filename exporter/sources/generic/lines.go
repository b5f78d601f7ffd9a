package generic

import (
	"io"

	"github.com/dsar-tool/dsar/exporter/sources/internal/textrec"
)

// maxLine bounds one line, and one CSV record however many lines it spans.
const maxLine = textrec.MaxLine

// lineReader yields a file's physical lines: first any handed back for
// re-reading, then from the file. Its buffer is reused from file to file.
type lineReader struct {
	lr     textrec.LineReader
	replay []textrec.Line
}

func (r *lineReader) reset(rd io.Reader) {
	r.lr.Reset(rd)
	r.replay = r.replay[:0]
}

// next returns the next line, valid until the next call, or io.EOF.
func (r *lineReader) next() (textrec.Line, error) {
	if len(r.replay) > 0 {
		l := r.replay[0]
		r.replay = r.replay[1:]
		return l, nil
	}
	return r.lr.Next()
}

// unread hands lines (which must not alias the reader's buffer) back to
// be read again before anything else.
func (r *lineReader) unread(ls []textrec.Line) {
	r.replay = append(append([]textrec.Line(nil), ls...), r.replay...)
}
