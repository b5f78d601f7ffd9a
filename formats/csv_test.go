package formats

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
)

func TestCSVShape(t *testing.T) {
	header := "request_id,seq,at_utc,event,actor,note\r\n"
	if got := string(encode(t, "csv", model.RequestEvents, nil)); got != header {
		t.Errorf("empty dataset: got %q, want %q", got, header)
	}
	got := string(encode(t, "csv", model.RequestEvents, eventRecords()))
	want := header +
		"RR-2025-001,1,2025-09-01T09:00:00Z,created,op:alice,Received by email.\r\n" +
		"RR-2025-001,2,2025-09-03T10:30:00Z,verified,op:alice,'=1+1 in a note\r\n" +
		"RR-2025-001,3,2025-10-01T16:45:12Z,exported,dsar,\r\n"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	got = string(encode(t, "csv", model.RightsRequests, rightsRecords()))
	want = "request_id,types,status,received,channel,id_requested,verified,verification_method,clock_start,due,extended_due,closed\r\n" +
		"RR-2025-001,\"access,portability\",closed,2025-09-01,email,true,2025-09-03,photo ID,2025-09-03,2025-10-03,,2025-09-30\r\n" +
		"RR-2025-014,erasure,open,2025-10-20,letter,false,,,,,,\r\n"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	if bytes.HasPrefix([]byte(got), []byte("\xef\xbb\xbf")) {
		t.Error("output starts with a byte-order mark")
	}
}

// csvField is the CSV text expected for value v of column c.
func csvField(c model.Column, v any) string {
	switch v := v.(type) {
	case string:
		return Neutralise(validUTF8(v))
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		return strconv.FormatBool(v)
	case time.Time:
		if c.Type == model.Date {
			return v.UTC().Format("2006-01-02")
		}
		return v.UTC().Format(time.RFC3339)
	}
	return ""
}

func TestCSVValues(t *testing.T) {
	recs := edgeRecords()
	out := encode(t, "csv", edge, recs)
	rows := readCSV(t, out)
	if len(rows) != len(recs)+1 {
		t.Fatalf("got %d rows, want %d", len(rows), len(recs)+1)
	}
	for j, c := range edge.Columns {
		if rows[0][j] != c.Name {
			t.Errorf("header %d: got %q, want %q", j, rows[0][j], c.Name)
		}
	}
	for i, r := range recs {
		for j, c := range edge.Columns {
			// encoding/csv's reader turns CRLF inside a quoted field into LF.
			want := strings.ReplaceAll(csvField(c, r[j]), "\r\n", "\n")
			if got := rows[i+1][j]; got != want {
				t.Errorf("row %d %s: got %q, want %q", i+1, c.Name, got, want)
			}
		}
	}
	// Line breaks inside fields are written as they are.
	for _, s := range []string{"\"cr\rinside\"", "\"crlf\r\nend\"", "\"line1\nline2\"", "'\rleading cr", "'\tleading tab"} {
		if !bytes.Contains(out, []byte(s)) {
			t.Errorf("output lacks %q", s)
		}
	}
}

// TestCSVMatchesEncodingCSV checks quoting against encoding/csv for fields
// without line breaks (where encoding/csv with UseCRLF rewrites them).
func TestCSVMatchesEncodingCSV(t *testing.T) {
	d := &model.Dataset{Name: "t", Columns: []model.Column{{Name: "a"}, {Name: "b"}}}
	var recs []model.Record
	var want bytes.Buffer
	cw := csv.NewWriter(&want)
	cw.UseCRLF = true
	_ = cw.Write([]string{"a", "b"})
	for _, s := range edgeStrings {
		if strings.ContainsAny(s, "\r\n") {
			continue
		}
		recs = append(recs, model.Record{s, "x" + s})
		_ = cw.Write([]string{Neutralise(validUTF8(s)), validUTF8("x" + s)})
	}
	cw.Flush()
	if got := encode(t, "csv", d, recs); !bytes.Equal(got, want.Bytes()) {
		t.Errorf("got\n%q\nencoding/csv wrote\n%q", got, want.Bytes())
	}
}

func FuzzCSVField(f *testing.F) {
	for _, s := range edgeStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		s = validUTF8(s)
		b := appendCSVField(nil, s)
		b = append(b, ",x\r\n"...)
		r := csv.NewReader(bytes.NewReader(b))
		rec, err := r.Read()
		if err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		// encoding/csv's reader turns CRLF inside a quoted field into LF.
		want := strings.ReplaceAll(s, "\r\n", "\n")
		if len(rec) != 2 || rec[0] != want || rec[1] != "x" {
			t.Fatalf("%q: read back %q", s, rec)
		}
	})
}
