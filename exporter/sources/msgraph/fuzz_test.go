package msgraph

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source/sourcetest"
)

// reasonRE is every rejection reason the connector gives: fixed text with
// field names (from the connector's own types) and counts, never a
// record's content.
var reasonRE = regexp.MustCompile(`^record [1-9][0-9]*: (` + strings.Join([]string{
	`line longer than 64 MiB`,
	`not a JSON object( or array)?`,
	`malformed JSON(; the rest of the file was not read)?`,
	`the (file|line) ends inside the record \(truncated\)`,
	`invalid UTF-8`,
	`field [A-Za-z0-9_@.]+ is not (a string|an array|an object|true or false|a number|a whole number|of the right type)`,
	`a field is not of the type Graph defines`,
	`no id`,
	`(session [0-9]+( segment [0-9]+)?: )?(start|end)DateTime is (missing or )?not an RFC 3339 time`,
	`(session [0-9]+( segment [0-9]+)?: )?endDateTime is before startDateTime`,
	`duration is not a whole number of seconds`,
	`callType is neither inbound \(…_in\) nor outbound \(…_out\)`,
	`(received|captured|createdDateTime) is missing or not an RFC 3339 time`,
	`presence has no (id|availability)`,
	`a change notification without its receipt time: save it as \{"received": \.\.\., "notification": \.\.\.\}`,
	`neither a notification capture \{received, notification\} nor a snapshot \{captured, presence\}`,
	`(notification [0-9]+: )?(encrypted content was not decrypted: the capture must store it as decryptedContent|no availability \(a basic notification: subscribe with includeResourceData\)|no user id in resourceData or resource)`,
}, "|") + `)$`)

// fuzzKind seeds a fuzz target with the kind's sample files, their
// records one by one, and broken variants, and checks the reader's
// contract on every input: no panic, no error, consistent counts, fixed
// rejection reasons at real lines, and records that fit their dataset.
func fuzzKind(f *testing.F, kind, glob string, extra ...string) {
	paths, err := filepath.Glob(filepath.Join(sampleDir, glob))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no samples for %s: %v", glob, err)
	}
	for _, p := range paths {
		data := readFile(f, p)
		f.Add(data)
		f.Add(data[:len(data)/2])
		for _, l := range bytes.Split(data, []byte{'\n'}) {
			if len(bytes.TrimSpace(l)) > 1 {
				f.Add(l)
			}
		}
	}
	for _, e := range extra {
		f.Add([]byte(e))
	}
	f.Add([]byte(""))
	f.Add([]byte("[1,{},[],\"x\",null]"))
	f.Add([]byte("\xFF\xFE[\x00{\x00}\x00]\x00"))
	f.Add([]byte(`{"value":{"value":[{"value":[]}]}}`))
	f.Add([]byte("{\"a\":1}\n{\"b\":\n{\"c\":2}\n{\"d\":3}\n"))

	s := mustNew(f, kind, "unused")
	queryOnce.Do(func() { queryCached = sourcetest.Query(f, sampleSubjects(f)) })
	q := queryCached
	f.Fuzz(func(t *testing.T, data []byte) {
		sink, st, err := readWith(t, s, data, "f.json", q)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if st.Selected != int64(len(sink.Records)) || st.Rejected != int64(len(sink.Rejects)) || st.Rejected > st.Read {
			t.Fatalf("stats %+v: %d records, %d rejections", st, len(sink.Records), len(sink.Rejects))
		}
		lines := int64(bytes.Count(data, []byte{'\n'}) + 1)
		for _, rj := range sink.Rejects {
			if rj.Source != "graph" || rj.File != "f.json" || rj.Line < 1 || rj.Line > lines || !reasonRE.MatchString(rj.Reason) {
				t.Errorf("rejection %+v", rj)
			}
		}
		for _, e := range sink.Records {
			// the Recorder has checked the record against its dataset.
			if sourcetest.Col(e.Dataset, e.Record, "source") != "graph" || !strings.HasPrefix(sourcetest.Col(e.Dataset, e.Record, "source_ref").(string), "f.json:") {
				t.Errorf("record %v", e.Record)
			}
			for i, c := range e.Dataset.Columns {
				if v, ok := e.Record[i].(time.Time); ok && (v.Location() != time.UTC || v.Nanosecond() != 0) {
					t.Errorf("%s = %v", c.Name, v)
				}
			}
			if e.Dataset == model.Calls {
				if sourcetest.Col(e.Dataset, e.Record, "leg") != int64(0) || sourcetest.Col(e.Dataset, e.Record, "call_id") == "" {
					t.Errorf("record %v", e.Record)
				}
				if st, en := sourcetest.Col(e.Dataset, e.Record, "start_utc").(time.Time), sourcetest.Col(e.Dataset, e.Record, "end_utc").(time.Time); en.Before(st) || sourcetest.Col(e.Dataset, e.Record, "duration_s").(int64) < 0 {
					t.Errorf("times %v %v", st, en)
				}
			}
		}
	})
}

func FuzzCallRecord(f *testing.F) {
	fuzzKind(f, KindCallRecords, "callrecords/*.json",
		callRecordJSON("c1", 1, `,"participants_v2":[{"id":"`+alexID+`"},{"id":"+447700900123"}]`),
		callRecordJSON("c1", 1, `,"sessions":[{"id":"s","caller":`+ai(alexID, "", tenantID)+`,"callee":{"identity":{"phone":{"id":"+441632960999"}}},"segments":[{"id":"g","failureInfo":{"stage":"midcall"}}]}]`),
	)
}

func FuzzPSTN(f *testing.F) {
	fuzzKind(f, KindPSTN, "pstn/*.json",
		`{"id":"p","userId":"`+alexID+`","startDateTime":"2025-01-06T10:00:00Z","endDateTime":"2025-01-06T10:00:01Z","duration":99999,"callType":"user_out"}`,
	)
}

func FuzzPresence(f *testing.F) {
	fuzzKind(f, KindPresence, "presence/*.jsonl",
		`{"captured":"/Date(1736154000000)/","presence":{"id":"`+alexID+`","availability":"Busy"}}`,
	)
}

func FuzzSignIn(f *testing.F) {
	fuzzKind(f, KindSignIns, "signins/*.json", signInJSON(1))
}
