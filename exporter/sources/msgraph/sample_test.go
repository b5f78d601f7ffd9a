package msgraph

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/source/sourcetest"
)

// sampleCase is one kind over its files in samples/msgraph.
type sampleCase struct {
	kind     string
	glob     string
	apps     []string // entra-signins only
	want     map[string]map[string]int
	read     int64
	rejected int64
	dups     int64
}

var sampleCases = []sampleCase{
	{
		// Alex: the P2P call to Siobhán and the PSTN call he answered
		// (sessions in detail.json), two sessions of the meeting, and the
		// list-only call with deprecated participants. Siobhán: the P2P
		// call, the meeting she organised, the list-only call. Chen: the
		// declined call to Alex Brown (a near miss of Alex), the meeting,
		// and the call-queue segment. Alex Brown's own call is no one's.
		kind: KindCallRecords, glob: "callrecords/*.json",
		want: map[string]map[string]int{
			"S-1001": {"calls": 5},
			"S-1002": {"calls": 3},
			"S-1006": {"calls": 3},
		},
		read: 12, rejected: 1, dups: 3,
	},
	{
		// Alex: his call to Chen's mobile, an inbound call (saved twice),
		// and his call from his desk number to the helpdesk queue (a bot
		// row with no user). Chen: Alex's call to her mobile, and her
		// inbound call across midnight. Siobhán: her unanswered call to a
		// near miss of Alex's number.
		kind: KindPSTN, glob: "pstn/*.json",
		want: map[string]map[string]int{
			"S-1001": {"calls": 3},
			"S-1002": {"calls": 1},
			"S-1006": {"calls": 2},
		},
		read: 8, rejected: 1, dups: 1,
	},
	{
		kind: KindPresence, glob: "presence/*.jsonl",
		want: map[string]map[string]int{
			"S-1001": {"presence": 4},
			"S-1002": {"presence": 2},
			"S-1006": {"presence": 2},
		},
		read: 13, rejected: 2, dups: 1,
	},
	{
		kind: KindSignIns, glob: "signins/*.json",
		want: map[string]map[string]int{
			"S-1001": {"logins": 3},
			"S-1002": {"logins": 2},
			"S-1006": {"logins": 1},
		},
		read: 9, rejected: 1, dups: 1,
	},
	{
		// The same, kept to the Teams apps: Alex's Microsoft Office
		// sign-in goes.
		kind: KindSignIns, glob: "signins/*.json",
		apps: []string{"microsoft teams", "5e3ce6c0-2b1f-4285-8d4b-75EE78787346"},
		want: map[string]map[string]int{
			"S-1001": {"logins": 2},
			"S-1002": {"logins": 2},
			"S-1006": {"logins": 1},
		},
		read: 9, rejected: 1, dups: 1,
	},
}

func (c sampleCase) source(t testing.TB) *Source {
	t.Helper()
	paths := []string{filepath.Join(sampleDir, c.glob)}
	if c.kind == KindSignIns {
		s, err := NewSignIns("graph", SignInsConfig{Config: Config{Paths: paths}, Apps: c.apps})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return mustNew(t, c.kind, paths...)
}

// TestConformance runs the shared suite over each kind's samples.
func TestConformance(t *testing.T) {
	for _, c := range sampleCases {
		name := c.kind
		if c.apps != nil {
			name += "-apps"
		}
		t.Run(name, func(t *testing.T) {
			sourcetest.Run(t, sourcetest.Case{
				New:      func(t testing.TB) source.Source { return c.source(t) },
				Subjects: sampleSubjects(t),
				Want:     c.want,
				Rejected: c.rejected,
			})
		})
	}
}

// TestSampleStats checks what each Fetch read and dropped.
func TestSampleStats(t *testing.T) {
	for _, c := range sampleCases {
		s := c.source(t)
		_, st := fetch(t, s, sampleSubjects(t))
		if st.Read != c.read || st.Rejected != c.rejected || s.Duplicates() != c.dups {
			t.Errorf("%s %v: stats %+v, %d duplicates; want read %d, rejected %d, %d duplicates", c.kind, c.apps, st, s.Duplicates(), c.read, c.rejected, c.dups)
		}
	}
}

// rows renders the chosen columns of each record as "subject|v1|v2...",
// sorted.
func rows(sink *sourcetest.Recorder, cols ...string) []string {
	var out []string
	for _, e := range sink.Records {
		parts := []string{e.Subject}
		for _, c := range cols {
			v := sourcetest.Col(e.Dataset, e.Record, c)
			switch x := v.(type) {
			case time.Time:
				parts = append(parts, x.Format("01-02T15:04:05"))
			case nil:
				parts = append(parts, "-")
			default:
				parts = append(parts, fmt.Sprint(x))
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	sort.Strings(out)
	return out
}

// diff compares two lists of rows in any order.
func diff(t *testing.T, got, want []string) {
	t.Helper()
	got, want = append([]string(nil), got...), append([]string(nil), want...)
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

func TestSampleCallRecords(t *testing.T) {
	sink, _ := fetch(t, mustNew(t, KindCallRecords, filepath.Join(sampleDir, "callrecords/*.json")), sampleSubjects(t))
	got := rows(sink, "unique_id", "start_utc", "answer_utc", "duration_s", "talk_s", "direction", "outcome", "outcome_raw", "subject_role", "subject_number", "other_number", "other_name", "channel", "dst_channel")
	want := []string{
		// P2P call Alex → Siobhán: one session, matched by associatedIdentity.
		"S-1001|2f1c5a7e-8b3d-4c6f-9a1e-5d7b3c9f1a01|01-06T09:02:11|01-06T09:02:11|316|316|internal|answered||caller|alex@uni.example.ac.uk|siobhan.nibhriain@uni.example.ac.uk|Siobhán Ní Bhriain|teams/windows|teams/android",
		// PSTN call to Alex: deprecated endpoint identity (user id only, phone).
		"S-1001|7a3e9b21-0c4d-4f6e-8a1b-2c3d4e5f6a02|01-06T10:28:38|01-06T10:28:38|303|303|inbound|answered||callee|6d2f1a3b-8c4e-4f5a-9b6c-1d2e3f4a5b6c|+441632960999|||teams/windows",
		// The meeting: Alex joined twice.
		"S-1001|9d1e2f30-4a5b-4c6d-8e7f-0a1b2c3d4e02|01-06T14:00:10|01-06T14:00:10|1221|1221|internal|answered||caller|alex@uni.example.ac.uk|||teams/windows|service/conferencing",
		"S-1001|9d1e2f30-4a5b-4c6d-8e7f-0a1b2c3d4e03|01-06T14:21:05|01-06T14:21:05|2435|2435|internal|answered||caller|alex@uni.example.ac.uk|||teams/iOS|service/conferencing",
		// The list-only call: deprecated organizer and participants.
		"S-1001|2f1c5a7e-8b3d-4c6f-9a1e-5d7b3c9f1a05|01-06T16:20:00|-|1317|0|internal|unknown||caller|6d2f1a3b-8c4e-4f5a-9b6c-1d2e3f4a5b6c||Siobhán Ní Bhriain||",
		"S-1002|2f1c5a7e-8b3d-4c6f-9a1e-5d7b3c9f1a01|01-06T09:02:11|01-06T09:02:11|316|316|internal|answered||callee|siobhan.nibhriain@uni.example.ac.uk|alex@uni.example.ac.uk|Alex Example|teams/windows|teams/android",
		"S-1002|2f1c5a7e-8b3d-4c6f-9a1e-5d7b3c9f1a05|01-06T16:20:00|-|1317|0|internal|unknown||callee|0a7c3e55-2b1d-4e8f-a6b3-9c4d5e6f7a80||Alex Example||",
		"S-1002|9d1e2f30-4a5b-4c6d-8e7f-0a1b2c3d4e01|01-06T13:58:02|01-06T13:58:02|3822|3822|internal|answered||caller|siobhan.nibhriain@uni.example.ac.uk|||teams/windows|service/conferencing",
		// Chen's call-queue segment: the session's caller is a phone.
		"S-1006|5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e82|01-07T09:01:15|01-07T09:01:15|287|287|inbound|answered||callee|chen.wei@uni.example.ac.uk||IT Helpdesk||teams/windows",
		// Chen's declined call to Alex Brown (alex.b@, not Alex).
		"S-1006|7a3e9b21-0c4d-4f6e-8a1b-2c3d4e5f6a03|01-06T12:15:00|-|21|0|internal|busy|callSetup: CallDeclined|caller|chen.wei@uni.example.ac.uk|alex.b@uni.example.ac.uk|Alex Brown|teams/macOS|teams/windows",
		// Chen's meeting session dropped mid-call.
		"S-1006|9d1e2f30-4a5b-4c6d-8e7f-0a1b2c3d4e04|01-06T14:05:00|01-06T14:05:00|1812|1812|internal|failed|midcall: NetworkError|caller|chen.wei@uni.example.ac.uk|||teams/macOS|service/conferencing",
	}
	diff(t, got, want)
	for _, e := range sink.Records {
		if e.Subject == "S-1001" && strings.Contains(fmt.Sprint(e.Record), alexBID) {
			t.Errorf("Alex got Alex Brown's record %v", e.Record)
		}
		if sourcetest.Col(model.Calls, e.Record, "call_id") == "2f1c5a7e-8b3d-4c6f-9a1e-5d7b3c9f1a06" {
			t.Errorf("Alex Brown's call matched %s", e.Subject)
		}
	}
	// The meeting's rows come from the newer version with sessions, not
	// from the list page's version 1.
	for _, e := range sink.Records {
		if sourcetest.Col(model.Calls, e.Record, "call_id") == "2f1c5a7e-8b3d-4c6f-9a1e-5d7b3c9f1a04" && sourcetest.Col(model.Calls, e.Record, "source_ref") != "detail-meeting.json:1" {
			t.Errorf("meeting row from %v", sourcetest.Col(model.Calls, e.Record, "source_ref"))
		}
	}
}

func TestSamplePSTN(t *testing.T) {
	sink, _ := fetch(t, mustNew(t, KindPSTN, filepath.Join(sampleDir, "pstn/*.json")), sampleSubjects(t))
	got := rows(sink, "call_id", "start_utc", "answer_utc", "end_utc", "duration_s", "talk_s", "direction", "outcome", "subject_role", "subject_number", "other_number", "other_name", "application")
	want := []string{
		// Alex rings Chen's mobile from Teams.
		"S-1001|1835317186_112562680@52.114.7.24|01-06T08:41:03|01-06T08:41:08|01-06T08:44:13|190|185|outbound|answered|caller|+441632960555|+447700900123||user_out",
		"S-1001|1835317190_112562714@52.114.7.24|01-06T10:28:38|01-06T10:28:42|01-06T10:33:41|303|299|inbound|answered|callee|+441632960555|+441632960999||user_in",
		// From his desk number to the helpdesk queue (ucap_in, no user).
		"S-1001|1835317302_112563001@52.114.7.24|01-07T08:59:40|01-07T08:59:40|01-07T09:06:02|382|382|outbound|answered|caller|+441632960555|+442079460100||ucap_in",
		// Siobhán's call to +441632960554, one digit from Alex's number.
		"S-1002|1835317201_112562755@52.114.7.24|01-06T11:05:00|-|01-06T11:05:31|31|0|outbound|no_answer|caller|+442079460312|+441632960554||user_out",
		// Chen: the call to her mobile, seen from her side.
		"S-1006|1835317186_112562680@52.114.7.24|01-06T08:41:03|01-06T08:41:08|01-06T08:44:13|190|185|inbound|answered|callee|+447700900123|+441632960555|Alex Example|user_out",
		"S-1006|1835317250_112562862@52.114.7.24|01-06T23:55:10|01-06T23:55:23|01-07T00:12:44|1054|1041|inbound|answered|callee|+442079460777|+442079460999||user_in",
	}
	diff(t, got, want)
	if d := sourcetest.Col(model.Calls, sink.BySubject("S-1001")[0], "application_data"); d != "destination=United Kingdom; context=Domestic; charge=0.09 GBP; connection_charge=0.0 GBP; licence=MCOPSTNU; number_type=Subscriber; operator=Microsoft; duration_source=microsoft" {
		t.Errorf("application_data %q", d)
	}
}

func TestSamplePresence(t *testing.T) {
	sink, _ := fetch(t, mustNew(t, KindPresence, filepath.Join(sampleDir, "presence/*.jsonl")), sampleSubjects(t))
	got := rows(sink, "source_ref", "at_utc", "state", "activity", "state_raw", "subject_identifier")
	want := []string{
		"S-1001|capture-2025-01-06.jsonl:1|01-06T09:02:12|busy|InACall|Busy|" + alexID,
		"S-1001|capture-2025-01-06.jsonl:11|01-06T17:31:08|offline|offWork|offline|" + alexID,
		"S-1001|capture-2025-01-06.jsonl:3|01-06T09:07:29|available|Available|Available|" + alexID,
		"S-1001|capture-2025-01-06.jsonl:7|01-06T12:00:00|away|Away|Away|" + alexID,
		"S-1002|capture-2025-01-06.jsonl:12|01-06T17:45:00|unknown|PresenceUnknown|PresenceUnknown|" + sioID,
		"S-1002|capture-2025-01-06.jsonl:3|01-06T09:07:29|available|Available|Available|" + sioID,
		"S-1006|capture-2025-01-06.jsonl:2|01-06T09:02:12|do_not_disturb|Presenting|DoNotDisturb|" + chenID,
		"S-1006|capture-2025-01-06.jsonl:6|01-06T10:42:03|be_right_back|BeRightBack|BeRightBack|" + chenID,
	}
	diff(t, got, want)
	var reasons []string
	for _, r := range sink.Rejects {
		reasons = append(reasons, fmt.Sprintf("%s:%d %s", r.File, r.Line, r.Reason))
	}
	diff(t, reasons, []string{
		"capture-2025-01-06.jsonl:5 record 5: encrypted content was not decrypted: the capture must store it as decryptedContent",
		"capture-2025-01-06.jsonl:9 record 9: the line ends inside the record (truncated)",
	})
}

func TestSampleSignIns(t *testing.T) {
	sink, _ := fetch(t, mustNew(t, KindSignIns, filepath.Join(sampleDir, "signins/*.json")), sampleSubjects(t))
	got := rows(sink, "at_utc", "event", "result", "error_code", "subject_identifier", "application", "client", "ip_address", "device", "location", "event_raw")
	want := []string{
		"S-1001|01-06T08:01:44|sign_in|failure|50126|alex@uni.example.ac.uk|Microsoft Teams Web Client|Browser; Edge 131.0.0|2a02:c7c:1e25:8f00:4d1c:a3b2:91e0:7a6f|Windows 10|Manchester, Manchester, GB|signIn (interactive)",
		"S-1001|01-06T08:02:31|sign_in|success||alex@uni.example.ac.uk|Microsoft Teams|Mobile Apps and Desktop clients|81.2.69.160|UNI-LT-04417, Windows 11|Manchester, Manchester, GB|signIn (interactive)",
		"S-1001|01-06T08:03:05|sign_in|success||alex@uni.example.ac.uk|Microsoft Office|Mobile Apps and Desktop clients|81.2.69.160|UNI-LT-04417, Windows 11|Manchester, Manchester, GB|signIn (non-interactive)",
		"S-1002|01-06T09:10:09|sign_in|failure|50074|siobhan.nibhriain@uni.example.ac.uk|Microsoft Teams|Mobile Apps and Desktop clients; Edge 131.0.0|81.2.69.190|Windows 10|Dún Laoghaire, Dublin, IE|signIn (interactive)",
		"S-1002|01-06T09:11:52|sign_in|success||siobhan.nibhriain@uni.example.ac.uk|Microsoft Teams Web Client|Browser; Safari 18.2|81.2.69.190|MacOs|Manchester, Manchester, GB|signIn (interactive)",
		"S-1006|01-06T07:45:12|sign_in|success||chen.wei@uni.example.ac.uk|Microsoft Teams|Mobile Apps and Desktop clients|185.12.64.10|Ios 17.6.1|Zürich, Zürich, CH|signIn (interactive)",
	}
	diff(t, got, want)
	for _, r := range sink.BySubject("S-1001") {
		if sourcetest.Col(model.Logins, r, "result") == "failure" && sourcetest.Col(model.Logins, r, "error_reason") != "Error validating credentials due to invalid username or password. (The user didn't enter the right credentials. It's expected to see some number of these errors in your logs due to users making mistakes.)" {
			t.Errorf("error_reason %q", sourcetest.Col(model.Logins, r, "error_reason"))
		}
	}
}
