package asterisk

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/source/sourcetest"
)

// at returns a row at the given local date (12:00-12:01, answered).
func at(day string, r row) row {
	r.start, r.answer, r.end = day+" 12:00:00", day+" 12:00:05", day+" 12:01:00"
	r.dur, r.bill = "60", "55"
	return r
}

// hits summarises what a sink received: "subject role subject_number" per
// record, sorted.
func hits(s *sourcetest.Recorder) []string {
	var out []string
	for _, e := range s.Records {
		out = append(out, fmt.Sprintf("%s %s %s", e.Subject, get(e.Record, "subject_role"), get(e.Record, "subject_number")))
	}
	sort.Strings(out)
	return out
}

func TestMatching(t *testing.T) {
	tests := []struct {
		name string
		r    row
		want []string
	}{
		{
			name: "numbers inside lastdata, accountcode, userfield, uniqueid never match",
			r: at("2025-02-03", row{acct: "4321", src: "4399", dst: "4500", ch: "PJSIP/4399-00000001", dch: "PJSIP/4500-00000002",
				data: "PJSIP/4321&PJSIP/1432&PJSIP/siobhan-desk,20", user: "call back 01632 960555 / 4321 / 43210 / 1432 / 4400",
				uid: "1432.4321", clid: `"4321" <4321>`}),
		},
		{
			name: "extension 4321 is Alex's only",
			r:    at("2025-02-03", row{src: "4399", dst: "4321", ch: "PJSIP/4399-00000001"}),
			want: []string{"S-1001 callee 4321"},
		},
		{
			name: "extension 43210 is Priya's only",
			r:    at("2025-02-03", row{src: "4399", dst: "43210", ch: "PJSIP/4399-00000001"}),
			want: []string{"S-1003 callee 43210"},
		},
		{
			name: "extension 1432 is Zoë's only",
			r:    at("2025-02-03", row{src: "4399", dst: "1432", ch: "PJSIP/4399-00000001"}),
			want: []string{"S-1004 callee 1432"},
		},
		{
			name: "near misses of 4321, 43210, 1432",
			r:    at("2025-02-03", row{src: "432", dst: "14321", ch: "PJSIP/04321-00000001", dch: "PJSIP/432100-00000002"}),
		},
		{
			name: "more near misses",
			r:    at("2025-02-03", row{src: "04321", dst: "14320", ch: "PJSIP/1432x-00000001", dch: "PJSIP/x1432-00000002"}),
		},
		{
			name: "extension written with surrounding spaces compares trimmed",
			r:    at("2025-02-03", row{src: "4399", dst: " 4321 ", ch: "PJSIP/4399-00000001"}),
			want: []string{"S-1001 callee 4321"},
		},
		{
			name: "both sides subjects",
			r:    at("2025-02-03", row{src: "4321", dst: "1432", ch: "PJSIP/4321-00000001", dch: "PJSIP/1432-00000002"}),
			want: []string{"S-1001 caller 4321", "S-1004 callee 1432"},
		},
		{
			name: "call to own voicemail: one caller record",
			r:    at("2025-02-03", row{src: "4321", dst: "4321", ch: "PJSIP/4321-00000001", app: "VoiceMailMain", data: "4321@default"}),
			want: []string{"S-1001 caller 4321"},
		},
		{
			name: "own extension dialled, subject on both sides: one caller record",
			r:    at("2025-02-03", row{src: "4321", dst: "4321", ch: "PJSIP/4321-00000001", dch: "PJSIP/4321-00000002"}),
			want: []string{"S-1001 caller 4321"},
		},
		{
			name: "Local channels are ignored",
			r:    at("2025-02-20", row{src: "07700900200", dst: "4399", ch: "Local/4321@from-queue-000001f0;2", dch: "Local/1432@from-queue-000001f1;1"}),
		},
		{
			name: "DAHDI channel is not an endpoint",
			r:    at("2025-02-20", row{src: "07700900200", dst: "4399", ch: "DAHDI/4321-1", dch: "DAHDI/1432-1"}),
		},
		{
			name: "IAX2 channel suffix is a call number, not an endpoint",
			r:    at("2025-02-20", row{src: "5001", dst: "4399", ch: "IAX2/branch-office-4321", dch: "PJSIP/4399-00000002"}),
		},
		{
			name: "endpoint of the callee's channel (PJSIP)",
			r:    at("2025-02-03", row{src: "07700900200", dst: "02079460100", ch: "PJSIP/trunk-00000001", dch: "PJSIP/siobhan-desk-00000002"}),
			want: []string{"S-1002 callee siobhan-desk"},
		},
		{
			name: "endpoint of the caller's channel (chan_sip), no src",
			r:    at("2025-02-03", row{src: "", dst: "07700900200", ch: "SIP/siobhan-desk-0000abcd", dch: "PJSIP/trunk-00000002"}),
			want: []string{"S-1002 caller siobhan-desk"},
		},
		{
			name: "endpoint of an IAX2 channel",
			r:    at("2025-02-03", row{src: "5001", dst: "4399", ch: "IAX2/1432-7", dch: "PJSIP/4399-00000002"}),
			want: []string{"S-1004 caller 1432"},
		},
		{
			name: "endpoint that merely starts with a subject's",
			r:    at("2025-02-03", row{src: "07700900200", dst: "4399", ch: "PJSIP/trunk-00000001", dch: "PJSIP/siobhan-desk2-00000002"}),
		},
		{
			name: "src matched as a number, dst by endpoint: caller wins for the same subject",
			r:    at("2025-02-03", row{src: "4312", dst: "07700900200", ch: "PJSIP/siobhan-desk-00000001", dch: "PJSIP/siobhan-desk-00000002"}),
			want: []string{"S-1002 caller 4312"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink, st, err := fetch(t, Config{}, tc.r.String(), sampleSubjects())
			if err != nil || st.Rejected != 0 {
				t.Fatalf("err %v stats %+v rejects %+v", err, st, sink.Rejects)
			}
			got := hits(sink)
			if strings.Join(got, "; ") != strings.Join(tc.want, "; ") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if st.Selected != int64(len(got)) {
				t.Errorf("Selected %d, %d emitted", st.Selected, len(got))
			}
		})
	}
}

func TestMatchPhoneForms(t *testing.T) {
	for _, dst := range []string{"01632960555", "01632 960555", "+441632960555", "+44 1632 960555", "00441632960555", "+44 (0)1632 960555", "(01632) 960555"} {
		sink, _, err := fetch(t, Config{}, at("2025-02-03", row{src: "07700900461", dst: dst, ch: "PJSIP/trunk-00000001"}).String(), sampleSubjects())
		if err != nil {
			t.Fatal(err)
		}
		got := hits(sink)
		if len(got) != 1 || got[0] != "S-1001 callee +441632960555" {
			t.Errorf("dst %q: got %q", dst, got)
		}
	}
	// As the caller, and as the other party's number in E.164.
	sink, _, err := fetch(t, Config{}, at("2025-02-03", row{src: "020 7946 0312", dst: "07700900461", ch: "PJSIP/trunk-00000001"}).String(), sampleSubjects())
	if err != nil {
		t.Fatal(err)
	}
	if got := hits(sink); len(got) != 1 || got[0] != "S-1002 caller +442079460312" {
		t.Fatalf("got %q", got)
	}
	if got := get(sink.Records[0].Record, "other_number"); got != "+447700900461" {
		t.Errorf("other_number %q", got)
	}
	for _, dst := range []string{"01632960556", "0163296055", "016329605550", "+4416329605551", "441632960", "1632960555x", "01632960555#"} {
		sink, _, err := fetch(t, Config{}, at("2025-02-03", row{src: "07700900461", dst: dst, ch: "PJSIP/trunk-00000001"}).String(), sampleSubjects())
		if err != nil {
			t.Fatal(err)
		}
		if got := hits(sink); len(got) != 0 {
			t.Errorf("near miss dst %q matched %q", dst, got)
		}
	}
}

// TestReassignedExtension checks that 4400 is Dana's (S-1005) up to and
// including 30 June 2025 and Chen's (S-1006) from 1 July 2025, the date
// being the call's start in the site's zone (Europe/London).
func TestReassignedExtension(t *testing.T) {
	tests := []struct {
		start, end string // local
		want       string
	}{
		{"2025-01-14 15:10:00", "2025-01-14 15:11:00", "S-1005"},
		{"2025-06-30 12:00:00", "2025-06-30 12:01:00", "S-1005"},
		{"2025-06-30 23:59:00", "2025-07-01 00:01:00", "S-1005"}, // starts on the 30th, ends on the 1st
		{"2025-07-01 00:30:00", "2025-07-01 00:31:00", "S-1006"}, // 30 June 23:30 UTC, but 1 July in London
		{"2025-07-01 12:00:00", "2025-07-01 12:01:00", "S-1006"},
		{"2026-02-01 09:00:00", "2026-02-01 09:01:00", "S-1006"},
	}
	for _, tc := range tests {
		for _, side := range []string{"caller", "callee"} {
			r := row{src: "4399", dst: "4400", ch: "PJSIP/4399-00000001", dch: "PJSIP/4400-00000002", start: tc.start, end: tc.end, dur: "120", disp: "NO ANSWER"}
			if side == "caller" {
				r = row{src: "4400", dst: "4399", ch: "PJSIP/4400-00000001", dch: "PJSIP/4399-00000002", start: tc.start, end: tc.end, dur: "120", disp: "NO ANSWER"}
			}
			sink, _, err := fetch(t, Config{}, r.String(), sampleSubjects())
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want + " " + side + " 4400"
			if got := hits(sink); len(got) != 1 || got[0] != want {
				t.Errorf("%s as %s: got %q, want %q", tc.start, side, got, want)
			}
		}
	}
	// Alex's extension is his from 1 September 2024 only.
	for _, day := range []string{"2024-08-31", "2024-09-01"} {
		sink, _, err := fetch(t, Config{}, at(day, row{src: "4321", dst: "4399", ch: "PJSIP/4321-00000001"}).String(), sampleSubjects())
		if err != nil {
			t.Fatal(err)
		}
		if n := len(sink.Records); (day == "2024-08-31") != (n == 0) {
			t.Errorf("%s: %d records", day, n)
		}
	}
}

// TestOnlyWantedSubjects checks that a Fetch whose matcher knows more
// subjects than the query asks for emits only the asked-for ones.
func TestOnlyWantedSubjects(t *testing.T) {
	all := sampleSubjects()
	m, err := source.NewMatcher(all, "GB", sourcetest.London(t))
	if err != nil {
		t.Fatal(err)
	}
	var zoe []model.Subject
	for _, s := range all {
		if s.ID == "S-1004" {
			zoe = append(zoe, s)
		}
	}
	c := newCSV(t, Config{Paths: []string{sourcetest.WriteFile(t, "Master.csv",
		at("2025-02-03", row{src: "4321", dst: "1432", ch: "PJSIP/4321-00000001", dch: "PJSIP/1432-00000002"}).String()+
			at("2025-02-04", row{src: "4321", dst: "4312", ch: "PJSIP/4321-00000001", dch: "PJSIP/siobhan-desk-00000002"}).String())},
		ExtraColumns: []string{"uniqueid", "userfield"}})
	sink := newSink(t)
	st, err := c.Fetch(context.Background(), source.Query{Subjects: zoe, Matcher: m}, sink)
	if err != nil {
		t.Fatal(err)
	}
	if got := hits(sink); len(got) != 1 || got[0] != "S-1004 callee 1432" || st.Selected != 1 || st.Read != 2 {
		t.Errorf("got %q, stats %+v", got, st)
	}
	// With no subjects in the query, nobody's records are wanted, even
	// though the matcher knows subjects.
	sink = newSink(t)
	st, err = c.Fetch(context.Background(), source.Query{Matcher: m}, sink)
	if err != nil {
		t.Fatal(err)
	}
	if got := hits(sink); len(got) != 0 || st.Read != 2 || st.Selected != 0 {
		t.Errorf("no subjects in query: got %q, stats %+v", got, st)
	}
}

// TestOutsidePrefix checks that the site's outside-line prefix (the
// matcher's OutsidePrefixes) is honoured for matching, other_number and
// direction.
func TestOutsidePrefix(t *testing.T) {
	q := sourcetest.Query(t, sampleSubjects())
	q.Matcher.OutsidePrefixes = []string{"9"}
	c := newCSV(t, Config{Paths: []string{sourcetest.WriteFile(t, "Master.csv",
		at("2025-02-03", row{src: "4321", dst: "907700900461", ch: "PJSIP/4321-00000001", dch: "PJSIP/trunk-00000002"}).String()+
			at("2025-02-04", row{src: "07700900461", dst: "901632960555", ch: "PJSIP/trunk-00000001"}).String()+
			at("2025-02-05", row{src: "4321", dst: "94312", ch: "PJSIP/4321-00000001"}).String())},
		ExtraColumns: []string{"uniqueid", "userfield"}})
	sink := newSink(t)
	if _, err := c.Fetch(context.Background(), q, sink); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range sink.Records {
		got = append(got, fmt.Sprintf("%s %s %s %s", e.Subject, get(e.Record, "subject_role"), get(e.Record, "direction"), get(e.Record, "other_number")))
	}
	want := []string{
		"S-1001 caller outbound +447700900461",
		"S-1001 callee inbound +447700900461",
		"S-1001 caller internal 94312", // an extension is not a phone number, prefix or not
	}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// TestRecordFields checks every column of emitted records.
func TestRecordFields(t *testing.T) {
	content := row{acct: "CC110", src: "4321", dst: "01632 960100", clid: `"Prof \"Jim\" O'Brien" <4321>`,
		ch: "PJSIP/4321-000001bd", dch: "PJSIP/trunk-000001be", app: "Dial", data: "PJSIP/01632960100@trunk,60",
		start: "2025-07-14 13:20:00", answer: "2025-07-14 13:20:12", end: "2025-07-14 13:41:42", dur: "1302", bill: "1290",
		disp: "ANSWERED", uid: "1752495600.115", user: "project \"x\", phase 2"}.String() +
		row{src: "07700900461", dst: "+441632960555", clid: `"Jo Bloggs" <07700900461>`,
			ch: "PJSIP/trunk-000001c0", dch: "PJSIP/4321-000001c1", data: "PJSIP/4321,30",
			start: "2025-01-06 10:15:40", end: "2025-01-06 10:15:50", dur: "10", bill: "0", disp: "NO ANSWER", uid: "1736158540.105"}.String()
	sink, _, err := fetch(t, Config{}, content, sampleSubjects())
	if err != nil {
		t.Fatal(err)
	}
	if len(sink.Records) != 2 {
		t.Fatalf("%d records", len(sink.Records))
	}
	wants := []map[string]any{{
		"call_id": "1752495600.115", "leg": int64(0), "source": "pbx", "source_ref": "Master.csv:1",
		"start_utc": utc("2025-07-14T12:20:00Z"), "answer_utc": utc("2025-07-14T12:20:12Z"), "end_utc": utc("2025-07-14T12:41:42Z"),
		"duration_s": int64(1302), "talk_s": int64(1290), "direction": "outbound", "outcome": "answered", "outcome_raw": "ANSWERED",
		"subject_role": "caller", "subject_number": "4321", "subject_name_shown": `Prof "Jim" O'Brien`,
		"other_number": "+441632960100", "other_name": "", "channel": "PJSIP/4321-000001bd", "dst_channel": "PJSIP/trunk-000001be",
		"application": "Dial", "application_data": "PJSIP/01632960100@trunk,60", "account_code": "CC110",
		"user_field": `project "x", phase 2`, "unique_id": "1752495600.115", "ama_flags": "DOCUMENTATION",
	}, {
		"call_id": "1736158540.105", "leg": int64(0), "source": "pbx", "source_ref": "Master.csv:2",
		"start_utc": utc("2025-01-06T10:15:40Z"), "answer_utc": nil, "end_utc": utc("2025-01-06T10:15:50Z"),
		"duration_s": int64(10), "talk_s": int64(0), "direction": "inbound", "outcome": "no_answer", "outcome_raw": "NO ANSWER",
		"subject_role": "callee", "subject_number": "+441632960555", "subject_name_shown": "",
		"other_number": "+447700900461", "other_name": "Jo Bloggs", "channel": "PJSIP/trunk-000001c0", "dst_channel": "PJSIP/4321-000001c1",
		"application": "Dial", "application_data": "PJSIP/4321,30", "account_code": "", "user_field": "", "unique_id": "1736158540.105",
		"ama_flags": "DOCUMENTATION",
	}}
	for i, want := range wants {
		if sink.Records[i].Subject != "S-1001" {
			t.Errorf("record %d: subject %s", i, sink.Records[i].Subject)
		}
		if len(want) != len(model.Calls.Columns) {
			t.Fatalf("test covers %d of %d columns", len(want), len(model.Calls.Columns))
		}
		for col, v := range want {
			if got := get(sink.Records[i].Record, col); got != v {
				t.Errorf("record %d: %s = %#v, want %#v", i, col, got, v)
			}
		}
	}
}

func TestDirection(t *testing.T) {
	tests := []struct {
		src, dst string
		want     []string // "subject direction"
	}{
		{"4321", "1432", []string{"S-1001 internal", "S-1004 internal"}},
		{"4321", "07700900461", []string{"S-1001 outbound"}},
		{"07700900461", "4321", []string{"S-1001 inbound"}},
		{"07700900461", "01632960555", []string{"S-1001 inbound"}},
		{"4312", "+441632960555", []string{"S-1001 inbound", "S-1002 outbound"}}, // dialled by DDI
		{"4321", "9", []string{"S-1001 internal"}},
	}
	for _, tc := range tests {
		sink, _, err := fetch(t, Config{}, at("2025-02-03", row{src: tc.src, dst: tc.dst, ch: "PJSIP/x-00000001"}).String(), sampleSubjects())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range sink.Records {
			got = append(got, e.Subject+" "+get(e.Record, "direction").(string))
		}
		sort.Strings(got)
		if strings.Join(got, "; ") != strings.Join(tc.want, "; ") {
			t.Errorf("%s -> %s: got %q, want %q", tc.src, tc.dst, got, tc.want)
		}
	}
}

func TestOutcomeInRecords(t *testing.T) {
	for disp, want := range map[string]string{
		"ANSWERED": "answered", "NO ANSWER": "no_answer", "BUSY": "busy", "FAILED": "failed",
		"CONGESTION": "congestion", "CANCEL": "cancelled", "UNKNOWN": "unknown", "SOMETHING ELSE": "unknown",
	} {
		sink, _, err := fetch(t, Config{}, at("2025-02-03", row{src: "4321", dst: "4399", ch: "PJSIP/4321-00000001", disp: disp}).String(), sampleSubjects())
		if err != nil {
			t.Fatal(err)
		}
		if len(sink.Records) != 1 || get(sink.Records[0].Record, "outcome") != want || get(sink.Records[0].Record, "outcome_raw") != disp {
			t.Errorf("%s: got %v", disp, sink.Records)
		}
	}
}

// TestCallID checks call_id: linkedid if configured and set, else
// uniqueid, else <channel>@<start>.
func TestCallID(t *testing.T) {
	base := at("2025-02-03", row{src: "4321", dst: "4399", ch: "PJSIP/4321-00000001", uid: "1738584000.7"})
	line18 := strings.TrimSuffix(base.String(), "\n")
	tests := []struct {
		name  string
		extra []string
		line  string
		want  string
	}{
		{"uniqueid", []string{"uniqueid", "userfield"}, line18, "1738584000.7"},
		{"linkedid", []string{"uniqueid", "userfield", "peeraccount", "linkedid", "sequence"}, line18 + `,"","1738583990.1",3`, "1738583990.1"},
		{"empty linkedid", []string{"uniqueid", "userfield", "peeraccount", "linkedid", "sequence"}, line18 + `,"","",3`, "1738584000.7"},
		{"empty uniqueid", []string{"uniqueid", "userfield"}, strings.Replace(line18, `"1738584000.7"`, `""`, 1), "PJSIP/4321-00000001@2025-02-03T12:00:00Z"},
		{"no uniqueid column", []string{"userfield"}, strings.Replace(line18, `"1738584000.7",`, ``, 1), "PJSIP/4321-00000001@2025-02-03T12:00:00Z"},
		{"16 columns", []string{}, strings.Replace(line18, `,"1738584000.7",""`, ``, 1), "PJSIP/4321-00000001@2025-02-03T12:00:00Z"},
	}
	for _, tc := range tests {
		sink, st, err := fetch(t, Config{ExtraColumns: tc.extra}, tc.line+"\n", sampleSubjects())
		if err != nil || st.Rejected != 0 {
			t.Fatalf("%s: err %v, rejects %+v", tc.name, err, sink.Rejects)
		}
		if len(sink.Records) != 1 || get(sink.Records[0].Record, "call_id") != tc.want {
			t.Errorf("%s: got %v, want call_id %q", tc.name, sink.Records, tc.want)
		}
	}
}

// TestMatchValidAtStart checks that validity is judged at the call's
// start, not its end.
func TestMatchValidAtStart(t *testing.T) {
	r := row{src: "4321", dst: "4399", ch: "PJSIP/4321-00000001", start: "2024-08-31 23:50:00", answer: "2024-08-31 23:50:05", end: "2024-09-01 00:20:00", dur: "1800", bill: "1795"}
	sink, _, err := fetch(t, Config{}, r.String(), sampleSubjects())
	if err != nil {
		t.Fatal(err)
	}
	if len(sink.Records) != 0 {
		t.Errorf("matched on the end date: %v", hits(sink))
	}
}
