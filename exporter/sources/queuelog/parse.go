package queuelog

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// entry is one queue_log line, split.
type entry struct {
	time  int64  // Unix seconds
	queue string // queue name; "NONE" for events not tied to one queue
	agent string // member interface, member name or agent; "NONE" for caller events
	event string
	data  string // everything after the event's separator, verbatim ("" if none)
}

// data1 returns the first data field.
func (e entry) data1() string {
	d, _, _ := strings.Cut(e.data, "|")
	return d
}

// maxLine bounds one line (Asterisk writes a few hundred bytes at most).
const maxLine = 1 << 20

// Reasons a line is rejected. They describe the line, never its content.
const (
	reasonUTF8    = "invalid UTF-8"
	reasonFields  = "too few fields: want time|callid|queue|agent|event"
	reasonTime    = "bad time: want Unix seconds in the first field"
	reasonNoEvent = "empty event field"
	reasonTooLong = "line longer than 1 MiB"
)

// maxEpochDigits bounds the time field (11 digits reach the year 5138).
const maxEpochDigits = 11

// parseLine splits one line (without its line ending) as app_queue's
// ast_queue_log writes it: "%ld|%s|%s|%s|%s|%s\n" of time, call id,
// queue, agent, event and the event's data (itself |-separated). It
// returns the reason when the line cannot be read.
func parseLine(b []byte) (entry, string) {
	var e entry
	if !utf8.Valid(b) {
		return e, reasonUTF8
	}
	var f [5][]byte
	rest := b
	for i := 0; i < 5; i++ {
		j := bytes.IndexByte(rest, '|')
		if j < 0 {
			if i < 4 {
				return e, reasonFields
			}
			f[i], rest = rest, nil
			break
		}
		f[i], rest = rest[:j], rest[j+1:]
	}
	t, ok := parseEpoch(f[0])
	if !ok {
		return e, reasonTime
	}
	e.time = t
	e.queue = string(f[2])
	e.agent = string(f[3])
	e.event = string(bytes.TrimSpace(f[4]))
	if e.event == "" {
		return e, reasonNoEvent
	}
	if rest != nil {
		e.data = string(rest)
	}
	return e, ""
}

// parseEpoch reads Unix seconds, allowing a fraction (dropped).
func parseEpoch(b []byte) (int64, bool) {
	if i := bytes.IndexByte(b, '.'); i >= 0 {
		frac := b[i+1:]
		if len(frac) == 0 {
			return 0, false
		}
		for _, c := range frac {
			if c < '0' || c > '9' {
				return 0, false
			}
		}
		b = b[:i]
	}
	if len(b) == 0 || len(b) > maxEpochDigits {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// kind is what an event means for the datasets.
type kind uint8

const (
	other kind = iota // a call event, or one that says nothing of logins or status
	login
	logout
	paused
	unpaused
)

// classify maps an event name to its meaning. app_queue writes
// ADDMEMBER/REMOVEMEMBER for dynamic members (AddQueueMember,
// RemoveQueueMember, the AMI and CLI), PAUSE/UNPAUSE per queue with the
// reason as the only data field, and PAUSEALL/UNPAUSEALL (queue NONE)
// before the per-queue events when a member is paused in every queue;
// app_agent_pool (and chan_agent before it) writes AGENTLOGIN and
// AGENTLOGOFF with the agent's channel as the first data field, and
// Asterisk 1.4's chan_agent AGENTCALLBACKLOGIN/LOGOFF.
func classify(event string) kind {
	switch event {
	case "ADDMEMBER", "AGENTLOGIN", "AGENTCALLBACKLOGIN":
		return login
	case "REMOVEMEMBER", "AGENTLOGOFF", "AGENTCALLBACKLOGOFF":
		return logout
	case "PAUSE", "PAUSEALL":
		return paused
	case "UNPAUSE", "UNPAUSEALL":
		return unpaused
	}
	return other
}

// interfaceIDs returns what the agent field names besides itself: for a
// member interface PJSIP/<endpoint>, SIP/<endpoint> or IAX2/<endpoint>
// the endpoint (a sip identifier), and for a FreePBX-style
// Local/<extension>@<context>[/n] the extension. An agent name
// ("Agent/1001", "Alex Example") names neither.
func interfaceIDs(agent string) (endpoint, extension string) {
	tech, rest, ok := strings.Cut(strings.TrimSpace(agent), "/")
	if !ok || rest == "" {
		return "", ""
	}
	switch {
	case strings.EqualFold(tech, "PJSIP"), strings.EqualFold(tech, "SIP"), strings.EqualFold(tech, "IAX2"):
		ep, _, _ := strings.Cut(rest, "/") // PJSIP/<endpoint>/<contact URI>
		return strings.TrimSpace(ep), ""
	case strings.EqualFold(tech, "Local"):
		ext, _, ok := strings.Cut(rest, "@")
		if !ok {
			return "", ""
		}
		return "", strings.TrimSpace(ext)
	}
	return "", ""
}
