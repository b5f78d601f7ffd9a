package asterisk

import (
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
)

// CDR is one Asterisk call detail record, decoded: what asterisk-csv reads
// from Master.csv and asterisk-sql from the cdr table. Both connectors
// hand it to a Calls, so a record is matched and normalised by the same
// rules whichever way the PBX stored it.
type CDR struct {
	Start, End time.Time // UTC
	Answer     time.Time // UTC; zero if the call was never answered

	Duration, Billsec int64 // seconds

	CLID, Src, Dst, Channel, DstChannel string
	LastApp, LastData                   string
	AccountCode, UserField              string
	UniqueID, LinkedID                  string

	// AMAFlags is the accounting class by its name in Asterisk
	// (DOCUMENTATION, BILLING, OMIT).
	AMAFlags string

	// Disposition is the disposition by its name in Asterisk (ANSWERED,
	// NO ANSWER, ...); DispositionRaw is the value as stored (a table
	// may hold the integer code), kept in outcome_raw.
	Disposition, DispositionRaw string
}

// Calls finds the wanted subjects in CDRs and emits one calls record per
// subject found. It is the state of one Fetch, not safe for concurrent
// use.
type Calls struct {
	m      *source.Matcher
	wants  func(subject string) bool
	source string // the configured source name
	sink   source.Sink
	st     *source.Stats

	hits   []hit                // found by the last Match
	phones map[string]phoneMemo // see e164
}

// hit is a wanted subject found in a CDR: on the caller's side or the
// callee's, by the identifier value.
type hit struct {
	subject string
	caller  bool
	value   string
}

// NewCalls returns a Calls that matches with q's Matcher, keeps only the
// subjects wants accepts, emits to sink as the source called name and
// counts selected records in st.
func NewCalls(name string, q source.Query, wants func(subject string) bool, sink source.Sink, st *source.Stats) *Calls {
	return &Calls{m: q.Matcher, wants: wants, source: name, sink: sink, st: st}
}

// Match looks a CDR's parties up at the call's start and reports whether
// any wanted subject is among them: the caller side (src as a number, the
// endpoint of channel) first, then the callee side (dst, the endpoint of
// dstchannel); a subject found on both sides is the caller. Only whole
// values are compared, never substrings.
func (c *Calls) Match(at time.Time, src, dst, channel, dstchannel string) bool {
	c.hits = c.hits[:0]
	c.add(c.m.Number(src, at), true)
	if ep := endpoint(channel); ep != "" {
		c.add(c.m.Lookup(model.KindSIP, ep, at), true)
	}
	c.add(c.m.Number(dst, at), false)
	if ep := endpoint(dstchannel); ep != "" {
		c.add(c.m.Lookup(model.KindSIP, ep, at), false)
	}
	return len(c.hits) > 0
}

func (c *Calls) add(ms []source.Match, caller bool) {
next:
	for _, mt := range ms {
		if !c.wants(mt.Subject) {
			continue
		}
		for _, h := range c.hits {
			if h.subject == mt.Subject {
				continue next
			}
		}
		c.hits = append(c.hits, hit{mt.Subject, caller, mt.ID.Value})
	}
}

// Emit emits r, the CDR the last Match was given, once for each subject
// that Match found; ref locates it in the source (file:line, table:key).
// Only the sink's error is returned.
func (c *Calls) Emit(r *CDR, ref string) error {
	callID := r.LinkedID
	if callID == "" {
		callID = r.UniqueID
	}
	if callID == "" {
		callID = r.Channel + "@" + r.Start.Format(time.RFC3339)
	}
	var answer any
	if !r.Answer.IsZero() {
		answer = r.Answer
	}
	srcE164, srcPhone := c.e164(r.Src)
	dstE164, dstPhone := c.e164(r.Dst)
	name, _ := clidName(r.CLID)
	for _, h := range c.hits {
		rec := make(model.Record, len(model.Calls.Columns))
		set := func(col int, v any) {
			if i := callsIdx[col]; i >= 0 {
				rec[i] = v
			}
		}
		set(cCallID, callID)
		set(cLeg, int64(0)) // the exporter numbers the legs of a call
		set(cSource, c.source)
		set(cSourceRef, ref)
		set(cStart, r.Start)
		set(cAnswer, answer)
		set(cEnd, r.End)
		set(cDuration, r.Duration)
		set(cTalk, r.Billsec)
		set(cOutcome, outcome(r.Disposition))
		set(cOutcomeRaw, r.DispositionRaw)
		set(cSubjectNumber, h.value)
		set(cChannel, r.Channel)
		set(cDstChannel, r.DstChannel)
		set(cApplication, r.LastApp)
		set(cApplicationData, r.LastData)
		set(cAccountCode, r.AccountCode)
		set(cUserField, r.UserField)
		set(cUniqueID, r.UniqueID)
		set(cAMAFlags, r.AMAFlags)
		// Internal when neither party's number is a phone number (an
		// extension on both sides); else the call crossed the site's
		// boundary: outbound for the caller, inbound for the callee.
		direction := "internal"
		if h.caller {
			set(cRole, "caller")
			set(cNameShown, name)
			set(cOtherNumber, pick(r.Dst, dstE164, dstPhone))
			set(cOtherName, "")
			if srcPhone || dstPhone {
				direction = "outbound"
			}
		} else {
			set(cRole, "callee")
			set(cNameShown, "")
			set(cOtherNumber, pick(r.Src, srcE164, srcPhone))
			set(cOtherName, name)
			if srcPhone || dstPhone {
				direction = "inbound"
			}
		}
		set(cDirection, direction)
		c.st.Selected++
		if err := c.sink.Emit(h.subject, model.Calls, rec); err != nil {
			return err
		}
	}
	return nil
}

// phoneMemo is one remembered answer of Matcher.E164.
type phoneMemo struct {
	e164 string
	ok   bool
}

// maxPhoneMemo bounds the memo of E.164 forms (it is emptied when full).
const maxPhoneMemo = 1 << 16

// e164 is the Matcher's E164 (the site's region and outside-line
// prefixes), remembered: a bulk run meets the same outside numbers again
// and again, and the phone-number parser is slow.
func (c *Calls) e164(v string) (string, bool) {
	if r, ok := c.phones[v]; ok {
		return r.e164, r.ok
	}
	e, ok := c.m.E164(v)
	if c.phones == nil || len(c.phones) >= maxPhoneMemo {
		c.phones = make(map[string]phoneMemo)
	}
	c.phones[v] = phoneMemo{e, ok}
	return e, ok
}

func pick(raw, e164 string, ok bool) string {
	if ok {
		return e164
	}
	return raw
}

// outcome maps a cdr disposition (main/cdr.c ast_cdr_disp2str) to the
// calls dataset's outcome.
func outcome(disp string) string {
	switch disp {
	case "ANSWERED":
		return "answered"
	case "NO ANSWER":
		return "no_answer"
	case "BUSY":
		return "busy"
	case "FAILED":
		return "failed"
	case "CONGESTION":
		return "congestion"
	case "CANCEL":
		return "cancelled"
	}
	return "unknown"
}

// The calls columns a CDR fills, and where they are in model.Calls (-1 if
// a column is ever dropped from the dataset).
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
	cNameShown
	cOtherNumber
	cOtherName
	cChannel
	cDstChannel
	cApplication
	cApplicationData
	cAccountCode
	cUserField
	cUniqueID
	cAMAFlags
	nCallsCols
)

var callsIdx = func() (ix [nCallsCols]int) {
	names := [nCallsCols]string{"call_id", "leg", "source", "source_ref", "start_utc", "answer_utc", "end_utc",
		"duration_s", "talk_s", "direction", "outcome", "outcome_raw", "subject_role", "subject_number",
		"subject_name_shown", "other_number", "other_name", "channel", "dst_channel", "application",
		"application_data", "account_code", "user_field", "unique_id", "ama_flags"}
	for i, n := range names {
		ix[i] = model.Calls.Index(n)
	}
	return ix
}()
