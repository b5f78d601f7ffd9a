package redact

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
)

// MinKeyLen is the shortest key New accepts for a policy that hashes.
const MinKeyLen = 16

// dropped replaces a dropped value where it is found again inside other
// text.
const dropped = "[redacted]"

// Redactor applies a policy to the records of one bundle and counts what
// it changed. It is not safe for concurrent use: use one per bundle, from
// one goroutine.
type Redactor struct {
	// Region is the region whose national numbers are understood (e.g.
	// "GB"), so that 07700 900461 and +447700900461 count as one number
	// when hashing and when looking for a value again elsewhere. New sets
	// "GB"; change it (to the configuration's region) before the first
	// Apply.
	Region string

	p      *Policy
	key    []byte
	plans  map[*model.Dataset]*plan
	counts map[appliedKey]int
	eff    []*planRule // scratch for Apply: the rule deciding each column
}

// plan is how a policy applies to one dataset declaration.
type plan struct {
	rules     []planRule
	other     int   // the other_number column, or -1
	direction int   // the direction column, or -1
	text      []int // text columns without a fixed list of values: where values are looked for again
}

type planRule struct {
	*rule
	cols []int // the rule's columns in the dataset
}

// appliedKey counts the rows in which rule changed column col, itself
// (via -1) or because a value it redacted in column via was found there.
type appliedKey struct {
	rule int
	d    *model.Dataset
	col  int
	via  int
}

// New returns a Redactor applying p. key keys the pseudonyms of hash
// rules: the same key gives the same pseudonyms, so derive one per request
// (DeriveKey) and keep it out of the bundle; anyone holding it can test
// guesses of a hashed number. It must be at least MinKeyLen bytes long if
// p has a hash rule, and may be nil otherwise. New copies key.
func New(p *Policy, key []byte) (*Redactor, error) {
	if p == nil {
		return nil, errors.New("redact: no policy")
	}
	for _, r := range p.rules {
		if r.Action == ActionHash && len(key) < MinKeyLen {
			return nil, fmt.Errorf("redact: policy %q hashes values (rule %q) but the key is %d bytes; want at least %d", p.name, r.Name, len(key), MinKeyLen)
		}
	}
	return &Redactor{
		Region: "GB",
		p:      p,
		key:    slices.Clone(key),
		plans:  map[*model.Dataset]*plan{},
		counts: map[appliedKey]int{},
	}, nil
}

// DeriveKey derives the pseudonym key of one request from a secret the
// controller keeps (at least 32 random bytes, never in a bundle): the same
// secret and request ID give the same key, so a re-run of an export gives
// the same bundle, and different requests get unrelated pseudonyms.
func DeriveKey(secret []byte, requestID string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("dsar redaction key v1\x00"))
	m.Write([]byte(requestID))
	return m.Sum(nil)
}

// plan returns how the policy applies to d, working it out on first use.
// Rules are matched to d by dataset and column names; a rule whose action
// does not fit a column of d (its type differs from the one the policy was
// checked against) is skipped for that column.
func (r *Redactor) plan(d *model.Dataset) *plan {
	if pl, ok := r.plans[d]; ok {
		return pl
	}
	pl := &plan{other: d.Index(otherNumber), direction: d.Index("direction")}
	for _, ru := range r.p.rules {
		if ru.Dataset != d.Name {
			continue
		}
		pr := planRule{rule: ru}
		for _, name := range ru.Columns {
			if k := d.Index(name); k >= 0 && actionFits(ru.Action, d.Columns[k]) == "" {
				pr.cols = append(pr.cols, k)
			}
		}
		if len(pr.cols) > 0 {
			pl.rules = append(pl.rules, pr)
		}
	}
	for i, c := range d.Columns {
		if c.Type == model.String && len(c.Enum) == 0 {
			pl.text = append(pl.text, i)
		}
	}
	r.plans[d] = pl
	return pl
}

// secret is a value a rule redacted, held while its record is redacted
// so that it can be looked for in the record's other columns.
type secret struct {
	pr    *planRule
	col   int
	phone bool
	value string // phone: the digits; text: the value, trimmed
	nsn   string // phone: the national significant number, when known
	token string // hash: the value's pseudonym
}

// Apply redacts rec, a record of d, in place. Call it on every record
// before any is written. d is one of the model's datasets (or a
// declaration with the same names); a record of the wrong length is left
// alone. Apply changes only text values and, for drop, nullable values;
// the record still passes d.Check.
func (r *Redactor) Apply(d *model.Dataset, rec model.Record) {
	pl := r.plan(d)
	if len(pl.rules) == 0 || len(rec) != len(d.Columns) {
		return
	}
	// Decide each column's rule on the record as it came.
	ext := false
	if pl.other >= 0 {
		other, _ := rec[pl.other].(string)
		var dir string
		if pl.direction >= 0 {
			dir, _ = rec[pl.direction].(string)
		}
		ext = r.p.external(other, dir)
	}
	if cap(r.eff) < len(rec) {
		r.eff = make([]*planRule, len(rec))
	}
	eff := r.eff[:len(rec)]
	clear(eff)
	for i := range pl.rules {
		pr := &pl.rules[i]
		if !pr.holds(ext) {
			continue
		}
		for _, c := range pr.cols {
			if pr.re != nil {
				if s, ok := rec[c].(string); !ok || !pr.re.MatchString(s) {
					continue
				}
			}
			eff[c] = pr
		}
	}

	var found []secret
	var hits []appliedKey
	hit := func(k appliedKey) {
		if !slices.Contains(hits, k) {
			hits = append(hits, k)
		}
	}
	for c, pr := range eff {
		if pr != nil && pr.Action != ActionKeep && r.redact(pr, c, rec, &found) {
			hit(appliedKey{pr.index, d, c, -1})
		}
	}
	// Look for what was redacted in the rest of the record.
	if len(found) > 0 {
		for _, c := range pl.text {
			s, ok := rec[c].(string)
			if !ok || s == "" {
				continue
			}
			changed := false
			for i := range found {
				sc := &found[i]
				ns, ok := r.scrub(s, sc)
				if !ok {
					continue
				}
				s, changed = ns, true
				via := sc.col
				if via == c {
					via = -1
				}
				hit(appliedKey{sc.pr.index, d, c, via})
			}
			if changed {
				rec[c] = s
			}
		}
	}
	for _, k := range hits {
		r.counts[k]++
	}
}

// redact applies pr to column c of rec and reports whether it changed the
// value, adding what it hid to found.
func (r *Redactor) redact(pr *planRule, c int, rec model.Record, found *[]secret) bool {
	if pr.Action == ActionDrop {
		switch v := rec[c].(type) {
		case nil:
			return false
		case string:
			if v == "" {
				return false
			}
			r.remember(found, pr, c, v)
			rec[c] = ""
		default:
			rec[c] = nil // a nullable column of another type (checked by actionFits)
		}
		return true
	}
	s, ok := rec[c].(string)
	if !ok || strings.TrimSpace(s) == "" {
		return false
	}
	var b strings.Builder
	switch {
	case pr.Scope == ScopeNumbers:
		last, changed := 0, false
		for _, g := range numbers(s) {
			if g.digits < pr.MinDigits {
				continue
			}
			changed = true
			num := s[g.start:g.end]
			sc := r.remember(found, pr, c, num)
			b.WriteString(s[last:g.start])
			if pr.Action == ActionHash {
				b.WriteString(sc.token)
			} else {
				maskDigits(&b, num, pr.KeepPrefix)
			}
			last = g.end
		}
		if !changed {
			return false
		}
		b.WriteString(s[last:])
	case pr.Action == ActionHash:
		b.WriteString(r.remember(found, pr, c, s).token)
	case phoneLike(s):
		r.remember(found, pr, c, s)
		maskDigits(&b, s, pr.KeepPrefix)
	default:
		r.remember(found, pr, c, s)
		maskText(&b, s, pr.KeepPrefix)
	}
	rec[c] = b.String()
	return true
}

// remember adds value, which pr redacted in column c, to found, and
// returns its entry (with its pseudonym when pr hashes). A text value is
// remembered with the numbers inside it.
func (r *Redactor) remember(found *[]secret, pr *planRule, c int, value string) secret {
	sc := secret{pr: pr, col: c}
	if phoneLike(value) {
		canon, e164 := r.canonPhone(value)
		sc.phone, sc.value = true, digitsOf(value)
		if e164 {
			sc.nsn = nsn(canon, r.Region)
		}
		if pr.Action == ActionHash {
			sc.token = r.token("tel:" + canon)
		}
	} else {
		sc.value = strings.TrimSpace(value)
		if pr.Action == ActionHash {
			sc.token = r.token("text:" + foldText(value))
		}
		for _, g := range numbers(value) {
			if g.digits >= DefaultMinDigits {
				r.remember(found, pr, c, value[g.start:g.end])
			}
		}
	}
	if sc.phone && len(sc.value) < 3 || !sc.phone && (utf8.RuneCountInString(sc.value) < 2 || !hasWord(sc.value)) {
		return sc // too short to look for elsewhere: it would match by coincidence
	}
	for _, o := range *found {
		if o.phone == sc.phone && o.value == sc.value {
			return sc
		}
	}
	*found = append(*found, sc)
	return sc
}

// canonPhone returns the form of a written number that is hashed: E.164
// when it is a possible number in r.Region (or has its own country code),
// and otherwise its digits, after a '+' if it has one.
func (r *Redactor) canonPhone(s string) (canon string, e164 bool) {
	if e, ok := source.NormalisePhone(s, r.Region); ok {
		return e, true
	}
	if strings.HasPrefix(strings.TrimSpace(s), "+") {
		return "+" + digitsOf(s), false
	}
	return digitsOf(s), false
}

// nsn returns the national significant number of an E.164 number when it
// is long enough (6 digits) to be looked for as the tail of other forms
// of the number, or "".
func nsn(e164, region string) string {
	num, err := phonenumbers.Parse(e164, region)
	if err != nil {
		return ""
	}
	n := phonenumbers.GetNationalSignificantNumber(num)
	if len(n) < 6 {
		return ""
	}
	return n
}

// tokenAlphabet writes the pseudonyms: 16 consonants, so that a pseudonym
// holds no digit (a numbers rule never takes it, or part of it, for a
// number) and spells no word.
const tokenAlphabet = "bcdfghjklmnpqrst"

// token returns the pseudonym of canon: "h:" and the first 48 bits of its
// HMAC-SHA256, four bits a letter.
func (r *Redactor) token(canon string) string {
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte(canon))
	sum := m.Sum(nil)
	b := []byte("h:")
	for _, c := range sum[:6] {
		b = append(b, tokenAlphabet[c>>4], tokenAlphabet[c&15])
	}
	return string(b)
}

// matches reports whether the written number num is sc, a phone secret:
// the same digits, or (for a long number) digits containing it, or its
// national significant number (so 07700900461, +44 7700 900461 and
// 9 07700 900461 all match +447700900461).
func (sc *secret) matches(num string) bool {
	d := digitsOf(num)
	return d == sc.value ||
		len(sc.value) >= DefaultMinDigits && strings.Contains(d, sc.value) ||
		sc.nsn != "" && strings.Contains(d, sc.nsn)
}

// scrub replaces each occurrence of sc in s as sc's rule would, and
// reports whether there was one. Should the replacements and their
// neighbours happen to spell sc again, the whole value is emptied.
func (r *Redactor) scrub(s string, sc *secret) (string, bool) {
	out, ok := r.replace(s, sc)
	if !ok {
		return s, false
	}
	if _, again := r.replace(out, sc); again {
		return "", true
	}
	return out, true
}

func (r *Redactor) replace(s string, sc *secret) (string, bool) {
	var b strings.Builder
	last, found := 0, false
	put := func(start, end int) {
		found = true
		b.WriteString(s[last:start])
		switch sc.pr.Action {
		case ActionHash:
			b.WriteString(sc.token)
		case ActionDrop:
			b.WriteString(dropped)
		default:
			if sc.phone {
				maskDigits(&b, s[start:end], sc.pr.KeepPrefix)
			} else {
				maskText(&b, s[start:end], sc.pr.KeepPrefix)
			}
		}
		last = end
	}
	if sc.phone {
		for _, g := range numbers(s) {
			if sc.matches(s[g.start:g.end]) {
				put(g.start, g.end)
			}
		}
	} else {
		for {
			i, j := textIndex(s[last:], sc.value)
			if i < 0 {
				break
			}
			put(last+i, last+j)
		}
	}
	if !found {
		return s, false
	}
	b.WriteString(s[last:])
	return b.String(), true
}

// Applied is one line of the redaction report: a rule that changed a
// column in some rows.
type Applied struct {
	Rule      string `json:"rule"`
	Dataset   string `json:"dataset"`
	Column    string `json:"column"`
	Action    string `json:"action"`    // keep, mask, hash or drop
	Condition string `json:"condition"` // Rule.Condition
	// Via is set when the values changed in Column were ones the rule
	// redacted in column Via, found again here; "" when the rule names
	// Column itself.
	Via         string `json:"via,omitempty"`
	Rows        int    `json:"rows"`        // records in which the rule changed the column
	Description string `json:"description"` // what was done, in plain English
	Reason      string `json:"reason,omitempty"`
}

// Report lists what Apply has changed so far: one entry per rule and
// column (and Via column) with at least one changed row, in policy order,
// then a rule's own columns in dataset order before the columns it reached
// through Via. It never returns nil.
func (r *Redactor) Report() []Applied {
	keys := make([]appliedKey, 0, len(r.counts))
	for k := range r.counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b appliedKey) int {
		return cmp.Or(
			cmp.Compare(a.rule, b.rule),
			strings.Compare(a.d.Name, b.d.Name), // declarations with one name
			cmp.Compare(a.via, b.via),
			cmp.Compare(a.col, b.col),
		)
	})
	out := make([]Applied, 0, len(keys))
	for _, k := range keys {
		ru := r.p.rules[k.rule]
		a := Applied{
			Rule:        ru.Name,
			Dataset:     k.d.Name,
			Column:      k.d.Columns[k.col].Name,
			Action:      ru.Action,
			Condition:   ru.Condition(),
			Rows:        r.counts[k],
			Description: ru.Describe(),
			Reason:      ru.Reason,
		}
		if k.via >= 0 {
			a.Via = k.d.Columns[k.via].Name
			how := map[string]string{
				ActionMask: "masked the same way",
				ActionHash: "replaced by the same pseudonym",
				ActionDrop: "replaced by " + dropped,
			}[ru.Action]
			a.Description = fmt.Sprintf("where a number or name that this rule hid in %s appeared here too, it was %s", a.Via, how)
		}
		out = append(out, a)
	}
	return out
}

// actionFits returns why action cannot apply to column c, or "".
func actionFits(action string, c model.Column) string {
	switch action {
	case ActionMask, ActionHash:
		if c.Type != model.String {
			return fmt.Sprintf("holds %s values, which cannot be %sed; use drop or keep", c.Type, action)
		}
		if len(c.Enum) > 0 {
			return fmt.Sprintf("holds one of a fixed list of values (%s), which cannot be %sed", strings.Join(c.Enum, ", "), action)
		}
	case ActionDrop:
		if c.Type != model.String && !c.Nullable {
			return fmt.Sprintf("holds %s values and must always hold one, so it cannot be dropped", c.Type)
		}
		if len(c.Enum) > 0 && !c.Nullable {
			return fmt.Sprintf("must hold one of %s, so it cannot be dropped", strings.Join(c.Enum, ", "))
		}
	}
	return ""
}
