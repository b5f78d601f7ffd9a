package cucm

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/sources/internal/textrec"
)

// ctxEvery is how many rows are read between checks for cancellation.
const ctxEvery = 1024

// scan is the state of one Fetch.
type scan struct {
	name string // the source's name
	ctx  context.Context
	q    source.Query
	m    *source.Matcher
	sink source.Sink
	st   *source.Stats
	want map[string]bool // the query's subjects
	// Whether any subject has an identifier of these kinds, so that the
	// lookups nobody can match are skipped.
	users, devices bool

	lr   textrec.LineReader
	fs   []textrec.Field
	base string // the file's base name, for source_ref and rejections
}

func newScan(ctx context.Context, name string, q source.Query, sink source.Sink, st *source.Stats) *scan {
	s := &scan{
		name: name, ctx: ctx, q: q, m: q.Matcher, sink: sink, st: st,
		want:    map[string]bool{},
		users:   q.Matcher.Has(model.KindCUCMUser),
		devices: q.Matcher.Has(model.KindDevice),
	}
	for _, subj := range q.Subjects {
		s.want[subj.ID] = true
	}
	return s
}

// reject reports one unreadable row.
func (s *scan) reject(ln int64, reason string) {
	s.st.Rejected++
	s.sink.Reject(model.Rejection{Source: s.name, File: s.base, Line: ln, Reason: reason})
}

// read reads one file's content; base names it in references.
func (s *scan) read(r io.Reader, base string) error {
	s.base = base
	s.lr.Reset(r)
	next := func() (textrec.Line, error) {
		l, err := s.lr.Next()
		if err != nil && err != io.EOF {
			err = fmt.Errorf("source %q: reading %s: %w", s.name, base, err)
		}
		return l, err
	}
	h1, err := next()
	if err == io.EOF {
		return nil // an empty file
	}
	if err != nil {
		return err
	}
	h1.B = append([]byte(nil), h1.B...) // the next read may reuse the buffer
	h2, err := next()
	if err != nil && err != io.EOF {
		return err
	}
	var lay *layout
	var herr error
	switch {
	case h1.Long || h2.Long:
		herr = fmt.Errorf("header line longer than %d bytes", textrec.MaxLine)
	case !utf8.Valid(h1.B) || !utf8.Valid(h2.B):
		herr = fmt.Errorf("header is not valid UTF-8")
	default:
		types := h2.B
		if err == io.EOF {
			types = nil
		}
		lay, herr = parseHeader(h1.B, types)
	}
	if herr != nil && strings.HasPrefix(strings.ToLower(base), "cmr_") {
		lay, herr = &layout{cmr: true}, nil
	}
	if herr != nil {
		// Nothing in the file can be read: say so for the header and for
		// every record.
		s.st.Read++
		s.reject(h1.N, "unusable file header: "+herr.Error())
	}
	for {
		l, err := next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if !l.Long && len(l.B) == 0 {
			continue // a blank line holds no record
		}
		s.st.Read++
		if s.st.Read%ctxEvery == 0 {
			if err := s.ctx.Err(); err != nil {
				return err
			}
		}
		switch {
		case herr != nil:
			s.reject(l.N, "unusable file header")
		case lay.cmr:
			// Call management records: counted, never calls.
		default:
			if err := s.record(lay, l); err != nil {
				return err
			}
		}
	}
}

// record checks one line of a CDR file and emits it to every wanted
// subject it matches. Only a sink error is returned.
func (s *scan) record(lay *layout, l textrec.Line) error {
	if l.Long {
		s.reject(l.N, fmt.Sprintf("record longer than %d bytes", textrec.MaxLine))
		return nil
	}
	rec := l.B
	if !utf8.Valid(rec) {
		s.reject(l.N, "invalid UTF-8")
		return nil
	}
	var n int
	var e textrec.SplitErr
	var at int
	s.fs, n, e, at = textrec.Split(rec, ',', s.fs, len(lay.names)+1)
	if e != textrec.SplitOK {
		name := "field " + strconv.Itoa(at+1)
		if at < len(lay.names) {
			name = "field " + lay.names[at]
		}
		s.reject(l.N, e.String()+" in "+name)
		return nil
	}
	if n != len(lay.names) {
		s.reject(l.N, fmt.Sprintf("expected %d fields (as the file header), got %d", len(lay.names), n))
		return nil
	}
	if reason := lay.check(rec, s.fs); reason != "" {
		s.reject(l.N, reason)
		return nil
	}
	c := cdr{rec: rec, fs: s.fs, lay: lay}
	if c.int(fRecordType) != 1 {
		return nil // not an end-of-call record
	}
	orig, disc := c.int(fOrigination), c.int(fDisconnect)
	switch {
	case orig <= 0:
		s.reject(l.N, "dateTimeOrigination is empty or 0")
		return nil
	case disc <= 0:
		s.reject(l.N, "dateTimeDisconnect is empty or 0")
		return nil
	case disc < orig:
		s.reject(l.N, "dateTimeDisconnect is before dateTimeOrigination")
		return nil
	}
	s.st.Cover(time.Unix(orig, 0).UTC())
	return s.match(c, l.N, orig, disc)
}

// cdr is one structurally sound, type-checked record.
type cdr struct {
	rec []byte
	fs  []textrec.Field
	lay *layout
}

// int returns known field k as an integer: 0 if absent or empty.
func (c cdr) int(k int) int64 {
	i := c.lay.at[k]
	if i < 0 {
		return 0
	}
	v, _ := textrec.ParseInt(c.fs[i].Raw(c.rec))
	return v
}

// empty reports whether known field k is absent or empty.
func (c cdr) empty(k int) bool {
	i := c.lay.at[k]
	return i < 0 || c.fs[i].End == c.fs[i].Start
}

// str returns known field k, trimmed: "" if absent.
func (c cdr) str(k int) string {
	i := c.lay.at[k]
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(c.fs[i].Str(c.rec))
}

// hit is one wanted subject a record matched.
type hit struct {
	subject string
	caller  bool
	value   string // the identifier as the record holds it (E.164 for phones)
}

// match looks the record's parties up and emits one record per wanted
// subject found: caller side first, so that a subject on both sides is
// the caller.
func (s *scan) match(c cdr, ln, orig, disc int64) error {
	at := time.Unix(orig, 0).UTC()
	var hits []hit
	add := func(ms []source.Match, caller bool, raw string) {
		for _, mt := range ms {
			if !s.want[mt.Subject] {
				continue
			}
			dup := false
			for _, h := range hits {
				dup = dup || h.subject == mt.Subject
			}
			if dup {
				continue
			}
			v := raw
			if mt.ID.Kind == model.KindPhone {
				v = mt.ID.Value
			}
			hits = append(hits, hit{mt.Subject, caller, v})
		}
	}
	number := func(k int, caller bool) {
		if v := c.str(k); v != "" {
			add(s.m.Number(v, at), caller, v)
		}
	}
	ident := func(kind string, use bool, k int, caller bool) {
		if !use {
			return
		}
		if v := c.str(k); v != "" {
			add(s.m.Lookup(kind, v, at), caller, v)
		}
	}
	number(fCalling, true)
	ident(model.KindCUCMUser, s.users, fCallingUser, true)
	ident(model.KindDevice, s.devices, fOrigDevice, true)
	number(fOrigCalled, false)
	number(fFinalCalled, false)
	number(fLastRedirect, false)
	ident(model.KindCUCMUser, s.users, fFinalUser, false)
	ident(model.KindDevice, s.devices, fDestDevice, false)
	if len(hits) == 0 {
		return nil
	}

	connect := c.int(fConnect)
	var answer any
	talk := int64(0)
	if connect != 0 {
		answer = time.Unix(connect, 0).UTC()
		talk = c.int(fDuration)
		if c.empty(fDuration) {
			talk = max(disc-connect, 0)
		}
	}
	origCause, destCause := c.int(fOrigCause), c.int(fDestCause)
	calling := c.str(fCalling)
	called := c.str(fFinalCalled)
	if called == "" {
		called = c.str(fOrigCalled)
	}
	callingE164, callingPhone := s.m.E164(calling)
	calledE164, calledPhone := s.m.E164(called)
	origDev := c.str(fOrigDevice)
	destDev := c.str(fDestDevice)
	callerOutside := callingPhone && !phoneDevice(origDev)
	calleeOutside := calledPhone && !phoneDevice(destDev)
	channel := deviceOrAddress(origDev, c.str(fOrigIPText), c.int(fOrigIP))
	dstChannel := deviceOrAddress(destDev, c.str(fDestIPText), c.int(fDestIP))
	callID := strconv.FormatInt(c.int(fCallManagerID), 10) + "-" + strconv.FormatInt(c.int(fCallID), 10)
	ref := s.base + ":" + strconv.FormatInt(ln, 10)

	for _, h := range hits {
		r := newCalls()
		r.set(cCallID, callID)
		r.set(cLeg, int64(0)) // the exporter numbers the legs of a call
		r.set(cSource, s.name)
		r.set(cSourceRef, ref)
		r.set(cStart, at)
		r.set(cAnswer, answer)
		r.set(cEnd, time.Unix(disc, 0).UTC())
		r.set(cDuration, disc-orig)
		r.set(cTalk, talk)
		r.set(cOutcome, outcome(origCause, destCause, connect != 0))
		r.set(cOutcomeRaw, outcomeRaw(origCause, destCause))
		r.set(cSubjectNumber, h.value)
		r.set(cChannel, channel)
		r.set(cDstChannel, dstChannel)
		r.set(cAccountCode, c.str(fClientMatter))
		r.set(cUserField, c.str(fComment))
		r.set(cUniqueID, c.str(fPkid))
		direction := "internal"
		if h.caller {
			r.set(cRole, "caller")
			r.set(cOtherNumber, pick(called, calledE164, calledPhone))
			if calleeOutside {
				direction = "outbound"
			}
		} else {
			r.set(cRole, "callee")
			r.set(cOtherNumber, pick(calling, callingE164, callingPhone))
			if callerOutside {
				direction = "inbound"
			}
		}
		r.set(cDirection, direction)
		s.st.Selected++
		if err := s.sink.Emit(h.subject, model.Calls, model.Record(r)); err != nil {
			return err
		}
	}
	return nil
}

func pick(raw, e164 string, ok bool) string {
	if ok {
		return e164
	}
	return raw
}

// phoneDevice reports whether a CUCM device name is a user's phone or
// soft client: SEP<MAC> desk phones, CSF (Jabber desktop), BOT/TCT/TAB
// (Jabber mobile), ATA ports. Trunks, gateways and voicemail ports are
// named freely by the administrator.
func phoneDevice(name string) bool {
	if len(name) < 4 {
		return false
	}
	switch strings.ToUpper(name[:3]) {
	case "SEP", "CSF", "BOT", "TCT", "TAB", "ATA":
		return true
	}
	return false
}

// deviceOrAddress returns the device name, or where it is empty the
// device's address: the text field (origIpv4v6Addr) if set, else the
// INTEGER field decoded.
func deviceOrAddress(name, text string, addr int64) string {
	if name != "" {
		return name
	}
	if text != "" {
		return text
	}
	ip, _ := ipv4(addr)
	return ip
}

// The calls columns this connector fills.
const (
	cCallID = iota
	cLeg
	cSource
	cSourceRef
	cStart
	cAnswer
	cEnd
	cDuration
	cTalk
	cDirection
	cOutcome
	cOutcomeRaw
	cRole
	cSubjectNumber
	cOtherNumber
	cChannel
	cDstChannel
	cAccountCode
	cUserField
	cUniqueID
	nCallsCols
)

// callsIdx holds where each filled column is in model.Calls (-1 if the
// dataset ever drops one).
var callsIdx = func() (ix [nCallsCols]int) {
	names := [nCallsCols]string{"call_id", "leg", "source", "source_ref", "start_utc", "answer_utc", "end_utc",
		"duration_s", "talk_s", "direction", "outcome", "outcome_raw", "subject_role", "subject_number",
		"other_number", "channel", "dst_channel", "account_code", "user_field", "unique_id"}
	for i, n := range names {
		ix[i] = model.Calls.Index(n)
	}
	return ix
}()

// callsRec is a calls record under construction.
type callsRec model.Record

// newCalls returns a calls record with every column this connector does
// not fill at its empty value ("" or 0; nil where nullable).
func newCalls() callsRec {
	r := make(callsRec, len(model.Calls.Columns))
	for i, col := range model.Calls.Columns {
		if col.Nullable {
			continue
		}
		switch col.Type {
		case model.String:
			r[i] = ""
		case model.Int:
			r[i] = int64(0)
		}
	}
	return r
}

func (r callsRec) set(c int, v any) {
	if i := callsIdx[c]; i >= 0 {
		r[i] = v
	}
}
