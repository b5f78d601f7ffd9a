package msgraph

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Limits of the reader.
const (
	// peekSize is how much of a file is looked at to tell JSON Lines from
	// a single JSON document (a first line longer than this is read as a
	// document: every shape still reads, only a broken line then ends
	// the file).
	peekSize = 64 << 10
	// maxLine is the longest JSON Lines line read; a longer line is
	// rejected and skipped.
	maxLine = 64 << 20
	// ctxEvery is how many records are read between checks for
	// cancellation.
	ctxEvery = 256
)

// pos is where a record is: its number within the file (from 1) and the
// line it starts on.
type pos struct {
	n    int
	line int64
}

// job turns the records of one kind into dataset records. A job lives for
// one Fetch.
type job interface {
	// record handles one record (the bytes of one JSON object). It
	// returns a non-empty reason when the record cannot be read (the
	// caller rejects it), and an error only when the Fetch must stop (the
	// sink failed or ctx was cancelled).
	record(raw []byte, at pos) (reason string, err error)
	// flush emits whatever the job held back until every file was read.
	flush() error
}

// badJSON wraps an error of the JSON decoder: the file's structure is
// broken at that point.
type badJSON struct{ err error }

func (b badJSON) Error() string { return b.err.Error() }

// walker reads the files of one Fetch and hands each record to the job.
type walker struct {
	r     *run
	job   job
	n     int   // records (or broken places) seen in the current file
	start int64 // offset of the value being read, for a broken one's line
}

// read reads one file's content; base names the file in references.
//
// The shape is detected per file: a UTF-8 (or UTF-16, as Windows
// PowerShell writes) text holding a Graph response object
// {"value":[...], ...}, a JSON array of records, a single record, or JSON
// Lines (one of those per line). Whole documents are streamed one array
// element at a time; JSON Lines are read one line at a time, so that a
// broken line costs that line only.
func (w *walker) read(rd io.Reader, base string) error {
	w.r.base = base
	w.n = 0
	br := bufio.NewReaderSize(rd, peekSize)
	head, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		br.Discard(3)
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		br.Discard(2)
		br = bufio.NewReaderSize(&utf16Reader{r: br}, peekSize)
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		br.Discard(2)
		br = bufio.NewReaderSize(&utf16Reader{r: br, big: true}, peekSize)
	}
	if jsonLines(br) {
		return w.lines(br)
	}
	lc := &lineCounter{r: br, first: 1}
	err := w.values(lc, false)
	return w.fatal(err, lc)
}

// fatal turns what values returned into the error for Fetch: a read error
// of the file, or the job's error; a broken structure has already been
// rejected.
func (w *walker) fatal(err error, lc *lineCounter) error {
	if lc.err != nil {
		return fmt.Errorf("source %q: reading %s: %w", w.r.src.name, w.r.base, lc.err)
	}
	return err
}

// jsonLines reports whether the file is JSON Lines: its first line is a
// whole JSON object and more follows, or (the first line being broken)
// at least two later lines are whole JSON objects. A pretty-printed or
// compact document has neither.
func jsonLines(br *bufio.Reader) bool {
	buf, _ := br.Peek(peekSize)
	i := 0
	for i < len(buf) && isSpace(buf[i]) {
		i++
	}
	if i == len(buf) || buf[i] != '{' {
		return false
	}
	j := bytes.IndexByte(buf[i:], '\n')
	if j < 0 {
		return false
	}
	first, rest := bytes.TrimSpace(buf[i:i+j]), buf[i+j+1:]
	if json.Valid(first) {
		return len(bytes.TrimSpace(rest)) > 0
	}
	whole := 0
	for _, l := range bytes.Split(rest, []byte{'\n'}) {
		if l = bytes.TrimSpace(l); len(l) > 0 && l[0] == '{' && json.Valid(l) {
			whole++
		}
	}
	return whole >= 2
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// lines reads JSON Lines: each line holds one or more JSON values.
func (w *walker) lines(br *bufio.Reader) error {
	var (
		line int64
		buf  []byte
		long bool
	)
	for {
		chunk, err := br.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull && err != io.EOF {
			return fmt.Errorf("source %q: reading %s: %w", w.r.src.name, w.r.base, err)
		}
		if !long {
			if len(buf)+len(chunk) > maxLine {
				long, buf = true, buf[:0]
			} else {
				buf = append(buf, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if len(chunk) > 0 || len(buf) > 0 || long {
			line++
			if long {
				w.n++
				w.r.st.Read++
				w.r.reject(pos{w.n, line}, "line longer than 64 MiB")
			} else if t := bytes.TrimSpace(buf); len(t) > 0 {
				lc := &lineCounter{r: bytes.NewReader(t), first: line}
				if err := w.fatal(w.values(lc, true), lc); err != nil {
					return err
				}
			}
		}
		buf, long = buf[:0], false
		if err == io.EOF {
			return nil
		}
	}
}

// values reads a sequence of top-level JSON values. Each array element,
// and each element of a response object's value array, is a record; any
// other object is a record itself. A broken structure is rejected and
// ends the reading (of the file, or of the line in JSON Lines).
func (w *walker) values(lc *lineCounter, oneLine bool) error {
	dec := json.NewDecoder(lc)
	dec.UseNumber()
	for {
		w.start = next(dec)
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return w.broken(lc, err, oneLine)
		}
		switch tok {
		case json.Delim('['):
			err = w.elements(dec, lc)
		case json.Delim('{'):
			err = w.object(dec, lc)
		default:
			w.n++
			w.r.st.Read++
			w.r.reject(pos{w.n, lc.lineAt(dec.InputOffset())}, "not a JSON object or array")
		}
		var bad badJSON
		if errors.As(err, &bad) {
			return w.broken(lc, bad.err, oneLine)
		}
		if err != nil {
			return err
		}
	}
}

// broken rejects the record the decoder failed in.
func (w *walker) broken(lc *lineCounter, err error, oneLine bool) error {
	if lc.err != nil {
		return nil // a read error: fatal reports it
	}
	w.n++
	w.r.st.Read++
	at := pos{w.n, lc.lineAt(w.start)}
	var syn *json.SyntaxError
	switch {
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		reason := "the file ends inside the record (truncated)"
		if oneLine {
			reason = "the line ends inside the record (truncated)"
		}
		w.r.reject(at, reason)
	case errors.As(err, &syn) && !oneLine:
		w.r.reject(at, "malformed JSON; the rest of the file was not read")
	default:
		w.r.reject(at, "malformed JSON")
	}
	return nil
}

// next returns the offset of the decoder's next value: past the
// whitespace, commas and colons it has read ahead.
func next(dec *json.Decoder) int64 {
	off := dec.InputOffset()
	br, ok := dec.Buffered().(io.ByteReader)
	if !ok {
		return off
	}
	for {
		c, err := br.ReadByte()
		if err != nil || !isSpace(c) && c != ',' && c != ':' {
			return off
		}
		off++
	}
}

// elements reads the elements of an array whose '[' was just read, and
// the closing ']'.
func (w *walker) elements(dec *json.Decoder, lc *lineCounter) error {
	for dec.More() {
		w.start = next(dec)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return badJSON{err}
		}
		start := dec.InputOffset() - int64(len(raw))
		w.n++
		if err := w.handle(raw, lc.lineAt(start)); err != nil {
			return err
		}
	}
	w.start = next(dec)
	if _, err := dec.Token(); err != nil {
		return badJSON{err}
	}
	return nil
}

// object reads an object whose '{' was just read: a response object (it
// has a "value" array, whose elements are the records; its other members,
// such as @odata.context and @odata.nextLink, are ignored) or a record.
// Only a record's members are kept in memory, never a response's.
func (w *walker) object(dec *json.Decoder, lc *lineCounter) error {
	begin := dec.InputOffset() - 1
	line := lc.lineAt(begin)
	buf := []byte{'{'}
	response := false
	for dec.More() {
		w.start = begin
		if response {
			w.start = next(dec) // a broken member after the records
		}
		kt, err := dec.Token()
		if err != nil {
			return badJSON{err}
		}
		key, _ := kt.(string)
		var raw []byte
		if key == "value" && !response {
			vt, err := dec.Token()
			if err != nil {
				return badJSON{err}
			}
			if vt == json.Delim('[') {
				response = true
				buf = buf[:1]
				if err := w.elements(dec, lc); err != nil {
					return err
				}
				continue
			}
			if raw, err = capture(dec, vt); err != nil {
				return badJSON{err}
			}
		} else {
			var m json.RawMessage
			if err := dec.Decode(&m); err != nil {
				return badJSON{err}
			}
			raw = m
		}
		if response {
			continue
		}
		if len(buf) > 1 {
			buf = append(buf, ',')
		}
		buf = strconv.AppendQuote(buf, key)
		buf = append(buf, ':')
		buf = append(buf, raw...)
	}
	if response {
		w.start = next(dec)
	}
	if _, err := dec.Token(); err != nil {
		return badJSON{err}
	}
	if response {
		return nil
	}
	w.n++
	return w.handle(append(buf, '}'), line)
}

// capture returns the JSON text of the value whose first token tok was
// just read.
func capture(dec *json.Decoder, tok json.Token) ([]byte, error) {
	d, ok := tok.(json.Delim)
	if !ok {
		return json.Marshal(tok)
	}
	buf := []byte{byte(d)}
	for i := 0; dec.More(); i++ {
		if i > 0 {
			buf = append(buf, ',')
		}
		if d == '{' {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			s, _ := k.(string)
			buf = strconv.AppendQuote(buf, s)
			buf = append(buf, ':')
		}
		var m json.RawMessage
		if err := dec.Decode(&m); err != nil {
			return nil, err
		}
		buf = append(buf, m...)
	}
	end, err := dec.Token()
	if err != nil {
		return nil, err
	}
	return append(buf, byte(end.(json.Delim))), nil
}

// handle passes one record to the job.
func (w *walker) handle(raw []byte, line int64) error {
	r := w.r
	r.st.Read++
	if r.st.Read%ctxEvery == 0 {
		if err := r.ctx.Err(); err != nil {
			return err
		}
	}
	at := pos{w.n, line}
	if len(raw) == 0 || raw[0] != '{' {
		r.reject(at, "not a JSON object")
		return nil
	}
	if !utf8.Valid(raw) {
		r.reject(at, "invalid UTF-8")
		return nil
	}
	reason, err := w.job.record(raw, at)
	if err != nil {
		return err
	}
	if reason != "" {
		r.reject(at, reason)
	}
	return nil
}

// lineCounter passes a file through to the JSON decoder and tells on
// which line a given offset lies. Offsets are asked for in increasing
// order; it keeps only the positions of the newlines the decoder has read
// ahead of the last offset asked for, so its memory is bounded by the
// decoder's own.
type lineCounter struct {
	r      io.Reader
	off    int64   // bytes read
	nl     []int64 // offsets of newlines not yet passed
	passed int64   // newlines before the last offset asked for
	first  int64   // number of the first line
	err    error   // the first read error other than io.EOF
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i, b := range p[:n] {
		if b == '\n' {
			c.nl = append(c.nl, c.off+int64(i))
		}
	}
	c.off += int64(n)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

// lineAt returns the line the byte at off is on.
func (c *lineCounter) lineAt(off int64) int64 {
	i := 0
	for i < len(c.nl) && c.nl[i] < off {
		i++
	}
	c.passed += int64(i)
	if i > 0 {
		c.nl = append(c.nl[:0], c.nl[i:]...)
	}
	return c.first + c.passed
}

// utf16Reader decodes UTF-16 (little-endian unless big) into UTF-8, as
// Windows PowerShell 5.1 writes files with Out-File and '>'.
type utf16Reader struct {
	r    io.Reader
	big  bool
	in   [4096]byte
	odd  []byte   // a trailing odd byte of the last read
	high []uint16 // a trailing high surrogate of the last read
	out  []byte   // decoded text not yet returned, from at
	at   int
	err  error
}

func (u *utf16Reader) Read(p []byte) (int, error) {
	for u.at == len(u.out) {
		if u.err != nil {
			return 0, u.err
		}
		u.out, u.at = u.out[:0], 0
		k := copy(u.in[:], u.odd)
		n, err := u.r.Read(u.in[k:])
		n += k
		u.err = err
		u.odd = append(u.odd[:0], u.in[n-n%2:n]...)
		units := append([]uint16(nil), u.high...)
		u.high = u.high[:0]
		for i := 0; i+1 < n; i += 2 {
			a, b := uint16(u.in[i]), uint16(u.in[i+1])
			if u.big {
				units = append(units, a<<8|b)
			} else {
				units = append(units, b<<8|a)
			}
		}
		if m := len(units); m > 0 && err == nil && units[m-1] >= 0xD800 && units[m-1] < 0xDC00 {
			u.high = append(u.high, units[m-1])
			units = units[:m-1]
		}
		for _, r := range utf16.Decode(units) {
			u.out = utf8.AppendRune(u.out, r)
		}
		if u.err != nil && len(u.odd) > 0 {
			u.out = utf8.AppendRune(u.out, utf8.RuneError)
			u.odd = u.odd[:0]
		}
	}
	n := copy(p, u.out[u.at:])
	u.at += n
	return n, nil
}
