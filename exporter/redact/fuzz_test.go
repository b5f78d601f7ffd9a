package redact

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dsar-tool/dsar/exporter/model"
)

var digitRun = regexp.MustCompile(`[0-9]+`)

// FuzzMask applies one mask or hash rule to a value and checks that no
// run of min_digits or more digits in the value is left in the result.
func FuzzMask(f *testing.F) {
	for _, s := range []string{
		"+447700900461", "07700 900461", "+44 (0)20 7946 0777", "4399", "",
		"PJSIP/07700900461@trunk,60", "DAHDI/i1/07700900461-5", "call 07700 900461 or 0161 496 0000, ext 4321",
		"mob07700900461x", "1234567 - 1234567", "Siobhán Ní Bhriain", "2025-01-06 10:15:40", "\xff12345678\xfe",
	} {
		f.Add(s, uint8(6), uint8(7), false, true)
		f.Add(s, uint8(2), uint8(3), true, false)
	}
	f.Fuzz(func(t *testing.T, s string, keep, minDigits uint8, hash, numbersScope bool) {
		md := 3 + int(minDigits)%13 // 3..15
		ru := &rule{Rule: Rule{Name: "r", Dataset: "calls", Columns: []string{"user_field"}, When: WhenAlways,
			Action: ActionMask, Scope: ScopeValue, KeepPrefix: int(keep) % md, MinDigits: md}}
		if hash {
			ru.Action, ru.KeepPrefix = ActionHash, 0
		}
		if numbersScope {
			ru.Scope = ScopeNumbers
		}
		r := mustNew(t, &Policy{name: "fuzz", rules: []*rule{ru}}, testKey)
		rec := call(t, map[string]string{"user_field": s})
		r.Apply(model.Calls, rec)
		out := col(rec, "user_field").(string)
		for _, run := range digitRun.FindAllString(s, -1) {
			if len(run) >= md && strings.Contains(out, run) {
				t.Fatalf("%+v: %q -> %q still holds %q", ru.Rule, s, out, run)
			}
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("%q -> %q: not UTF-8", s, out)
		}
		if err := model.Calls.Check(rec); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzDefault puts an outside number, in several forms, and the caller's
// name into the free-text columns of a call, applies Default(), and checks
// that neither is left anywhere in the record.
func FuzzDefault(f *testing.F) {
	f.Add("7700900461", "Jim O'Brien", "PJSIP/", "@trunk,60")
	f.Add("2079460777", "Siobhán", "call ", " or 4321")
	f.Add("1632960555", "Reception", "reception,t,,,300 ", "")
	f.Fuzz(func(t *testing.T, digits, name, a, b string) {
		nsn := digitsOf(digits)
		if len(nsn) < 10 {
			return
		}
		nsn = "7" + nsn[1:10] // a UK mobile: always a possible number
		national := "0" + nsn
		rec := call(t, map[string]string{
			"other_number":     "+44" + nsn,
			"other_name":       name,
			"channel":          "DAHDI/i1/" + national + "-" + a,
			"dst_channel":      a + "44" + nsn + b,
			"application_data": a + national + b,
			"user_field":       b + "+44 " + nsn[:4] + " " + nsn[4:] + a,
			"account_code":     name + b,
			"unique_id":        a + "0044" + nsn,
		})
		r := mustNew(t, Default(), nil)
		r.Apply(model.Calls, rec)
		if err := model.Calls.Check(rec); err != nil {
			t.Fatal(err)
		}
		trimmed := strings.TrimSpace(name)
		checkName := utf8.RuneCountInString(trimmed) >= 2 && hasWord(trimmed) && !phoneLike(trimmed)
		for i, c := range model.Calls.Columns {
			s, ok := rec[i].(string)
			if !ok || len(c.Enum) > 0 { // a fixed vocabulary holds no one's data
				continue
			}
			if strings.Contains(s, nsn) {
				t.Errorf("%s = %q holds the number %s", c.Name, s, nsn)
			}
			if checkName && strings.Contains(s, trimmed) {
				t.Errorf("%s = %q holds the name %q", c.Name, s, trimmed)
			}
		}
	})
}
