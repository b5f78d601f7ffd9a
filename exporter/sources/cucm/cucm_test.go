package cucm

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

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/source/sourcetest"
	"github.com/dsar-tool/dsar/exporter/sources/internal/textrec"
)

const sampleDir = "../../../samples/cucm"

// sampleSubjects are the staff of the CUCM sample files: the people of
// samples/subjects.yaml with their CUCM user ids and phones.
func sampleSubjects() []model.Subject {
	id := sourcetest.ID
	return []model.Subject{
		{ID: "S-1001", Name: "Alex Example", Identifiers: []model.Identifier{
			id(model.KindExtension, "4321", "2024-09-01", ""),
			id(model.KindPhone, "01632 960555", "", ""),
			id(model.KindCUCMUser, "alex.example", "", ""),
			id(model.KindDevice, "SEP00AA11BB4321", "", ""),
		}},
		{ID: "S-1002", Name: "Siobhán Ní Bhriain", Identifiers: []model.Identifier{
			id(model.KindExtension, "4312", "", ""),
			id(model.KindPhone, "020 7946 0312", "", ""),
			id(model.KindCUCMUser, "Siobhán.NíBhriain", "", ""),
		}},
		{ID: "S-1003", Name: "Priya Raman", Identifiers: []model.Identifier{
			id(model.KindExtension, "43210", "", ""),
		}},
		{ID: "S-1004", Name: "Zoë Łukasik", Identifiers: []model.Identifier{
			id(model.KindExtension, "1432", "", ""),
			id(model.KindCUCMUser, "zoë.łukasik", "", ""),
		}},
		{ID: "S-1005", Name: "Dana Whitfield", Identifiers: []model.Identifier{
			id(model.KindExtension, "4400", "", "2025-06-30"),
			id(model.KindDevice, "sep00aa11bb4400", "", "2025-06-30"),
		}},
		{ID: "S-1006", Name: "陈伟 (Chen Wei)", Identifiers: []model.Identifier{
			id(model.KindExtension, "4400", "2025-07-01", ""),
			id(model.KindCUCMUser, "陈伟", "2025-07-01", ""),
		}},
	}
}

func sampleSource(t testing.TB) *Source {
	t.Helper()
	s, err := New("cucm", Config{Paths: []string{filepath.Join(sampleDir, "c*_StandAloneCluster_*")}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The sample's expected selection. Traps that must not match: a number
// only in comment and clientMatterCode (line 6 of the 11.x file), a
// near-miss DID +441632960556 and user alex.example2, the 11.x-layout
// row in the later release's file, the CMR file's directoryNum 4321, and
// extension 4400 after it moved from Dana to Chen (a call at 23:30 UTC
// on 30 June is 1 July in London, so Chen's).
func TestConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Case{
		New:      func(t testing.TB) source.Source { return sampleSource(t) },
		Subjects: sampleSubjects(),
		Want: map[string]map[string]int{
			"S-1001": {"calls": 8},
			"S-1002": {"calls": 6},
			"S-1003": {"calls": 3},
			"S-1004": {"calls": 2},
			"S-1005": {"calls": 1},
			"S-1006": {"calls": 2},
		},
		Rejected: 5,
	})
}

// get returns the named column of a calls record.
func get(r model.Record, col string) any { return sourcetest.Col(model.Calls, r, col) }

func TestSampleRecords(t *testing.T) {
	sink := &sourcetest.Recorder{T: t}
	st, err := sampleSource(t).Fetch(context.Background(), sourcetest.Query(t, sampleSubjects()), sink)
	if err != nil {
		t.Fatal(err)
	}
	// 17 rows in the 11.x file, 6 in the later one, 3 CMRs (read, not
	// selected, not rejected).
	if st.Read != 26 || st.Selected != 22 || st.Rejected != 5 {
		t.Errorf("stats %+v, want read 26, selected 22, rejected 5", st)
	}
	const f1, f2 = "cdr_StandAloneCluster_01_202501061000_1", "cdr_StandAloneCluster_01_202507011000_1"
	wantRejects := []model.Rejection{
		{Source: "cucm", File: f1, Line: 13, Reason: "expected 129 fields (as the file header), got 60"},
		{Source: "cucm", File: f1, Line: 14, Reason: "non-integer in INTEGER field duration"},
		{Source: "cucm", File: f1, Line: 15, Reason: "unexpected character after closing quote in field comment"},
		{Source: "cucm", File: f1, Line: 16, Reason: "invalid UTF-8"},
		{Source: "cucm", File: f2, Line: 7, Reason: "expected 133 fields (as the file header), got 129"},
	}
	if len(sink.Rejects) != len(wantRejects) {
		t.Fatalf("rejections %+v", sink.Rejects)
	}
	for i, w := range wantRejects {
		if sink.Rejects[i] != w {
			t.Errorf("rejection %d = %+v, want %+v", i, sink.Rejects[i], w)
		}
	}

	alex := "S-1001"
	type want map[string]any
	check := func(r model.Record, w want) {
		t.Helper()
		for col, v := range w {
			if got := get(r, col); got != v {
				t.Errorf("%v %s = %#v, want %#v", get(r, "source_ref"), col, got, v)
			}
		}
	}
	check(sink.ByRef(alex, f1+":3"), want{
		"call_id": "1-1000", "leg": int64(0), "source": "cucm", "subject_role": "caller", "subject_number": "4321",
		"other_number": "4312", "direction": "internal", "outcome": "answered", "outcome_raw": "orig=16 dest=0",
		"start_utc": time.Date(2025, 1, 6, 10, 0, 0, 0, time.UTC), "answer_utc": time.Date(2025, 1, 6, 10, 0, 4, 0, time.UTC),
		"end_utc": time.Date(2025, 1, 6, 10, 5, 20, 0, time.UTC), "duration_s": int64(320), "talk_s": int64(316),
		"channel": "SEP00AA11BB4321", "dst_channel": "SEP00AA11BB4312", "unique_id": "4c281159-28c0-5cf2-b73d-a9498e147920",
	})
	check(sink.ByRef(alex, f1+":4"), want{"subject_role": "callee", "other_number": "+447700900461", "direction": "inbound",
		"channel": "UKGW01-SIP-TRUNK"})
	check(sink.ByRef(alex, f1+":5"), want{"subject_role": "caller", "other_number": "+442079460999", "direction": "outbound"})
	// Transfer: Siobhán answered (split leg), consulted Alex, and the
	// caller ended up with Alex; lastRedirectDn names Siobhán.
	sio := "S-1002"
	check(sink.ByRef(sio, f1+":9"), want{"call_id": "1-1001", "subject_role": "callee", "outcome": "answered", "outcome_raw": "orig=0 dest=393216"})
	check(sink.ByRef(sio, f1+":10"), want{"call_id": "1-1002", "subject_role": "caller", "other_number": "4321"})
	check(sink.ByRef(sio, f1+":11"), want{"call_id": "1-1001", "subject_role": "callee", "subject_number": "4312", "direction": "inbound"})
	check(sink.ByRef(alex, f1+":11"), want{"call_id": "1-1001", "subject_role": "callee", "subject_number": "4321"})
	// Forwarded to voicemail on no answer: Alex is the original callee.
	check(sink.ByRef(alex, f1+":17"), want{"subject_role": "callee", "other_number": "+447700900555", "dst_channel": "CiscoUM1-VI3"})
	// Alex's DID presented from Jabber on a mobile (BOT device).
	check(sink.ByRef(alex, f1+":19"), want{"subject_role": "caller", "subject_number": "+441632960555", "direction": "outbound"})
	// A call across midnight.
	check(sink.ByRef(alex, f2+":5"), want{"duration_s": int64(280), "end_utc": time.Date(2025, 7, 2, 0, 3, 10, 0, time.UTC)})

	priya := "S-1003"
	check(sink.ByRef(priya, f1+":7"), want{"outcome": "no_answer", "outcome_raw": "orig=0 dest=19", "answer_utc": nil, "talk_s": int64(0),
		"other_number": "+441632960556", "direction": "inbound"})
	dana := "S-1005"
	check(sink.ByRef(dana, f1+":8"), want{"outcome": "busy", "direction": "outbound", "other_number": "+447700900123"})
	// Zoë only by her login id (written in capitals), on a shared phone.
	zoe := "S-1004"
	check(sink.ByRef(zoe, f1+":12"), want{"subject_role": "caller", "subject_number": "ZOË.ŁUKASIK", "outcome": "cancelled"})
	check(sink.ByRef(zoe, f2+":6"), want{"subject_role": "callee", "subject_number": "zoë.łukasik", "outcome": "no_answer"})
	chen := "S-1006"
	check(sink.ByRef(chen, f2+":3"), want{"subject_number": "4400", "direction": "outbound"})
	check(sink.ByRef(chen, f2+":4"), want{"subject_number": "4400", "subject_role": "callee"})
}

func TestOneSubjectAmongMany(t *testing.T) {
	// Asking only for Dana: the reassigned extension gives her January
	// call only.
	subj := sampleSubjects()[4]
	sink := &sourcetest.Recorder{T: t}
	if _, err := sampleSource(t).Fetch(context.Background(), sourcetest.Query(t, []model.Subject{subj}), sink); err != nil {
		t.Fatal(err)
	}
	if n := len(sink.BySubject("S-1005")); n != 1 {
		t.Errorf("Dana: %d records, want 1", n)
	}
}

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// smallHeader is a minimal CDR header: the required fields and a few more.
const smallHeader = `"cdrRecordType","globalCallID_callManagerId","globalCallID_callId","dateTimeOrigination","callingPartyNumber","originalCalledPartyNumber","finalCalledPartyNumber","origCause_value","destCause_value","dateTimeConnect","dateTimeDisconnect","duration","origDeviceName","origIpAddr","comment"` + "\n" +
	"INTEGER,INTEGER,INTEGER,INTEGER,VARCHAR(50),VARCHAR(50),VARCHAR(50),INTEGER,INTEGER,INTEGER,INTEGER,INTEGER,VARCHAR(129),INTEGER,VARCHAR(2048)\n"

func fetchContent(t *testing.T, files map[string]string, cfg Config) (*sourcetest.Recorder, source.Stats, error) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		writeFile(t, dir, name, content)
	}
	cfg.Paths = []string{filepath.Join(dir, "*")}
	s, err := New("cucm", cfg)
	if err != nil {
		t.Fatal(err)
	}
	sink := &sourcetest.Recorder{T: t}
	st, err := s.Fetch(context.Background(), sourcetest.Query(t, sampleSubjects()), sink)
	return sink, st, err
}

func TestFiles(t *testing.T) {
	good := `1,1,7,1736157600,"4321","4399","4399",16,0,0,1736157610,0,"",0,""` + "\n"
	tests := []struct {
		name     string
		content  string
		read     int64
		selected int64
		reasons  []string
	}{
		{name: "empty file", content: ""},
		{name: "header only", content: smallHeader},
		{name: "good row", content: smallHeader + good, read: 1, selected: 1},
		{name: "no final newline", content: smallHeader + strings.TrimSuffix(good, "\n"), read: 1, selected: 1},
		{name: "CRLF", content: strings.ReplaceAll(smallHeader+good, "\n", "\r\n"), read: 1, selected: 1},
		{name: "blank lines skipped", content: smallHeader + "\n" + good + "\n\n", read: 1, selected: 1},
		{name: "start record skipped", content: smallHeader + `0,1,7,1736157600,"4321","4399","4399",16,0,0,1736157610,0,"",0,""` + "\n", read: 1},
		{name: "empty integers", content: smallHeader + `1,1,7,1736157600,"4321","4399","4399",,,,1736157610,,"",,""` + "\n", read: 1, selected: 1},
		{name: "no origination", content: smallHeader + `1,1,7,0,"4321","4399","4399",16,0,0,1736157610,0,"",0,""` + "\n", read: 1,
			reasons: []string{"dateTimeOrigination is empty or 0"}},
		{name: "no disconnect", content: smallHeader + `1,1,7,1736157600,"4321","4399","4399",16,0,0,,0,"",0,""` + "\n", read: 1,
			reasons: []string{"dateTimeDisconnect is empty or 0"}},
		{name: "disconnect first", content: smallHeader + `1,1,7,1736157600,"4321","4399","4399",16,0,0,1736157500,0,"",0,""` + "\n", read: 1,
			reasons: []string{"dateTimeDisconnect is before dateTimeOrigination"}},
		{name: "quoted integer", content: smallHeader + `1,1,"7",1736157600,"4321","4399","4399",16,0,0,1736157610,0,"",0,""` + "\n", read: 1,
			reasons: []string{"quoted value in INTEGER field globalCallID_callId"}},
		{name: "unquoted string", content: smallHeader + `1,1,7,1736157600,4321,"4399","4399",16,0,0,1736157610,0,"",0,""` + "\n", read: 1,
			reasons: []string{"unquoted value in text field callingPartyNumber"}},
		{name: "unterminated quote", content: smallHeader + `1,1,7,1736157600,"4321","4399","4399",16,0,0,1736157610,0,"",0,"call back` + "\n" + good, read: 2, selected: 1,
			reasons: []string{"unterminated quote in field comment"}},
		{name: "stray quote", content: smallHeader + `1,1,7,1736157600,"4321","4399","4399",16,0,0,1736157610,0,"",1"2,""` + "\n", read: 1,
			reasons: []string{"stray quote in field origIpAddr"}},
		{name: "too many fields", content: smallHeader + `1,1,7,1736157600,"4321","4399","4399",16,0,0,1736157610,0,"",0,"",""` + "\n", read: 1,
			reasons: []string{"expected 15 fields (as the file header), got 16"}},
		{name: "long line", content: smallHeader + strings.Repeat("x", textrec.MaxLine+10) + "\n" + good, read: 2, selected: 1,
			reasons: []string{"record longer than 1048576 bytes"}},
		{name: "header not CDR", content: "\"a\",\"b\"\nINTEGER,INTEGER\n1,2\n3,4\n", read: 3,
			reasons: []string{"unusable file header: not a CDR file header: no field cdrRecordType, globalCallID_callManagerId, globalCallID_callId, dateTimeOrigination, dateTimeConnect, dateTimeDisconnect, duration, origCause_value, destCause_value, callingPartyNumber, originalCalledPartyNumber, finalCalledPartyNumber",
				"unusable file header", "unusable file header"}},
		{name: "type count differs", content: strings.Replace(smallHeader, ",VARCHAR(2048)", "", 1) + good, read: 2,
			reasons: []string{"unusable file header: 15 field names but 14 data types", "unusable file header"}},
		{name: "time declared text", content: strings.Replace(smallHeader, "INTEGER,INTEGER,INTEGER,INTEGER,", "INTEGER,INTEGER,INTEGER,VARCHAR(20),", 1) + good, read: 2,
			reasons: []string{"unusable file header: field dateTimeOrigination is not declared INTEGER", "unusable file header"}},
		{name: "header without type line", content: strings.SplitAfter(smallHeader, "\n")[0], read: 1,
			reasons: []string{"unusable file header: no data type line (line 2)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink, st, err := fetchContent(t, map[string]string{"cdr_x_01_202501061000_1": tc.content}, Config{})
			if err != nil {
				t.Fatal(err)
			}
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

func TestHeaderByName(t *testing.T) {
	// The same record with the fields in another order, and names in
	// other case, reads the same.
	a := smallHeader + `1,1,7,1736157600,"4321","4399","4399",16,0,1736157605,1736157610,5,"",0,""` + "\n"
	b := `"DURATION","dateTimeDisconnect","dateTimeConnect","destCause_value","origCause_value","finalCalledPartyNumber","originalCalledPartyNumber","callingPartyNumber","dateTimeOrigination","globalCallID_callId","globalCallID_callManagerId","cdrRecordType"` + "\n" +
		"INTEGER,INTEGER,INTEGER,INTEGER,INTEGER,VARCHAR(50),VARCHAR(50),VARCHAR(50),INTEGER,INTEGER,INTEGER,INTEGER\n" +
		`5,1736157610,1736157605,0,16,"4399","4399","4321",1736157600,7,1,1` + "\n"
	sa, _, err := fetchContent(t, map[string]string{"cdr_a": a}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	sb, _, err := fetchContent(t, map[string]string{"cdr_a": b}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	ra, rb := sa.BySubject("S-1001"), sb.BySubject("S-1001")
	if len(ra) != 1 || len(rb) != 1 {
		t.Fatalf("records %d and %d, want 1 each", len(ra), len(rb))
	}
	for _, col := range []string{"call_id", "start_utc", "answer_utc", "end_utc", "talk_s", "outcome", "other_number"} {
		if get(ra[0], col) != get(rb[0], col) {
			t.Errorf("%s: %v vs %v", col, get(ra[0], col), get(rb[0], col))
		}
	}
}

func TestDeviceAddressFallback(t *testing.T) {
	// No device name: the channel is the decoded address.
	content := smallHeader + `1,1,7,1736157600,"4321","4399","4399",16,0,0,1736157610,0,"",-1593038582,""` + "\n"
	sink, _, err := fetchContent(t, map[string]string{"cdr_a": content}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got := get(sink.BySubject("S-1001")[0], "channel"); got != "10.41.12.161" {
		t.Errorf("channel %q, want 10.41.12.161", got)
	}
}

func TestCMRFiles(t *testing.T) {
	cmr := "\"cdrRecordType\",\"globalCallID_callManagerId\",\"globalCallID_callId\",\"directoryNum\"\nINTEGER,INTEGER,INTEGER,VARCHAR(50)\n2,1,7,\"4321\"\n2,1,8,\"4321\"\n"
	sink, st, err := fetchContent(t, map[string]string{
		"cmr_a": cmr,              // by header
		"cmr_b": "garbage\n1,2\n", // by name, header unusable
		"zzz":   cmr,              // by header, whatever the name
	}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Read != 2+0+2 || st.Selected != 0 || st.Rejected != 0 || len(sink.Rejects) != 0 {
		t.Errorf("stats %+v, rejections %v", st, sink.Rejects)
	}
}

func TestStrict(t *testing.T) {
	_, st, err := fetchContent(t, map[string]string{"cdr_a": smallHeader + "1,2\n"}, Config{Strict: true})
	if err == nil || st.Rejected != 1 || !strings.Contains(err.Error(), `source "cucm"`) {
		t.Errorf("strict: err %v, stats %+v", err, st)
	}
}

func TestNoFiles(t *testing.T) {
	s, err := New("cucm", Config{Paths: []string{filepath.Join(t.TempDir(), "cdr_*")}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Fetch(context.Background(), sourcetest.Query(t, sampleSubjects()), &sourcetest.Recorder{T: t})
	if !errors.Is(err, source.ErrNoFiles) || !strings.Contains(err.Error(), `source "cucm"`) {
		t.Errorf("err = %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no paths", Config{}, "paths: at least one"},
		{"empty path", Config{Paths: []string{" "}}, "paths[0] is empty"},
		{"bad glob", Config{Paths: []string{"cdr_["}}, "syntax error in pattern"},
	} {
		if _, err := New("cucm", tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestKind(t *testing.T) {
	s, err := Kind.New("pbx", func(v any) error {
		v.(*Config).Paths = []string{"cucm/cdr_*"}
		return nil
	}, func(p string) string { return "/abs/" + p })
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "pbx" || s.Kind() != "cucm-cdr" || s.(*Source).cfg.Paths[0] != "/abs/cucm/cdr_*" {
		t.Errorf("built %+v", s)
	}
	if !Kind.Keys[0].Required || Kind.Keys[0].Name != "paths" {
		t.Errorf("keys %+v", Kind.Keys)
	}
}

func TestSlowReader(t *testing.T) {
	// A reader that hands over one byte at a time makes the line reader
	// refill its buffer constantly: the result must not change.
	data, err := os.ReadFile(filepath.Join(sampleDir, "cdr_StandAloneCluster_01_202501061000_1"))
	if err != nil {
		t.Fatal(err)
	}
	run := func(r io.Reader) (*sourcetest.Recorder, source.Stats) {
		sink := &sourcetest.Recorder{T: t}
		var st source.Stats
		sc := newScan(context.Background(), "cucm", sourcetest.Query(t, sampleSubjects()), sink, &st)
		if err := sc.read(r, "cdr"); err != nil {
			t.Fatal(err)
		}
		return sink, st
	}
	a, sa := run(bytes.NewReader(data))
	b, sb := run(iotest.OneByteReader(bytes.NewReader(data)))
	if sa != sb || !reflect.DeepEqual(a, b) {
		t.Errorf("stats %+v vs %+v, or records differ", sa, sb)
	}
}
