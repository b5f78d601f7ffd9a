// Package redact applies a redaction policy to the records of a bundle, so
// that other people's data in them (the other party's number and name in
// a call record, a number typed into a note) is disclosed only as the
// policy allows, and reports what it changed.
//
// # Policy
//
// A policy is a list of rules, each naming a dataset, one or more of its
// columns, an optional condition and an action:
//
//	rules:
//	  - name: other-number-external
//	    dataset: calls
//	    column: other_number
//	    when: external        # always (default) | external | internal
//	    action: mask          # keep | mask | hash | drop
//	    keep_prefix: 6
//
// Actions:
//
//   - keep leaves the value as recorded.
//   - drop empties it: "" for a text column, null for a nullable column of
//     another type. Other columns cannot be dropped (Load says so).
//   - mask hides all but a prefix. A value that is one telephone number
//     (digits, an optional leading '+', spaces, '-', '.', '(' and ')')
//     keeps its first keep_prefix digits (default 6) and has every other
//     digit replaced by '*', separators kept; any other text keeps its
//     first keep_prefix characters and has the rest replaced by '*'.
//     Never more than half of the digits (or characters) are kept, so a
//     short value such as an extension is still masked.
//   - hash replaces the value with a keyed pseudonym: "h:" and 12 letters
//     (48 bits of HMAC-SHA256 under the key given to New, written with 16
//     consonants, so that a pseudonym holds no digit and is never taken
//     for a number). The same value gives the same pseudonym throughout a
//     bundle (a telephone number in any written form: 07700 900461,
//     07700900461 and +447700900461 are one number; text compares without
//     regard to case and spacing), and without the key the pseudonym
//     cannot be turned back into the value.
//
// With scope: numbers, mask and hash act instead on each number of at
// least min_digits digits (default 7) inside free text such as a dial
// string (PJSIP/07700900461@trunk,60 becomes PJSIP/07700******@trunk,60)
// and leave the rest of the text alone. A number may be written with
// spaces, '-', '.', '(' and ')' between its digits ("+44 (0)20 7946 0777"
// is one number); digits run together with letters ("000001a9", the
// suffix of a channel name) are not joined to their neighbours, but are
// still masked if they are min_digits long by themselves.
//
// # Conditions and precedence
//
// when: external holds for a row whose other party is outside the
// organisation, judged by its other_number:
//
//   - a telephone number (in E.164 form, starting with '+', as connectors
//     write recognised numbers; or 7 or more digits that a connector could
//     not normalise) is external unless it starts with one of the policy's
//     internal_prefixes (the organisation's own direct-dial ranges);
//   - an address (it holds '@': a Teams user of another organisation, a
//     guest) is external unless the row's direction is internal (the
//     connector knows its own tenant) or its domain is one of the policy's
//     internal_domains, or a subdomain of one;
//   - anything else (an extension, an endpoint name, nothing) is internal.
//
// internal is the opposite; both need a dataset with an other_number
// column.
// value_matches: REGEX (RE2 syntax) further requires the rule's column to
// match. Conditions are judged on the record as it came from the source,
// before any rule changed it.
//
// For each column of a record, the last rule in the policy that names the
// column and whose condition holds decides what happens to it: later
// rules override earlier ones, so a general rule comes first and its
// exceptions after it (a later keep exempts a column from an earlier
// rule).
//
// # Values found again elsewhere
//
// A value that a rule masked, hashed or dropped is also looked for in
// every other text column of the same record (enumerations aside), and
// treated there the same way: the other party's number masked in
// other_number is masked too where it appears in a dial string, a channel
// name or a note, in any written form (national, E.164, with the outside
// line prefix), and a dropped name is replaced by "[redacted]" wherever it
// appears, compared without regard to case. So no value a rule redacted is
// left readable anywhere in its record, whatever the other rules say; a
// keep rule cannot bring it back. Numbers compare as whole numbers
// (extension 4321 is not found in 43210; a number of 7 or more digits is
// also found inside a longer one); names shorter than two characters and
// numbers shorter than three digits are not looked for, as they would
// match by coincidence. Report lists these changes too.
package redact

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/dsar-tool/dsar/exporter/internal/suggest"
	"github.com/dsar-tool/dsar/exporter/model"
)

// Actions (Rule.Action).
const (
	ActionKeep = "keep"
	ActionMask = "mask"
	ActionHash = "hash"
	ActionDrop = "drop"
)

// Conditions (Rule.When).
const (
	WhenAlways   = "always"
	WhenExternal = "external"
	WhenInternal = "internal"
)

// Scopes (Rule.Scope) of mask and hash.
const (
	ScopeValue   = "value"   // the whole value is one unit
	ScopeNumbers = "numbers" // each number of MinDigits or more digits inside free text
)

// Defaults of the optional rule settings.
const (
	DefaultKeepPrefix = 6
	DefaultMinDigits  = 7
)

// otherNumber is the column the external and internal conditions read.
const otherNumber = "other_number"

// Rule is one rule of a policy, with every default filled in.
type Rule struct {
	Name         string   // unique within the policy; the manifest and cover letter cite it
	Dataset      string   // a model dataset name
	Columns      []string // columns of Dataset, in the order the file gave them
	When         string   // WhenAlways, WhenExternal or WhenInternal
	ValueMatches string   // RE2 pattern the column's value must match; "" for none
	Action       string   // ActionKeep, ActionMask, ActionHash or ActionDrop
	Scope        string   // mask and hash: ScopeValue or ScopeNumbers; "" otherwise
	KeepPrefix   int      // mask: digits (or characters) kept, never more than half
	MinDigits    int      // scope numbers: the fewest digits that make a number
	Reason       string   // why, in plain words, for the cover letter; may be ""
}

// Condition describes when the rule applies, e.g. "external" or
// `always, value matches "^\+44"`.
func (r Rule) Condition() string {
	if r.ValueMatches == "" {
		return r.When
	}
	return fmt.Sprintf("%s, value matches %q", r.When, r.ValueMatches)
}

// Describe says in plain English what the rule does to a value it applies
// to, for the cover letter.
func (r Rule) Describe() string {
	pseudonym := "replaced by a pseudonym (h: and 12 letters): the same value gives the same pseudonym throughout this bundle, and it cannot be turned back into the value"
	switch {
	case r.Action == ActionKeep:
		return "kept as recorded"
	case r.Action == ActionDrop:
		return "removed"
	case r.Action == ActionMask && r.Scope == ScopeNumbers:
		return fmt.Sprintf("each number of %d or more digits masked: %s", r.MinDigits, allBut(r.KeepPrefix, "digit"))
	case r.Action == ActionMask && r.KeepPrefix == 0:
		return "masked: every digit (or, in text that is not a telephone number, every character) replaced by *"
	case r.Action == ActionMask:
		return fmt.Sprintf("masked: %s; text that is not a telephone number keeps its first %s instead", allBut(r.KeepPrefix, "digit"), count(r.KeepPrefix, "character"))
	case r.Action == ActionHash && r.Scope == ScopeNumbers:
		return fmt.Sprintf("each number of %d or more digits %s", r.MinDigits, pseudonym)
	}
	return pseudonym
}

// allBut says which units a mask keeping keep of them hides.
func allBut(keep int, unit string) string {
	if keep == 0 {
		return "every " + unit + " replaced by *"
	}
	return fmt.Sprintf("all but the first %s (never more than half) replaced by *", count(keep, unit))
}

func count(n int, unit string) string {
	if n == 1 {
		return unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// rule is a checked Rule, ready to apply.
type rule struct {
	Rule
	index int            // position in the policy
	re    *regexp.Regexp // ValueMatches compiled; nil for none
}

// holds reports whether the rule's when-condition holds for a row whose
// other party is (ext) or is not outside the organisation.
func (r *rule) holds(ext bool) bool {
	switch r.When {
	case WhenExternal:
		return ext
	case WhenInternal:
		return !ext
	}
	return true
}

// Policy is a checked redaction policy. It is immutable and safe to share.
type Policy struct {
	name     string
	rules    []*rule
	internal []string // internal_prefixes, digits with their leading '+'
	domains  []string // internal_domains, lower case
}

// Name is "default", "keep", or the path the policy was loaded from.
func (p *Policy) Name() string { return p.name }

// Rules returns the policy's rules in order, with defaults filled in.
func (p *Policy) Rules() []Rule {
	out := make([]Rule, len(p.rules))
	for i, r := range p.rules {
		out[i] = r.Rule
		out[i].Columns = slices.Clone(r.Columns)
	}
	return out
}

// InternalPrefixes returns the number prefixes that count as internal
// (digits with their leading '+').
func (p *Policy) InternalPrefixes() []string { return slices.Clone(p.internal) }

// InternalDomains returns the address domains that count as internal.
func (p *Policy) InternalDomains() []string { return slices.Clone(p.domains) }

// external reports whether a row's other party is outside the
// organisation, from its other_number and its direction ("" when the
// dataset has none): see the package documentation.
func (p *Policy) external(other, direction string) bool {
	other = strings.TrimSpace(other)
	switch {
	case other == "":
		return false
	case strings.Contains(other, "@"):
		domain := strings.ToLower(other[strings.LastIndexByte(other, '@')+1:])
		for _, d := range p.domains {
			if domain == d || strings.HasSuffix(domain, "."+d) {
				return false
			}
		}
		return direction != "internal"
	case other[0] == '+' || phoneLike(other) && countDigits(other) >= 7:
		c := compactNumber(other)
		for _, pre := range p.internal {
			if strings.HasPrefix(c, pre) {
				return false
			}
		}
		return true
	}
	return false
}

// compactNumber drops the separators from a telephone number.
func compactNumber(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x80 && isSep(byte(r)) {
			return -1
		}
		return r
	}, s)
}

// defaultYAML is the default policy. samples/redaction.yaml is the same
// policy with comments for a DPO to copy (a test keeps them equal).
//
// Why these rules. UK GDPR lets a controller withhold information about
// another person from a subject access response unless that person
// consents or it is reasonable to disclose it without their consent (DPA
// 2018 Schedule 2 paragraph 16); the ICO's guidance asks the controller to
// weigh, among other things, any duty of confidence, whether consent was
// or could be sought, and what the other person would reasonably expect.
//
//   - Colleagues (internal extensions, endpoint names, caller-ID names on
//     internal calls) are kept: they are work identifiers, used in a
//     professional capacity, that the subject knows already from working
//     with them, and a record of a call between colleagues is not
//     meaningful without them. Disclosing them is reasonable.
//   - Outside parties (a caller from outside, a number the subject
//     dialled, a Teams user of another organisation) are usually private
//     individuals, or staff of another controller, who expect no
//     disclosure and whose consent has not been sought, so their number or
//     address is masked (its first digits or characters kept, enough to
//     recognise the kind of number, the area or the organisation) and
//     their caller-ID or display name removed. The DPO can decide otherwise
//     for a request (dsar export --redaction keep, or a policy file).
//   - Numbers of 7 or more digits inside free text (the dial string, notes
//     in user_field, account codes) are masked on every call, internal or
//     not: internal extensions are shorter, so what is masked is an outside
//     number (a colleague's forwarded mobile on an internal call, say).
//     This sometimes masks the subject's own direct-dial number in a note,
//     which the subject finds in subject_number anyway.
//   - Channel names only carry a number on outside calls (a DAHDI line, a
//     Local channel to a dialled number); masking numbers in them on
//     internal calls would only garble the endpoint names and the
//     all-digit suffixes Asterisk gives channels.
//
// Names typed into free text cannot be found by a rule; only the other
// party's own caller-ID name is (as a value found again elsewhere).
const defaultYAML = `
rules:
  - name: other-number-external
    dataset: calls
    column: other_number
    when: external
    action: mask
    keep_prefix: 6
    reason: The number of someone outside the organisation is their personal data.
  - name: other-name-external
    dataset: calls
    column: other_name
    when: external
    action: drop
    reason: The caller-ID name of someone outside the organisation is their personal data.
  - name: numbers-in-dial-strings-and-notes
    dataset: calls
    columns: [application_data, user_field, account_code]
    action: mask
    scope: numbers
    min_digits: 7
    keep_prefix: 6
    reason: A telephone number typed or dialled here may be someone else's.
  - name: numbers-in-channels-external
    dataset: calls
    columns: [channel, dst_channel]
    when: external
    action: mask
    scope: numbers
    min_digits: 7
    keep_prefix: 6
    reason: On a call with someone outside the organisation, a channel name may hold their number.
`

var defaultPolicy = sync.OnceValue(func() *Policy {
	p, err := Parse([]byte(defaultYAML), "default")
	if err != nil {
		panic("redact: default policy: " + err.Error())
	}
	return p
})

// Default returns the default policy for other people's data in calls.
// On a call with someone outside the organisation, the other party's
// number or address is masked (its first 6 digits or characters kept),
// their name removed and the numbers in channel names masked; on every
// call, numbers of 7 or more digits in dial strings, notes and account
// codes are masked; colleagues' extensions and names are kept. The comment on
// defaultYAML in the source gives the reasoning; samples/redaction.yaml
// is the same policy as a file.
func Default() *Policy { return defaultPolicy() }

// Keep returns the policy that changes nothing.
func Keep() *Policy { return &Policy{name: "keep"} }

// FromFlag returns the policy a --redaction value names: "default" (or
// ""), "keep", or the path of a policy file (write ./keep for a file
// called keep).
func FromFlag(value string) (*Policy, error) {
	switch value {
	case "", "default":
		return Default(), nil
	case "keep":
		return Keep(), nil
	}
	return Load(value)
}

// Load reads and checks the policy file at path. Errors name the file,
// and the line and key at fault.
func Load(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("redaction policy %q not found: give a policy file, or --redaction default or keep", path)
		}
		return nil, fmt.Errorf("redaction policy: %w", err)
	}
	return Parse(data, path)
}

// Error is a problem with a policy file.
type Error struct {
	File string // as given to Parse or Load
	Line int    // 1-based; 0 when unknown
	Rule string // the rule's name, or "rule N" before its name is known; "" outside rules
	Key  string // the key at fault; "" when none
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "redaction policy %q", e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ", line %d", e.Line)
	}
	b.WriteString(": ")
	if e.Rule != "" {
		b.WriteString(e.Rule + ": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// fileYAML is the shape of a policy file.
type fileYAML struct {
	InternalPrefixes []yaml.Node `yaml:"internal_prefixes"` // nodes, for their lines
	InternalDomains  []yaml.Node `yaml:"internal_domains"`
	Rules            *[]ruleYAML `yaml:"rules"` // nil when the key is missing
}

// ruleYAML is one rule as written, with where each key is.
type ruleYAML struct {
	line   int
	lines  map[string]int  // key -> line of its value
	set    map[string]bool // keys given
	Rule                   // as written; Columns is filled in by check
	column string          // the column key
	cols   []string        // the columns key
	keep   int             // keep_prefix
	minDig int             // min_digits
}

var ruleKeys = []string{"name", "dataset", "column", "columns", "when", "value_matches", "action", "scope", "keep_prefix", "min_digits", "reason"}

// UnmarshalYAML reads a rule and rejects unknown keys (yaml's KnownFields
// does not reach into a custom unmarshaler).
func (r *ruleYAML) UnmarshalYAML(n *yaml.Node) error {
	r.line = n.Line
	r.lines = map[string]int{}
	r.set = map[string]bool{}
	if n.Kind != yaml.MappingNode {
		return &Error{Line: n.Line, Msg: "a rule must be a mapping of keys (name, dataset, column, action, ...)"}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		if !slices.Contains(ruleKeys, key) {
			return &Error{Line: k.Line, Key: key, Msg: "unknown key" + didYouMean(key, ruleKeys) + " (want one of " + strings.Join(ruleKeys, ", ") + ")"}
		}
		if r.set[key] {
			return &Error{Line: k.Line, Key: key, Msg: "given twice"}
		}
		r.set[key] = true
		r.lines[key] = v.Line
		var err error
		switch key {
		case "name":
			err = scalar(v, &r.Name)
		case "dataset":
			err = scalar(v, &r.Dataset)
		case "column":
			err = scalar(v, &r.column)
		case "columns":
			if v.Kind != yaml.SequenceNode {
				err = errors.New("want a list of column names, e.g. [channel, dst_channel]")
				break
			}
			for _, c := range v.Content {
				var s string
				if err = scalar(c, &s); err != nil {
					break
				}
				r.cols = append(r.cols, s)
			}
		case "when":
			err = scalar(v, &r.When)
		case "value_matches":
			err = scalar(v, &r.ValueMatches)
		case "action":
			err = scalar(v, &r.Action)
		case "scope":
			err = scalar(v, &r.Scope)
		case "keep_prefix":
			err = number(v, &r.keep)
		case "min_digits":
			err = number(v, &r.minDig)
		case "reason":
			err = scalar(v, &r.Reason)
		}
		if err != nil {
			return &Error{Line: v.Line, Key: key, Msg: err.Error()}
		}
	}
	return nil
}

func scalar(v *yaml.Node, dst *string) error {
	if v.Kind != yaml.ScalarNode {
		return errors.New("want a single value")
	}
	*dst = strings.TrimSpace(v.Value)
	return nil
}

func number(v *yaml.Node, dst *int) error {
	if v.Kind != yaml.ScalarNode || v.Decode(dst) != nil {
		return fmt.Errorf("want a whole number, got %q", v.Value)
	}
	return nil
}

var yamlLine = regexp.MustCompile(`^line (\d+): `)

// yamlError turns a message of the YAML decoder into an *Error, taking
// the line number out of it.
func yamlError(file, msg string) *Error {
	e := &Error{File: file, Msg: msg}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = msg[len(m[0]):]
	}
	return e
}

// Parse checks a policy held in data; name is what errors call it and
// what Name returns (usually the file's path).
func Parse(data []byte, name string) (*Policy, error) {
	var f fileYAML
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		var pe *Error
		var te *yaml.TypeError
		switch {
		case errors.Is(err, io.EOF):
			return nil, &Error{File: name, Msg: "the file is empty; write rules: [] for a policy that keeps everything"}
		case errors.As(err, &pe):
			pe.File = name
			return nil, pe
		case errors.As(err, &te):
			// e.g. "line 1: field rulez not found in type redact.fileYAML"
			msg := strings.ReplaceAll(te.Errors[0], "in type redact.fileYAML", "(want internal_prefixes, internal_domains or rules)")
			return nil, yamlError(name, msg)
		}
		return nil, yamlError(name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if f.Rules == nil {
		return nil, &Error{File: name, Msg: "rules is missing; write rules: [] for a policy that keeps everything"}
	}
	p := &Policy{name: name}
	for i, n := range f.InternalPrefixes {
		c := compactNumber(strings.TrimSpace(n.Value))
		if n.Kind != yaml.ScalarNode || len(c) < 2 || c[0] != '+' || strings.IndexFunc(c[1:], func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
			return nil, &Error{File: name, Line: n.Line, Key: fmt.Sprintf("internal_prefixes[%d]", i), Msg: fmt.Sprintf("%q is not the start of an E.164 number (want e.g. \"+44 20 7946\")", n.Value)}
		}
		p.internal = append(p.internal, c)
	}
	for i, n := range f.InternalDomains {
		c := strings.ToLower(strings.TrimSpace(n.Value))
		if n.Kind != yaml.ScalarNode || c == "" || strings.ContainsAny(c, "@ /") || strings.HasPrefix(c, ".") {
			return nil, &Error{File: name, Line: n.Line, Key: fmt.Sprintf("internal_domains[%d]", i), Msg: fmt.Sprintf("%q is not a domain (want e.g. example.ac.uk)", n.Value)}
		}
		p.domains = append(p.domains, c)
	}
	seen := map[string]int{}
	for i := range *f.Rules {
		r, err := check(&(*f.Rules)[i], i, seen)
		if err != nil {
			err.File = name
			return nil, err
		}
		p.rules = append(p.rules, r)
	}
	return p, nil
}

// check validates one rule against the datasets and fills in defaults.
func check(y *ruleYAML, i int, seen map[string]int) (*rule, *Error) {
	label := fmt.Sprintf("rule %d", i+1)
	fail := func(key, format string, args ...any) *Error {
		line := y.lines[key]
		if line == 0 {
			line = y.line
		}
		return &Error{Line: line, Rule: label, Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	if y.Name == "" {
		return nil, fail("name", "every rule needs a name, which the manifest and cover letter cite")
	}
	label = fmt.Sprintf("rule %q", y.Name)
	if j, ok := seen[y.Name]; ok {
		return nil, fail("name", "the name is already used by rule %d", j+1)
	}
	seen[y.Name] = i
	r := &rule{Rule: y.Rule, index: i}
	if y.Dataset == "" {
		return nil, fail("dataset", "required (one of %s)", datasetNames())
	}
	d := model.DatasetByName(y.Dataset)
	if d == nil {
		return nil, fail("dataset", "unknown dataset %q%s (want one of %s)", y.Dataset, didYouMean(y.Dataset, datasetNameList()), datasetNames())
	}
	switch {
	case y.set["column"] && y.set["columns"]:
		return nil, fail("columns", "give column or columns, not both")
	case y.set["column"]:
		r.Columns = []string{y.column}
	case y.set["columns"]:
		r.Columns = y.cols
	}
	if len(r.Columns) == 0 {
		return nil, fail("column", "required: the column (or columns: [a, b]) of %s the rule applies to", d.Name)
	}
	colKey := "column"
	if y.set["columns"] {
		colKey = "columns"
	}
	var cols []model.Column
	for _, name := range r.Columns {
		k := d.Index(name)
		if k < 0 {
			return nil, fail(colKey, "%s has no column %q%s", d.Name, name, didYouMean(name, columnNames(d)))
		}
		if slices.ContainsFunc(cols, func(c model.Column) bool { return c.Name == name }) {
			return nil, fail(colKey, "column %q is listed twice", name)
		}
		cols = append(cols, d.Columns[k])
	}

	switch r.Action {
	case "":
		return nil, fail("action", "required: keep, mask, hash or drop")
	case ActionKeep, ActionMask, ActionHash, ActionDrop:
	default:
		return nil, fail("action", "unknown action %q%s (want keep, mask, hash or drop)", r.Action, didYouMean(r.Action, []string{ActionKeep, ActionMask, ActionHash, ActionDrop}))
	}
	for _, c := range cols {
		if why := actionFits(r.Action, c); why != "" {
			return nil, fail("action", "%s.%s %s", d.Name, c.Name, why)
		}
	}

	switch r.When {
	case "":
		r.When = WhenAlways
	case WhenAlways:
	case WhenExternal, WhenInternal:
		if d.Index(otherNumber) < 0 {
			return nil, fail("when", "%q needs a dataset with an %s column (calls); %s has none", r.When, otherNumber, d.Name)
		}
	default:
		return nil, fail("when", "unknown condition %q%s (want always, external or internal)", r.When, didYouMean(r.When, []string{WhenAlways, WhenExternal, WhenInternal}))
	}
	if y.set["value_matches"] {
		for _, c := range cols {
			if c.Type != model.String {
				return nil, fail("value_matches", "%s.%s holds %s values; value_matches needs text columns", d.Name, c.Name, c.Type)
			}
		}
		re, err := regexp.Compile(r.ValueMatches)
		if err != nil {
			return nil, fail("value_matches", "%v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
		r.re = re
	}

	hides := r.Action == ActionMask || r.Action == ActionHash
	if y.set["scope"] && !hides {
		return nil, fail("scope", "only mask and hash take a scope")
	}
	if hides {
		switch r.Scope {
		case "":
			r.Scope = ScopeValue
		case ScopeValue, ScopeNumbers:
		default:
			return nil, fail("scope", "unknown scope %q (want value, or numbers for the numbers inside free text)", r.Scope)
		}
	}
	if y.set["keep_prefix"] && r.Action != ActionMask {
		return nil, fail("keep_prefix", "only mask keeps a prefix")
	}
	if y.set["min_digits"] && r.Scope != ScopeNumbers {
		return nil, fail("min_digits", "only applies with scope: numbers")
	}
	if r.Action == ActionMask {
		r.KeepPrefix = DefaultKeepPrefix
		if y.set["keep_prefix"] {
			r.KeepPrefix = y.keep
		}
		if r.KeepPrefix < 0 || r.KeepPrefix > 15 {
			return nil, fail("keep_prefix", "%d is out of range (0 to 15)", r.KeepPrefix)
		}
	}
	if r.Scope == ScopeNumbers {
		r.MinDigits = DefaultMinDigits
		if y.set["min_digits"] {
			r.MinDigits = y.minDig
		}
		if r.MinDigits < 3 || r.MinDigits > 15 {
			return nil, fail("min_digits", "%d is out of range (3 to 15)", r.MinDigits)
		}
		if r.Action == ActionMask && r.KeepPrefix >= r.MinDigits {
			return nil, fail("keep_prefix", "%d must be less than min_digits (%d), or the digits kept could be a whole number", r.KeepPrefix, r.MinDigits)
		}
	}
	return r, nil
}

func datasetNameList() []string {
	var out []string
	for _, d := range model.Datasets {
		out = append(out, d.Name)
	}
	return out
}

func datasetNames() string { return strings.Join(datasetNameList(), ", ") }

func columnNames(d *model.Dataset) []string {
	var out []string
	for _, c := range d.Columns {
		out = append(out, c.Name)
	}
	return out
}

// didYouMean suggests the candidate closest to s, if one is close.
func didYouMean(s string, candidates []string) string {
	if best := suggest.Closest(s, candidates); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}
