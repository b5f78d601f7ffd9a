package asterisk

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/sources/internal/textrec"
)

// ctxEvery is how many records are read between checks for cancellation.
const ctxEvery = 4096

// scan is the state of one Fetch.
type scan struct {
	src   *CSV
	q     source.Query
	sink  source.Sink
	st    *source.Stats
	ctx   context.Context
	zone  zoneResolver
	want  *prefilter
	rname string // the zone's name, for messages

	// per file
	base    string // file base name, for source_ref and rejections
	prevEnd int64  // end (Unix s) of the file's previous good row
	acc     []byte // a record spanning several lines
	fs      [maxFields]textrec.Field
	scratch []byte

	calls *Calls // matches and emits the rows
}

// read reads one file's content; base names it in references.
func (s *scan) read(r io.Reader, base string) error {
	s.base = base
	s.prevEnd = math.MinInt64
	lr := newLineReader(r)
	for {
		l, err := lr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("source %q: reading %s: %w", s.src.name, s.base, err)
		}
		if l.long {
			s.st.Read++
			s.reject(l.n, reasonTooLong)
			continue
		}
		rec := trimCR(l.b)
		if len(rec) == 0 {
			continue // a blank line holds no record
		}
		s.st.Read++
		if s.st.Read%ctxEvery == 0 {
			if err := s.ctx.Err(); err != nil {
				return err
			}
		}
		_, n, serr, at := textrec.Split(rec, ',', s.fs[:0], maxFields)
		if serr == textrec.SplitUnterminated {
			// A quoted field may hold a newline: read on.
			var ok bool
			if rec, n, ok = s.multiline(lr, l); !ok {
				s.reject(l.n, reasonUnterminated)
				continue
			}
			serr = textrec.SplitOK
		}
		if serr != textrec.SplitOK {
			s.reject(l.n, s.structural(serr, at))
			continue
		}
		if n != s.src.layout.n {
			s.reject(l.n, s.countReason(n))
			continue
		}
		if err := s.record(rec, l.n); err != nil {
			return err
		}
	}
}

// multiline reads the lines that complete a record whose first line l
// ends inside a quoted field. It returns the whole record (valid until
// the next call) and its field count, or false if no well-formed record
// of the right field count results within maxRecord bytes; then the lines
// it read after l are handed back to be read again as records of their
// own, so that one stray quote costs one row, not the rest of the file.
func (s *scan) multiline(lr *lineReader, first line) ([]byte, int, bool) {
	s.acc = append(s.acc[:0], first.b...)
	var taken []line // lines after first, as offsets into acc (b nil) or long
	starts := []int{}
	odd := true
	ok := false
	n := 0
	for {
		l, err := lr.next()
		if err != nil {
			break // EOF or a read error, which the next read reports again
		}
		if l.long || len(s.acc)+1+len(l.b) > maxRecord {
			if l.long {
				taken = append(taken, l)
			} else {
				taken = append(taken, line{b: append([]byte(nil), l.b...), n: l.n})
			}
			starts = append(starts, -1)
			break
		}
		starts = append(starts, len(s.acc)+1)
		taken = append(taken, line{n: l.n})
		s.acc = append(s.acc, '\n')
		s.acc = append(s.acc, l.b...)
		if bytes.Count(l.b, []byte{'"'})%2 == 1 {
			odd = !odd
		}
		if odd {
			continue
		}
		rec := trimCR(s.acc)
		var serr textrec.SplitErr
		_, n, serr, _ = textrec.Split(rec, ',', s.fs[:0], maxFields)
		ok = serr == textrec.SplitOK && n == s.src.layout.n
		break
	}
	if ok {
		return trimCR(s.acc), n, true
	}
	// Hand the lines after the first back, copied (acc is reused).
	back := make([]line, len(taken))
	for i, l := range taken {
		if starts[i] < 0 {
			back[i] = l
			continue
		}
		end := len(s.acc)
		if i+1 < len(taken) && starts[i+1] >= 0 {
			end = starts[i+1] - 1
		}
		back[i] = line{b: append([]byte(nil), s.acc[starts[i]:end]...), n: l.n}
	}
	lr.unread(back)
	return nil, 0, false
}

func (s *scan) structural(e textrec.SplitErr, at int) string {
	name := "field " + strconv.Itoa(at+1)
	if at < s.src.layout.n {
		name = "field " + s.src.layout.names[at]
	}
	switch e {
	case textrec.SplitStrayQuote:
		return "stray quote in " + name
	case textrec.SplitAfterQuote:
		return "unexpected character after closing quote in " + name
	}
	return reasonUnterminated
}

func (s *scan) countReason(n int) string {
	return fmt.Sprintf("expected %d fields (16 + extra_columns), got %d", s.src.layout.n, n)
}

// value returns field i's bytes for typed parsing: quotes are tolerated
// around integers and dates (cdr_csv writes them bare).
func (s *scan) value(rec []byte, i int) []byte { return s.fs[i].Raw(rec) }

// record checks one structurally sound record and emits it to every
// wanted subject it matches. Only a sink error is returned.
func (s *scan) record(rec []byte, ln int64) error {
	lay := &s.src.layout
	if !utf8.Valid(rec) {
		s.reject(ln, reasonUTF8)
		return nil
	}
	var local [3]int64
	answered := false
	for k, col := range [3]int{colStart, colAnswer, colEnd} {
		b := s.value(rec, col)
		if len(b) == 0 {
			if col == colAnswer {
				continue
			}
			s.reject(ln, "empty date in field "+lay.names[col])
			return nil
		}
		v, ok := parseLocal(b)
		if !ok {
			s.reject(ln, "bad date in field "+lay.names[col])
			return nil
		}
		local[k] = v
		if col == colAnswer {
			answered = true
		}
	}
	var ints [maxFields]int64
	for i := colDuration; i < lay.n; i++ {
		if lay.types[i] != typInt {
			continue
		}
		v, ok := textrec.ParseInt(s.value(rec, i))
		if !ok {
			s.reject(ln, "bad integer in field "+lay.names[i])
			return nil
		}
		ints[i] = v
	}
	dur, bill := ints[colDuration], ints[colBillsec]
	st, an, en, bad, ok := s.zone.resolveTimes(local[0], local[1], local[2], answered, dur, bill, s.prevEnd)
	if !ok {
		s.reject(ln, "time in field "+bad+" does not exist in zone "+s.rname+" (clock change)")
		return nil
	}
	s.prevEnd = en
	if s.st.First.IsZero() || st < s.st.First.Unix() {
		s.st.First = time.Unix(st, 0).UTC()
	}
	if st > s.st.Last.Unix() {
		s.st.Last = time.Unix(st, 0).UTC()
	}
	if !s.want.candidate(rec, &s.fs, &s.scratch) {
		return nil
	}
	return s.match(rec, ln, st, an, en, answered, dur, bill)
}

// match emits the row once for each wanted subject among its parties
// (see Calls.Match); the rest of the row is decoded only for a match.
func (s *scan) match(rec []byte, ln int64, st, an, en int64, answered bool, dur, bill int64) error {
	f := &s.fs
	src, dst := f[colSrc].Str(rec), f[colDst].Str(rec)
	channel, dstchannel := f[colChannel].Str(rec), f[colDstChannel].Str(rec)
	if !s.calls.Match(time.Unix(st, 0).UTC(), src, dst, channel, dstchannel) {
		return nil
	}
	lay := &s.src.layout
	opt := func(pos int) string {
		if pos < 0 {
			return ""
		}
		return f[pos].Str(rec)
	}
	disp := f[colDisposition].Str(rec)
	r := CDR{
		Start: time.Unix(st, 0).UTC(), End: time.Unix(en, 0).UTC(),
		Duration: dur, Billsec: bill,
		CLID: f[colCLID].Str(rec), Src: src, Dst: dst, Channel: channel, DstChannel: dstchannel,
		LastApp: f[colLastApp].Str(rec), LastData: f[colLastData].Str(rec),
		AccountCode: f[colAccountCode].Str(rec), UserField: opt(lay.userfld),
		UniqueID: opt(lay.uniqueid), LinkedID: opt(lay.linkedid),
		Disposition: disp, DispositionRaw: disp,
		AMAFlags: f[colAMAFlags].Str(rec),
	}
	if answered {
		r.Answer = time.Unix(an, 0).UTC()
	}
	return s.calls.Emit(&r, s.base+":"+strconv.FormatInt(ln, 10))
}
