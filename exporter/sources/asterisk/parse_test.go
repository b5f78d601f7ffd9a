package asterisk

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dsar-tool/dsar/exporter/sources/internal/textrec"
)

// TestSplitFields checks cdr_csv's own record shapes through the shared
// splitter.
func TestSplitFields(t *testing.T) {
	type want struct {
		values []string
		quoted []bool
	}
	tests := []struct {
		name string
		in   string
		want want
		err  textrec.SplitErr
		at   int
	}{
		{name: "quoted strings", in: `"a","b"`, want: want{[]string{"a", "b"}, []bool{true, true}}},
		{name: "doubled quote", in: `"a""b","c"`, want: want{[]string{`a"b`, "c"}, []bool{true, true}}},
		{name: "only a quote", in: `""""`, want: want{[]string{`"`}, []bool{true}}},
		{name: "clid with escaped name", in: `"""Prof \""Jim\"" O'Brien"" <01632960555>"`, want: want{[]string{`"Prof \"Jim\" O'Brien" <01632960555>`}, []bool{true}}},
		{name: "empty quoted", in: `"",""`, want: want{[]string{"", ""}, []bool{true, true}}},
		{name: "empty unquoted (unset answer)", in: `"2025-01-06 09:02:11",,"2025-01-06 09:07:27",315`, want: want{[]string{"2025-01-06 09:02:11", "", "2025-01-06 09:07:27", "315"}, []bool{true, false, true, false}}},
		{name: "bare integers", in: `100,-5,0`, want: want{[]string{"100", "-5", "0"}, []bool{false, false, false}}},
		{name: "comma inside quotes", in: `"PJSIP/4321&PJSIP/4312,20","x"`, want: want{[]string{"PJSIP/4321&PJSIP/4312,20", "x"}, []bool{true, true}}},
		{name: "newline inside quotes", in: "\"a\nb\",\"c\"", want: want{[]string{"a\nb", "c"}, []bool{true, true}}},
		{name: "empty record", in: ``, want: want{[]string{""}, []bool{false}}},
		{name: "trailing comma", in: `"a",`, want: want{[]string{"a", ""}, []bool{true, false}}},
		{name: "two commas", in: `,`, want: want{[]string{"", ""}, []bool{false, false}}},
		{name: "UTF-8 passes", in: `"Zoë Łukasik","陈伟"`, want: want{[]string{"Zoë Łukasik", "陈伟"}, []bool{true, true}}},
		{name: "unterminated", in: `"a","b`, err: textrec.SplitUnterminated, at: 1},
		{name: "unterminated after doubled quote", in: `"a""`, err: textrec.SplitUnterminated, at: 0},
		{name: "doubled quote before close", in: `"a"""`, want: want{[]string{`a"`}, []bool{true}}},
		{name: "stray quote in unquoted field", in: `"a",b"c,"d"`, err: textrec.SplitStrayQuote, at: 1},
		{name: "text after closing quote", in: `"a"b,"c"`, err: textrec.SplitAfterQuote, at: 0},
		{name: "space after closing quote", in: `"a","b" ,"c"`, err: textrec.SplitAfterQuote, at: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := []byte(tc.in)
			fs, n, err, at := textrec.Split(rec, ',', nil, maxFields)
			if err != tc.err {
				t.Fatalf("error %d, want %d", err, tc.err)
			}
			if err != textrec.SplitOK {
				if at != tc.at {
					t.Errorf("at field %d, want %d", at, tc.at)
				}
				return
			}
			if n != len(tc.want.values) {
				t.Fatalf("%d fields, want %d", n, len(tc.want.values))
			}
			var got want
			for _, f := range fs[:n] {
				got.values = append(got.values, f.Str(rec))
				got.quoted = append(got.quoted, f.Quoted)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q %v, want %q %v", got.values, got.quoted, tc.want.values, tc.want.quoted)
			}
		})
	}
}

func TestSplitFieldsCountsBeyondStorage(t *testing.T) {
	rec := []byte(strings.Repeat(`"x",`, 30) + `"x"`)
	fs, n, err, _ := textrec.Split(rec, ',', nil, 4)
	if err != textrec.SplitOK || n != 31 || len(fs) != 4 {
		t.Fatalf("got %d fields, err %d; want 31, none", n, err)
	}
}

func TestParseLocal(t *testing.T) {
	tests := []struct {
		in   string
		want string // as a UTC wall clock, "" if invalid
	}{
		{"2025-01-06 09:02:11", "2025-01-06T09:02:11Z"},
		{"2024-02-29 23:59:59", "2024-02-29T23:59:59Z"},
		{"2000-02-29 00:00:00", "2000-02-29T00:00:00Z"},
		{"1970-01-01 00:00:00", "1970-01-01T00:00:00Z"},
		{"1969-12-31 23:59:59", "1969-12-31T23:59:59Z"},
		{"9999-12-31 23:59:59", "9999-12-31T23:59:59Z"},
		{"1000-01-01 00:00:00", "1000-01-01T00:00:00Z"},
		{"2025-02-29 10:00:00", ""}, // not a leap year
		{"1900-02-29 10:00:00", ""},
		{"2025-13-01 10:00:00", ""},
		{"2025-00-01 10:00:00", ""},
		{"2025-04-31 10:00:00", ""},
		{"2025-01-00 10:00:00", ""},
		{"2025-01-06 24:00:00", ""},
		{"2025-01-06 23:60:00", ""},
		{"2025-01-06 23:59:60", ""}, // Asterisk never writes a leap second
		{"2025-01-06T09:02:11", ""},
		{"2025-01-06 09:02", ""},
		{"2025-01-06 09:02:11Z", ""},
		{"0999-01-01 00:00:00", ""},
		{"2025-1-06 09:02:11 ", ""},
		{"yesterday at noon!!", ""},
		{"", ""},
	}
	for _, tc := range tests {
		v, ok := parseLocal([]byte(tc.in))
		if tc.want == "" {
			if ok {
				t.Errorf("parseLocal(%q) accepted", tc.in)
			}
			continue
		}
		want, err := time.Parse(time.RFC3339, tc.want)
		if err != nil {
			t.Fatal(err)
		}
		if !ok || v != want.Unix() {
			t.Errorf("parseLocal(%q) = %d, %v; want %d", tc.in, v, ok, want.Unix())
		}
	}
}

func TestClidName(t *testing.T) {
	tests := []struct {
		clid string
		name string
		ok   bool
	}{
		{`"Alex Example" <4321>`, "Alex Example", true},
		{`"" <4321>`, "", true},
		{`"Prof \"Jim\" O'Brien, Jr." <07700900461>`, `Prof "Jim" O'Brien, Jr.`, true},
		{`"back\\slash" <1>`, `back\slash`, true},
		{`"Zoë Łukasik" <1432>`, "Zoë Łukasik", true},
		{`"陈伟" <4400>`, "陈伟", true},
		{`"=HYPERLINK(\"http://x\")" <07700900999>`, `=HYPERLINK("http://x")`, true},
		{`"a <b> c" <1>`, "a <b> c", true},
		{`"Name only"`, "Name only", true},
		{`  "Spaced"   <4321>  `, "Spaced", true},
		{`Alex Example <4321>`, "Alex Example", true},
		{`<4321>`, "", true},
		{`4321`, "", true},
		{`+44 1632 960555`, "", true},
		{``, "", true},
		{`"unterminated <4321>`, "", false},
		{`"trailing backslash\`, "", false},
		{`"x" junk`, "", false},
		{`"x" <1> <2>`, "", false},
		{`a<b <1>`, "", false},
		{`<1`, "", false},
		{`Alex`, "", false},
	}
	for _, tc := range tests {
		name, ok := clidName(tc.clid)
		if name != tc.name || ok != tc.ok {
			t.Errorf("clidName(%q) = %q, %v; want %q, %v", tc.clid, name, ok, tc.name, tc.ok)
		}
	}
}

func TestEndpoint(t *testing.T) {
	tests := []struct{ channel, want string }{
		{"PJSIP/4321-0000001b", "4321"},
		{"PJSIP/siobhan-desk-000001a8", "siobhan-desk"},
		{"PJSIP/siobhan-desk2-000001f7", "siobhan-desk2"},
		{"pjsip/4321-0000001b", "4321"},
		{"SIP/4321-0000001b", "4321"},
		{"IAX2/branch-office-4321", "branch-office"}, // the suffix is IAX2's call number
		{"IAX2/1432-7", "1432"},
		{"PJSIP/4321-0000001b<ZOMBIE>", "4321"},
		{"PJSIP/trunk-000001a9", "trunk"},
		{"Local/4321@from-queue-000001f0;1", ""},
		{"Local/4321@from-queue-000001f0;2", ""},
		{"DAHDI/1-1", ""},
		{"PJSIP/4321", ""},  // no channel suffix
		{"PJSIP/4321-", ""}, // empty suffix
		{"PJSIP/-0001", ""}, // empty endpoint
		{"/4321-0001", ""},
		{"4321", ""},
		{"", ""},
	}
	for _, tc := range tests {
		if got := endpoint(tc.channel); got != tc.want {
			t.Errorf("endpoint(%q) = %q, want %q", tc.channel, got, tc.want)
		}
	}
}

func TestOutcome(t *testing.T) {
	for disp, want := range map[string]string{
		"ANSWERED": "answered", "NO ANSWER": "no_answer", "BUSY": "busy", "FAILED": "failed",
		"CONGESTION": "congestion", "CANCEL": "cancelled", "UNKNOWN": "unknown", "": "unknown",
		"answered": "unknown", "NOANSWER": "unknown",
	} {
		if got := outcome(disp); got != want {
			t.Errorf("outcome(%q) = %q, want %q", disp, got, want)
		}
	}
}

func TestNewLayout(t *testing.T) {
	tests := []struct {
		extra  []string
		n      int
		bad    bool
		uid    int
		user   int
		linked int
	}{
		{extra: nil, n: 16, uid: -1, user: -1, linked: -1},
		{extra: []string{"uniqueid"}, n: 17, uid: 16, user: -1, linked: -1},
		{extra: []string{"userfield"}, n: 17, uid: -1, user: 16, linked: -1},
		{extra: []string{"uniqueid", "userfield"}, n: 18, uid: 16, user: 17, linked: -1},
		{extra: []string{" UniqueID ", "userfield"}, n: 18, uid: 16, user: 17, linked: -1},
		{extra: []string{"uniqueid", "userfield", "peeraccount", "linkedid", "sequence"}, n: 21, uid: 16, user: 17, linked: 19},
		{extra: []string{"peeraccount", "linkedid", "sequence"}, n: 19, uid: -1, user: -1, linked: 17},
		{extra: []string{"userfield", "uniqueid"}, bad: true},
		{extra: []string{"uniqueid", "uniqueid"}, bad: true},
		{extra: []string{"linkedid"}, bad: true},
		{extra: []string{"uniqueid", "peeraccount", "linkedid"}, bad: true},
		{extra: []string{"calldate"}, bad: true},
	}
	for _, tc := range tests {
		l, err := newLayout(tc.extra)
		if tc.bad {
			if err == nil {
				t.Errorf("newLayout(%q) accepted", tc.extra)
			}
			continue
		}
		if err != nil {
			t.Errorf("newLayout(%q): %v", tc.extra, err)
			continue
		}
		if l.n != tc.n || l.uniqueid != tc.uid || l.userfld != tc.user || l.linkedid != tc.linked {
			t.Errorf("newLayout(%q) = n %d uid %d user %d linked %d; want %d %d %d %d", tc.extra, l.n, l.uniqueid, l.userfld, l.linkedid, tc.n, tc.uid, tc.user, tc.linked)
		}
	}
}
