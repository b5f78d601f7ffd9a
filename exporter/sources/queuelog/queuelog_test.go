package queuelog

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/source/sourcetest"
)

// samplePath is the sample queue_log.
var samplePath = filepath.Join("..", "..", "..", "samples", "queue_log", "queue_log")

// sampleSubjects mirrors samples/subjects.yaml, plus the agent
// identifiers the queue_log uses: Siobhán's member name (queues.conf
// log_membername_as_agent) and Priya's agent, Agent/1003.
func sampleSubjects() []model.Subject {
	id := sourcetest.ID
	return []model.Subject{
		{ID: "S-1001", Name: "Alex Example", Identifiers: []model.Identifier{
			id(model.KindExtension, "4321", "2024-09-01", ""),
			id(model.KindSIP, "4321", "2024-09-01", ""),
			id(model.KindPhone, "01632 960555", "", ""),
		}},
		{ID: "S-1002", Name: "Siobhán Ní Bhriain", Identifiers: []model.Identifier{
			id(model.KindExtension, "4312", "", ""),
			id(model.KindSIP, "siobhan-desk", "", ""),
			id(model.KindPhone, "020 7946 0312", "", ""),
			id(model.KindAgent, "Siobhán Ní Bhriain", "", ""),
		}},
		{ID: "S-1003", Name: "Priya Raman", Identifiers: []model.Identifier{
			id(model.KindExtension, "43210", "", ""),
			id(model.KindSIP, "43210", "", ""),
			id(model.KindAgent, "Agent/1003", "", ""),
		}},
		{ID: "S-1004", Name: "Zoë Łukasik", Identifiers: []model.Identifier{
			id(model.KindExtension, "1432", "", ""),
			id(model.KindSIP, "1432", "", ""),
		}},
		{ID: "S-1005", Name: "Dana Whitfield", Identifiers: []model.Identifier{
			id(model.KindExtension, "4400", "", "2025-06-30"),
			id(model.KindSIP, "4400", "", "2025-06-30"),
		}},
		{ID: "S-1006", Name: "陈伟 (Chen Wei)", Identifiers: []model.Identifier{
			id(model.KindExtension, "4400", "2025-07-01", ""),
			id(model.KindSIP, "4400", "2025-07-01", ""),
		}},
	}
}

// TestConformance runs the shared suite over the sample queue_log. The
// traps: PJSIP/4321 used by someone else before Alex had it; 4321 beside
// 43210, 1432 beside 14320, Agent/1003 beside Agent/10030; Zoë's name as
// a member name, which is not one of her identifiers; 4400 passing from
// Dana to Chen at midnight London time (23:00 UTC); a caller's number
// only in ENTERQUEUE's data; call events of the subjects' interfaces
// (RINGNOANSWER, CONNECT), which are not logins; a pause reason with a
// '|', commas and non-ASCII reasons; a bad time, a short line and
// invalid UTF-8.
func TestConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Case{
		New: func(t testing.TB) source.Source {
			return newSource(t, Config{Paths: []string{samplePath}})
		},
		Subjects: sampleSubjects(),
		Location: sourcetest.London(t),
		Want: map[string]map[string]int{
			"S-1001": {"logins": 6, "presence": 4},
			"S-1002": {"logins": 3, "presence": 6},
			"S-1003": {"logins": 7, "presence": 2},
			"S-1004": {"logins": 2, "presence": 2},
			"S-1005": {"logins": 2, "presence": 2},
			"S-1006": {"logins": 1, "presence": 4},
		},
		Rejected: 3,
	})
}

func newSource(t testing.TB, cfg Config) *QueueLog {
	t.Helper()
	s, err := New("queues", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rows renders what a subject got as "dataset column=value ..." lines.
func rows(sink *sourcetest.Recorder, subject string, cols ...string) []string {
	var out []string
	for _, e := range sink.Records {
		if e.Subject != subject {
			continue
		}
		var b strings.Builder
		b.WriteString(e.Dataset.Name)
		for _, c := range cols {
			if i := e.Dataset.Index(c); i >= 0 {
				v := e.Record[i]
				if tm, ok := v.(time.Time); ok {
					v = tm.Format(time.RFC3339)
				}
				b.WriteString(" " + c + "=" + toString(v))
			}
		}
		out = append(out, b.String())
	}
	return out
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "<nil>"
	}
	return "?"
}

func fetch(t testing.TB, cfg Config, subjects []model.Subject) (*sourcetest.Recorder, source.Stats, error) {
	t.Helper()
	sink := &sourcetest.Recorder{T: t}
	st, err := newSource(t, cfg).Fetch(context.Background(), sourcetest.Query(t, subjects), sink)
	return sink, st, err
}

// TestSample checks the records of the sample in detail.
func TestSample(t *testing.T) {
	sink, st, err := fetch(t, Config{Paths: []string{samplePath}}, sampleSubjects())
	if err != nil {
		t.Fatal(err)
	}
	if st.Read != 63 || st.Rejected != 3 || st.Selected != 41 {
		t.Errorf("stats %+v", st)
	}
	cols := []string{"at_utc", "event", "state", "reason", "application", "context", "device", "subject_identifier", "event_raw", "state_raw", "source_ref"}
	want := map[string][]string{
		"S-1001": {
			"logins at_utc=2025-01-06T08:55:03Z event=login application=reception device= subject_identifier=PJSIP/4321 event_raw=ADDMEMBER source_ref=queue_log:7",
			"logins at_utc=2025-01-06T08:55:04Z event=login application=it-helpdesk device= subject_identifier=PJSIP/4321 event_raw=ADDMEMBER source_ref=queue_log:8",
			"presence at_utc=2025-01-06T10:30:00Z state=paused reason=Café ☕ break context=reception subject_identifier=PJSIP/4321 state_raw=PAUSE source_ref=queue_log:15",
			"presence at_utc=2025-01-06T10:45:00Z state=available reason= context=reception subject_identifier=PJSIP/4321 state_raw=UNPAUSE source_ref=queue_log:16",
			"presence at_utc=2025-01-06T14:10:00Z state=paused reason=Meeting | room 2.14, back at 3 context=reception subject_identifier=PJSIP/4321 state_raw=PAUSE source_ref=queue_log:23",
			"presence at_utc=2025-01-06T15:00:00Z state=available reason= context=reception subject_identifier=PJSIP/4321 state_raw=UNPAUSE source_ref=queue_log:25",
			"logins at_utc=2025-01-06T17:30:00Z event=logout application=reception device= subject_identifier=PJSIP/4321 event_raw=REMOVEMEMBER source_ref=queue_log:26",
			"logins at_utc=2025-01-06T17:30:01Z event=logout application=it-helpdesk device= subject_identifier=PJSIP/4321 event_raw=REMOVEMEMBER source_ref=queue_log:27",
			"logins at_utc=2025-10-26T00:40:00Z event=login application=reception device= subject_identifier=Local/4321@from-queue/n event_raw=ADDMEMBER source_ref=queue_log:60",
			"logins at_utc=2025-10-26T01:30:00Z event=logout application=reception device= subject_identifier=Local/4321@from-queue/n event_raw=REMOVEMEMBER source_ref=queue_log:62",
		},
		"S-1002": {
			"logins at_utc=2025-01-06T08:58:30Z event=login application=reception device= subject_identifier=PJSIP/siobhan-desk event_raw=ADDMEMBER source_ref=queue_log:10",
			"presence at_utc=2025-01-06T12:00:00Z state=paused reason= context= subject_identifier=PJSIP/siobhan-desk state_raw=PAUSEALL source_ref=queue_log:17",
			"presence at_utc=2025-01-06T12:00:00Z state=paused reason=Lón context=reception subject_identifier=PJSIP/siobhan-desk state_raw=PAUSE source_ref=queue_log:18",
			"presence at_utc=2025-01-06T13:00:00Z state=available reason= context= subject_identifier=PJSIP/siobhan-desk state_raw=UNPAUSEALL source_ref=queue_log:19",
			"presence at_utc=2025-01-06T13:00:00Z state=available reason= context=reception subject_identifier=PJSIP/siobhan-desk state_raw=UNPAUSE source_ref=queue_log:20",
			"logins at_utc=2025-01-08T09:00:00Z event=login application=reception device= subject_identifier=Siobhán Ní Bhriain event_raw=ADDMEMBER source_ref=queue_log:38",
			"presence at_utc=2025-01-08T12:30:00Z state=paused reason=Lón context=reception subject_identifier=Siobhán Ní Bhriain state_raw=PAUSE source_ref=queue_log:40",
			"presence at_utc=2025-01-08T13:15:00Z state=available reason= context=reception subject_identifier=Siobhán Ní Bhriain state_raw=UNPAUSE source_ref=queue_log:41",
			"logins at_utc=2025-01-08T17:00:00Z event=logout application=reception device= subject_identifier=Siobhán Ní Bhriain event_raw=REMOVEMEMBER source_ref=queue_log:42",
		},
		"S-1003": {
			"logins at_utc=2025-01-06T08:57:12Z event=login application=reception device= subject_identifier=PJSIP/43210 event_raw=ADDMEMBER source_ref=queue_log:9",
			"logins at_utc=2025-01-06T17:31:00Z event=logout application=reception device= subject_identifier=PJSIP/43210 event_raw=REMOVEMEMBER source_ref=queue_log:28",
			"logins at_utc=2025-01-07T08:30:00Z event=login application= device=PJSIP/43210-0000002a subject_identifier=Agent/1003 event_raw=AGENTLOGIN source_ref=queue_log:30",
			"logins at_utc=2025-01-07T08:30:05Z event=login application=student-finance device= subject_identifier=Agent/1003 event_raw=ADDMEMBER source_ref=queue_log:31",
			"presence at_utc=2025-01-07T11:00:00Z state=paused reason=Training – Übung context=student-finance subject_identifier=Agent/1003 state_raw=PAUSE source_ref=queue_log:33",
			"presence at_utc=2025-01-07T11:30:00Z state=available reason= context=student-finance subject_identifier=Agent/1003 state_raw=UNPAUSE source_ref=queue_log:34",
			"logins at_utc=2025-01-07T16:00:00Z event=logout application= device=PJSIP/43210-0000002a subject_identifier=Agent/1003 event_raw=AGENTLOGOFF source_ref=queue_log:36",
			"logins at_utc=2025-10-26T00:40:05Z event=login application=reception device= subject_identifier=Local/43210@from-queue/n event_raw=ADDMEMBER source_ref=queue_log:61",
			"logins at_utc=2025-10-26T01:30:05Z event=logout application=reception device= subject_identifier=Local/43210@from-queue/n event_raw=REMOVEMEMBER source_ref=queue_log:63",
		},
		"S-1005": {
			"logins at_utc=2025-05-20T08:00:00Z event=login application=reception device= subject_identifier=PJSIP/4400 event_raw=ADDMEMBER source_ref=queue_log:52",
			"presence at_utc=2025-05-20T14:40:00Z state=paused reason=Doctor's appointment, back at 3 context=reception subject_identifier=PJSIP/4400 state_raw=PAUSE source_ref=queue_log:53",
			"presence at_utc=2025-05-20T15:05:00Z state=available reason= context=reception subject_identifier=PJSIP/4400 state_raw=UNPAUSE source_ref=queue_log:54",
			"logins at_utc=2025-06-30T22:00:00Z event=logout application=reception device= subject_identifier=PJSIP/4400 event_raw=REMOVEMEMBER source_ref=queue_log:55",
		},
		"S-1006": {
			"logins at_utc=2025-06-30T23:30:00Z event=login application=reception device= subject_identifier=PJSIP/4400 event_raw=ADDMEMBER source_ref=queue_log:56",
			"presence at_utc=2025-06-30T23:30:00Z state=paused reason= context=reception subject_identifier=PJSIP/4400 state_raw=ADDMEMBER|PAUSED source_ref=queue_log:56",
			"presence at_utc=2025-07-01T09:00:00Z state=available reason= context=reception subject_identifier=PJSIP/4400 state_raw=UNPAUSE source_ref=queue_log:57",
			"presence at_utc=2025-07-01T12:00:00Z state=paused reason=休息 context=reception subject_identifier=PJSIP/4400 state_raw=PAUSE source_ref=queue_log:58",
			"presence at_utc=2025-07-01T12:30:00Z state=available reason= context=reception subject_identifier=PJSIP/4400 state_raw=UNPAUSE source_ref=queue_log:59",
		},
	}
	for subj, w := range want {
		if got := rows(sink, subj, cols...); !reflect.DeepEqual(got, w) {
			t.Errorf("%s:\n got %s\nwant %s", subj, strings.Join(got, "\n     "), strings.Join(w, "\n     "))
		}
	}
	wantRej := []model.Rejection{
		{Source: "queues", File: "queue_log", Line: 24, Reason: reasonTime},
		{Source: "queues", File: "queue_log", Line: 29, Reason: reasonFields},
		{Source: "queues", File: "queue_log", Line: 35, Reason: reasonUTF8},
	}
	if !reflect.DeepEqual(sink.Rejects, wantRej) {
		t.Errorf("rejections %+v\nwant %+v", sink.Rejects, wantRej)
	}
	for _, e := range sink.Records {
		if i := e.Dataset.Index("result"); i >= 0 && e.Record[i] != "success" {
			t.Errorf("result %v", e.Record[i])
		}
	}
}

func TestParseLine(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     entry
		bad      string
	}{
		{"pause with reason", "1736159400|NONE|reception|PJSIP/4321|PAUSE|Lunch", entry{1736159400, "reception", "PJSIP/4321", "PAUSE", "Lunch"}, ""},
		{"no data", "1736159400|NONE|reception|PJSIP/4321|UNPAUSE|", entry{1736159400, "reception", "PJSIP/4321", "UNPAUSE", ""}, ""},
		{"five fields", "1736159400|NONE|reception|PJSIP/4321|UNPAUSE", entry{1736159400, "reception", "PJSIP/4321", "UNPAUSE", ""}, ""},
		{"data fields kept whole", "1736154022|1736154000.50|reception|PJSIP/43210|CONNECT|22|1736154015.52|7", entry{1736154022, "reception", "PJSIP/43210", "CONNECT", "22|1736154015.52|7"}, ""},
		{"reason with bar", "1736172600|NONE|reception|PJSIP/4321|PAUSE|a | b", entry{1736172600, "reception", "PJSIP/4321", "PAUSE", "a | b"}, ""},
		{"fractional time", "1736159400.123456|NONE|q|PJSIP/1|PAUSE|", entry{1736159400, "q", "PJSIP/1", "PAUSE", ""}, ""},
		{"member name", "1736326800|1736326800.90|reception|Siobhán Ní Bhriain|ADDMEMBER|", entry{1736326800, "reception", "Siobhán Ní Bhriain", "ADDMEMBER", ""}, ""},
		{"empty agent", "1736326800|NONE|q||PAUSE|", entry{1736326800, "q", "", "PAUSE", ""}, ""},
		{"bad time", "17361719x0|NONE|reception|PJSIP/4321|UNPAUSE|", entry{}, reasonTime},
		{"empty time", "|NONE|reception|PJSIP/4321|UNPAUSE|", entry{}, reasonTime},
		{"negative time", "-1|NONE|reception|PJSIP/4321|UNPAUSE|", entry{}, reasonTime},
		{"time too long", "123456789012|NONE|q|a|PAUSE|", entry{}, reasonTime},
		{"time with trailing dot", "1736159400.|NONE|q|a|PAUSE|", entry{}, reasonTime},
		{"four fields", "1736184700|NONE|reception|PJSIP/4321", entry{}, reasonFields},
		{"three fields", "1736184700|NONE|reception", entry{}, reasonFields},
		{"one field", "1736184700", entry{}, reasonFields},
		{"empty event", "1736184700|NONE|q|PJSIP/1||x", entry{}, reasonNoEvent},
		{"invalid UTF-8", "1736251200|NONE|q|Agent/1003|PAUSE|Caf\xe9", entry{}, reasonUTF8},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, bad := parseLine([]byte(c.in))
			if bad != c.bad || bad == "" && got != c.want {
				t.Errorf("parseLine(%q) = %+v, %q; want %+v, %q", c.in, got, bad, c.want, c.bad)
			}
		})
	}
}

func TestInterfaceIDs(t *testing.T) {
	for _, c := range []struct{ in, ep, ext string }{
		{"PJSIP/4321", "4321", ""},
		{"SIP/siobhan-desk", "siobhan-desk", ""},
		{"pjsip/4321", "4321", ""},
		{"IAX2/branch", "branch", ""},
		{"PJSIP/4321/sip:4321@192.0.2.10:5060", "4321", ""},
		{"Local/4321@from-queue/n", "", "4321"},
		{"Local/4321", "", ""},
		{"Agent/1003", "", ""},
		{"Siobhán Ní Bhriain", "", ""},
		{"PJSIP/", "", ""},
		{"NONE", "", ""},
	} {
		if ep, ext := interfaceIDs(c.in); ep != c.ep || ext != c.ext {
			t.Errorf("%q: %q %q, want %q %q", c.in, ep, ext, c.ep, c.ext)
		}
	}
}

// TestLines checks line endings, blank and over-long lines, and a last
// line without a newline.
func TestLines(t *testing.T) {
	long := "1736159400|NONE|q|PJSIP/4321|PAUSE|" + strings.Repeat("x", maxLine)
	medium := "1736159400|NONE|q|PJSIP/4321|PAUSE|" + strings.Repeat("y", 100000)
	content := "1736159400|NONE|q|PJSIP/4321|PAUSE|Lunch\r\n\n   \n" + long + "\n" + medium + "\n1736163000|NONE|q|PJSIP/4321|UNPAUSE|"
	path := filepath.Join(t.TempDir(), "queue_log")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	sink, st, err := fetch(t, Config{Paths: []string{path}}, sampleSubjects()[:1])
	if err != nil {
		t.Fatal(err)
	}
	if st.Read != 4 || st.Rejected != 1 || st.Selected != 3 {
		t.Errorf("stats %+v", st)
	}
	if len(sink.Rejects) != 1 || sink.Rejects[0].Line != 4 || sink.Rejects[0].Reason != reasonTooLong {
		t.Errorf("rejections %+v", sink.Rejects)
	}
	got := rows(sink, "S-1001", "reason", "source_ref")
	want := []string{"presence reason=Lunch source_ref=queue_log:1", "presence reason=" + strings.Repeat("y", 100000) + " source_ref=queue_log:5", "presence reason= source_ref=queue_log:6"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %.300q", got)
	}
}

func TestAgentCallback(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue_log")
	content := "1199174400|1199174400.1|NONE|Agent/1003|AGENTCALLBACKLOGIN|1003@from-internal\n" +
		"1199178000|NONE|NONE|Agent/1003|AGENTCALLBACKLOGOFF|1003@from-internal|3600|CommandLogoff\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	sink, _, err := fetch(t, Config{Paths: []string{path}}, sampleSubjects())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"logins event=login device=1003@from-internal event_raw=AGENTCALLBACKLOGIN", "logins event=logout device=1003@from-internal event_raw=AGENTCALLBACKLOGOFF"}
	if got := rows(sink, "S-1003", "event", "device", "event_raw"); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q", got)
	}
}

func TestStrict(t *testing.T) {
	sink, st, err := fetch(t, Config{Paths: []string{samplePath}, Strict: true}, sampleSubjects())
	if err == nil || err.Error() != `source "queues": 3 line(s) could not be read (strict mode)` {
		t.Errorf("err = %v", err)
	}
	if st.Rejected != 3 || len(sink.Rejects) != 3 {
		t.Errorf("%+v", st)
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"queue_log", "queue_log.1"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("1736159400|NONE|q|PJSIP/4321|PAUSE|"+n+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sink, _, err := fetch(t, Config{Paths: []string{filepath.Join(dir, "queue_log*"), filepath.Join(dir, "queue_log")}}, sampleSubjects()[:1])
	if err != nil {
		t.Fatal(err)
	}
	if got := rows(sink, "S-1001", "source_ref"); !reflect.DeepEqual(got, []string{"presence source_ref=queue_log:1", "presence source_ref=queue_log.1:1"}) {
		t.Errorf("got %q", got)
	}
	_, _, err = fetch(t, Config{Paths: []string{filepath.Join(dir, "missing*")}}, nil)
	if !errors.Is(err, source.ErrNoFiles) || !strings.HasPrefix(err.Error(), `source "queues": pattern "`) {
		t.Errorf("err = %v", err)
	}
	_, _, err = fetch(t, Config{Paths: []string{dir}}, nil)
	if err == nil || !strings.Contains(err.Error(), "matches a directory") {
		t.Errorf("err = %v", err)
	}
}

func TestKind(t *testing.T) {
	build := func(doc string) (source.Source, error) {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
			t.Fatal(err)
		}
		return Kind.New("queues", func(v any) error { return n.Content[0].Decode(v) }, func(p string) string {
			if p == "" || filepath.IsAbs(p) {
				return p
			}
			return filepath.Join("/etc/dsar", p)
		})
	}
	s, err := build("paths: [queue_log*, /var/log/asterisk/queue_log]\nstrict: true\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.(*QueueLog).cfg; !reflect.DeepEqual(got.Paths, []string{"/etc/dsar/queue_log*", "/var/log/asterisk/queue_log"}) || !got.Strict || s.Kind() != "asterisk-queuelog" {
		t.Errorf("%+v", got)
	}
	for doc, want := range map[string]string{
		"strict: true":  `source "queues": paths: at least one file glob is required (e.g. /var/log/asterisk/queue_log*)`,
		"paths: ['']":   `source "queues": paths[0] is empty`,
		"paths: ['a[']": `source "queues": paths[0] "/etc/dsar/a[": syntax error in pattern`,
	} {
		if _, err := build(doc); err == nil || err.Error() != want {
			t.Errorf("%q: err = %v, want %s", doc, err, want)
		}
	}
}

// FuzzQueueLogLine feeds arbitrary lines through the reader with a
// subject whose identifiers are whatever the line names, so that every
// readable login or pause line is emitted: nothing may panic, every
// record must fit its dataset, and a rejection must carry only a reason
// of our own.
func FuzzQueueLogLine(f *testing.F) {
	if b, err := os.ReadFile(samplePath); err == nil {
		for _, l := range bytes.Split(b, []byte("\n")) {
			f.Add(string(l))
		}
	}
	f.Add("1736159400|NONE|q|PJSIP/4321|PAUSE|Lunch")
	f.Add("1751326200|1751326200.151|reception|PJSIP/4400|ADDMEMBER|PAUSED")
	f.Add("1736238600|x|NONE|Agent/1003|AGENTLOGIN|PJSIP/43210-0000002a")
	f.Add("1761439200|y|reception|Local/4321@from-queue/n|REMOVEMEMBER|")
	f.Add("1|2|3|4|5|6|7|8|9")
	reasons := map[string]bool{reasonUTF8: true, reasonFields: true, reasonTime: true, reasonNoEvent: true, reasonTooLong: true}
	f.Fuzz(func(t *testing.T, line string) {
		var subjects []model.Subject
		wantOne := false
		if e, bad := parseLine([]byte(strings.TrimRight(line, "\r\n"))); bad == "" && !strings.ContainsAny(line, "\n") {
			a := strings.TrimSpace(e.agent)
			wantOne = classify(e.event) != other && a != "" && a != "NONE"
			var ids []model.Identifier
			if a := strings.TrimSpace(e.agent); a != "" {
				ids = append(ids, model.Identifier{Kind: model.KindAgent, Value: a})
			}
			if ep, ext := interfaceIDs(e.agent); ep != "" {
				ids = append(ids, model.Identifier{Kind: model.KindSIP, Value: ep})
			} else if ext != "" {
				ids = append(ids, model.Identifier{Kind: model.KindExtension, Value: ext})
			}
			if len(ids) > 0 {
				subjects = []model.Subject{{ID: "S-1", Identifiers: ids}}
			}
		}
		m, err := source.NewMatcher(subjects, "GB", time.UTC)
		if err != nil {
			t.Skip() // an identifier the matcher refuses
		}
		sink := &sourcetest.Recorder{T: t}
		var st source.Stats
		sc := newScan("queues", source.Query{Subjects: subjects, Matcher: m}, sink, &st)
		if err := sc.read(context.Background(), strings.NewReader(line), "queue_log"); err != nil {
			t.Fatal(err)
		}
		for _, r := range sink.Rejects {
			if !reasons[r.Reason] || r.File != "queue_log" || r.Line < 1 {
				t.Errorf("rejection %+v", r)
			}
		}
		if wantOne && len(sink.Records) == 0 {
			t.Errorf("a login or pause of a subject's own agent gave no record")
		}
		if st.Selected != int64(len(sink.Records)) || st.Rejected != int64(len(sink.Rejects)) {
			t.Errorf("stats %+v for %d records, %d rejections", st, len(sink.Records), len(sink.Rejects))
		}
	})
}
