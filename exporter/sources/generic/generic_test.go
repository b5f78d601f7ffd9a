package generic

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/source/sourcetest"
)

const sampleDir = "../../../samples/generic"

// sampleSubjects are the staff of the generic samples: the people of
// samples/subjects.yaml with their e-mail addresses and UPNs.
func sampleSubjects() []model.Subject {
	id := sourcetest.ID
	return []model.Subject{
		{ID: "S-1001", Name: "Alex Example", Identifiers: []model.Identifier{
			id(model.KindExtension, "4321", "2024-09-01", ""),
			id(model.KindPhone, "01632 960555", "", ""),
			id(model.KindEmail, "alex.example@uni.example.ac.uk", "", ""),
			id(model.KindUPN, "alex.example@uni.example.ac.uk", "", ""),
		}},
		{ID: "S-1002", Name: "Siobhán Ní Bhriain", Identifiers: []model.Identifier{
			id(model.KindExtension, "4312", "", ""),
			id(model.KindEmail, "siobhan.nibhriain@uni.example.ac.uk", "", ""),
			id(model.KindUPN, "siobhan.nibhriain@uni.example.ac.uk", "", ""),
		}},
		{ID: "S-1003", Name: "Priya Raman", Identifiers: []model.Identifier{
			id(model.KindExtension, "43210", "", ""),
		}},
		{ID: "S-1004", Name: "Zoë Łukasik", Identifiers: []model.Identifier{
			id(model.KindExtension, "1432", "", ""),
			id(model.KindEmail, "zoe.lukasik@uni.example.ac.uk", "", ""),
			id(model.KindUPN, "zoe.lukasik@uni.example.ac.uk", "", ""),
		}},
		{ID: "S-1005", Name: "Dana Whitfield", Identifiers: []model.Identifier{
			id(model.KindExtension, "4400", "", "2025-06-30"),
		}},
		{ID: "S-1006", Name: "陈伟 (Chen Wei)", Identifiers: []model.Identifier{
			id(model.KindExtension, "4400", "2025-07-01", ""),
		}},
	}
}

// The sample configurations, as a DPO would write them in dsar.yaml.
const (
	recorderYAML = `
name: recorder
kind: generic-csv
paths: [recorder-calls.csv]
dataset: calls
time_format: "02/01/2006 15:04:05"
timezone: Europe/London
columns:
  call_id: Recording ID
  start_utc: Start Time
  end_utc: End Time
  talk_s: Duration (s)
  direction: Direction
  subject_role: Direction
  other_number: Remote Number
  other_name: Remote Name
  outcome: Result
  user_field: Notes
values:
  direction: {IN: inbound, OUT: outbound, INT: internal}
  subject_role: {IN: callee, OUT: caller, INT: caller}
  outcome: {Missed: no_answer, Voicemail: no_answer, Abandoned: cancelled}
subject_columns:
  - {column: Agent Extension, kind: extension}
  - {column: Agent Email, kind: email}
`
	loginsYAML = `
name: agent-logins
kind: generic-jsonl
paths: [agent-events.jsonl]
dataset: logins
where: {event: [login, logout, login_failed]}
columns:
  at_utc: ts
  event: event
  result: result
  error_code: error.code
  error_reason: error.message
  application: =Contact centre softphone
  client: client.app
  ip_address: client.ip
  device: client.device
values:
  event: {login_failed: login}
  result: {ok: success, denied: failure}
subject_columns:
  - {column: user.upn, kind: upn}
  - {column: user.ext, kind: extension}
`
	presenceYAML = `
name: agent-states
kind: generic-jsonl
paths: [agent-events.jsonl]
dataset: presence
where: {event: [state]}
columns:
  at_utc: ts
  state: status
  activity: activity
  reason: reason
  context: queue
values:
  state: {On Break: paused, Wrap-up: busy, DND: do_not_disturb}
subject_columns:
  - {column: user.upn, kind: upn}
  - {column: user.ext, kind: extension}
`
)

// build makes a source from a YAML entry the way the registry does.
func build(t testing.TB, kind source.Kind, entry string) (source.Source, error) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(entry), &n); err != nil {
		t.Fatal(err)
	}
	var head struct {
		Name string `yaml:"name"`
	}
	if err := n.Decode(&head); err != nil {
		t.Fatal(err)
	}
	return kind.New(head.Name, func(v any) error { return n.Content[0].Decode(v) }, func(p string) string {
		return filepath.Join(sampleDir, p)
	})
}

func mustBuild(t testing.TB, kind source.Kind, entry string) source.Source {
	t.Helper()
	s, err := build(t, kind, entry)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Recorder sample traps: Alex's extension, e-mail and number only in
// Notes or Remote Number (REC-0003, REC-0005), a near-miss extension
// 43210 and e-mail (REC-0004, REC-0005), extension 4400 before and after
// it moved at midnight London time (REC-0006, REC-0007), a call across
// midnight and one in the repeated hour of the autumn clock change; the
// rejected rows are a time that never happened (spring clock change), a
// missing field, a date in another format, an unterminated quote and a
// direction code the mapping does not know.
func TestConformanceCSV(t *testing.T) {
	sourcetest.Run(t, sourcetest.Case{
		New:      func(t testing.TB) source.Source { return mustBuild(t, CSVKind, recorderYAML) },
		Subjects: sampleSubjects(),
		Want: map[string]map[string]int{
			"S-1001": {"calls": 4},
			"S-1002": {"calls": 1},
			"S-1003": {"calls": 1},
			"S-1004": {"calls": 1},
			"S-1005": {"calls": 1},
			"S-1006": {"calls": 2},
		},
		Rejected: 5,
	})
}

// Agent event sample traps: a UPN and extension only inside a note, a
// near-miss UPN, UPNs in other case, extension 4400 reassigned at
// midnight London time, a null UPN, heartbeat events neither source
// keeps. Both sources reject the lines that are no JSON object (3); the
// presence source also rejects a bad time and an object where a value
// belongs.
func TestConformanceJSONLLogins(t *testing.T) {
	sourcetest.Run(t, sourcetest.Case{
		New:      func(t testing.TB) source.Source { return mustBuild(t, JSONLKind, loginsYAML) },
		Subjects: sampleSubjects(),
		Want: map[string]map[string]int{
			"S-1001": {"logins": 2},
			"S-1002": {"logins": 2},
			"S-1005": {"logins": 1},
			"S-1006": {"logins": 2},
		},
		Rejected: 3,
	})
}

func TestConformanceJSONLPresence(t *testing.T) {
	sourcetest.Run(t, sourcetest.Case{
		New:      func(t testing.TB) source.Source { return mustBuild(t, JSONLKind, presenceYAML) },
		Subjects: sampleSubjects(),
		Want: map[string]map[string]int{
			"S-1001": {"presence": 3},
			"S-1003": {"presence": 1},
			"S-1004": {"presence": 1},
			"S-1006": {"presence": 1},
		},
		Rejected: 5,
	})
}

func fetch(t *testing.T, s source.Source) (*sourcetest.Recorder, source.Stats) {
	t.Helper()
	sink := &sourcetest.Recorder{T: t}
	st, err := s.Fetch(context.Background(), sourcetest.Query(t, sampleSubjects()), sink)
	if err != nil {
		t.Fatal(err)
	}
	return sink, st
}

type want map[string]any

func check(t *testing.T, ds *model.Dataset, r model.Record, w want) {
	t.Helper()
	for col, v := range w {
		i := ds.Index(col)
		if i < 0 {
			t.Fatalf("no column %s", col)
		}
		if r[i] != v {
			t.Errorf("%v %s = %#v, want %#v", r[ds.Index("source_ref")], col, r[i], v)
		}
	}
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestRecorderSample(t *testing.T) {
	sink, st := fetch(t, mustBuild(t, CSVKind, recorderYAML))
	if st.Read != 16 || st.Selected != 10 || st.Rejected != 5 {
		t.Errorf("stats %+v, want read 16 selected 10 rejected 5", st)
	}
	const f = "recorder-calls.csv"
	wantRejects := []model.Rejection{
		{Source: "recorder", File: f, Line: 12, Reason: `field "Start Time" (columns.start_utc): time does not exist in zone Europe/London (clock change)`},
		{Source: "recorder", File: f, Line: 13, Reason: "expected 12 fields (as the first line), got 11"},
		{Source: "recorder", File: f, Line: 14, Reason: `field "Start Time" (columns.start_utc): not a time in time_format`},
		{Source: "recorder", File: f, Line: 15, Reason: "unterminated quote in field 10"},
		{Source: "recorder", File: f, Line: 17, Reason: `field "Direction" (columns.direction): value is not one of inbound, outbound, internal (map it under values.direction)`},
	}
	if len(sink.Rejects) != len(wantRejects) {
		t.Fatalf("rejections %+v", sink.Rejects)
	}
	for i, w := range wantRejects {
		if sink.Rejects[i] != w {
			t.Errorf("rejection %d = %+v, want %+v", i, sink.Rejects[i], w)
		}
	}
	ds := model.Calls
	check(t, ds, sink.ByRef("S-1001", f+":2"), want{
		"call_id": "REC-0001", "leg": int64(0), "source": "recorder", "start_utc": utc("2025-01-06T09:02:11Z"),
		"end_utc": utc("2025-01-06T09:07:27Z"), "answer_utc": nil, "duration_s": int64(316), "talk_s": int64(312),
		"direction": "outbound", "subject_role": "caller", "subject_number": "4321", "other_number": "+441632960777",
		"other_name": "Fenwick & Sons, Ltd.", "outcome": "answered", "outcome_raw": "Answered", "user_field": "", "channel": "",
	})
	check(t, ds, sink.ByRef("S-1001", f+":3"), want{"other_name": `O'Brien, Jim "The Prof"`, "subject_role": "callee", "direction": "inbound"})
	// Matched on the e-mail in capitals, shown as written.
	check(t, ds, sink.ByRef("S-1002", f+":4"), want{"subject_number": "4312", "outcome": "no_answer", "outcome_raw": "Missed"})
	// Summer time: 23:50 in London is 22:50 UTC, still 30 June there.
	check(t, ds, sink.ByRef("S-1005", f+":7"), want{"start_utc": utc("2025-06-30T22:50:00Z")})
	check(t, ds, sink.ByRef("S-1006", f+":8"), want{"start_utc": utc("2025-06-30T23:20:00Z")})
	check(t, ds, sink.ByRef("S-1006", f+":9"), want{"duration_s": int64(280), "other_number": "+861055550100"})
	// The repeated hour: read as the first 01:30 (BST); a line break in Notes.
	check(t, ds, sink.ByRef("S-1004", f+":10"), want{"start_utc": utc("2025-10-26T00:30:00Z"), "end_utc": utc("2025-10-26T00:40:00Z"),
		"user_field": "Follow-up:\nsend the pricing sheet"})
	check(t, ds, sink.ByRef("S-1001", f+":18"), want{"outcome": "unknown", "outcome_raw": "Transferred"})
	check(t, ds, sink.ByRef("S-1001", f+":16"), want{"outcome": "no_answer", "outcome_raw": "Voicemail", "other_name": "Harper, Kim"})
}

func TestAgentEventSamples(t *testing.T) {
	const f = "agent-events.jsonl"
	sink, st := fetch(t, mustBuild(t, JSONLKind, loginsYAML))
	// 21 lines, 2 of them heartbeats and 7 states skipped by where.
	if st.Read != 21 || st.Selected != 7 || st.Rejected != 3 {
		t.Errorf("logins stats %+v", st)
	}
	var reasons []string
	for _, r := range sink.Rejects {
		reasons = append(reasons, r.Reason)
	}
	if got := strings.Join(reasons, "|"); got != "invalid JSON: the line ends inside a value|not a JSON object|invalid UTF-8" {
		t.Errorf("logins rejections %q", got)
	}
	ds := model.Logins
	check(t, ds, sink.ByRef("S-1001", f+":1"), want{"at_utc": utc("2025-01-06T08:58:02Z"), "event": "login", "event_raw": "login",
		"result": "success", "subject_identifier": "alex.example@uni.example.ac.uk", "application": "Contact centre softphone",
		"client": "Softphone 7.2", "ip_address": "10.41.12.161", "device": "SEP00AA11BB4321", "error_code": ""})
	check(t, ds, sink.ByRef("S-1002", f+":3"), want{"event": "login", "event_raw": "login_failed", "result": "failure",
		"error_code": "E401", "error_reason": "wrong PIN", "subject_identifier": "Siobhan.NiBhriain@Uni.Example.ac.uk"})
	check(t, ds, sink.ByRef("S-1005", f+":11"), want{"subject_identifier": "4400"})
	check(t, ds, sink.ByRef("S-1006", f+":12"), want{"subject_identifier": "4400"})
	check(t, ds, sink.ByRef("S-1006", f+":15"), want{"event": "logout"})

	sink, st = fetch(t, mustBuild(t, JSONLKind, presenceYAML))
	if st.Read != 21 || st.Selected != 6 || st.Rejected != 5 {
		t.Errorf("presence stats %+v", st)
	}
	reasons = nil
	for _, r := range sink.Rejects {
		reasons = append(reasons, r.Reason)
	}
	if got := strings.Join(reasons, "|"); got != `invalid JSON: the line ends inside a value|not a JSON object|field "ts" (columns.at_utc): not a time in time_format|field "status" (columns.state) is an object or array, not a value|invalid UTF-8` {
		t.Errorf("presence rejections %q", got)
	}
	ds = model.Presence
	check(t, ds, sink.ByRef("S-1001", f+":6"), want{"state": "paused", "state_raw": "On Break", "reason": "Lunch", "context": "IT Service Desk"})
	check(t, ds, sink.ByRef("S-1003", f+":8"), want{"state": "do_not_disturb", "activity": "Presenting", "subject_identifier": "43210"})
	check(t, ds, sink.ByRef("S-1006", f+":13"), want{"state": "busy", "at_utc": utc("2025-07-01T08:00:00Z")})
	check(t, ds, sink.ByRef("S-1004", f+":19"), want{"state": "unknown", "state_raw": "Lurking"})
}

func TestConfigErrors(t *testing.T) {
	base := map[string]string{
		"paths":           "[x.csv]",
		"dataset":         "calls",
		"columns":         "{start_utc: t, direction: d, subject_role: r}",
		"subject_columns": "[{column: ext, kind: extension}]",
	}
	tests := []struct {
		name string
		kind source.Kind
		set  map[string]string
		want string
	}{
		{"unknown dataset column", CSVKind, map[string]string{"columns": "{start_utc: t, direction: d, subject_role: r, caller: c}"}, `columns.caller: unknown column "caller" for dataset calls`},
		{"dsar column", CSVKind, map[string]string{"columns": "{start_utc: t, direction: d, subject_role: r, source_ref: id}"}, "columns.source_ref: set by dsar"},
		{"no columns", CSVKind, map[string]string{"columns": "{}"}, "columns is required"},
		{"missing subject_columns", CSVKind, map[string]string{"subject_columns": "[]"}, "subject_columns is required"},
		{"bad subject kind", CSVKind, map[string]string{"subject_columns": "[{column: ext, kind: extn}]"}, `subject_columns[0].kind "extn": want one of`},
		{"empty subject column", CSVKind, map[string]string{"subject_columns": "[{kind: upn}]"}, "subject_columns[0].column: empty source column name"},
		{"role needed", CSVKind, map[string]string{"columns": "{start_utc: t, direction: d}"}, "subject_columns[0].role is required (caller or callee) when columns.subject_role is not mapped"},
		{"role twice", CSVKind, map[string]string{"subject_columns": "[{column: ext, kind: extension, role: caller}]"}, "subject_columns[0].role: columns.subject_role is mapped"},
		{"bad role", CSVKind, map[string]string{"columns": "{start_utc: t, direction: d}", "subject_columns": "[{column: ext, kind: extension, role: agent}]"}, `subject_columns[0].role "agent": want one of caller, callee`},
		{"enum without unknown", CSVKind, map[string]string{"columns": "{start_utc: t, subject_role: r}"}, `columns.direction is required: dataset calls has no "unknown" direction`},
		{"time required", CSVKind, map[string]string{"columns": "{direction: d, subject_role: r}"}, "columns.start_utc is required"},
		{"bad time_format", CSVKind, map[string]string{"time_format": "yyyy-MM-dd HH:mm"}, `time_format "yyyy-MM-dd HH:mm": not a Go time layout`},
		{"date-only time_format", CSVKind, map[string]string{"time_format": "2006-01-02"}, `time_format "2006-01-02": not a Go time layout with a date and a time of day`},
		{"zone needed", CSVKind, map[string]string{"time_format": "2006-01-02 15:04:05"}, "timezone is required"},
		{"bad zone", CSVKind, map[string]string{"timezone": "Europe/Londres"}, `timezone "Europe/Londres"`},
		{"bad dataset", CSVKind, map[string]string{"dataset": "call"}, `dataset "call": want one of calls, logins, presence`},
		{"no dataset", CSVKind, map[string]string{"dataset": `""`}, "dataset is required"},
		{"values column", CSVKind, map[string]string{"values": "{other_name: {a: b}}"}, "values.other_name: not an enum column of dataset calls"},
		{"values target", CSVKind, map[string]string{"values": "{direction: {IN: incoming}}"}, `values.direction.IN: "incoming" is not one of inbound, outbound, internal`},
		{"bad constant", CSVKind, map[string]string{"columns": "{start_utc: t, direction: =sideways, subject_role: r}"}, `columns.direction: constant "sideways": value is not one of`},
		{"bad int constant", CSVKind, map[string]string{"columns": "{start_utc: t, direction: d, subject_role: r, talk_s: =ten}"}, `columns.talk_s: constant "ten": not an integer`},
		{"match_time nullable", CSVKind, map[string]string{"match_time": "answer_utc"}, `match_time "answer_utc": may be empty`},
		{"match_time unknown", CSVKind, map[string]string{"match_time": "start"}, `match_time "start": not a timestamp column of dataset calls (start_utc, end_utc)`},
		{"bad delimiter", CSVKind, map[string]string{"delimiter": `";;"`}, `delimiter ";;"`},
		{"positions without header", CSVKind, map[string]string{"header": "false"}, `columns.direction: "d": with header: false, name source columns by position`},
		{"role outside calls", JSONLKind, map[string]string{"dataset": "logins", "columns": "{at_utc: t, event: e}", "subject_columns": "[{column: u, kind: upn, role: caller}]"}, "subject_columns[0].role: only the calls dataset has a subject role"},
		{"empty where", JSONLKind, map[string]string{"where": "{event: []}"}, "where.event: list the values"},
		{"no paths", JSONLKind, map[string]string{"paths": "[]"}, "paths: at least one file glob is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := map[string]string{}
			for k, v := range base {
				cfg[k] = v
			}
			for k, v := range tc.set {
				cfg[k] = v
			}
			var b strings.Builder
			b.WriteString("name: src\n")
			for _, k := range sortedKeys(cfg) {
				b.WriteString(k + ": " + cfg[k] + "\n")
			}
			_, err := build(t, tc.kind, b.String())
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), `source "src": `) {
				t.Errorf("err = %v, want it to name the source and contain %q", err, tc.want)
			}
		})
	}
}

func TestKinds(t *testing.T) {
	for _, k := range []source.Kind{CSVKind, JSONLKind} {
		required := map[string]bool{}
		for _, key := range k.Keys {
			if key.Description == "" {
				t.Errorf("%s: key %s has no description", k.Name, key.Name)
			}
			if key.Required {
				required[key.Name] = true
			}
		}
		for _, r := range []string{"paths", "dataset", "columns", "subject_columns"} {
			if !required[r] {
				t.Errorf("%s: %s is not required", k.Name, r)
			}
		}
	}
	if _, err := New("x", KindJSONL, Config{Paths: []string{"a"}, Delimiter: ";"}); err == nil || !strings.Contains(err.Error(), "generic-csv only") {
		t.Errorf("JSONL with a delimiter: %v", err)
	}
}

// csvSource builds a calls source over content with a small mapping.
func csvSource(t *testing.T, content string, edit func(*Config)) (*Source, string) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "log.csv")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Paths:          []string{p},
		Dataset:        "calls",
		TimeFormat:     "RFC3339",
		Columns:        map[string]string{"start_utc": "start", "direction": "=internal", "other_number": "other", "duration_s": "dur"},
		SubjectColumns: []SubjectColumn{{Column: "ext", Kind: "number", Role: "caller"}},
	}
	if edit != nil {
		edit(&cfg)
	}
	s, err := New("log", KindCSV, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, p
}

func TestCSVFiles(t *testing.T) {
	const head = "start,ext,other,dur\n"
	const good = "2025-01-06T10:00:00Z,4321,01632 960777,60\n"
	tests := []struct {
		name     string
		content  string
		edit     func(*Config)
		read     int64
		selected int64
		reasons  []string
	}{
		{name: "good", content: head + good, read: 1, selected: 1},
		{name: "CRLF and BOM", content: "\ufeff" + strings.ReplaceAll(head+good, "\n", "\r\n"), read: 1, selected: 1},
		{name: "no final newline", content: head + strings.TrimSuffix(good, "\n"), read: 1, selected: 1},
		{name: "blank lines", content: "\n" + head + "\n" + good + "\n", read: 1, selected: 1},
		{name: "header only", content: head},
		{name: "empty", content: ""},
		{name: "columns in other order and case", content: "EXT,Dur,OTHER,Start\n4321,60,x,2025-01-06T10:00:00Z\n", read: 1, selected: 1},
		{name: "phone number subject", content: head + "2025-01-06T10:00:00Z,+44 1632 960555,4399,0\n", read: 1, selected: 1},
		{name: "near miss", content: head + "2025-01-06T10:00:00Z,43211,4399,0\n", read: 1},
		{name: "quoted line break", content: head + "2025-01-06T10:00:00Z,4321,\"01632\n960777\",60\n" + good, read: 2, selected: 2},
		{name: "unterminated quote then good rows", content: head + "2025-01-06T10:00:00Z,4321,\"0163,60\n" + good + good, read: 3, selected: 2,
			reasons: []string{"unterminated quote in field 3"}},
		{name: "stray quote", content: head + "2025-01-06T10:00:00Z,43\"21,x,60\n", read: 1, reasons: []string{"stray quote in field 2"}},
		{name: "text after quote", content: head + "2025-01-06T10:00:00Z,\"4321\"x,x,60\n", read: 1, reasons: []string{"unexpected character after closing quote in field 2"}},
		{name: "field count", content: head + "2025-01-06T10:00:00Z,4321,x\n", read: 1, reasons: []string{"expected 4 fields (as the first line), got 3"}},
		{name: "bad integer", content: head + "2025-01-06T10:00:00Z,4321,x,1m\n", read: 1, reasons: []string{`field "dur" (columns.duration_s): not an integer`}},
		{name: "empty time", content: head + ",4321,x,1\n", read: 1, reasons: []string{`field "start" (columns.start_utc): empty`}},
		{name: "invalid UTF-8", content: head + "2025-01-06T10:00:00Z,4321,\xff,1\n", read: 1, reasons: []string{"invalid UTF-8"}},
		{name: "long line", content: head + strings.Repeat("x", maxLine+1) + "\n" + good, read: 2, selected: 1, reasons: []string{"record longer than 1048576 bytes"}},
		{name: "header lacks a column", content: "start,extension,other,dur\n" + good + good, read: 3,
			reasons: []string{`unusable file header: no column "ext" (subject_columns[0].column)`, `unusable file header: no column "ext" (subject_columns[0].column)`, `unusable file header: no column "ext" (subject_columns[0].column)`}},
		{name: "duplicate header column", content: "start,ext,other,dur,ext\n" + "2025-01-06T10:00:00Z,4321,x,1,4312\n", read: 2,
			reasons: []string{`unusable file header: column "ext" (subject_columns[0].column) appears more than once`, `unusable file header: column "ext" (subject_columns[0].column) appears more than once`}},
		{name: "semicolons", content: "start;ext;other;dur\n2025-01-06T10:00:00Z;4321;\"a;b\";60\n", edit: func(c *Config) { c.Delimiter = ";" }, read: 1, selected: 1},
		{name: "tabs", content: "start\text\tother\tdur\n2025-01-06T10:00:00Z\t4321\tx\t60\n", edit: func(c *Config) { c.Delimiter = "tab" }, read: 1, selected: 1},
		{name: "no header", content: good + good + "2025-01-06T10:00:00Z,4321\n",
			edit: func(c *Config) {
				f := false
				c.Header = &f
				c.Columns = map[string]string{"start_utc": "1", "direction": "=internal", "other_number": "3", "duration_s": "4"}
				c.SubjectColumns[0].Column = "2"
			}, read: 3, selected: 2, reasons: []string{"expected 4 fields (as the first line), got 2"}},
		{name: "no header, too few fields", content: "2025-01-06T10:00:00Z,4321\n",
			edit: func(c *Config) {
				f := false
				c.Header = &f
				c.Columns = map[string]string{"start_utc": "1", "direction": "=internal", "duration_s": "4"}
				c.SubjectColumns[0].Column = "2"
			}, read: 1, reasons: []string{"records have 2 fields but a column is mapped to position 4"}},
		{name: "where", content: "start,ext,other,dur,kind\n2025-01-06T10:00:00Z,4321,x,1,call\n2025-01-06T10:00:00Z,4321,x,1,fax\nbad,4321,x,1,fax\n",
			edit: func(c *Config) { c.Where = map[string][]string{"kind": {"call", "voice"}} }, read: 3, selected: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := csvSource(t, tc.content, tc.edit)
			sink, st := fetch(t, s)
			if st.Read != tc.read || st.Selected != tc.selected || st.Rejected != int64(len(tc.reasons)) {
				t.Errorf("stats %+v, want read %d selected %d rejected %d", st, tc.read, tc.selected, len(tc.reasons))
			}
			var got []string
			for _, r := range sink.Rejects {
				got = append(got, r.Reason)
			}
			if strings.Join(got, "|") != strings.Join(tc.reasons, "|") {
				t.Errorf("reasons %q, want %q", got, tc.reasons)
			}
		})
	}
}

func TestDerivedCallColumns(t *testing.T) {
	content := "start,answer,end,ext\n2025-01-06T10:00:00Z,2025-01-06T10:00:05Z,2025-01-06T10:01:00Z,4321\n2025-01-06T11:00:00Z,,2025-01-06T11:00:30Z,4321\n"
	s, _ := csvSource(t, content, func(c *Config) {
		c.Columns = map[string]string{"start_utc": "start", "answer_utc": "answer", "end_utc": "end", "direction": "=internal"}
	})
	sink, _ := fetch(t, s)
	if len(sink.Records) != 2 {
		t.Fatalf("%d records", len(sink.Records))
	}
	check(t, model.Calls, sink.Records[0].Record, want{"duration_s": int64(60), "talk_s": int64(55), "answer_utc": utc("2025-01-06T10:00:05Z"),
		"subject_role": "caller", "subject_number": "4321", "outcome": "unknown", "outcome_raw": ""})
	check(t, model.Calls, sink.Records[1].Record, want{"duration_s": int64(30), "talk_s": int64(0), "answer_utc": nil})

	// end_utc from duration_s.
	s, _ = csvSource(t, "start,ext,dur\n2025-01-06T10:00:00Z,4321,75\n", func(c *Config) {
		c.Columns = map[string]string{"start_utc": "start", "direction": "=outbound", "duration_s": "dur", "outcome": "=answered"}
	})
	sink, _ = fetch(t, s)
	check(t, model.Calls, sink.Records[0].Record, want{"end_utc": utc("2025-01-06T10:01:15Z"), "direction": "outbound", "outcome": "answered", "outcome_raw": "answered"})
}

func TestMatchTime(t *testing.T) {
	// Dana's 4400 ended on 30 June: a call that started then but is
	// matched on its end on 1 July is not hers.
	content := "start,end,ext\n2025-06-30T22:50:00Z,2025-06-30T23:10:00Z,4400\n"
	for col, who := range map[string]string{"": "S-1005", "start_utc": "S-1005", "end_utc": "S-1006"} {
		s, _ := csvSource(t, content, func(c *Config) {
			c.Columns = map[string]string{"start_utc": "start", "end_utc": "end", "direction": "=internal"}
			c.MatchTime = col
		})
		sink, _ := fetch(t, s)
		if len(sink.Records) != 1 || sink.Records[0].Subject != who {
			t.Errorf("match_time %q: %+v, want one record of %s", col, sink.Records, who)
		}
	}
}

func TestSeveralSubjectsOneRow(t *testing.T) {
	// A softphone log naming both parties: each subject gets the row in
	// their role, and a subject named twice gets it once.
	content := "start,from,to\n2025-01-06T10:00:00Z,4321,4312\n2025-01-06T11:00:00Z,4321,4321\n"
	s, _ := csvSource(t, content, func(c *Config) {
		c.Columns = map[string]string{"start_utc": "start", "direction": "=internal"}
		c.SubjectColumns = []SubjectColumn{{Column: "from", Kind: "extension", Role: "caller"}, {Column: "to", Kind: "extension", Role: "callee"}}
	})
	sink, st := fetch(t, s)
	if st.Selected != 3 || len(sink.Records) != 3 {
		t.Fatalf("stats %+v", st)
	}
	roles := []string{}
	for _, e := range sink.Records {
		roles = append(roles, e.Subject+":"+e.Record[model.Calls.Index("subject_role")].(string))
	}
	if got := strings.Join(roles, " "); got != "S-1001:caller S-1002:callee S-1001:caller" {
		t.Errorf("roles %s", got)
	}
	if &sink.Records[0].Record[0] == &sink.Records[1].Record[0] {
		t.Error("two subjects were handed the same record")
	}
}

func TestJSONLValues(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "e.jsonl")
	content := `{"t":1736157600,"u":{"x.y":"4321"},"n":42,"ok":true,"s":null}` + "\n" +
		`{"t":1736157601.5,"u":{"x.y":"4321"},"n":"7","ok":false}` + "\n" +
		`{"t":"1736157602","u":{"x.y":"4321"}} {"again":1}` + "\n" +
		`  ` + "\n" +
		`{"t":1736157603,"u":{"x.y":["4321"]}}` + "\n" +
		`null` + "\n" +
		`{"t":-5,"u":{"x.y":"4321"},"n":1.5}` + "\n" +
		`{"t":,}` + "\n"
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := New("ev", KindJSONL, Config{
		Paths: []string{p}, Dataset: "logins", TimeFormat: "epoch",
		Columns:        map[string]string{"at_utc": "t", "event": "=login", "error_code": "n", "client": "ok", "device": "s"},
		SubjectColumns: []SubjectColumn{{Column: "u.x.y", Kind: "extension"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	sink, st := fetch(t, s)
	if st.Read != 7 || st.Selected != 2 {
		t.Errorf("stats %+v", st)
	}
	var reasons []string
	for _, r := range sink.Rejects {
		reasons = append(reasons, r.Reason)
	}
	// The row of 1969 is read but matches nobody: 4321 was not Alex's then.
	wantReasons := `more than one JSON value on the line|field "u.x.y" (subject_columns[0].column) is an object or array, not a value|not a JSON object|invalid JSON at byte 6`
	if got := strings.Join(reasons, "|"); got != wantReasons {
		t.Errorf("reasons %q\nwant %q", got, wantReasons)
	}
	check(t, model.Logins, sink.Records[0].Record, want{"at_utc": utc("2025-01-06T10:00:00Z"), "error_code": "42", "client": "true", "device": "", "event_raw": "login"})
	check(t, model.Logins, sink.Records[1].Record, want{"at_utc": time.Unix(1736157601, 5e8).UTC(), "error_code": "7", "client": "false"})
}

func TestTimeParser(t *testing.T) {
	tests := []struct {
		format, tz, in string
		want           string // RFC3339Nano UTC, or "!" + reason
	}{
		{"RFC3339", "", "2025-01-06T10:00:00Z", "2025-01-06T10:00:00Z"},
		{"", "", "2025-07-01T09:00:00+01:00", "2025-07-01T08:00:00Z"},
		{"rfc3339", "", "2025-07-01T09:00:00.25+01:00", "2025-07-01T08:00:00.25Z"},
		{"RFC3339", "", "2025-07-01 09:00:00", "!not a time in time_format"},
		{"DateTime", "Europe/London", "2025-07-01 09:00:00", "2025-07-01T08:00:00Z"},
		{"DateTime", "UTC", "2025-07-01 09:00:00", "2025-07-01T09:00:00Z"},
		{"02/01/2006 15:04", "Europe/London", "26/10/2025 01:30", "2025-10-26T00:30:00Z"}, // first of the two
		{"02/01/2006 15:04", "Europe/London", "26/10/2025 02:00", "2025-10-26T02:00:00Z"},
		{"02/01/2006 15:04", "Europe/London", "30/03/2025 01:30", "!time does not exist in zone Europe/London (clock change)"},
		{"02/01/2006 15:04", "Europe/London", "30/03/2025 02:00", "2025-03-30T01:00:00Z"},
		{"02/01/2006 15:04", "America/New_York", "02/11/2025 01:30", "2025-11-02T05:30:00Z"}, // first: EDT
		{"2006-01-02 15:04:05 -0700", "Europe/London", "2025-01-06 10:00:00 +0100", "2025-01-06T09:00:00Z"},
		{"epoch", "", "1736157600", "2025-01-06T10:00:00Z"},
		{"epoch", "", "1736157600.5", "2025-01-06T10:00:00.5Z"},
		{"epoch", "", "-1.5", "1969-12-31T23:59:58.5Z"},
		{"epoch", "", "17x", "!not a time in epoch seconds"},
		{"epoch", "", "1.", "!not a time in epoch seconds"},
		{"epoch_ms", "", "1736157600123", "2025-01-06T10:00:00.123Z"},
		{"epoch_ms", "", "1736157600.1", "!not a time in epoch milliseconds"},
	}
	for _, tc := range tests {
		p, err := newTimeParser(tc.format, tc.tz)
		if err != nil {
			t.Fatalf("%q %q: %v", tc.format, tc.tz, err)
		}
		got, reason := p.parse(tc.in)
		s := got.Format(time.RFC3339Nano)
		if reason != "" {
			s = "!" + reason
		}
		if s != tc.want {
			t.Errorf("%q in %q/%q = %s, want %s", tc.in, tc.format, tc.tz, s, tc.want)
		}
	}
	if _, err := newTimeParser("Monday 15:04", "UTC"); err == nil {
		t.Error("a layout without a date was accepted")
	}
	if _, err := newTimeParser("2006-01-02 15:04", "Local"); err == nil {
		t.Error("timezone Local was accepted")
	}
}

func TestStrictAndNoFiles(t *testing.T) {
	s, _ := csvSource(t, "start,ext,other,dur\nbad,4321,x,1\n", func(c *Config) { c.Strict = true })
	_, err := s.Fetch(context.Background(), sourcetest.Query(t, sampleSubjects()), &sourcetest.Recorder{T: t})
	if err == nil || !strings.Contains(err.Error(), `source "log": 1 row(s) could not be read (strict mode)`) {
		t.Errorf("strict: %v", err)
	}
	s, _ = csvSource(t, "", func(c *Config) { c.Paths = []string{filepath.Join(t.TempDir(), "*.csv")} })
	_, err = s.Fetch(context.Background(), sourcetest.Query(t, sampleSubjects()), &sourcetest.Recorder{T: t})
	if !errors.Is(err, source.ErrNoFiles) || !strings.Contains(err.Error(), `source "log"`) {
		t.Errorf("no files: %v", err)
	}
}

func TestSlowReader(t *testing.T) {
	// A reader that hands over one byte at a time makes the line reader
	// refill its buffer constantly: the result must not change.
	for _, tc := range []struct {
		kind  source.Kind
		entry string
		file  string
	}{{CSVKind, recorderYAML, "recorder-calls.csv"}, {JSONLKind, presenceYAML, "agent-events.jsonl"}} {
		data, err := os.ReadFile(filepath.Join(sampleDir, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		s := mustBuild(t, tc.kind, tc.entry).(*Source)
		run := func(r io.Reader) (*sourcetest.Recorder, source.Stats) {
			sink := &sourcetest.Recorder{T: t}
			var st source.Stats
			if err := s.newScan(context.Background(), sourcetest.Query(t, sampleSubjects()), sink, &st).read(r, tc.file); err != nil {
				t.Fatal(err)
			}
			return sink, st
		}
		a, sa := run(bytes.NewReader(data))
		b, sb := run(iotest.OneByteReader(bytes.NewReader(data)))
		if sa != sb || !reflect.DeepEqual(a, b) || sa.Selected == 0 {
			t.Errorf("%s: stats %+v vs %+v, or records differ", tc.file, sa, sb)
		}
	}
}

func TestJSONLWhereBeforeFieldErrors(t *testing.T) {
	// A row where leaves out is not rejected for a field only the kept
	// rows need; a kept row is.
	dir := t.TempDir()
	p := filepath.Join(dir, "e.jsonl")
	content := `{"t":"2025-01-06T10:00:00Z","kind":"ping","who":"4321","status":{"x":1}}` + "\n" +
		`{"t":"2025-01-06T10:00:00Z","kind":"state","who":"4321","status":{"x":1}}` + "\n" +
		`{"t":"2025-01-06T10:00:00Z","kind":"state","who":"4321","status":"Away"}` + "\n"
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := New("ev", KindJSONL, Config{
		Paths: []string{p}, Dataset: "presence", Where: map[string][]string{"kind": {"state"}},
		Columns:        map[string]string{"at_utc": "t", "state": "status"},
		SubjectColumns: []SubjectColumn{{Column: "who", Kind: "extension"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	sink, st := fetch(t, s)
	if st.Read != 3 || st.Selected != 1 || st.Rejected != 1 || sink.Rejects[0].Line != 2 {
		t.Errorf("stats %+v, rejections %+v", st, sink.Rejects)
	}
}
