package msgraph

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
)

// pstnRow is a microsoft.graph.callRecords.pstnCallLogRow.
type pstnRow struct {
	ID                 string      `json:"id"`
	CallID             string      `json:"callId"`
	UserID             string      `json:"userId"`
	UserPrincipalName  string      `json:"userPrincipalName"`
	UserDisplayName    string      `json:"userDisplayName"`
	StartDateTime      string      `json:"startDateTime"`
	EndDateTime        string      `json:"endDateTime"`
	Duration           json.Number `json:"duration"`
	Charge             json.Number `json:"charge"`
	ConnectionCharge   json.Number `json:"connectionCharge"`
	Currency           string      `json:"currency"`
	CallType           string      `json:"callType"`
	CalleeNumber       string      `json:"calleeNumber"`
	CallerNumber       string      `json:"callerNumber"`
	DestinationName    string      `json:"destinationName"`
	DestinationContext string      `json:"destinationContext"`
	LicenseCapability  string      `json:"licenseCapability"`
	InventoryType      string      `json:"inventoryType"`
	Operator           string      `json:"operator"`
	CallDurationSource string      `json:"callDurationSource"`
	ConferenceID       string      `json:"conferenceId"`
}

// pstnDirection reads a callType: "user_in", "conf_in", "ucap_in" ... are
// inbound; "user_out", "user_out_transfer", "emergency_out" ... outbound.
// It returns "" for a callType that says neither.
func pstnDirection(callType string) string {
	in, out := false, false
	for _, tok := range strings.FieldsFunc(strings.ToLower(callType), func(r rune) bool { return r == '_' || r == '-' || r == ' ' }) {
		switch tok {
		case "in", "inbound":
			in = true
		case "out", "outbound":
			out = true
		}
	}
	switch {
	case in && !out:
		return "inbound"
	case out && !in:
		return "outbound"
	}
	return ""
}

// pstnJob is the msgraph-pstn job.
type pstnJob struct {
	r    *run
	seen map[string]bool // ids of rows taken
}

func newPSTNJob(r *run) job { return &pstnJob{r: r, seen: map[string]bool{}} }

func (j *pstnJob) flush() error { return nil }

// record makes the calls records of one PSTN call-log row. The row's user
// (userId, userPrincipalName, or their own number) is the caller of an
// outbound call and the callee of an inbound one; the other party (the
// number dialled, or the number that called) is looked up too, as in
// every calls source, so a subject whose phone a colleague called gets the
// row as well.
func (j *pstnJob) record(raw []byte, at pos) (string, error) {
	var p pstnRow
	if reason := decode(raw, &p); reason != "" {
		return reason, nil
	}
	id := strings.TrimSpace(p.ID)
	if id == "" {
		return "no id", nil
	}
	start, ok := parseTime(p.StartDateTime)
	if !ok {
		return "startDateTime is missing or not an RFC 3339 time", nil
	}
	j.r.st.Cover(start)
	end, ok := parseTime(p.EndDateTime)
	if !ok {
		return "endDateTime is missing or not an RFC 3339 time", nil
	}
	if end.Before(start) {
		return "endDateTime is before startDateTime", nil
	}
	var talk int64
	if p.Duration != "" {
		d, err := strconv.ParseInt(string(p.Duration), 10, 32)
		if err != nil || d < 0 {
			return "duration is not a whole number of seconds", nil
		}
		talk = d
	}
	dir := pstnDirection(p.CallType)
	if dir == "" {
		return "callType is neither inbound (…_in) nor outbound (…_out)", nil
	}
	userNum, otherNum := p.CalleeNumber, p.CallerNumber
	if dir == "outbound" {
		userNum, otherNum = p.CallerNumber, p.CalleeNumber
	}
	r := j.r
	user := r.userHits(nil, p.UserID, p.UserPrincipalName, start)
	user = addHits(user, r.lookup(model.KindPhone, userNum, start))
	others := addHits(user[:len(user):len(user)], r.lookup(model.KindPhone, otherNum, start))[len(user):]
	if len(user) == 0 && len(others) == 0 {
		return "", nil
	}
	key := strings.ToLower(id)
	if j.seen[key] {
		r.dups++
		return "", nil
	}
	j.seen[key] = true

	base := callRow{
		callID:      strings.TrimSpace(p.CallID),
		ref:         r.ref(at),
		start:       start,
		end:         end,
		direction:   dir,
		application: p.CallType,
		data:        pstnFacts(&p),
		uniqueID:    id,
	}
	if base.callID == "" {
		base.callID = id
	}
	if talk > 0 {
		base.outcome, base.answered, base.answer, base.talk = "answered", true, end.Add(-time.Duration(talk)*time.Second), talk
		if base.answer.Before(start) {
			base.answer = start
		}
	} else {
		base.outcome = "no_answer"
	}
	userRole, otherRole := "callee", "caller"
	if dir == "outbound" {
		userRole, otherRole = "caller", "callee"
	}
	for _, h := range user {
		c := base
		c.role = userRole
		c.subjectNumber = r.number(userNum)
		if c.subjectNumber == "" {
			c.subjectNumber = h.value
		}
		c.otherNumber = r.number(otherNum)
		if err := r.emit(h.subject, model.Calls, c.record(r.src.name)); err != nil {
			return "", err
		}
	}
	for _, h := range others {
		c := base
		c.role = otherRole
		c.subjectNumber = h.value
		c.otherNumber = r.number(userNum)
		c.otherName = p.UserDisplayName
		// Seen from the other party, the call goes the other way.
		if dir == "outbound" {
			c.direction = "inbound"
		} else {
			c.direction = "outbound"
		}
		if err := r.emit(h.subject, model.Calls, c.record(r.src.name)); err != nil {
			return "", err
		}
	}
	return "", nil
}

// pstnFacts lists the row's other facts for application_data: where the
// call went, what it cost, and how it was carried.
func pstnFacts(p *pstnRow) string {
	kv := func(k, v string) string {
		if v = strings.TrimSpace(v); v == "" {
			return ""
		}
		return k + "=" + v
	}
	charge := string(p.Charge)
	if charge != "" && p.Currency != "" {
		charge += " " + p.Currency
	}
	conn := string(p.ConnectionCharge)
	if conn != "" && p.Currency != "" {
		conn += " " + p.Currency
	}
	return join("; ",
		kv("destination", p.DestinationName),
		kv("context", p.DestinationContext),
		kv("charge", charge),
		kv("connection_charge", conn),
		kv("licence", p.LicenseCapability),
		kv("number_type", p.InventoryType),
		kv("operator", p.Operator),
		kv("duration_source", p.CallDurationSource),
		kv("conference", p.ConferenceID),
	)
}
