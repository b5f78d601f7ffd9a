package model

import "time"

// Identifier kinds. A subject's identifier is compared whole, after
// normalisation, never as a substring.
const (
	KindExtension = "extension" // an internal extension, compared as written
	KindPhone     = "phone"     // a telephone number, compared in E.164
	KindSIP       = "sip"       // an endpoint name, as in the channel PJSIP/<name>-0000001b
	KindUPN       = "upn"       // a user principal name (Entra ID, Teams), compared case-insensitively
	KindEntraID   = "entra_id"  // an Entra ID user object id (a GUID), compared case-insensitively
	KindCUCMUser  = "cucm_user" // a Cisco Unified CM user id, compared case-insensitively
	KindDevice    = "device"    // a device name (e.g. a CUCM SEP<MAC> phone), compared case-insensitively
	KindEmail     = "email"     // an email address, compared case-insensitively
	KindAgent     = "agent"     // a queue agent or member interface (e.g. PJSIP/4321 in queue_log), compared as written
)

// IdentifierKinds lists the kinds a subject directory may use.
var IdentifierKinds = []string{KindExtension, KindPhone, KindSIP, KindUPN, KindEntraID, KindCUCMUser, KindDevice, KindEmail, KindAgent}

// FoldCase reports whether identifiers of kind compare case-insensitively.
func FoldCase(kind string) bool {
	switch kind {
	case KindUPN, KindEntraID, KindCUCMUser, KindDevice, KindEmail:
		return true
	}
	return false
}

// Identifier is a value that identified the subject during a period.
// From and To are dates (midnight UTC values, inclusive both ends) that
// bound when the identifier was theirs; a zero value leaves that end open.
type Identifier struct {
	Kind  string
	Value string // normalised: E.164 for phones, trimmed otherwise
	From  time.Time
	To    time.Time
}

// ValidAt reports whether the identifier belonged to the subject at t,
// where t is compared as a date in loc (the site's zone).
func (id Identifier) ValidAt(t time.Time, loc *time.Location) bool {
	if id.From.IsZero() && id.To.IsZero() {
		return true
	}
	y, m, d := t.In(loc).Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if !id.From.IsZero() && day.Before(id.From) {
		return false
	}
	if !id.To.IsZero() && day.After(id.To) {
		return false
	}
	return true
}

// Subject is a data subject: a member of staff whose records are exported.
type Subject struct {
	ID          string
	Name        string
	Identifiers []Identifier
}

// Rejection describes a source row that could not be read. It names where
// the row is, never what it holds.
type Rejection struct {
	Source string `json:"source"`
	File   string `json:"file,omitempty"`
	Line   int64  `json:"line,omitempty"`
	Reason string `json:"reason"`
}
