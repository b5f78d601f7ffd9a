package cdrgen_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/sources/asterisk"
	"github.com/dsar-tool/dsar/samples/gencdr/cdrgen"
)

func generate(t *testing.T, o cdrgen.Options) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := cdrgen.Write(&b, o); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDeterministic(t *testing.T) {
	o := cdrgen.Options{Rows: 20000, Staff: 300, Seed: 7}
	a, b := sha256.Sum256(generate(t, o)), sha256.Sum256(generate(t, o))
	if a != b {
		t.Error("two runs with the same options differ")
	}
	o.Seed = 8
	if c := sha256.Sum256(generate(t, o)); c == a {
		t.Error("a different seed gives the same file")
	}
	if !bytes.Equal(generate(t, cdrgen.Options{Rows: 500, Staff: 10}), generate(t, cdrgen.Options{Rows: 500, Staff: 10, Seed: 1})) {
		t.Error("seed 0 is not the default seed 1")
	}
}

func TestRowCount(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 1000} {
		out := generate(t, cdrgen.Options{Rows: n, Staff: 5, Seed: 3})
		if got := bytes.Count(out, []byte{'\n'}); got != n || (n > 0 && !bytes.HasSuffix(out, []byte{'\n'})) {
			t.Errorf("rows %d: %d lines", n, got)
		}
	}
	if err := cdrgen.Write(&bytes.Buffer{}, cdrgen.Options{Rows: -1, Staff: 5}); err == nil {
		t.Error("negative rows accepted")
	}
	if err := cdrgen.Write(&bytes.Buffer{}, cdrgen.Options{Rows: 1, Staff: 0}); err == nil {
		t.Error("no staff accepted")
	}
}

func TestStaffList(t *testing.T) {
	for _, n := range []int{0, -1, 8000} {
		if _, err := cdrgen.StaffList(n); err == nil {
			t.Errorf("StaffList(%d) accepted", n)
		}
	}
	list, err := cdrgen.StaffList(7999)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, s := range list {
		if s.ID != "S-"+pad4(i+1) || s.Ext != strconv.Itoa(2001+i) || s.SIP != s.Ext {
			t.Fatalf("staff %d: %+v", i, s)
		}
		e164, ok := source.NormalisePhone(s.Phone, "GB")
		if !ok || seen[e164] {
			t.Fatalf("staff %d: phone %q not a unique GB number", i, s.Phone)
		}
		seen[e164] = true
	}
}

func pad4(n int) string {
	s := strconv.Itoa(n)
	return strings.Repeat("0", 4-len(s)) + s
}

// subjectsOf returns the generated staff as subjects, as the subjects.yaml
// that WriteSubjects writes describes them.
func subjectsOf(t *testing.T, n int) []model.Subject {
	t.Helper()
	var b bytes.Buffer
	list, err := cdrgen.StaffList(n)
	if err != nil {
		t.Fatal(err)
	}
	if err := cdrgen.WriteSubjects(&b, list); err != nil {
		t.Fatal(err)
	}
	var raw []struct {
		ID          string `yaml:"id"`
		Name        string `yaml:"name"`
		Identifiers []struct {
			Kind  string `yaml:"kind"`
			Value string `yaml:"value"`
			From  string `yaml:"from"`
			To    string `yaml:"to"`
		} `yaml:"identifiers"`
	}
	dec := yaml.NewDecoder(&b)
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) != n {
		t.Fatalf("%d subjects, want %d", len(raw), n)
	}
	var out []model.Subject
	for i, r := range raw {
		if r.ID != list[i].ID || r.Name != list[i].Name || len(r.Identifiers) != 3 {
			t.Fatalf("subject %d: %+v, want %+v", i, r, list[i])
		}
		s := model.Subject{ID: r.ID, Name: r.Name}
		for j, id := range r.Identifiers {
			if id.Kind != []string{model.KindExtension, model.KindSIP, model.KindPhone}[j] || id.Value == "" || id.From != "" || id.To != "" {
				t.Fatalf("subject %s identifier %d: %+v", r.ID, j, id)
			}
			s.Identifiers = append(s.Identifiers, model.Identifier{Kind: id.Kind, Value: id.Value})
		}
		if s.Identifiers[0].Value != list[i].Ext || s.Identifiers[1].Value != list[i].SIP || s.Identifiers[2].Value != list[i].Phone {
			t.Fatalf("subject %s: %+v, want %+v", r.ID, s.Identifiers, list[i])
		}
		out = append(out, s)
	}
	return out
}

// TestSubjectsYAML checks that the subjects file loads as YAML, holds
// S-0042 (the export benchmark's subject), and that the matcher takes it.
func TestSubjectsYAML(t *testing.T) {
	subjects := subjectsOf(t, 2000)
	found := false
	for _, s := range subjects {
		if s.ID == "S-0042" {
			found = true
		}
	}
	if !found {
		t.Error("no S-0042")
	}
	if _, err := source.NewMatcher(subjects, "GB", time.UTC); err != nil {
		t.Error(err)
	}
}

// TestParses reads a generated file with the asterisk-csv connector: no
// rejections, every row belongs to at least one member of staff, rows in
// the order cdr_csv appends them (by end), and start times that agree
// with the uniqueid (the generator writes the start's epoch there), which
// checks the local-time rendering, clock changes included.
func TestParses(t *testing.T) {
	const rows, staff = 40000, 150
	data := generate(t, cdrgen.Options{Rows: rows, Staff: staff, Seed: 11})
	path := filepath.Join(t.TempDir(), "Master.csv")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := asterisk.New("pbx", asterisk.Config{Paths: []string{path}, Timezone: "Europe/London", ExtraColumns: []string{"uniqueid", "userfield"}})
	if err != nil {
		t.Fatal(err)
	}
	subjects := subjectsOf(t, staff)
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	m, err := source.NewMatcher(subjects, "GB", loc)
	if err != nil {
		t.Fatal(err)
	}
	sink := &sink{t: t, lines: map[int64]model.Record{}}
	st, err := c.Fetch(context.Background(), source.Query{Subjects: subjects, Matcher: m}, sink)
	if err != nil {
		t.Fatal(err)
	}
	if st.Read != rows || st.Rejected != 0 {
		t.Fatalf("stats %+v, rejects %+v", st, sink.rejects)
	}
	if len(sink.lines) != rows {
		t.Errorf("%d of %d rows matched a member of staff", len(sink.lines), rows)
	}
	col := func(r model.Record, name string) any { return r[model.Calls.Index(name)] }
	var prevEnd time.Time
	autumn := 0
	for n := int64(1); n <= rows; n++ {
		r, ok := sink.lines[n]
		if !ok {
			continue
		}
		start, end := col(r, "start_utc").(time.Time), col(r, "end_utc").(time.Time)
		if end.Before(prevEnd) {
			t.Errorf("line %d ends %v, before the line before (%v)", n, end, prevEnd)
		}
		prevEnd = end
		uid := col(r, "unique_id").(string)
		epoch, err := strconv.ParseInt(uid[:strings.IndexByte(uid, '.')], 10, 64)
		if err != nil {
			t.Fatalf("line %d: uniqueid %q", n, uid)
		}
		if start.Unix() != epoch && col(r, "application") != "VoiceMail" {
			t.Errorf("line %d: start %v, uniqueid says %v", n, start, time.Unix(epoch, 0).UTC())
		}
		if _, off := start.In(loc).Zone(); off == 0 && start.Month() == time.October {
			autumn++
		}
	}
	if autumn == 0 {
		t.Error("no calls in late October (GMT): the clock changes are not exercised")
	}
}

type sink struct {
	t       *testing.T
	lines   map[int64]model.Record
	rejects []model.Rejection
}

func (s *sink) Emit(subject string, d *model.Dataset, rec model.Record) error {
	if err := d.Check(rec); err != nil {
		s.t.Error(err)
	}
	ref := rec[model.Calls.Index("source_ref")].(string)
	n, err := strconv.ParseInt(strings.TrimPrefix(ref, "Master.csv:"), 10, 64)
	if err != nil {
		s.t.Fatalf("source_ref %q", ref)
	}
	s.lines[n] = rec
	return nil
}

func (s *sink) Reject(r model.Rejection) { s.rejects = append(s.rejects, r) }
