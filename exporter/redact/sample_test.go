package redact

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source/sourcetest"
	"github.com/dsar-tool/dsar/exporter/sources/asterisk"
)

const (
	sampleCSV      = "../../samples/cdr-csv/Master.csv"
	sampleSubjects = "../../samples/subjects.yaml"
)

// fetchSample reads samples/cdr-csv/Master.csv for subjects with the
// asterisk connector.
func fetchSample(t testing.TB, subjects []model.Subject) []sourcetest.Emitted {
	t.Helper()
	src, err := asterisk.New("pbx", asterisk.Config{
		Paths:        []string{sampleCSV},
		Timezone:     "Europe/London",
		ExtraColumns: []string{"uniqueid", "userfield"},
	})
	if err != nil {
		t.Fatal(err)
	}
	sink := &sourcetest.Recorder{T: t}
	if _, err := src.Fetch(context.Background(), sourcetest.Query(t, subjects), sink); err != nil {
		t.Fatal(err)
	}
	return sink.Records
}

var alex = model.Subject{ID: "S-1001", Name: "Alex Example", Identifiers: []model.Identifier{
	{Kind: model.KindExtension, Value: "4321", From: time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)},
	{Kind: model.KindSIP, Value: "4321", From: time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)},
	{Kind: model.KindPhone, Value: "01632 960555"},
}}

// forms returns the ways an E.164 number may be written in a record: as
// is, nationally, its digits, its national significant number, and as a
// trunk dial string.
func forms(t testing.TB, e164 string) []string {
	t.Helper()
	num, err := phonenumbers.Parse(e164, "GB")
	if err != nil {
		t.Fatal(err)
	}
	nsn := phonenumbers.GetNationalSignificantNumber(num)
	national := "0" + nsn
	return []string{e164, strings.TrimPrefix(e164, "+"), national, nsn, "PJSIP/" + national + "@trunk", "9" + national}
}

var defaultColumns = []string{"other_number", "other_name", "application_data", "user_field", "account_code", "channel", "dst_channel"}

// TestDefaultOnSample applies the default policy to the sample's calls
// and checks that no outside party's number (in any form) or name is left
// anywhere in the subject's records, and that everything else is.
func TestDefaultOnSample(t *testing.T) {
	t.Run("S-1001", func(t *testing.T) {
		recs := fetchSample(t, []model.Subject{alex})
		if len(recs) != 23 {
			t.Fatalf("%d records for S-1001, want 23", len(recs))
		}
		rep := checkDefault(t, recs)
		want := []Applied{
			{Rule: "other-number-external", Column: "other_number", Rows: 10},
			{Rule: "other-name-external", Column: "other_name", Rows: 3},
			{Rule: "numbers-in-dial-strings-and-notes", Column: "application_data", Rows: 4},
		}
		if !reflect.DeepEqual(rep, want) {
			t.Errorf("report\n%+v\nwant\n%+v", rep, want)
		}
		// Two records in full (Master.csv lines 5 and 17).
		for _, e := range recs {
			ref, _ := col(e.Record, "source_ref").(string)
			var want map[string]string
			switch ref {
			case "Master.csv:5":
				want = map[string]string{"other_number": "+447700******", "other_name": "", "application_data": "PJSIP/4321,30",
					"channel": "PJSIP/trunk-000001a9", "dst_channel": "PJSIP/4321-000001aa", "subject_number": "+441632960555"}
			case "Master.csv:17":
				want = map[string]string{"other_number": "+447700******", "application_data": "PJSIP/07700******@trunk,60",
					"channel": "PJSIP/4321-000001bd", "dst_channel": "PJSIP/trunk-000001be", "account_code": "CC110", "subject_name_shown": "Alex Example"}
			}
			for k, v := range want {
				if got := col(e.Record, k); got != v {
					t.Errorf("%s: %s = %q, want %q", ref, k, got, v)
				}
			}
		}
	})
	t.Run("all subjects", func(t *testing.T) {
		recs := fetchSample(t, sourcetest.LoadSubjects(t, sampleSubjects))
		if len(recs) < 50 {
			t.Fatalf("only %d records", len(recs))
		}
		checkDefault(t, recs)
	})
}

// checkDefault applies Default() to recs and checks them; it returns the
// report without the fields that every entry has.
func checkDefault(t *testing.T, recs []sourcetest.Emitted) []Applied {
	t.Helper()
	r := mustNew(t, Default(), nil)
	before := make([]model.Record, len(recs))
	// What must not be left, per subject: the outside parties' numbers
	// (in every form) and names.
	hidden := map[string][]string{}
	for i, e := range recs {
		before[i] = slices.Clone(e.Record)
		other := col(e.Record, "other_number").(string)
		if !strings.HasPrefix(other, "+") {
			continue
		}
		hidden[e.Subject] = append(hidden[e.Subject], forms(t, other)...)
		if name := col(e.Record, "other_name").(string); name != "" {
			hidden[e.Subject] = append(hidden[e.Subject], name)
		}
	}
	if len(hidden) == 0 {
		t.Fatal("no outside parties in the sample")
	}
	for _, e := range recs {
		r.Apply(model.Calls, e.Record)
	}
	for i, e := range recs {
		if err := model.Calls.Check(e.Record); err != nil {
			t.Error(err)
		}
		ref := col(e.Record, "source_ref")
		for k, c := range model.Calls.Columns {
			s, ok := e.Record[k].(string)
			if !ok {
				continue
			}
			for _, h := range hidden[e.Subject] {
				if strings.Contains(strings.ToLower(s), strings.ToLower(h)) {
					t.Errorf("%s %s: %s = %q still holds %q", e.Subject, ref, c.Name, s, h)
				}
			}
		}
		external := strings.HasPrefix(col(before[i], "other_number").(string), "+")
		for k, c := range model.Calls.Columns {
			if external && slices.Contains(defaultColumns, c.Name) {
				continue
			}
			if !reflect.DeepEqual(e.Record[k], before[i][k]) {
				t.Errorf("%s %s: %s changed from %q to %q", e.Subject, ref, c.Name, before[i][k], e.Record[k])
			}
		}
	}
	var out []Applied
	for _, a := range r.Report() {
		if a.Dataset != "calls" || a.Via != "" {
			t.Errorf("unexpected entry %+v", a)
		}
		out = append(out, Applied{Rule: a.Rule, Column: a.Column, Rows: a.Rows})
	}
	return out
}

// TestHashOnSample pseudonymises the outside numbers of the sample: one
// number gets one pseudonym in every record, two numbers two, and another
// key others.
func TestHashOnSample(t *testing.T) {
	p := mustParse(t, defaultYAML+`
  - name: other-number-pseudonym
    dataset: calls
    column: other_number
    when: external
    action: hash
`)
	tokens := func(key []byte) map[string]string { // number -> token
		recs := fetchSample(t, []model.Subject{alex})
		r := mustNew(t, p, key)
		out := map[string]string{}
		for _, e := range recs {
			other := col(e.Record, "other_number").(string)
			r.Apply(model.Calls, e.Record)
			if !strings.HasPrefix(other, "+") {
				continue
			}
			tok := col(e.Record, "other_number").(string)
			if prev, ok := out[other]; ok && prev != tok {
				t.Errorf("%s gave %s and %s", other, prev, tok)
			}
			out[other] = tok
		}
		return out
	}
	a := tokens(testKey)
	if len(a) != 4 {
		t.Fatalf("%d outside numbers, want 4: %v", len(a), a)
	}
	seen := map[string]bool{}
	for _, tok := range a {
		if seen[tok] {
			t.Errorf("two numbers share %s", tok)
		}
		seen[tok] = true
	}
	b := tokens(DeriveKey([]byte("another controller secret"), "R-2025-0001"))
	for n := range a {
		if a[n] == b[n] {
			t.Errorf("%s: same token %s under two keys", n, a[n])
		}
	}
}
