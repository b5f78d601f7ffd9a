package cucm

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dsar-tool/dsar/exporter/sources/internal/textrec"
)

func TestIPv4(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{-1593038582, "10.41.12.161"}, // the reference's example
		{-1576261366, "10.41.12.162"},
		{16777343, "127.0.0.1"},
		{-1, "255.255.255.255"},
		{1, "1.0.0.0"},
		{-2147483648, "0.0.0.128"},
		{2147483647, "255.255.255.127"},
		{4294967295, "255.255.255.255"}, // written unsigned by some tools
		{0, ""},
		{-2147483649, ""},
		{4294967296, ""},
	}
	for _, tc := range tests {
		got, ok := ipv4(tc.in)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("ipv4(%d) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}

func TestOutcome(t *testing.T) {
	tests := []struct {
		orig, dest int64
		connected  bool
		want       string
	}{
		{16, 0, true, "answered"},
		{0, 16, true, "answered"},
		{0, 393216, true, "answered"}, // transfer split leg
		{41, 0, true, "answered"},     // connected, then dropped
		{16, 0, false, "cancelled"},   // caller hung up while it rang
		{31, 0, false, "cancelled"},
		{0, 16, false, "no_answer"},
		{0, 0, false, "cancelled"},
		{16, 16, false, "cancelled"},
		{16, 17, false, "busy"},
		{0, 17, false, "busy"},
		{17, 0, false, "busy"},
		{0, 18, false, "no_answer"},
		{16, 19, false, "no_answer"},
		{0, 21, false, "failed"},
		{34, 0, false, "congestion"},
		{0, 38, false, "congestion"},
		{0, 41, false, "congestion"},
		{0, 42, false, "congestion"},
		{0, 44, false, "congestion"},
		{0, 47, false, "congestion"},
		{1, 0, false, "failed"},
		{0, 3, false, "failed"},
		{0, 28, false, "failed"},
		{0, 27, false, "failed"},
		{102, 0, false, "failed"},
		{0, 127, false, "failed"},
		{16, 41, false, "congestion"}, // the called side's cause first
		{1, 17, false, "busy"},
		{0, 393216, false, "unknown"},
		{-1, 0, false, "unknown"},
	}
	for _, tc := range tests {
		if got := outcome(tc.orig, tc.dest, tc.connected); got != tc.want {
			t.Errorf("outcome(%d, %d, %v) = %q, want %q", tc.orig, tc.dest, tc.connected, got, tc.want)
		}
	}
	if got := outcomeRaw(16, 0); got != "orig=16 dest=0" {
		t.Errorf("outcomeRaw = %q", got)
	}
}

func TestParseType(t *testing.T) {
	for in, want := range map[string]colType{
		"INTEGER": typeInt, "integer": typeInt, "INT": typeInt, "VARCHAR(50)": typeString, "UNIQUEIDENTIFIER": typeString,
		"varchar(2048)": typeString, "DATETIME": typeOther, "": typeOther, "VARCHAR(": typeOther,
	} {
		if got := parseType(in); got != want {
			t.Errorf("parseType(%q) = %d, want %d", in, got, want)
		}
	}
}

// readSampleHeader returns the first two lines of a sample file.
func readSampleHeader(t testing.TB, name string) (string, string) {
	t.Helper()
	f, err := os.Open(filepath.Join(sampleDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var lines []string
	for len(lines) < 2 && sc.Scan() {
		lines = append(lines, strings.TrimSuffix(sc.Text(), "\r"))
	}
	if len(lines) < 2 {
		t.Fatalf("%s: no header", name)
	}
	return lines[0], lines[1]
}

func TestParseHeaderSamples(t *testing.T) {
	for _, tc := range []struct {
		file   string
		fields int
		cmr    bool
	}{
		{"cdr_StandAloneCluster_01_202501061000_1", 129, false},
		{"cdr_StandAloneCluster_01_202507011000_1", 133, false},
		{"cmr_StandAloneCluster_01_202501061000_1", 44, true},
	} {
		names, types := readSampleHeader(t, tc.file)
		l, err := parseHeader([]byte(names), []byte(types))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if len(l.names) != tc.fields || l.cmr != tc.cmr {
			t.Errorf("%s: %d fields, cmr %v; want %d, %v", tc.file, len(l.names), l.cmr, tc.fields, tc.cmr)
		}
		if tc.cmr {
			continue
		}
		for k, at := range l.at {
			if at < 0 {
				t.Errorf("%s: field %s not found", tc.file, knownNames[k])
			}
		}
		if l.names[l.at[fDuration]] != "duration" || l.types[l.at[fDuration]] != typeInt || l.types[l.at[fPkid]] != typeString {
			t.Errorf("%s: duration/pkid layout wrong", tc.file)
		}
		if l.at[fDuration] != 55 || l.at[fOrigDevice] != 56 || l.at[fComment] != 67 || l.at[fClientMatter] != 70 {
			t.Errorf("%s: positions differ from the 11.x layout (duration 56, origDeviceName 57, comment 68, clientMatterCode 71)", tc.file)
		}
	}
}

func TestParseHeaderErrors(t *testing.T) {
	names, types := readSampleHeader(t, "cdr_StandAloneCluster_01_202501061000_1")
	tests := []struct {
		name         string
		names, types string
		want         string
	}{
		{"duplicate name", strings.Replace(names, `"origSpan"`, `"ORIGNODEID"`, 1), types, `field names: "ORIGNODEID" appears twice`},
		{"empty name", strings.Replace(names, `"origSpan"`, `""`, 1), types, "field names: field 7 has no name"},
		{"bad quoting", strings.Replace(names, `"origSpan"`, `"orig"Span"`, 1), types, "field names: unexpected character after closing quote in field 7"},
		{"missing field", strings.Replace(names, `"duration"`, `"durationX"`, 1), types, "not a CDR file header: no field duration"},
		{"short types", names, types[:strings.LastIndexByte(types, ',')], "129 field names but 128 data types"},
		{"bad type quoting", names, `"INTEGER` + types, "data types: unterminated quote in field 1"},
		{"duration not integer", names, strings.Replace(types, "INTEGER,VARCHAR(129),VARCHAR(129)", "VARCHAR(9),VARCHAR(129),VARCHAR(129)", 1), "field duration is not declared INTEGER"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseHeader([]byte(tc.names), []byte(tc.types))
			if err == nil || err.Error() != tc.want {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
	// A byte-order mark and unquoted names are tolerated.
	l, err := parseHeader([]byte("\xef\xbb\xbf"+strings.ReplaceAll(names, `"`, "")), []byte(types))
	if err != nil || l.names[0] != "cdrRecordType" {
		t.Errorf("BOM, unquoted: %v", err)
	}
}

func TestCheck(t *testing.T) {
	l := &layout{names: []string{"i", "s", "o"}, types: []colType{typeInt, typeString, typeOther}}
	for in, want := range map[string]string{
		`1,"a",x`:    "",
		`,"",`:       "",
		`-7,,"q"`:    "",
		`"1","a",x`:  "quoted value in INTEGER field i",
		`1x,"a",x`:   "non-integer in INTEGER field i",
		`1,a,x`:      "unquoted value in text field s",
		`1,"a","x"`:  "",
		`-,"a",x`:    "non-integer in INTEGER field i",
		"1,\"\t\",x": "",
	} {
		rec := []byte(in)
		fs, _, e, _ := textrec.Split(rec, ',', nil, 10)
		if e != textrec.SplitOK {
			t.Fatalf("%q: %v", in, e)
		}
		if got := l.check(rec, fs); got != want {
			t.Errorf("check(%q) = %q, want %q", in, got, want)
		}
	}
}
