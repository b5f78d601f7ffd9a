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
			case model.KindExtension, model.KindSIP:
				if v == "" {
					return nil, fmt.Errorf("subject %q identifier %d: empty value", s.ID, i+1)
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
// value at time t. For KindPhone, value is normalised first; for the other
// kinds it is trimmed.
func (m *Matcher) Lookup(kind, value string, t time.Time) []Match {
	value = strings.TrimSpace(value)
	if value == "" {
		return nil
	}
	if kind == model.KindPhone {
		if !m.maybePhone(value) {
			return nil
		}
		e164, ok := NormalisePhone(value, m.region)
		if !ok {
			return nil
		}
		value = e164
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
