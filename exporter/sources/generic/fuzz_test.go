package generic

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/source/sourcetest"
)

// fuzzRead reads data as one file of s and checks the contract: no error
// (the sink never fails), counts that add up, records that fit the
// dataset, reasons that hold no subject identifier.
func fuzzRead(t *testing.T, s *Source, q source.Query, data []byte) {
	sink := &sourcetest.Recorder{T: t}
	var st source.Stats
	sc := s.newScan(context.Background(), q, sink, &st)
	if err := sc.read(bytes.NewReader(data), "fuzz"); err != nil {
		t.Fatalf("read: %v", err)
	}
	if st.Read < st.Rejected || st.Rejected != int64(len(sink.Rejects)) || st.Selected != int64(len(sink.Records)) {
		t.Fatalf("stats %+v with %d rejections, %d records", st, len(sink.Rejects), len(sink.Records))
	}
	for _, r := range sink.Rejects {
		if r.Reason == "" || r.Source != s.name || r.File != "fuzz" || r.Line < 1 {
			t.Fatalf("rejection %+v", r)
		}
		for _, subj := range q.Subjects {
			for _, id := range subj.Identifiers {
				if len(id.Value) >= 4 && strings.Contains(strings.ToLower(r.Reason), strings.ToLower(id.Value)) {
					t.Fatalf("rejection reason %q holds an identifier", r.Reason)
				}
			}
		}
	}
}

// addLines seeds f with the sample file and each of its lines.
func addLines(f *testing.F, name string, prefix []byte) {
	data, err := os.ReadFile(filepath.Join(sampleDir, name))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f.Add(append(append([]byte(nil), prefix...), sc.Bytes()...))
	}
}

// FuzzGenericCSV reads arbitrary content under the recorder sample's
// mapping. textrec's FuzzSplit fuzzes the field splitter itself.
func FuzzGenericCSV(f *testing.F) {
	s := mustBuild(f, CSVKind, recorderYAML).(*Source)
	head := []byte("Recording ID,Start Time,End Time,Duration (s),Direction,Agent,Agent Extension,Agent Email,Remote Number,Remote Name,Result,Notes\n")
	addLines(f, "recorder-calls.csv", head)
	f.Add([]byte("a,b\n\"x\ny\",\"\"\"\"\n"))
	q := sourcetest.Query(f, sampleSubjects())
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, s, q, data)
	})
}

// FuzzGenericJSONL reads arbitrary content under the agent-event
// samples' logins and presence mappings.
func FuzzGenericJSONL(f *testing.F) {
	logins := mustBuild(f, JSONLKind, loginsYAML).(*Source)
	presence := mustBuild(f, JSONLKind, presenceYAML).(*Source)
	addLines(f, "agent-events.jsonl", nil)
	f.Add([]byte(`{"ts":"2025-01-06T08:58:02Z","event":"state","user":{"ext":4321},"status":true}`))
	f.Add([]byte(`{"ts":"2025-01-06T08:58:02Z","event":"login","user.ext":"4321","result":"ok"}`))
	q := sourcetest.Query(f, sampleSubjects())
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, logins, q, data)
		fuzzRead(t, presence, q, data)
	})
}
