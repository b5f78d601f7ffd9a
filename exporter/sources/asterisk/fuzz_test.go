package asterisk

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/source/sourcetest"
)

// reasonRE is every rejection reason the connector gives: fixed text with
// field names and counts, never a row's content.
var reasonRE = regexp.MustCompile(`^(` +
	`expected \d+ fields \(16 \+ extra_columns\), got \d+` +
	`|(bad|empty) date in field (start|answer|end)` +
	`|bad integer in field (duration|billsec|sequence)` +
	`|time in field (start|answer|end) does not exist in zone [A-Za-z/_]+ \(clock change\)` +
	`|(stray quote|unexpected character after closing quote) in field [a-z]+` +
	`|(stray quote|unexpected character after closing quote) in field \d+` +
	`|invalid UTF-8|unterminated quote|record longer than 1 MiB` +
	`)$`)

// FuzzParseRecord feeds arbitrary file content through the reader. It
// must never panic; every emitted record must pass model.Calls.Check (the
// Recorder checks); every rejection must be a fixed reason at a real line.
func FuzzParseRecord(f *testing.F) {
	data, err := os.ReadFile(sampleCSV)
	if err != nil {
		f.Fatal(err)
	}
	for _, l := range strings.SplitAfter(string(data), "\n") {
		if l != "" {
			f.Add([]byte(l))
		}
	}
	lines := strings.SplitAfter(string(data), "\n")
	f.Add([]byte(lines[31] + lines[32] + lines[33])) // the repeated hour, in file order
	f.Add([]byte(strings.ReplaceAll(lines[3]+lines[4], "\n", "\r\n")))
	f.Add([]byte(strings.Replace(lines[5], `""`, "\"\n\"", 1)))
	f.Add([]byte(strings.Replace(lines[2], `""`, `"`, 1) + lines[3]))
	for _, tc := range badRows() {
		f.Add([]byte(tc.line + "\n"))
	}
	f.Add([]byte(dstRow("2025-03-30 01:30:00", "", "2025-03-30 02:31:00", "60", "0").String()))
	f.Add([]byte(""))
	f.Add([]byte("\n\r\n\"\n"))

	c, err := New("pbx", Config{Paths: []string{"unused"}, Timezone: "Europe/London", ExtraColumns: []string{"uniqueid", "userfield"}})
	if err != nil {
		f.Fatal(err)
	}
	q := sourcetest.Query(f, sampleSubjects())
	f.Fuzz(func(t *testing.T, data []byte) {
		sink := newSink(t)
		var st source.Stats
		sc := c.newScan(context.Background(), q, sink, &st)
		if err := sc.read(bytes.NewReader(data), "Master.csv"); err != nil {
			t.Fatalf("read: %v", err)
		}
		nlines := int64(bytes.Count(data, []byte{'\n'}) + 1)
		if st.Selected != int64(len(sink.Records)) || st.Rejected != int64(len(sink.Rejects)) || st.Rejected > st.Read || st.Read > nlines {
			t.Fatalf("stats %+v: %d records, %d rejects, %d lines", st, len(sink.Records), len(sink.Rejects), nlines)
		}
		for _, rj := range sink.Rejects {
			if rj.Source != "pbx" || rj.File != "Master.csv" || rj.Line < 1 || rj.Line > nlines || !reasonRE.MatchString(rj.Reason) {
				t.Errorf("rejection %+v", rj)
			}
		}
		for _, e := range sink.Records {
			ref, _ := get(e.Record, "source_ref").(string)
			n, err := strconv.ParseInt(strings.TrimPrefix(ref, "Master.csv:"), 10, 64)
			if err != nil || n < 1 || n > nlines {
				t.Errorf("source_ref %q", ref)
			}
			if get(e.Record, "leg") != int64(0) || get(e.Record, "source") != "pbx" || get(e.Record, "call_id") == "" {
				t.Errorf("record %v", e.Record)
			}
			for _, col := range []string{"start_utc", "answer_utc", "end_utc"} {
				if v, ok := get(e.Record, col).(time.Time); ok && v.Location() != time.UTC {
					t.Errorf("%s in %v", col, v.Location())
				}
			}
		}
	})
}
