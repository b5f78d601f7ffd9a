package redact

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
)

// TestActions applies each action, alone, to a table of values in one
// column (with the other columns empty, so nothing is found again).
func TestActions(t *testing.T) {
	tok := mustNew(t, Keep(), testKey).token
	tests := []struct {
		name   string
		rule   []string // the rule's lines after dataset
		column string
		in     string
		want   string
	}{
		// mask, the whole value
		{"mask E.164", []string{"column: other_number", "action: mask"}, "other_number", "+447700900461", "+447700******"},
		{"mask national", []string{"column: other_number", "action: mask"}, "other_number", "07700900461", "07700******"},
		{"mask national with spaces", []string{"column: other_number", "action: mask"}, "other_number", "07700 900461", "07700 ******"},
		{"mask international with (0)", []string{"column: other_number", "action: mask"}, "other_number", "+44 (0)20 7946 0777", "+44 (0)20 7*** ****"},
		{"mask extension keeps half", []string{"column: other_number", "action: mask"}, "other_number", "4399", "43**"},
		{"mask one digit", []string{"column: other_number", "action: mask"}, "other_number", "5", "*"},
		{"mask keep_prefix 0", []string{"column: other_number", "action: mask", "keep_prefix: 0"}, "other_number", "+447700900461", "+************"},
		{"mask keep_prefix 3", []string{"column: other_number", "action: mask", "keep_prefix: 3"}, "other_number", "+447700900461", "+447*********"},
		{"mask empty", []string{"column: other_number", "action: mask"}, "other_number", "", ""},
		{"mask blank", []string{"column: other_number", "action: mask"}, "other_number", "  ", "  "},
		{"mask a name", []string{"column: other_name", "action: mask"}, "other_name", "Siobhán Ní Bhriain", "Siobhá************"},
		{"mask a short name", []string{"column: other_name", "action: mask"}, "other_name", "陈伟", "陈*"},
		{"mask an address", []string{"column: other_number", "action: mask"}, "other_number", "sip:alice@example.org", "sip:al***************"},

		// mask, the numbers inside free text
		{"mask dial string", []string{"column: application_data", "action: mask", "scope: numbers"}, "application_data", "PJSIP/02079460777@trunk,60", "PJSIP/02079******@trunk,60"},
		{"mask internal dial string", []string{"column: application_data", "action: mask", "scope: numbers"}, "application_data", "PJSIP/4321&PJSIP/siobhan-desk,20", "PJSIP/4321&PJSIP/siobhan-desk,20"},
		{"mask several numbers", []string{"column: user_field", "action: mask", "scope: numbers"}, "user_field",
			"call 07700 900461 or +44 (0)20 7946 0777, ext 4321", "call 07700 ****** or +44 (0)20 7*** ****, ext 4321"},
		{"mask E.164 inside text", []string{"column: user_field", "action: mask", "scope: numbers"}, "user_field", "tel:+447700900461;x", "tel:+447700******;x"},
		{"mask number run into letters", []string{"column: user_field", "action: mask", "scope: numbers"}, "user_field", "mob07700900461", "mob07700******"},
		{"mask DAHDI channel", []string{"column: channel", "action: mask", "scope: numbers"}, "channel", "DAHDI/i1/07700900461-5", "DAHDI/i1/077009*****-*"},
		{"mask channel suffix untouched", []string{"column: channel", "action: mask", "scope: numbers"}, "channel", "PJSIP/siobhan-desk-000001a8", "PJSIP/siobhan-desk-000001a8"},
		{"mask min_digits 4", []string{"column: user_field", "action: mask", "scope: numbers", "min_digits: 4", "keep_prefix: 1"}, "user_field", "re: ext 1432 and 43210", "re: ext 1*** and 4****"},
		{"mask dates are numbers too", []string{"column: user_field", "action: mask", "scope: numbers"}, "user_field", "since 2025-01-06", "since 2025-**-**"},
		{"mask no numbers", []string{"column: user_field", "action: mask", "scope: numbers"}, "user_field", "Zoë Łukasik", "Zoë Łukasik"},

		// hash
		{"hash E.164", []string{"column: other_number", "action: hash"}, "other_number", "+447700900461", tok("tel:+447700900461")},
		{"hash national is the same number", []string{"column: other_number", "action: hash"}, "other_number", "07700 900461", tok("tel:+447700900461")},
		{"hash 00 form is the same number", []string{"column: other_number", "action: hash"}, "other_number", "0044 7700 900461", tok("tel:+447700900461")},
		{"hash extension", []string{"column: other_number", "action: hash"}, "other_number", "4399", tok("tel:4399")},
		{"hash name", []string{"column: other_name", "action: hash"}, "other_name", "Prof \"Jim\"  O'Brien", tok(`text:prof "jim" o'brien`)},
		{"hash empty", []string{"column: other_name", "action: hash"}, "other_name", "", ""},
		{"hash numbers in dial string", []string{"column: application_data", "action: hash", "scope: numbers"}, "application_data", "PJSIP/07700900461@trunk,60", "PJSIP/" + tok("tel:+447700900461") + "@trunk,60"},

		// drop and keep
		{"drop name", []string{"column: other_name", "action: drop"}, "other_name", "Prof \"Jim\" O'Brien, Jr.", ""},
		{"drop empty", []string{"column: other_name", "action: drop"}, "other_name", "", ""},
		{"keep", []string{"column: other_number", "action: keep"}, "other_number", "+447700900461", "+447700900461"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := mustNew(t, oneRule(t, tc.rule...), testKey)
			rec := call(t, map[string]string{tc.column: tc.in})
			r.Apply(model.Calls, rec)
			if got := col(rec, tc.column); got != tc.want {
				t.Errorf("%q -> %q, want %q", tc.in, got, tc.want)
			}
			if err := model.Calls.Check(rec); err != nil {
				t.Error(err)
			}
			changed := tc.in != tc.want
			if rep := r.Report(); changed != (len(rep) == 1 && rep[0].Rows == 1) {
				t.Errorf("report %+v for a change of %v", rep, changed)
			}
		})
	}
}

func TestDropNullable(t *testing.T) {
	p := mustParse(t, `
rules:
  - {name: answer, dataset: calls, column: answer_utc, action: drop}
  - {name: verified, dataset: rights_requests, column: verified, action: drop}
`)
	r := mustNew(t, p, nil)
	rec := call(t, nil)
	rec[model.Calls.Index("answer_utc")] = time.Date(2025, 1, 6, 10, 15, 46, 0, time.UTC)
	r.Apply(model.Calls, rec)
	if v := col(rec, "answer_utc"); v != nil {
		t.Errorf("answer_utc = %v, want null", v)
	}
	rr := make(model.Record, len(model.RightsRequests.Columns))
	for i, c := range model.RightsRequests.Columns {
		switch c.Type {
		case model.String:
			rr[i] = "x"
		case model.Bool:
			rr[i] = true
		default:
			rr[i] = time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)
		}
	}
	r.Apply(model.RightsRequests, rr)
	if err := model.RightsRequests.Check(rr); err != nil {
		t.Fatal(err)
	}
	for i, c := range model.RightsRequests.Columns {
		if want := c.Name == "verified"; (rr[i] == nil) != want {
			t.Errorf("%s = %v", c.Name, rr[i])
		}
	}
	want := []Applied{
		{Rule: "answer", Dataset: "calls", Column: "answer_utc", Action: "drop", Condition: "always", Rows: 1, Description: "removed"},
		{Rule: "verified", Dataset: "rights_requests", Column: "verified", Action: "drop", Condition: "always", Rows: 1, Description: "removed"},
	}
	if got := r.Report(); !reflect.DeepEqual(got, want) {
		t.Errorf("report:\n%+v\nwant\n%+v", got, want)
	}
}

func TestHashKeys(t *testing.T) {
	p := oneRule(t, "column: other_number", "action: hash")
	hash := func(key []byte, v string) string {
		r := mustNew(t, p, key)
		rec := call(t, map[string]string{"other_number": v})
		r.Apply(model.Calls, rec)
		return col(rec, "other_number").(string)
	}
	a := hash(testKey, "+447700900461")
	if !regexp.MustCompile(`^h:[bcdfghjklmnpqrst]{12}$`).MatchString(a) {
		t.Errorf("token %q is not h: and 12 consonants", a)
	}
	if b := hash(testKey, "+447700900461"); b != a {
		t.Errorf("same number, same key: %q then %q", a, b)
	}
	if b := hash(testKey, "07700 900461"); b != a {
		t.Errorf("same number written nationally: %q, want %q", b, a)
	}
	if b := hash([]byte("another key, 16 bytes or more"), "+447700900461"); b == a {
		t.Errorf("different keys gave the same token %q", a)
	}
	if b := hash(testKey, "+447700900462"); b == a {
		t.Errorf("different numbers gave the same token %q", a)
	}
	if _, err := New(p, []byte("short")); err == nil || !strings.Contains(err.Error(), "at least 16") {
		t.Errorf("short key: %v", err)
	}
	if _, err := New(Default(), nil); err != nil {
		t.Errorf("the default policy does not hash, so needs no key: %v", err)
	}
	k1, k2 := DeriveKey([]byte("controller secret"), "R-1"), DeriveKey([]byte("controller secret"), "R-2")
	if len(k1) < MinKeyLen || string(k1) == string(k2) || string(k1) != string(DeriveKey([]byte("controller secret"), "R-1")) {
		t.Errorf("DeriveKey: %x %x", k1, k2)
	}
}

func TestConditions(t *testing.T) {
	p := mustParse(t, `
internal_prefixes: ["+44 20 7946 03"]
internal_domains: [Example.AC.uk]
rules:
  - {name: ext, dataset: calls, column: other_name, when: external, action: drop}
  - {name: int, dataset: calls, column: user_field, when: internal, action: drop}
  - {name: trunk, dataset: calls, column: application_data, value_matches: '@trunk', action: drop}
`)
	if got := p.InternalDomains(); !reflect.DeepEqual(got, []string{"example.ac.uk"}) {
		t.Errorf("internal domains %q", got)
	}
	tests := []struct {
		other     string
		direction string
		external  bool
	}{
		{"+447700900461", "inbound", true},
		{"+447700900461", "internal", true},      // a number speaks for itself
		{"07700900461", "inbound", true},         // a number a connector could not normalise
		{"0770 090", "inbound", true},            // 7 digits
		{"077009", "inbound", false},             // 6 digits: an extension
		{"4399", "inbound", false},               // an extension
		{"43210", "outbound", false},             //
		{"", "inbound", false},                   // no one reached
		{"siobhan-desk", "inbound", false},       // an endpoint
		{"+442079460312", "outbound", false},     // an internal prefix
		{"+442079460777", "outbound", true},      //
		{"bob@partner.example", "inbound", true}, // a Teams user of another organisation
		{"bob@partner.example", "internal", false},
		{"alice@example.ac.uk", "outbound", false},       // an internal domain
		{"alice@staff.example.ac.uk", "outbound", false}, // and its subdomains
		{"alice@notexample.ac.uk", "outbound", true},
	}
	for _, tc := range tests {
		for _, app := range []string{"PJSIP/4399,20", "PJSIP/07700900461@trunk,60"} {
			r := mustNew(t, p, nil)
			rec := call(t, map[string]string{"other_number": tc.other, "direction": tc.direction, "other_name": "Jim", "user_field": "note", "application_data": app})
			r.Apply(model.Calls, rec)
			if dropped := col(rec, "other_name") == ""; dropped != tc.external {
				t.Errorf("other %q (%s): other_name dropped %v, want %v", tc.other, tc.direction, dropped, tc.external)
			}
			if dropped := col(rec, "user_field") == ""; dropped == tc.external {
				t.Errorf("other %q (%s): user_field dropped %v, want %v", tc.other, tc.direction, dropped, !tc.external)
			}
			if dropped := col(rec, "application_data") == ""; dropped != strings.Contains(app, "@trunk") {
				t.Errorf("application_data %q: dropped %v", app, dropped)
			}
		}
	}
}

func TestPrecedence(t *testing.T) {
	tests := []struct {
		name  string
		rules string
		in    map[string]string
		want  map[string]string
	}{
		{
			name: "later rule wins",
			rules: `
  - {name: a, dataset: calls, column: other_number, action: keep}
  - {name: b, dataset: calls, column: other_number, action: mask}`,
			in:   map[string]string{"other_number": "+447700900461"},
			want: map[string]string{"other_number": "+447700******"},
		},
		{
			name: "later keep is an exception",
			rules: `
  - {name: a, dataset: calls, column: other_number, action: mask}
  - {name: b, dataset: calls, column: other_number, action: keep, value_matches: '^\+44207946'}`,
			in:   map[string]string{"other_number": "+442079460312"},
			want: map[string]string{"other_number": "+442079460312"},
		},
		{
			name: "a later rule whose condition fails does not override",
			rules: `
  - {name: a, dataset: calls, column: other_number, action: mask}
  - {name: b, dataset: calls, column: other_number, action: keep, when: internal}`,
			in:   map[string]string{"other_number": "+447700900461"},
			want: map[string]string{"other_number": "+447700******"},
		},
		{
			name: "conditions see the record as it came",
			rules: `
  - {name: a, dataset: calls, column: application_data, action: mask, scope: numbers}
  - {name: b, dataset: calls, column: application_data, action: drop, value_matches: '07700900461'}`,
			in:   map[string]string{"application_data": "PJSIP/07700900461@trunk,60"},
			want: map[string]string{"application_data": ""},
		},
		{
			name: "a keep cannot bring back a value redacted in another column",
			rules: `
  - {name: a, dataset: calls, column: other_number, action: mask}
  - {name: b, dataset: calls, column: application_data, action: keep}`,
			in:   map[string]string{"other_number": "+447700900461", "application_data": "PJSIP/07700900461@trunk,60"},
			want: map[string]string{"other_number": "+447700******", "application_data": "PJSIP/07700******@trunk,60"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := mustNew(t, mustParse(t, "rules:"+tc.rules+"\n"), nil)
			rec := call(t, tc.in)
			r.Apply(model.Calls, rec)
			for k, v := range tc.want {
				if got := col(rec, k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

// TestFoundAgain checks that a value a rule redacted is redacted wherever
// else it appears in the record, and nothing else is.
func TestFoundAgain(t *testing.T) {
	in := map[string]string{
		"other_number":     "+447700900461",
		"other_name":       "Jim O'Brien",
		"subject_number":   "4321",
		"channel":          "DAHDI/i1/447700900461-5",
		"dst_channel":      "PJSIP/4321-000001aa",
		"application_data": "PJSIP/07700900461@trunk,60",
		"user_field":       "ring JIM O'BRIEN on 07700 900461 or 9 07700 900461, not 07700 900462",
		"account_code":     "4321",
		"unique_id":        "1736158540.105",
	}
	tests := []struct {
		name   string
		rules  string
		want   map[string]string // columns that change
		report []Applied
	}{
		{
			name:  "mask",
			rules: "[{name: n, dataset: calls, column: other_number, action: mask}, {name: o, dataset: calls, column: other_name, action: mask}]",
			want: map[string]string{
				"other_number":     "+447700******",
				"other_name":       "Jim O******",
				"channel":          "DAHDI/i1/447700******-*",
				"application_data": "PJSIP/07700******@trunk,60",
				"user_field":       "ring JIM O****** on 07700 ****** or 9 07700 ******, not 07700 900462",
			},
			report: []Applied{
				{Rule: "n", Column: "other_number"},
				{Rule: "n", Column: "channel", Via: "other_number"},
				{Rule: "n", Column: "application_data", Via: "other_number"},
				{Rule: "n", Column: "user_field", Via: "other_number"},
				{Rule: "o", Column: "other_name"},
				{Rule: "o", Column: "user_field", Via: "other_name"},
			},
		},
		{
			name:  "drop",
			rules: "[{name: n, dataset: calls, column: other_number, action: drop}, {name: o, dataset: calls, column: other_name, action: drop}]",
			want: map[string]string{
				"other_number":     "",
				"other_name":       "",
				"channel":          "DAHDI/i1/[redacted]",
				"application_data": "PJSIP/[redacted]@trunk,60",
				"user_field":       "ring [redacted] on [redacted] or [redacted], not 07700 900462",
			},
		},
		{
			name:  "hash",
			rules: "[{name: n, dataset: calls, column: other_number, action: hash}]",
			want: map[string]string{
				"other_number":     "TOKEN",
				"channel":          "DAHDI/i1/TOKEN",
				"application_data": "PJSIP/TOKEN@trunk,60",
				"user_field":       "ring JIM O'BRIEN on TOKEN or TOKEN, not 07700 900462",
			},
		},
		{
			name:  "an extension is matched whole",
			rules: "[{name: s, dataset: calls, column: subject_number, action: mask}]",
			want: map[string]string{
				"subject_number": "43**",
				"dst_channel":    "PJSIP/43**-000001aa",
				"account_code":   "43**",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := mustNew(t, mustParse(t, "rules: "+tc.rules+"\n"), testKey)
			rec, before := call(t, in), call(t, in)
			r.Apply(model.Calls, rec)
			tok := r.token("tel:+447700900461")
			for i, c := range model.Calls.Columns {
				want, ok := tc.want[c.Name]
				if !ok {
					want, _ = before[i].(string)
				}
				want = strings.ReplaceAll(want, "TOKEN", tok)
				if got, _ := col(rec, c.Name).(string); c.Type == model.String && got != want {
					t.Errorf("%s = %q, want %q", c.Name, got, want)
				}
			}
			if err := model.Calls.Check(rec); err != nil {
				t.Error(err)
			}
			if tc.report == nil {
				return
			}
			var got []Applied
			for _, a := range r.Report() {
				if a.Rows != 1 {
					t.Errorf("%+v: rows %d", a, a.Rows)
				}
				got = append(got, Applied{Rule: a.Rule, Column: a.Column, Via: a.Via})
			}
			if !reflect.DeepEqual(got, tc.report) {
				t.Errorf("report\n%+v\nwant\n%+v", got, tc.report)
			}
		})
	}
}

func TestReport(t *testing.T) {
	r := mustNew(t, Default(), nil)
	recs := []model.Record{
		call(t, map[string]string{"other_number": "+447700900461", "other_name": "Jim", "application_data": "PJSIP/4321,30"}),
		call(t, map[string]string{"other_number": "+447700900461", "application_data": "PJSIP/07700900461@trunk,60"}),
		call(t, map[string]string{"other_number": "4399", "other_name": "Reception", "user_field": "call 07700 900123"}),
		call(t, map[string]string{"other_number": "4399", "other_name": "Reception"}),
	}
	for _, rec := range recs {
		r.Apply(model.Calls, rec)
	}
	got := r.Report()
	type row struct {
		rule, column, via string
		rows              int
	}
	var rows []row
	for _, a := range got {
		rows = append(rows, row{a.Rule, a.Column, a.Via, a.Rows})
		if a.Dataset != "calls" || a.Description == "" || a.Reason == "" || a.Condition == "" {
			t.Errorf("incomplete entry %+v", a)
		}
	}
	want := []row{
		{"other-number-external", "other_number", "", 2},
		{"other-name-external", "other_name", "", 1},
		{"numbers-in-dial-strings-and-notes", "application_data", "", 1},
		{"numbers-in-dial-strings-and-notes", "user_field", "", 1},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("report\n%+v\nwant\n%+v", rows, want)
	}
	if got := mustNew(t, Keep(), nil).Report(); got == nil || len(got) != 0 {
		t.Errorf("Keep report %#v, want empty", got)
	}
}

func TestApplyLeavesOtherDatasetsAndBadRecords(t *testing.T) {
	r := mustNew(t, Default(), nil)
	short := model.Record{"+447700900461"}
	r.Apply(model.Calls, short)
	if short[0] != "+447700900461" {
		t.Error("a record of the wrong length was changed")
	}
	login := make(model.Record, len(model.Logins.Columns))
	for i := range login {
		login[i] = "+447700900461"
	}
	r.Apply(model.Logins, login)
	for _, v := range login {
		if v != "+447700900461" {
			t.Error("the default policy changed a login")
		}
	}
}
