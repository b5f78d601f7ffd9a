package asterisk

import (
	"strings"
	"testing"
	"time"

	"github.com/dsar-tool/dsar/exporter/source/sourcetest"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func wall(t *testing.T, s string) int64 {
	t.Helper()
	v, ok := parseLocal([]byte(s))
	if !ok {
		t.Fatalf("bad wall clock %q", s)
	}
	return v
}

// TestResolve checks the readings of wall-clock times around both 2025
// clock changes in Europe/London (30 March 01:00 GMT -> 02:00 BST;
// 26 October 02:00 BST -> 01:00 GMT).
func TestResolve(t *testing.T) {
	tests := []struct {
		local string
		want  []string // every instant it can stand for, ascending
	}{
		{"2025-01-15 12:00:00", []string{"2025-01-15T12:00:00Z"}},
		{"2025-07-15 12:00:00", []string{"2025-07-15T11:00:00Z"}},
		// spring: 01:00:00-01:59:59 never happen
		{"2025-03-30 00:59:59", []string{"2025-03-30T00:59:59Z"}},
		{"2025-03-30 01:00:00", nil},
		{"2025-03-30 01:30:00", nil},
		{"2025-03-30 01:59:59", nil},
		{"2025-03-30 02:00:00", []string{"2025-03-30T01:00:00Z"}},
		// autumn: 01:00:00-01:59:59 happen twice
		{"2025-10-26 00:59:59", []string{"2025-10-25T23:59:59Z"}},
		{"2025-10-26 01:00:00", []string{"2025-10-26T00:00:00Z", "2025-10-26T01:00:00Z"}},
		{"2025-10-26 01:40:00", []string{"2025-10-26T00:40:00Z", "2025-10-26T01:40:00Z"}},
		{"2025-10-26 01:59:59", []string{"2025-10-26T00:59:59Z", "2025-10-26T01:59:59Z"}},
		{"2025-10-26 02:00:00", []string{"2025-10-26T02:00:00Z"}},
	}
	z := newZoneResolver(sourcetest.London(t))
	for _, order := range []string{"forward", "backward"} { // the cache must not change answers
		for i := range tests {
			tc := tests[i]
			if order == "backward" {
				tc = tests[len(tests)-1-i]
			}
			c, n := z.resolve(wall(t, tc.local))
			var got []string
			for _, u := range c[:n] {
				got = append(got, time.Unix(u, 0).UTC().Format(time.RFC3339))
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("%s: resolve(%s) = %v, want %v", order, tc.local, got, tc.want)
			}
		}
	}
}

func TestResolveUTC(t *testing.T) {
	for _, name := range []string{"UTC", "GMT", "Etc/UTC"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		z := newZoneResolver(loc)
		for _, s := range []string{"2025-03-30 01:30:00", "2025-10-26 01:30:00", "2025-06-01 12:00:00"} {
			c, n := z.resolve(wall(t, s))
			if n != 1 || c[0] != wall(t, s) {
				t.Errorf("%s: resolve(%s) = %v (%d readings), want the same wall clock", name, s, c[:n], n)
			}
		}
	}
}

// dstRow is a call row with the given wall-clock times and durations.
func dstRow(start, answer, end, dur, bill string) row {
	return row{src: "4321", dst: "4312", ch: "PJSIP/4321-00000001", dch: "PJSIP/siobhan-desk-00000002",
		clid: `"Alex Example" <4321>`, start: start, answer: answer, end: end, dur: dur, bill: bill}
}

func TestDSTFetch(t *testing.T) {
	tests := []struct {
		name              string
		rows              []row // the last row is the one checked
		start, answr, end string
	}{
		{
			name:  "spring forward, call across the change",
			rows:  []row{dstRow("2025-03-30 00:55:00", "2025-03-30 00:55:20", "2025-03-30 02:05:00", "600", "580")},
			start: "2025-03-30T00:55:00Z", answr: "2025-03-30T00:55:20Z", end: "2025-03-30T01:05:00Z",
		},
		{
			name:  "spring forward, just after",
			rows:  []row{dstRow("2025-03-30 02:00:00", "2025-03-30 02:00:05", "2025-03-30 02:01:00", "60", "55")},
			start: "2025-03-30T01:00:00Z", answr: "2025-03-30T01:00:05Z", end: "2025-03-30T01:01:00Z",
		},
		{
			name:  "autumn, ends in the repeated hour, BST reading by duration",
			rows:  []row{dstRow("2025-10-26 00:50:00", "2025-10-26 00:50:10", "2025-10-26 01:20:00", "1800", "1790")},
			start: "2025-10-25T23:50:00Z", answr: "2025-10-25T23:50:10Z", end: "2025-10-26T00:20:00Z",
		},
		{
			name:  "autumn, ends in the repeated hour, GMT reading by duration",
			rows:  []row{dstRow("2025-10-26 00:50:00", "2025-10-26 00:50:10", "2025-10-26 01:20:00", "5400", "5390")},
			start: "2025-10-25T23:50:00Z", answr: "2025-10-25T23:50:10Z", end: "2025-10-26T01:20:00Z",
		},
		{
			name:  "autumn, starts in the repeated hour, BST reading by duration",
			rows:  []row{dstRow("2025-10-26 01:50:00", "2025-10-26 01:50:12", "2025-10-26 02:10:00", "4800", "4788")},
			start: "2025-10-26T00:50:00Z", answr: "2025-10-26T00:50:12Z", end: "2025-10-26T02:10:00Z",
		},
		{
			name:  "autumn, starts in the repeated hour, GMT reading by duration",
			rows:  []row{dstRow("2025-10-26 01:50:00", "2025-10-26 01:50:12", "2025-10-26 02:10:00", "1200", "1188")},
			start: "2025-10-26T01:50:00Z", answr: "2025-10-26T01:50:12Z", end: "2025-10-26T02:10:00Z",
		},
		{
			name:  "autumn, start BST and end GMT inside the repeated hour (end before start on the wall clock)",
			rows:  []row{dstRow("2025-10-26 01:50:00", "2025-10-26 01:50:12", "2025-10-26 01:10:00", "1200", "1188")},
			start: "2025-10-26T00:50:00Z", answr: "2025-10-26T00:50:12Z", end: "2025-10-26T01:10:00Z",
		},
		{
			name:  "autumn, only the answer is ambiguous, billsec decides (GMT)",
			rows:  []row{dstRow("2025-10-26 00:40:00", "2025-10-26 01:20:00", "2025-10-26 02:00:00", "8400", "2400")},
			start: "2025-10-25T23:40:00Z", answr: "2025-10-26T01:20:00Z", end: "2025-10-26T02:00:00Z",
		},
		{
			name:  "autumn, only the answer is ambiguous, billsec decides (BST)",
			rows:  []row{dstRow("2025-10-26 00:40:00", "2025-10-26 01:20:00", "2025-10-26 02:00:00", "8400", "6000")},
			start: "2025-10-25T23:40:00Z", answr: "2025-10-26T00:20:00Z", end: "2025-10-26T02:00:00Z",
		},
		{
			name:  "autumn, duration a second short (Asterisk truncates)",
			rows:  []row{dstRow("2025-10-26 00:50:00", "2025-10-26 00:50:10", "2025-10-26 01:20:00", "5399", "5389")},
			start: "2025-10-25T23:50:00Z", answr: "2025-10-25T23:50:10Z", end: "2025-10-26T01:20:00Z",
		},
		{
			name:  "autumn, wholly in the repeated hour, first row: the earlier reading",
			rows:  []row{dstRow("2025-10-26 01:20:00", "2025-10-26 01:20:08", "2025-10-26 01:25:00", "300", "292")},
			start: "2025-10-26T00:20:00Z", answr: "2025-10-26T00:20:08Z", end: "2025-10-26T00:25:00Z",
		},
		{
			name: "autumn, wholly in the repeated hour after a row that ended in GMT: GMT",
			rows: []row{
				dstRow("2025-10-26 00:30:00", "2025-10-26 00:30:10", "2025-10-26 01:15:00", "6300", "6290"),
				dstRow("2025-10-26 01:20:00", "2025-10-26 01:20:08", "2025-10-26 01:25:00", "300", "292"),
			},
			start: "2025-10-26T01:20:00Z", answr: "2025-10-26T01:20:08Z", end: "2025-10-26T01:25:00Z",
		},
		{
			name: "autumn, wholly in the repeated hour after a row that ended in BST: BST",
			rows: []row{
				dstRow("2025-10-26 00:30:00", "2025-10-26 00:30:10", "2025-10-26 01:15:00", "2700", "2690"),
				dstRow("2025-10-26 01:20:00", "2025-10-26 01:20:08", "2025-10-26 01:25:00", "300", "292"),
			},
			start: "2025-10-26T00:20:00Z", answr: "2025-10-26T00:20:08Z", end: "2025-10-26T00:25:00Z",
		},
		{
			name:  "unanswered call in the repeated hour",
			rows:  []row{dstRow("2025-10-26 00:59:50", "", "2025-10-26 01:00:10", "20", "0")},
			start: "2025-10-25T23:59:50Z", end: "2025-10-26T00:00:10Z",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			for _, r := range tc.rows {
				b.WriteString(r.String())
			}
			sink, st, err := fetch(t, Config{}, b.String(), sampleSubjects())
			if err != nil || st.Rejected != 0 {
				t.Fatalf("err %v, stats %+v, rejects %+v", err, st, sink.Rejects)
			}
			recs := sink.BySubject("S-1001")
			if len(recs) != len(tc.rows) {
				t.Fatalf("%d records, want %d", len(recs), len(tc.rows))
			}
			r := recs[len(recs)-1]
			if got := get(r, "start_utc"); got != utc(tc.start) {
				t.Errorf("start_utc %v, want %s", got, tc.start)
			}
			if got := get(r, "end_utc"); got != utc(tc.end) {
				t.Errorf("end_utc %v, want %s", got, tc.end)
			}
			if tc.answr == "" {
				if got := get(r, "answer_utc"); got != nil {
					t.Errorf("answer_utc %v, want null", got)
				}
			} else if got := get(r, "answer_utc"); got != utc(tc.answr) {
				t.Errorf("answer_utc %v, want %s", got, tc.answr)
			}
		})
	}
}

// TestDSTGapRejected checks that a wall-clock time that did not exist (the
// hour skipped on 30 March 2025) is rejected, naming the field.
func TestDSTGapRejected(t *testing.T) {
	tests := []struct {
		r     row
		field string
	}{
		{dstRow("2025-03-30 01:30:00", "2025-03-30 01:30:05", "2025-03-30 02:31:00", "60", "55"), "start"},
		{dstRow("2025-03-30 00:59:00", "2025-03-30 01:00:00", "2025-03-30 02:01:00", "120", "60"), "answer"},
		{dstRow("2025-03-30 00:59:00", "", "2025-03-30 01:00:30", "30", "0"), "end"},
	}
	for _, tc := range tests {
		good := dstRow("2025-03-30 03:00:00", "2025-03-30 03:00:05", "2025-03-30 03:01:00", "60", "55")
		sink, st, err := fetch(t, Config{}, tc.r.String()+good.String(), sampleSubjects())
		if err != nil {
			t.Fatal(err)
		}
		if st.Read != 2 || st.Rejected != 1 || st.Selected != 2 || len(sink.Rejects) != 1 {
			t.Fatalf("%s: stats %+v, rejects %+v", tc.field, st, sink.Rejects)
		}
		rj := sink.Rejects[0]
		want := "time in field " + tc.field + " does not exist in zone Europe/London (clock change)"
		if rj.Line != 1 || rj.File != "Master.csv" || rj.Source != "pbx" || rj.Reason != want {
			t.Errorf("rejection %+v, want line 1, reason %q", rj, want)
		}
		if len(sink.BySubject("S-1001")) != 1 {
			t.Errorf("the good row was not emitted")
		}
	}
}

// TestUTCZone checks usegmtime=yes files (timezone UTC or GMT): the
// London gap and repeated hour are ordinary times.
func TestUTCZone(t *testing.T) {
	for _, tz := range []string{"UTC", "GMT"} {
		content := dstRow("2025-03-30 01:30:00", "2025-03-30 01:30:05", "2025-03-30 01:31:00", "60", "55").String() +
			dstRow("2025-10-26 01:20:00", "2025-10-26 01:20:08", "2025-10-26 01:25:00", "9999", "1").String() +
			dstRow("2025-07-01 12:00:00", "", "2025-07-01 12:00:20", "20", "0").String()
		sink, st, err := fetch(t, Config{Timezone: tz}, content, sampleSubjects())
		if err != nil || st.Rejected != 0 {
			t.Fatalf("%s: err %v, stats %+v", tz, err, st)
		}
		recs := sink.BySubject("S-1001")
		if len(recs) != 3 {
			t.Fatalf("%s: %d records", tz, len(recs))
		}
		for i, want := range []string{"2025-03-30T01:30:00Z", "2025-10-26T01:20:00Z", "2025-07-01T12:00:00Z"} {
			if got := get(recs[i], "start_utc"); got != utc(want) {
				t.Errorf("%s: row %d start_utc %v, want %s", tz, i+1, got, want)
			}
		}
	}
}
