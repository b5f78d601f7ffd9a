package formats

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
)

func TestJSONShape(t *testing.T) {
	if got := string(encode(t, "json", model.RequestEvents, nil)); got != "[]\n" {
		t.Errorf("empty dataset: got %q, want %q", got, "[]\n")
	}
	got := string(encode(t, "json", model.RequestEvents, eventRecords()[:2]))
	want := "[\n" +
		`{"request_id":"RR-2025-001","seq":1,"at_utc":"2025-09-01T09:00:00Z","event":"created","actor":"op:alice","note":"Received by email."},` + "\n" +
		`{"request_id":"RR-2025-001","seq":2,"at_utc":"2025-09-03T10:30:00Z","event":"verified","actor":"op:alice","note":"=1+1 in a note"}` + "\n" +
		"]\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	got = string(encode(t, "json", model.RightsRequests, rightsRecords()[1:]))
	want = "[\n" +
		`{"request_id":"RR-2025-014","types":"erasure","status":"open","received":"2025-10-20","channel":"letter","id_requested":false,"verified":null,"verification_method":"","clock_start":null,"due":null,"extended_due":null,"closed":null}` + "\n" +
		"]\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestJSONValues decodes the edge dataset with encoding/json and compares
// every value with what was written.
func TestJSONValues(t *testing.T) {
	recs := edgeRecords()
	out := encode(t, "json", edge, recs)
	if !json.Valid(out) {
		t.Fatal("output is not valid JSON")
	}
	if bytes.ContainsAny(out, "\u2028\u2029") {
		t.Error("U+2028/U+2029 not escaped")
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	var rows []map[string]any
	if err := dec.Decode(&rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(recs) {
		t.Fatalf("got %d rows, want %d", len(rows), len(recs))
	}
	for i, r := range recs {
		// Keys in column order.
		line := strings.Split(string(out), "\n")[i+1]
		pos := 0
		for _, c := range edge.Columns {
			k := strings.Index(line[pos:], `"`+c.Name+`":`)
			if k < 0 {
				t.Fatalf("row %d: key %q missing or out of order", i, c.Name)
			}
			pos += k
		}
		for j, c := range edge.Columns {
			got := rows[i][c.Name]
			var want any
			switch v := r[j].(type) {
			case nil:
				want = nil
			case string:
				want = validUTF8(v)
			case int64:
				want = json.Number(strconv.FormatInt(v, 10))
			case bool:
				want = v
			case time.Time:
				if c.Type == model.Date {
					want = v.UTC().Format("2006-01-02")
				} else {
					want = v.UTC().Truncate(time.Second).Format(time.RFC3339)
				}
			}
			if got != want {
				t.Errorf("row %d %s: got %#v, want %#v", i, c.Name, got, want)
			}
		}
	}
}

// TestJSONString compares appendJSONString with encoding/json.
func TestJSONString(t *testing.T) {
	all := append([]string{"\b\f\x00\x7f", "\u2027\u2028\u202a", "\xed\xa0\x80", "\"\\/"}, edgeStrings...)
	for _, s := range all {
		got := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("%q: %s is not a JSON string: %v", s, got, err)
			continue
		}
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("%q: decodes to %q, encoding/json's to %q", s, back, wantBack)
		}
	}
	if got := string(appendJSONString(nil, "<a&b>")); got != `"<a&b>"` {
		t.Errorf("HTML characters escaped: %s", got)
	}
}

func FuzzJSONString(f *testing.F) {
	for _, s := range edgeStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%q: invalid JSON %s: %v", s, b, err)
		}
		if back != validUTF8(s) {
			t.Fatalf("%q: decodes to %q", s, back)
		}
	})
}
