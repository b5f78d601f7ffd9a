package source

import (
	"fmt"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/dsar-tool/dsar/exporter/model"
)

// Matcher finds which subjects a value identified at a given time. It is
// built once per run from every subject's identifiers and is safe for
// concurrent use once built.
//
// Matching is always on whole values after normalisation: an extension
// compares as written (trimmed), a phone number compares in E.164, an
// endpoint (sip) compares as written. A value that merely contains a
// subject's number never matches.
type Matcher struct {
	// OutsidePrefixes are the site's outside-line prefixes (e.g. "9"): a
	// dialled number that starts with one is also tried without it when
	// read as a phone number. Set before use.
	OutsidePrefixes []string

	region string
	loc    *time.Location
	exact  map[string][]entry // kind "\x00" value -> entries
	// nsn holds the national significant numbers of every subject phone,
	// keyed by digit string, so that most values are ruled out without
	// calling the (slow) phone-number parser.
	nsn     map[string]bool
	nsnLens []int
}

type entry struct {
	subject string
	id      model.Identifier
}

// Match is one subject a value matched, and the identifier it matched on.
type Match struct {
	Subject string
	ID      model.Identifier
}

// Has reports whether any subject has an identifier of the given kind, so
// that a source can skip work for kinds nobody uses.
func (m *Matcher) Has(kind string) bool {
	for k := range m.exact {
		if strings.HasPrefix(k, kind+"\x00") {
			return true
		}
	}
	return false
}

// NewMatcher indexes the subjects' identifiers. region is the default
// region for phone numbers written without a country code (e.g. "GB");
// loc is the site's zone, in which identifier validity dates are read.
func NewMatcher(subjects []model.Subject, region string, loc *time.Location) (*Matcher, error) {
	if region == "" {
		region = "GB"
	}
	if loc == nil {
		loc = time.UTC
	}
	m := &Matcher{region: region, loc: loc, exact: map[string][]entry{}, nsn: map[string]bool{}}
	lens := map[int]bool{}
	for _, s := range subjects {
		for i, id := range s.Identifiers {
			v := strings.TrimSpace(id.Value)
			switch id.Kind {
			case model.KindPhone:
				e164, ok := NormalisePhone(v, region)
				if !ok {
					return nil, fmt.Errorf("subject %q identifier %d: not a valid phone number for region %s", s.ID, i+1, region)
				}
				v = e164
				num, _ := phonenumbers.Parse(e164, region)
				n := phonenumbers.GetNationalSignificantNumber(num)
				m.nsn[n] = true
				lens[len(n)] = true
			case model.KindExtension, model.KindSIP, model.KindUPN, model.KindEntraID, model.KindCUCMUser, model.KindDevice, model.KindEmail, model.KindAgent:
				if v == "" {
					return nil, fmt.Errorf("subject %q identifier %d: empty value", s.ID, i+1)
				}
				if model.FoldCase(id.Kind) {
					v = strings.ToLower(v)
				}
			default:
				return nil, fmt.Errorf("subject %q identifier %d: unknown kind %q (want one of %s)", s.ID, i+1, id.Kind, strings.Join(model.IdentifierKinds, ", "))
			}
			id.Value = v
			k := id.Kind + "\x00" + v
			m.exact[k] = append(m.exact[k], entry{subject: s.ID, id: id})
		}
	}
	for l := range lens {
		m.nsnLens = append(m.nsnLens, l)
	}
	return m, nil
}

// Location is the zone identifier validity dates are read in.
func (m *Matcher) Location() *time.Location { return m.loc }

// Region is the default phone-number region.
func (m *Matcher) Region() string { return m.region }

// Lookup returns the subjects whose identifier of the given kind equals
// value at time t. For KindPhone, value is normalised first; kinds that
// fold case (model.FoldCase) are lower-cased; all are trimmed.
func (m *Matcher) Lookup(kind, value string, t time.Time) []Match {
	value = strings.TrimSpace(value)
	if value == "" {
		return nil
	}
	if kind == model.KindPhone {
		if !m.maybePhone(value) {
			return nil
		}
		e164, ok := m.E164(value)
		if !ok {
			return nil
		}
		value = e164
	} else if model.FoldCase(kind) {
		value = strings.ToLower(value)
	}
	es := m.exact[kind+"\x00"+value]
	var out []Match
	for _, e := range es {
		if e.id.ValidAt(t, m.loc) {
			out = append(out, Match{Subject: e.subject, ID: e.id})
		}
	}
	return out
}

// Number looks a dialled or presented number up both as an extension
// (whole value as written) and as a phone number (E.164).
func (m *Matcher) Number(value string, t time.Time) []Match {
	out := m.Lookup(model.KindExtension, value, t)
	return append(out, m.Lookup(model.KindPhone, value, t)...)
}

// E164 returns value as an E.164 phone number if it is one, trying it
// also without the site's outside-line prefix; extensions and other short
// values return false.
func (m *Matcher) E164(value string) (string, bool) {
	value = strings.TrimSpace(value)
	for _, p := range m.OutsidePrefixes {
		if rest, ok := strings.CutPrefix(value, p); ok && p != "" {
			if e, ok := NormalisePhone(rest, m.region); ok && !strings.HasPrefix(rest, "+") {
				if len(rest) > 0 && (rest[0] == '0' || rest[0] == '+') {
					return e, true
				}
			}
		}
	}
	return NormalisePhone(value, m.region)
}

// maybePhone is a cheap necessary condition for value to normalise to one
// of the subjects' phone numbers: its digits end with that number's
// national significant number.
func (m *Matcher) maybePhone(value string) bool {
	if len(m.nsnLens) == 0 {
		return false
	}
	var buf [32]byte
	d := buf[:0]
	for i := 0; i < len(value); i++ {
		if c := value[i]; c >= '0' && c <= '9' {
			d = append(d, c)
		}
	}
	for _, l := range m.nsnLens {
		if len(d) >= l && m.nsn[string(d[len(d)-l:])] {
			return true
		}
	}
	return false
}

// NormalisePhone returns value in E.164 form if it is a possible phone
// number in region (or carries its own country code), and false otherwise.
// Short internal extensions are not possible numbers and return false.
func NormalisePhone(value, region string) (string, bool) {
	value = strings.TrimSpace(value)
	digits := 0
	for i := 0; i < len(value); i++ {
		c := value[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '+' || c == ' ' || c == '-' || c == '(' || c == ')' || c == '.':
		default:
			return "", false
		}
	}
	if digits < 7 {
		return "", false
	}
	if strings.HasPrefix(value, "00") {
		value = "+" + value[2:]
	}
	num, err := phonenumbers.Parse(value, region)
	if err != nil || !phonenumbers.IsPossibleNumber(num) {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}
