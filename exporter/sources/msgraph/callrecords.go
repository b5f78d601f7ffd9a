package msgraph

import (
	"strconv"
	"strings"
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
)

// The Graph shapes read by msgraph-callrecords (microsoft.graph.callRecords
// namespace). Property names match case-insensitively, as encoding/json
// does; unknown properties are ignored.
type (
	callRecord struct {
		ID             string          `json:"id"`
		Version        int64           `json:"version"`
		Type           string          `json:"type"`
		Modalities     []string        `json:"modalities"`
		StartDateTime  string          `json:"startDateTime"`
		EndDateTime    string          `json:"endDateTime"`
		Organizer      *identitySet    `json:"organizer"`       // deprecated
		Participants   []identitySet   `json:"participants"`    // deprecated
		OrganizerV2    *participantV2  `json:"organizer_v2"`    // expanded by default
		ParticipantsV2 []participantV2 `json:"participants_v2"` // with $expand=participants_v2
		Sessions       []session       `json:"sessions"`        // with $expand=sessions($expand=segments)
	}
	participantV2 struct {
		ID       string       `json:"id"`
		Identity *identitySet `json:"identity"`
	}
	session struct {
		ID            string       `json:"id"`
		Modalities    []string     `json:"modalities"`
		StartDateTime string       `json:"startDateTime"`
		EndDateTime   string       `json:"endDateTime"`
		Caller        *endpoint    `json:"caller"`
		Callee        *endpoint    `json:"callee"`
		FailureInfo   *failureInfo `json:"failureInfo"`
		Segments      []segment    `json:"segments"`
	}
	segment struct {
		ID            string       `json:"id"`
		StartDateTime string       `json:"startDateTime"`
		EndDateTime   string       `json:"endDateTime"`
		Caller        *endpoint    `json:"caller"`
		Callee        *endpoint    `json:"callee"`
		FailureInfo   *failureInfo `json:"failureInfo"`
	}
	failureInfo struct {
		Reason string `json:"reason"`
		Stage  string `json:"stage"`
	}
	// endpoint is a participantEndpoint (a user or user-like entity) or a
	// serviceEndpoint (a Teams service: conferencing, voicemail, ...).
	endpoint struct {
		ODataType          string       `json:"@odata.type"`
		AssociatedIdentity *identity    `json:"associatedIdentity"`
		Identity           *identitySet `json:"identity"` // deprecated
		UserAgent          *userAgent   `json:"userAgent"`
	}
	userAgent struct {
		ODataType     string `json:"@odata.type"`
		Platform      string `json:"platform"`
		ProductFamily string `json:"productFamily"`
		Role          string `json:"role"` // serviceUserAgent
	}
	// identitySet is a communicationsIdentitySet; at most a few of its
	// members are set.
	identitySet struct {
		User                           *identity `json:"user"`
		OnPremises                     *identity `json:"onPremises"`
		Phone                          *identity `json:"phone"`
		Guest                          *identity `json:"guest"`
		ApplicationInstance            *identity `json:"applicationInstance"`
		Application                    *identity `json:"application"`
		AzureCommunicationServicesUser *identity `json:"azureCommunicationServicesUser"`
		AcsUser                        *identity `json:"acsUser"`
		SpoolUser                      *identity `json:"spoolUser"`
		Encrypted                      *identity `json:"encrypted"`
		Device                         *identity `json:"device"`
	}
	identity struct {
		ODataType   string `json:"@odata.type"`
		ID          string `json:"id"`
		DisplayName string `json:"displayName"`
		TenantID    string `json:"tenantId"`
		UPN         string `json:"userPrincipalName"`
	}
)

// partyKind says what one side of a call is.
type partyKind uint8

const (
	partyNone     partyKind = iota // nothing recorded
	partyUser                      // a user of a tenant (Entra ID object id, UPN)
	partyPhone                     // a telephone number
	partyExternal                  // a guest, an ACS user or another outside identity
	partyApp                       // a bot or resource account (auto attendant, call queue)
	partyService                   // a Teams service endpoint (conferencing, voicemail, ...)
)

// party is one side of a call as the record names it.
type party struct {
	kind    partyKind
	id      string
	name    string
	tenant  string
	upn     string
	channel string // the endpoint's client (productFamily/platform) or service role
}

// fromSet reads an identitySet; a user wins over a phone and the rest.
func fromSet(s *identitySet) party {
	if s == nil {
		return party{}
	}
	pick := func(k partyKind, id *identity) party {
		return party{kind: k, id: strings.TrimSpace(id.ID), name: id.DisplayName, tenant: id.TenantID, upn: strings.TrimSpace(id.UPN)}
	}
	switch {
	case s.User != nil && (s.User.ID != "" || s.User.UPN != ""):
		return pick(partyUser, s.User)
	case s.OnPremises != nil && (s.OnPremises.ID != "" || s.OnPremises.UPN != ""):
		return pick(partyUser, s.OnPremises)
	case s.Phone != nil && s.Phone.ID != "":
		return pick(partyPhone, s.Phone)
	case s.Guest != nil:
		return pick(partyExternal, s.Guest)
	case s.AzureCommunicationServicesUser != nil:
		return pick(partyExternal, s.AzureCommunicationServicesUser)
	case s.AcsUser != nil:
		return pick(partyExternal, s.AcsUser)
	case s.SpoolUser != nil:
		return pick(partyExternal, s.SpoolUser)
	case s.ApplicationInstance != nil:
		return pick(partyApp, s.ApplicationInstance)
	case s.Application != nil:
		return pick(partyApp, s.Application)
	case s.Encrypted != nil:
		return pick(partyExternal, s.Encrypted)
	case s.Device != nil:
		return pick(partyExternal, s.Device)
	}
	return party{}
}

// fromIdentity reads an endpoint's associatedIdentity, whose kind only its
// @odata.type (when present) or the form of its id tells.
func fromIdentity(id *identity) party {
	p := party{id: strings.TrimSpace(id.ID), name: id.DisplayName, tenant: id.TenantID, upn: strings.TrimSpace(id.UPN)}
	t := strings.ToLower(id.ODataType)
	switch {
	case strings.Contains(t, "phone") || p.upn == "" && strings.HasPrefix(p.id, "+"):
		p.kind = partyPhone
	case strings.Contains(t, "guest") || strings.Contains(t, "azurecommunicationservices") || strings.Contains(t, "encrypted"):
		p.kind = partyExternal
	case strings.Contains(t, "application"):
		p.kind = partyApp
	case p.id != "" || p.upn != "":
		p.kind = partyUser
	}
	return p
}

// fromV2 reads an organizer_v2 or participants_v2 entry: its identity,
// or else its id (a user's object id, or a phone number).
func fromV2(v *participantV2) party {
	if v == nil {
		return party{}
	}
	if p := fromSet(v.Identity); p.kind != partyNone {
		return p
	}
	id := strings.TrimSpace(v.ID)
	switch {
	case id == "":
		return party{}
	case strings.HasPrefix(id, "+"):
		return party{kind: partyPhone, id: id}
	}
	return party{kind: partyUser, id: id}
}

// fromEndpoint reads a session's or segment's caller or callee.
func fromEndpoint(e *endpoint) party {
	if e == nil {
		return party{}
	}
	var p party
	if e.AssociatedIdentity != nil {
		p = fromIdentity(e.AssociatedIdentity)
	}
	if p.kind == partyNone {
		p = fromSet(e.Identity)
	}
	service := strings.Contains(strings.ToLower(e.ODataType), "serviceendpoint")
	if ua := e.UserAgent; ua != nil {
		if strings.Contains(strings.ToLower(ua.ODataType), "serviceuseragent") || ua.Role != "" {
			service = true
		}
		if service {
			p.channel = join("/", "service", known(ua.Role))
		} else {
			p.channel = join("/", known(ua.ProductFamily), known(ua.Platform))
		}
	} else if service {
		p.channel = "service"
	}
	if service && p.kind == partyNone {
		p.kind = partyService
	}
	return p
}

// partyHits returns the wanted subjects p is at t.
func (r *run) partyHits(p party, t time.Time) []hit {
	switch p.kind {
	case partyUser:
		return r.userHits(nil, p.id, p.upn, t)
	case partyPhone:
		return addHits(nil, r.lookup(model.KindPhone, p.id, t))
	}
	return nil
}

// external reports whether p is outside the organisation as seen from
// the subject's side s: a phone, a guest or other outside identity, or a
// user of another tenant.
func external(p, s party) bool {
	switch p.kind {
	case partyPhone, partyExternal:
		return true
	case partyUser:
		return p.tenant != "" && s.tenant != "" && !strings.EqualFold(p.tenant, s.tenant)
	}
	return false
}

// callJob is the msgraph-callrecords job. The rows of a call record are
// held back until every file has been read, because a later file may
// hold a newer version of the same record (its version grows as Graph
// adds data), which replaces them.
type callJob struct {
	r       *run
	order   []string // record ids in first-seen order
	pending map[string]*pendingCall
}

type pendingCall struct {
	version  int64
	sessions int
	rows     []pendingRow
}

type pendingRow struct {
	subject string
	rec     model.Record
}

func newCallJob(r *run) job { return &callJob{r: r, pending: map[string]*pendingCall{}} }

func (j *callJob) record(raw []byte, at pos) (string, error) {
	var cr callRecord
	if reason := decode(raw, &cr); reason != "" {
		return reason, nil
	}
	id := strings.TrimSpace(cr.ID)
	if id == "" {
		return "no id", nil
	}
	start, ok := parseTime(cr.StartDateTime)
	if !ok {
		return "startDateTime is missing or not an RFC 3339 time", nil
	}
	j.r.st.Cover(start)
	end, ok := parseTime(cr.EndDateTime)
	if !ok {
		return "endDateTime is missing or not an RFC 3339 time", nil
	}
	if end.Before(start) {
		return "endDateTime is before startDateTime", nil
	}
	rows, reason := j.rows(&cr, id, start, end, at)
	if reason != "" {
		return reason, nil
	}
	if len(rows) == 0 {
		return "", nil
	}
	key := strings.ToLower(id)
	if p, ok := j.pending[key]; ok {
		// The same call again: keep the newer version, or at the same
		// version the copy with sessions expanded (a GET with $expand
		// beside a list page); an equal copy is a duplicate.
		j.r.dups++
		if cr.Version > p.version || cr.Version == p.version && len(cr.Sessions) > p.sessions {
			p.version, p.sessions, p.rows = cr.Version, len(cr.Sessions), rows
		}
		return "", nil
	}
	j.order = append(j.order, key)
	j.pending[key] = &pendingCall{version: cr.Version, sessions: len(cr.Sessions), rows: rows}
	return "", nil
}

func (j *callJob) flush() error {
	for i, key := range j.order {
		if i%ctxEvery == 0 {
			if err := j.r.ctx.Err(); err != nil {
				return err
			}
		}
		for _, row := range j.pending[key].rows {
			if err := j.r.emit(row.subject, model.Calls, row.rec); err != nil {
				return err
			}
		}
	}
	return nil
}

// leg is one session or segment: its sides, times and failure.
type leg struct {
	id             string
	caller, callee party
	start, end     time.Time
	failure        *failureInfo
	modalities     []string
	outside        bool // a segment of a session with an outside party
}

// rows makes the calls records of one call record: one per session the
// wanted subject took part in (as caller or callee); for a session whose
// own endpoints do not name them, one per segment that does; and, for a
// subject the organizer or participants name but no session does (the
// sessions were not expanded, or are on a further page), one for the call
// as a whole.
func (j *callJob) rows(cr *callRecord, id string, start, end time.Time, at pos) ([]pendingRow, string) {
	var out []pendingRow
	covered := map[string]bool{}
	ref := j.r.ref(at)
	for si := range cr.Sessions {
		s := &cr.Sessions[si]
		sl, reason := makeLeg(s.ID, s.Caller, s.Callee, s.StartDateTime, s.EndDateTime, s.FailureInfo, start, end)
		if reason != "" {
			return nil, "session " + strconv.Itoa(si+1) + ": " + reason
		}
		if !failed(sl.failure) {
			for k := range s.Segments {
				if f := s.Segments[k].FailureInfo; failed(f) {
					sl.failure = f
					break
				}
			}
		}
		sl.modalities = s.Modalities
		inSession := map[string]bool{}
		for _, h := range j.legHits(&sl) {
			inSession[h.h.subject] = true
			covered[h.h.subject] = true
			out = append(out, pendingRow{h.h.subject, j.legRow(cr, id, ref, &sl, h).record(j.r.src.name)})
		}
		for gi := range s.Segments {
			g := &s.Segments[gi]
			gl, reason := makeLeg(g.ID, g.Caller, g.Callee, g.StartDateTime, g.EndDateTime, g.FailureInfo, sl.start, sl.end)
			if reason != "" {
				return nil, "session " + strconv.Itoa(si+1) + " segment " + strconv.Itoa(gi+1) + ": " + reason
			}
			gl.modalities = s.Modalities
			gl.outside = external(sl.caller, party{}) || external(sl.callee, party{})
			for _, h := range j.legHits(&gl) {
				if inSession[h.h.subject] {
					continue
				}
				covered[h.h.subject] = true
				out = append(out, pendingRow{h.h.subject, j.legRow(cr, id, ref, &gl, h).record(j.r.src.name)})
			}
		}
	}
	return append(out, j.callRows(cr, id, ref, start, end, covered)...), ""
}

// makeLeg reads a session's or segment's sides and times; missing times
// are those of the enclosing call or session.
func makeLeg(id string, caller, callee *endpoint, st, en string, f *failureInfo, pstart, pend time.Time) (leg, string) {
	l := leg{id: id, caller: fromEndpoint(caller), callee: fromEndpoint(callee), start: pstart, end: pend, failure: f}
	var ok bool
	if strings.TrimSpace(st) != "" {
		if l.start, ok = parseTime(st); !ok {
			return l, "startDateTime is not an RFC 3339 time"
		}
	}
	if strings.TrimSpace(en) != "" {
		if l.end, ok = parseTime(en); !ok {
			return l, "endDateTime is not an RFC 3339 time"
		}
	}
	if l.end.Before(l.start) {
		return l, "endDateTime is before startDateTime"
	}
	return l, ""
}

// sideHit is a subject found on one side of a leg.
type sideHit struct {
	h      hit
	caller bool
}

// legHits finds the wanted subjects on the caller side, then the callee
// side; a subject on both sides is the caller.
func (j *callJob) legHits(l *leg) []sideHit {
	var out []sideHit
	seen := map[string]bool{}
	for _, side := range []struct {
		p      party
		caller bool
	}{{l.caller, true}, {l.callee, false}} {
		for _, h := range j.r.partyHits(side.p, l.start) {
			if !seen[h.subject] {
				seen[h.subject] = true
				out = append(out, sideHit{h, side.caller})
			}
		}
	}
	return out
}

// legRow fills the calls row of one subject in one leg.
func (j *callJob) legRow(cr *callRecord, id, ref string, l *leg, sh sideHit) *callRow {
	me, other := l.callee, l.caller
	role := "callee"
	if sh.caller {
		me, other, role = l.caller, l.callee, "caller"
	}
	c := &callRow{
		callID:        id,
		ref:           ref,
		start:         l.start,
		end:           l.end,
		role:          role,
		subjectNumber: sh.h.value,
		channel:       l.caller.channel,
		dst:           l.callee.channel,
		application:   cr.Type,
		data:          strings.Join(nonEmpty(l.modalities, cr.Modalities), ","),
		uniqueID:      l.id,
	}
	if sh.caller {
		c.nameShown = me.name
	}
	c.otherNumber, c.otherName = j.otherParty(other)
	c.direction = direction(me, other, sh.caller, l.outside)
	c.outcome, c.raw = outcome(l.failure)
	if c.outcome == "answered" || failed(l.failure) && strings.EqualFold(l.failure.Stage, "midcall") {
		c.answered, c.answer = true, l.start
		c.talk = int64(l.end.Sub(l.start) / time.Second)
	}
	return c
}

// otherParty is what the row shows of the other side: a phone's number
// (E.164 where it is one) or a user's UPN, and the display name.
func (j *callJob) otherParty(p party) (number, name string) {
	switch p.kind {
	case partyPhone:
		return j.r.number(p.id), p.name
	case partyUser, partyExternal, partyApp:
		return p.upn, p.name
	}
	return "", ""
}

// direction: inbound or outbound (by the subject's role) when either side
// is outside the organisation (a phone, a guest, another tenant) or the
// leg is part of a session with such a party (outside), else internal.
func direction(me, other party, caller, outside bool) string {
	if !outside && !external(other, me) && !external(me, other) {
		return "internal"
	}
	if caller {
		return "outbound"
	}
	return "inbound"
}

// callRows makes the whole-call rows for the wanted subjects the
// organizer or participants name and no session covered. The organizer
// is the caller; a participant is a callee. The other party is the one
// other participant of a two-party call, else the organizer (for a
// participant), else nobody. Without sessions there is no failure
// information: the outcome is unknown.
func (j *callJob) callRows(cr *callRecord, id, ref string, start, end time.Time, covered map[string]bool) []pendingRow {
	var parties []party
	organizer := fromV2(cr.OrganizerV2)
	if organizer.kind == partyNone {
		organizer = fromSet(cr.Organizer)
	}
	for i := range cr.ParticipantsV2 {
		parties = append(parties, fromV2(&cr.ParticipantsV2[i]))
	}
	for i := range cr.Participants {
		parties = append(parties, fromSet(&cr.Participants[i]))
	}
	if organizer.kind != partyNone {
		parties = append([]party{organizer}, parties...)
	}
	// The distinct parties, and who each is.
	type who struct {
		p    party
		hits []hit
	}
	var people []who
	for _, p := range parties {
		if p.kind == partyNone {
			continue
		}
		dup := false
		for _, q := range people {
			if samePerson(p, q.p) {
				dup = true
				break
			}
		}
		if !dup {
			people = append(people, who{p, j.r.partyHits(p, start)})
		}
	}
	var out []pendingRow
	done := map[string]bool{}
	for i, w := range people {
		for _, h := range w.hits {
			if covered[h.subject] || done[h.subject] {
				continue
			}
			done[h.subject] = true
			isOrganizer := organizer.kind != partyNone && i == 0
			var other party
			switch {
			case len(people) == 2:
				other = people[1-i].p
			case !isOrganizer && organizer.kind != partyNone:
				other = organizer
			}
			c := &callRow{
				callID:        id,
				ref:           ref,
				start:         start,
				end:           end,
				role:          "callee",
				subjectNumber: h.value,
				application:   cr.Type,
				data:          strings.Join(cr.Modalities, ","),
				uniqueID:      id,
				outcome:       "unknown",
			}
			if isOrganizer {
				c.role, c.nameShown = "caller", w.p.name
			}
			c.otherNumber, c.otherName = j.otherParty(other)
			c.direction = direction(w.p, other, isOrganizer, false)
			out = append(out, pendingRow{h.subject, c.record(j.r.src.name)})
		}
	}
	return out
}

// samePerson reports whether two parties name the same identity.
func samePerson(a, b party) bool {
	if a.kind != b.kind {
		return false
	}
	if a.id != "" && strings.EqualFold(a.id, b.id) {
		return true
	}
	return a.upn != "" && strings.EqualFold(a.upn, b.upn)
}

// outcome maps a session's failureInfo to the calls outcome: answered when
// there is none; otherwise by the reason's wording (busy, declined or
// rejected → busy; no answer or timeout → no_answer; cancelled →
// cancelled; congestion → congestion), else failed. The raw value is
// "stage: reason" as Graph wrote them.
func outcome(f *failureInfo) (string, string) {
	if !failed(f) {
		return "answered", ""
	}
	raw := join(": ", f.Stage, f.Reason)
	r := strings.ToLower(strings.ReplaceAll(f.Reason, " ", ""))
	switch {
	case strings.Contains(r, "busy"), strings.Contains(r, "declin"), strings.Contains(r, "reject"):
		return "busy", raw
	case strings.Contains(r, "noanswer"), strings.Contains(r, "notanswered"), strings.Contains(r, "unanswered"), strings.Contains(r, "timeout"), strings.Contains(r, "timedout"):
		return "no_answer", raw
	case strings.Contains(r, "cancel"):
		return "cancelled", raw
	case strings.Contains(r, "congestion"):
		return "congestion", raw
	}
	return "failed", raw
}

// known returns v, or "" for Graph's "unknown".
func known(v string) string {
	if strings.EqualFold(strings.TrimSpace(v), "unknown") {
		return ""
	}
	return v
}

// failed reports whether f records a failure.
func failed(f *failureInfo) bool {
	return f != nil && (strings.TrimSpace(f.Reason) != "" || strings.TrimSpace(f.Stage) != "")
}

func nonEmpty(a, b []string) []string {
	if len(a) > 0 {
		return a
	}
	return b
}
