package msgraph

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source/sourcetest"
)

// signInJSON is a compact sign-in of Alex (S-1001) with the given id
// suffix and minute.
func signInJSON(n int) string {
	return fmt.Sprintf(`{"id":"5b1e0000-0000-4000-8000-%012d","createdDateTime":"2025-01-06T08:%02d:00Z","userId":%q,"userPrincipalName":"alex@uni.example.ac.uk","appDisplayName":"Microsoft Teams","status":{"errorCode":0}}`, n, n%60, alexID)
}

// pretty indents a compact JSON text.
func pretty(s string) string {
	var b bytes.Buffer
	if err := jsonIndent(&b, s); err != nil {
		panic(err)
	}
	return b.String()
}

// TestShapes reads the same three sign-ins saved in every shape the
// connector accepts.
func TestShapes(t *testing.T) {
	a, b, c := signInJSON(1), signInJSON(2), signInJSON(3)
	response := func(nl string, recs ...string) string {
		return `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns",` + nl +
			`"value":[` + strings.Join(recs, ","+nl) + `],` + nl + `"@odata.nextLink":"https://graph.microsoft.com/v1.0/auditLogs/signIns?$skiptoken=x"}`
	}
	utf16le := func(s string) string {
		var buf bytes.Buffer
		buf.Write([]byte{0xFF, 0xFE})
		for _, u := range utf16.Encode([]rune(s)) {
			binary.Write(&buf, binary.LittleEndian, u)
		}
		return buf.String()
	}
	utf16be := func(s string) string {
		var buf bytes.Buffer
		buf.Write([]byte{0xFE, 0xFF})
		for _, u := range utf16.Encode([]rune(s)) {
			binary.Write(&buf, binary.BigEndian, u)
		}
		return buf.String()
	}
	tests := []struct {
		name  string
		data  string
		lines string // source_ref lines of the three records
	}{
		{"response object, compact", response("", a, b, c), "1 1 1"},
		{"response object, one record a line", response("\n", a, b, c), "2 3 4"},
		{"response object, value first", `{"value":[` + a + "," + b + "," + c + `],"@odata.context":"x"}`, "1 1 1"},
		{"response object, pretty", pretty(response("", a, b, c)), "4 14 24"},
		{"bare array, pretty", pretty("[" + a + "," + b + "," + c + "]"), "2 12 22"},
		{"bare array, one a line, CRLF", "[\r\n" + a + ",\r\n" + b + ",\r\n" + c + "\r\n]\r\n", "2 3 4"},
		{"JSON Lines", a + "\n" + b + "\n\n" + c + "\n", "1 2 4"},
		{"JSON Lines without final newline", a + "\n" + b + "\n" + c, "1 2 3"},
		{"JSON Lines, CRLF", a + "\r\n" + b + "\r\n" + c + "\r\n", "1 2 3"},
		{"JSON Lines of responses", response("", a) + "\n" + response("", b, c) + "\n", "1 2 2"},
		{"JSON Lines of arrays", "[" + a + "]\n[" + b + "," + c + "]\n", "1 2 2"},
		{"pretty objects one after another", pretty(a) + pretty(b) + pretty(c), "1 10 19"},
		{"two arrays one after another", "[" + a + "," + b + "]\n[" + c + "]", "1 1 2"},
		{"UTF-8 byte order mark", "\xEF\xBB\xBF" + response("\n", a, b, c), "2 3 4"},
		{"UTF-16LE, as Windows PowerShell writes", utf16le(pretty(response("", a, b, c))), "4 14 24"},
		{"UTF-16BE", utf16be(a + "\n" + b + "\n" + c + "\n"), "1 2 3"},
		{"a record with a value member that is not an array", `{"value":{"x":[1,{"y":null}]},` + a[1:] + "\n", "1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink, st, err := readBytes(t, KindSignIns, []byte(tc.data), "s.json")
			if err != nil {
				t.Fatal(err)
			}
			want := strings.Fields(tc.lines)
			if len(sink.Rejects) != 0 || st.Read != int64(len(want)) || len(sink.Records) != len(want) {
				t.Fatalf("stats %+v, %d records, rejections %+v", st, len(sink.Records), sink.Rejects)
			}
			var got []string
			for _, e := range sink.Records {
				got = append(got, strings.TrimPrefix(sourcetest.Col(model.Logins, e.Record, "source_ref").(string), "s.json:"))
			}
			if strings.Join(got, " ") != tc.lines {
				t.Errorf("lines %v, want %s", got, tc.lines)
			}
		})
	}
}

func TestEmptyFiles(t *testing.T) {
	for _, data := range []string{"", " \n\r\n\t", "[]", `{"value":[]}`, "\xEF\xBB\xBF", "\xFF\xFE", `{"@odata.context":"x","value":[],"@odata.nextLink":"y"}` + "\n"} {
		sink, st, err := readBytes(t, KindPSTN, []byte(data), "p.json")
		if err != nil || st.Read != 0 || len(sink.Records) != 0 || len(sink.Rejects) != 0 {
			t.Errorf("%q: err %v, stats %+v, rejections %+v", data, err, st, sink.Rejects)
		}
	}
}

// secret stands for personal data in a broken record: no rejection may
// repeat it.
const secret = "Zoë-07700900999-SECRET"

// TestMalformed checks that broken input is rejected with the file, the
// record's number and line, and a fixed reason, and that the rest is read
// where it can be.
func TestMalformed(t *testing.T) {
	a, b, c := signInJSON(1), signInJSON(2), signInJSON(3)
	tests := []struct {
		name    string
		data    string
		records int    // records emitted
		read    int64  // Stats.Read
		rejects string // "line:reason" joined by " | "
	}{
		{
			name: "syntax error inside the second element",
			data: "[\n" + a + ",\n" + `{"id":"x","userPrincipalName":"` + secret + `" "appId":1},` + "\n" + c + "\n]",
			read: 2, records: 1,
			rejects: "3:record 2: malformed JSON; the rest of the file was not read",
		},
		{
			name: "missing comma between elements",
			data: "[\n" + a + "\n" + b + "\n]",
			read: 2, records: 1,
			rejects: "3:record 2: malformed JSON; the rest of the file was not read",
		},
		{
			name: "truncated file",
			data: pretty(`{"value":[` + a + "," + b + "," + c + `]}`)[:700],
			read: 3, records: 2,
			rejects: "23:record 3: the file ends inside the record (truncated)",
		},
		{
			name: "truncated after an element",
			data: "[" + a + ",",
			read: 2, records: 1,
			rejects: "1:record 2: the file ends inside the record (truncated)",
		},
		{
			name: "truncated inside a key",
			data: `{"value":[` + a + `],"@odata.ne`,
			read: 2, records: 1,
			rejects: "1:record 2: the file ends inside the record (truncated)",
		},
		{
			name: "JSON Lines: a broken line costs that line",
			data: a + "\n" + `{"id":"` + secret + `",` + "\n" + c + "\n",
			read: 3, records: 2,
			rejects: "2:record 2: the line ends inside the record (truncated)",
		},
		{
			name: "JSON Lines: a broken first line",
			data: `{"id":` + secret + "}\n" + b + "\n" + c + "\n",
			read: 3, records: 2,
			rejects: "1:record 1: malformed JSON",
		},
		{
			name: "a number where a record should be",
			data: "[" + a + ",42,\"" + secret + "\",[]," + b + "]",
			read: 5, records: 2,
			rejects: "1:record 2: not a JSON object | 1:record 3: not a JSON object | 1:record 4: not a JSON object",
		},
		{
			name:    "a top-level scalar",
			data:    `"` + secret + `"`,
			read:    1,
			rejects: "1:record 1: not a JSON object or array",
		},
		{
			name: "wrong types",
			data: "[\n" + strings.Replace(a, `"createdDateTime"`, `"ipAddress":["`+secret+`"],"x"`, 1) + ",\n" +
				strings.Replace(b, `{"errorCode":0}`, `"`+secret+`"`, 1) + ",\n" +
				strings.Replace(c, `"userId":`, `"userId":17,"u":`, 1) + "\n]",
			read:    3,
			rejects: "2:record 1: field ipAddress is not a string | 3:record 2: field status is not an object | 4:record 3: field userId is not a string",
		},
		{
			name: "invalid UTF-8",
			data: "[" + strings.Replace(a, "alex@", "al\xffex@", 1) + "," + b + "]",
			read: 2, records: 1,
			rejects: "1:record 1: invalid UTF-8",
		},
		{
			name: "a time without a zone, and no id",
			data: "[" + strings.Replace(a, "2025-01-06T08:01:00Z", "2025-01-06 08:01:00", 1) + ",\n" +
				strings.Replace(b, `"id":"5b1e0000-0000-4000-8000-000000000002"`, `"id":null`, 1) + "]",
			read:    2,
			rejects: "1:record 1: createdDateTime is missing or not an RFC 3339 time | 2:record 2: no id",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink, st, err := readBytes(t, KindSignIns, []byte(tc.data), "signins.json")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range sink.Rejects {
				if r.Source != "graph" || r.File != "signins.json" {
					t.Errorf("rejection %+v", r)
				}
				if strings.Contains(r.Reason, secret) || strings.Contains(r.Reason, "alex") {
					t.Errorf("reason %q holds the record's content", r.Reason)
				}
				got = append(got, fmt.Sprintf("%d:%s", r.Line, r.Reason))
			}
			if g := strings.Join(got, " | "); g != tc.rejects {
				t.Errorf("rejections\n\t%s\nwant\n\t%s", g, tc.rejects)
			}
			if st.Read != tc.read || len(sink.Records) != tc.records || st.Rejected != int64(len(sink.Rejects)) {
				t.Errorf("stats %+v, %d records; want read %d, %d records", st, len(sink.Records), tc.read, tc.records)
			}
		})
	}
}

// TestTruncatedSample cuts each sample file short at many places: reading
// goes on to the end without error, and what is emitted is a prefix of
// the whole file's records.
func TestTruncatedSample(t *testing.T) {
	for _, c := range sampleCases[:4] {
		paths, _ := globSample(c.glob)
		for _, p := range paths {
			data := readFile(t, p)
			full, _, err := readBytes(t, c.kind, data, "f")
			if err != nil {
				t.Fatal(err)
			}
			for cut := 1; cut < len(data); cut += len(data)/37 + 1 {
				sink, st, err := readBytes(t, c.kind, data[:cut], "f")
				if err != nil {
					t.Fatalf("%s cut at %d: %v", p, cut, err)
				}
				if st.Rejected > 1 && c.kind != KindPresence {
					t.Errorf("%s cut at %d: %d rejections", p, cut, st.Rejected)
				}
				if c.kind == KindCallRecords {
					continue // rows are held back per call record: not a prefix
				}
				for i, e := range sink.Records {
					if i >= len(full.Records) || fmt.Sprint(e.Record) != fmt.Sprint(full.Records[i].Record) {
						t.Errorf("%s cut at %d: record %d is not the whole file's", p, cut, i)
						break
					}
				}
			}
		}
	}
}

// TestLargeFile streams a bare array of 30,000 sign-ins, one a line,
// from a generator: every record is read and the line numbers stay right.
func TestLargeFile(t *testing.T) {
	const n = 30000
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte("[\n"))
		for i := 1; i <= n; i++ {
			rec := signInJSON(i)
			if i%1000 != 0 {
				rec = strings.Replace(rec, "alex@", "someone.else@", 1)
				rec = strings.Replace(rec, alexID, "00000000-0000-4000-8000-000000000000", 1)
			}
			sep := ",\n"
			if i == n {
				sep = "\n"
			}
			pw.Write([]byte(rec + sep))
		}
		pw.Write([]byte("]\n"))
		pw.Close()
	}()
	data, err := io.ReadAll(pr)
	if err != nil {
		t.Fatal(err)
	}
	sink, st, err := readBytes(t, KindSignIns, data, "big.json")
	if err != nil {
		t.Fatal(err)
	}
	if st.Read != n || len(sink.Records) != n/1000 || st.Rejected != 0 {
		t.Fatalf("stats %+v, %d records", st, len(sink.Records))
	}
	for i, e := range sink.Records {
		want := fmt.Sprintf("big.json:%d", (i+1)*1000+1)
		if got := sourcetest.Col(model.Logins, e.Record, "source_ref"); got != want {
			t.Fatalf("record %d: source_ref %v, want %s", i, got, want)
		}
	}
}

// TestLineCounter checks the line bookkeeping directly, including that it
// forgets the newlines it has passed.
func TestLineCounter(t *testing.T) {
	lc := &lineCounter{r: strings.NewReader("a\nb\n\nc\nd"), first: 1}
	if _, err := io.ReadAll(lc); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ off, line int64 }{{0, 1}, {1, 1}, {2, 2}, {4, 3}, {5, 4}, {5, 4}, {3, 4}, {8, 5}, {100, 5}} {
		if got := lc.lineAt(tc.off); got != tc.line {
			t.Errorf("lineAt(%d) = %d, want %d", tc.off, got, tc.line)
		}
	}
	if len(lc.nl) != 0 {
		t.Errorf("%d newlines kept", len(lc.nl))
	}
}

func TestUTF16Reader(t *testing.T) {
	text := "Zoë Łukasik 陈伟 🎧 end"
	var le bytes.Buffer
	for _, u := range utf16.Encode([]rune(text)) {
		binary.Write(&le, binary.LittleEndian, u)
	}
	// Read a byte at a time, so surrogate pairs and units split across reads.
	got, err := io.ReadAll(&utf16Reader{r: &oneByte{r: bytes.NewReader(le.Bytes())}})
	if err != nil || string(got) != text {
		t.Errorf("got %q, %v; want %q", got, err, text)
	}
	// An odd trailing byte becomes U+FFFD.
	got, _ = io.ReadAll(&utf16Reader{r: bytes.NewReader(append(le.Bytes(), 'x'))})
	if string(got) != text+"\uFFFD" {
		t.Errorf("got %q", got)
	}
}

type oneByte struct{ r io.Reader }

func (o *oneByte) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}
