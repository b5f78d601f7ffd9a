package redact

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const samplePolicy = "../../samples/redaction.yaml"

// TestSampleIsDefault keeps samples/redaction.yaml equal in effect to
// Default().
func TestSampleIsDefault(t *testing.T) {
	p, err := Load(samplePolicy)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Rules(), Default().Rules(); !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n%+v\nDefault():\n%+v", samplePolicy, got, want)
	}
	if got := p.InternalPrefixes(); len(got) != 0 {
		t.Errorf("internal_prefixes %v, want none", got)
	}
	if got := p.InternalDomains(); len(got) != 0 {
		t.Errorf("internal_domains %v, want none", got)
	}
	if p.Name() != samplePolicy || Default().Name() != "default" || Keep().Name() != "keep" {
		t.Errorf("names %q %q %q", p.Name(), Default().Name(), Keep().Name())
	}
}

func TestDefaultRules(t *testing.T) {
	rules := Default().Rules()
	if len(rules) != 4 {
		t.Fatalf("%d rules", len(rules))
	}
	want := Rule{
		Name: "other-number-external", Dataset: "calls", Columns: []string{"other_number"},
		When: "external", Action: "mask", Scope: "value", KeepPrefix: 6,
		Reason: "The number of someone outside the organisation is their personal data.",
	}
	if !reflect.DeepEqual(rules[0], want) {
		t.Errorf("rule 1 %+v, want %+v", rules[0], want)
	}
	rules[0].Columns[0] = "changed"
	if Default().Rules()[0].Columns[0] != "other_number" {
		t.Error("Rules shares the policy's memory")
	}
	for _, r := range rules {
		if r.Describe() == "" || r.Condition() == "" {
			t.Errorf("%s: empty description", r.Name)
		}
	}
	if got := (Rule{When: "always", ValueMatches: `^\+44`}).Condition(); got != `always, value matches "^\\+44"` {
		t.Errorf("condition %q", got)
	}
}

func TestFromFlag(t *testing.T) {
	for _, v := range []string{"", "default"} {
		if p, err := FromFlag(v); err != nil || p != Default() {
			t.Errorf("%q: %v %v", v, p, err)
		}
	}
	if p, err := FromFlag("keep"); err != nil || len(p.Rules()) != 0 {
		t.Errorf("keep: %v %v", p, err)
	}
	if p, err := FromFlag(samplePolicy); err != nil || len(p.Rules()) != 4 {
		t.Errorf("file: %v %v", p, err)
	}
	_, err := FromFlag(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("missing file: %v", err)
	}
}

func TestEmptyRules(t *testing.T) {
	p := mustParse(t, "rules: []\n")
	if len(p.Rules()) != 0 {
		t.Error("rules")
	}
}

// TestLoadErrors checks that each mistake is refused with the file, the
// line and the key at fault.
func TestLoadErrors(t *testing.T) {
	rule := func(lines ...string) string {
		return "rules:\n  - name: r\n    dataset: calls\n    " + strings.Join(lines, "\n    ") + "\n"
	}
	tests := []struct {
		name string
		yml  string
		want string // the error after `redaction policy "p.yaml"`
	}{
		{"empty file", "", `: the file is empty`},
		{"no rules key", "internal_prefixes: []\n", `: rules is missing`},
		{"unknown top-level key", "rulez: []\n", `, line 1: field rulez not found (want internal_prefixes, internal_domains or rules)`},
		// yaml.v3 gives the line where the enclosing collection starts
		{"bad YAML", "rules:\n  - name: [a\n", `, line 1: did not find expected ',' or ']'`},
		{"bad YAML indentation", "rules:\n  - name: a\n   dataset: calls\n", `, line 1: did not find expected '-' indicator`},
		{"rule not a mapping", "rules:\n  - mask\n", `, line 2: a rule must be a mapping`},
		{"unknown key", rule("column: other_number", "acton: mask"), `, line 5: acton: unknown key (did you mean "action"?)`},
		{"key twice", rule("column: other_number", "action: mask", "action: drop"), `, line 6: action: given twice`},
		{"no name", "rules:\n  - dataset: calls\n    column: other_name\n    action: drop\n", `, line 2: rule 1: name: every rule needs a name`},
		{"duplicate name", rule("column: other_name", "action: drop") + "  - {name: r, dataset: calls, column: other_name, action: keep}\n", `, line 6: rule "r": name: the name is already used by rule 1`},
		{"no dataset", "rules:\n  - {name: r, column: x, action: drop}\n", `, line 2: rule "r": dataset: required`},
		{"unknown dataset", "rules:\n  - name: r\n    dataset: cals\n    column: x\n    action: drop\n", `, line 3: rule "r": dataset: unknown dataset "cals" (did you mean "calls"?)`},
		{"unknown column", rule("column: othr_number", "action: mask"), `, line 4: rule "r": column: calls has no column "othr_number" (did you mean "other_number"?)`},
		{"unknown column in list", rule("columns: [channel, dst_chanel]", "action: mask"), `, line 4: rule "r": columns: calls has no column "dst_chanel" (did you mean "dst_channel"?)`},
		{"column and columns", rule("column: channel", "columns: [dst_channel]", "action: mask"), `, line 5: rule "r": columns: give column or columns, not both`},
		{"no column", rule("action: mask"), `, line 2: rule "r": column: required`},
		{"column twice in list", rule("columns: [channel, channel]", "action: mask"), `column "channel" is listed twice`},
		{"columns not a list", rule("columns: channel", "action: mask"), `, line 4: columns: want a list`},
		{"no action", rule("column: other_name"), `, line 2: rule "r": action: required`},
		{"unknown action", rule("column: other_name", "action: redact"), `, line 5: rule "r": action: unknown action "redact"`},
		{"drop a non-nullable integer", rule("column: duration_s", "action: drop"), `, line 5: rule "r": action: calls.duration_s holds integer values and must always hold one, so it cannot be dropped`},
		{"drop an enumeration", rule("column: direction", "action: drop"), `calls.direction must hold one of inbound, outbound, internal, so it cannot be dropped`},
		{"mask a timestamp", rule("column: answer_utc", "action: mask"), `calls.answer_utc holds timestamp values, which cannot be masked; use drop or keep`},
		{"hash an enumeration", rule("column: outcome", "action: hash"), `calls.outcome holds one of a fixed list of values`},
		{"unknown condition", rule("column: other_name", "action: drop", "when: outside"), `, line 6: rule "r": when: unknown condition "outside"`},
		{"external without other_number", "rules:\n  - {name: r, dataset: logins, column: device, action: drop, when: external}\n", `when: "external" needs a dataset with an other_number column (calls); logins has none`},
		{"bad regexp", rule("column: other_name", "action: drop", "value_matches: '('"), `, line 6: rule "r": value_matches: missing closing ): `},
		{"value_matches on an integer", rule("column: answer_utc", "action: drop", "value_matches: x"), `value_matches needs text columns`},
		{"scope on drop", rule("column: other_name", "action: drop", "scope: numbers"), `scope: only mask and hash take a scope`},
		{"unknown scope", rule("column: other_name", "action: mask", "scope: words"), `scope: unknown scope "words"`},
		{"keep_prefix on hash", rule("column: other_name", "action: hash", "keep_prefix: 2"), `keep_prefix: only mask keeps a prefix`},
		{"keep_prefix not a number", rule("column: other_name", "action: mask", "keep_prefix: six"), `, line 6: keep_prefix: want a whole number, got "six"`},
		{"keep_prefix negative", rule("column: other_name", "action: mask", "keep_prefix: -1"), `keep_prefix: -1 is out of range`},
		{"min_digits without numbers scope", rule("column: other_name", "action: mask", "min_digits: 5"), `min_digits: only applies with scope: numbers`},
		{"min_digits too small", rule("column: user_field", "action: mask", "scope: numbers", "min_digits: 2", "keep_prefix: 1"), `min_digits: 2 is out of range`},
		{"keep_prefix not below min_digits", rule("column: user_field", "action: mask", "scope: numbers", "min_digits: 5"), `, line 2: rule "r": keep_prefix: 6 must be less than min_digits (5)`},
		{"bad internal domain", "internal_domains: ['@example.ac.uk']\nrules: []\n", `, line 1: internal_domains[0]: "@example.ac.uk" is not a domain`},
		{"bad internal prefix", "internal_prefixes:\n  - '+44 20'\n  - '020 7946'\nrules: []\n", `, line 3: internal_prefixes[1]: "020 7946" is not the start of an E.164 number`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yml), "p.yaml")
			if err == nil {
				t.Fatal("no error")
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Errorf("%T is not an *Error", err)
			}
			got := err.Error()
			if !strings.HasPrefix(got, `redaction policy "p.yaml"`) || !strings.Contains(got, tc.want) {
				t.Errorf("error\n%s\nwant it to contain\n%s", got, tc.want)
			}
		})
	}
}

func TestLoadNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte("rules:\n  - {name: r, dataset: calls, column: nope, action: drop}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.HasPrefix(err.Error(), `redaction policy "`+path+`", line 2: rule "r": column: `) {
		t.Errorf("error %v", err)
	}
}
