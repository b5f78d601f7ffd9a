package asterisk

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/source/sourcetest"
)

func TestNewValidates(t *testing.T) {
	ok := Config{Paths: []string{"/var/log/asterisk/cdr-csv/Master*.csv"}, Timezone: "Europe/London"}
	tests := []struct {
		name    string
		src     string
		edit    func(*Config)
		wantErr string
	}{
		{name: "valid", src: "pbx", edit: func(*Config) {}},
		{name: "UTC", src: "pbx", edit: func(c *Config) { c.Timezone = "UTC" }},
		{name: "GMT", src: "pbx", edit: func(c *Config) { c.Timezone = " GMT " }},
		{name: "no name", src: " ", edit: func(*Config) {}, wantErr: "source name is required"},
		{name: "no paths", src: "pbx", edit: func(c *Config) { c.Paths = nil }, wantErr: "paths"},
		{name: "empty path", src: "pbx", edit: func(c *Config) { c.Paths = []string{""} }, wantErr: "paths[0] is empty"},
		{name: "bad glob", src: "pbx", edit: func(c *Config) { c.Paths = []string{"cdr-csv/[Master.csv"} }, wantErr: "syntax error in pattern"},
		{name: "no timezone", src: "pbx", edit: func(c *Config) { c.Timezone = "" }, wantErr: "timezone is required"},
		{name: "Local", src: "pbx", edit: func(c *Config) { c.Timezone = "Local" }, wantErr: `"Local" is not allowed`},
		{name: "unknown zone", src: "pbx", edit: func(c *Config) { c.Timezone = "Europe/Londres" }, wantErr: "Europe/Londres"},
		{name: "unknown column", src: "pbx", edit: func(c *Config) { c.ExtraColumns = []string{"calldate"} }, wantErr: "unknown column"},
		{name: "column order", src: "pbx", edit: func(c *Config) { c.ExtraColumns = []string{"userfield", "uniqueid"} }, wantErr: "out of order"},
		{name: "partial newcdrcolumns", src: "pbx", edit: func(c *Config) { c.ExtraColumns = []string{"linkedid"} }, wantErr: "come together"},
	}
	for _, tc := range tests {
		cfg := ok
		cfg.Paths = append([]string(nil), ok.Paths...)
		tc.edit(&cfg)
		c, err := New(tc.src, cfg)
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			} else if c.Name() != "pbx" || c.Kind() != "asterisk-csv" {
				t.Errorf("%s: name %q kind %q", tc.name, c.Name(), c.Kind())
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.wantErr)
		}
		if tc.src == "pbx" && err != nil && !strings.Contains(err.Error(), `"pbx"`) {
			t.Errorf("%s: error %q does not name the source", tc.name, err)
		}
	}
}

// TestNewCopiesConfig checks that the caller's slices are not kept.
func TestNewCopiesConfig(t *testing.T) {
	paths := []string{sourcetest.WriteFile(t, "Master.csv", at("2025-02-03", row{src: "4321", dst: "4399"}).String())}
	extra := []string{"uniqueid", "userfield"}
	c, err := New("pbx", Config{Paths: paths, Timezone: "Europe/London", ExtraColumns: extra})
	if err != nil {
		t.Fatal(err)
	}
	paths[0] = "/nonexistent"
	extra[0] = "bogus"
	sink := newSink(t)
	if _, err := c.Fetch(context.Background(), sourcetest.Query(t, sampleSubjects()), sink); err != nil || len(sink.Records) != 1 {
		t.Errorf("err %v, %d records", err, len(sink.Records))
	}
}

func TestMissingFile(t *testing.T) {
	dir := t.TempDir()
	c := newCSV(t, Config{Paths: []string{filepath.Join(dir, "Master*.csv")}})
	subjects := sampleSubjects()
	_, err := c.Fetch(context.Background(), sourcetest.Query(t, subjects), newSink(t))
	if !errors.Is(err, source.ErrNoFiles) {
		t.Fatalf("error %v, want one wrapping source.ErrNoFiles", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, `"pbx"`) {
		t.Errorf("error %q does not name the source", msg)
	}
	for _, s := range subjects {
		for _, v := range append([]string{s.ID, s.Name}, idValues(s)...) {
			if strings.Contains(msg, v) {
				t.Errorf("error %q contains subject data %q", msg, v)
			}
		}
	}
	// One glob matching and one not is an error too.
	good := sourcetest.WriteFile(t, "Master.csv", "")
	c = newCSV(t, Config{Paths: []string{good, filepath.Join(dir, "Master-old*.csv")}})
	if _, err := c.Fetch(context.Background(), sourcetest.Query(t, subjects), newSink(t)); !errors.Is(err, source.ErrNoFiles) {
		t.Errorf("second glob matching nothing: %v", err)
	}
	// A glob matching a directory.
	if err := os.Mkdir(filepath.Join(dir, "Master-dir.csv"), 0o700); err != nil {
		t.Fatal(err)
	}
	c = newCSV(t, Config{Paths: []string{filepath.Join(dir, "Master*.csv")}})
	if _, err := c.Fetch(context.Background(), sourcetest.Query(t, subjects), newSink(t)); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("glob matching a directory: %v", err)
	}
}

func idValues(s model.Subject) []string {
	var out []string
	for _, id := range s.Identifiers {
		out = append(out, id.Value)
	}
	return out
}

// TestGlobs checks that files are read in sorted order, each once.
func TestGlobs(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, r row) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(r.String()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("Master-b.csv", at("2025-02-04", row{src: "4321", dst: "4399"}))
	write("Master-a.csv", at("2025-02-03", row{src: "4321", dst: "4399"}))
	write("Master.csv", at("2025-02-05", row{src: "4321", dst: "4399"}))
	write("4321.csv", at("2025-02-05", row{src: "4321", dst: "4399"})) // a per-account file, not matched
	c := newCSV(t, Config{Paths: []string{
		filepath.Join(dir, "Master-*.csv"),
		filepath.Join(dir, "Master.csv"),
		filepath.Join(dir, "Master-a.csv"),
		filepath.Join(dir, ".", "Master-b.csv"),
	}, ExtraColumns: []string{"uniqueid", "userfield"}})
	sink := newSink(t)
	st, err := c.Fetch(context.Background(), sourcetest.Query(t, sampleSubjects()), sink)
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, e := range sink.Records {
		refs = append(refs, get(e.Record, "source_ref").(string))
	}
	if got := strings.Join(refs, " "); got != "Master-a.csv:1 Master-b.csv:1 Master.csv:1" || st.Read != 3 {
		t.Errorf("read %s (stats %+v)", got, st)
	}
}

// badRows are malformed rows, each with the reason it is rejected for.
// Every one carries personal data that must not reach the reason.
func badRows() []struct{ name, line, reason string } {
	good := row{acct: "CC999", src: "07700900123", dst: "4321", clid: `"Secret Caller" <07700900123>`,
		ch: "PJSIP/trunk-0000abcd", dch: "PJSIP/4321-0000abce", data: "PJSIP/4321,30", uid: "1738584000.77", user: "private note",
		start: "2025-02-03 12:00:00", answer: "2025-02-03 12:00:05", end: "2025-02-03 12:01:00", dur: "60", bill: "55"}
	line := strings.TrimSuffix(good.String(), "\n")
	with := func(f func(*row)) string {
		r := good
		f(&r)
		return strings.TrimSuffix(r.String(), "\n")
	}
	return []struct{ name, line, reason string }{
		{"17 fields", strings.TrimSuffix(line, `,"private note"`), "expected 18 fields (16 + extra_columns), got 17"},
		{"19 fields", line + `,"surplus 01632"`, "expected 18 fields (16 + extra_columns), got 19"},
		{"one field", `"Secret Caller 07700900123"`, "expected 18 fields (16 + extra_columns), got 1"},
		{"bad start date", with(func(r *row) { r.start = "2025-02-30 12:00:00" }), "bad date in field start"},
		{"bad answer date", with(func(r *row) { r.answer = "03/02/2025 12:00" }), "bad date in field answer"},
		{"bad end date", with(func(r *row) { r.end = "2025-02-03T12:01:00" }), "bad date in field end"},
		{"empty start", with(func(r *row) { r.start = "" }), "empty date in field start"},
		{"empty end", with(func(r *row) { r.end = "" }), "empty date in field end"},
		{"bad duration", with(func(r *row) { r.dur = "60.5" }), "bad integer in field duration"},
		{"empty billsec", strings.Replace(line, ",60,55,", ",60,,", 1), "bad integer in field billsec"},
		{"huge duration", with(func(r *row) { r.dur = "12345678901234567890" }), "bad integer in field duration"},
		{"invalid UTF-8", with(func(r *row) { r.clid = "\"Secr\xe9t\" <07700900123>" }), "invalid UTF-8"},
		{"stray quote", strings.Replace(line, ",60,55,", `,6"0,55,`, 1), "stray quote in field duration"},
		{"after closing quote", strings.Replace(line, `"CC999",`, `"CC999"x,`, 1), "unexpected character after closing quote in field accountcode"},
	}
}

// TestRejections checks each kind of malformed row: rejected with the
// source, file base name and line, a reason naming the field but holding
// nothing of the row, and reading goes on.
func TestRejections(t *testing.T) {
	goodRow := at("2025-02-03", row{src: "4321", dst: "4399", ch: "PJSIP/4321-00000001"}).String()
	for _, tc := range badRows() {
		t.Run(tc.name, func(t *testing.T) {
			content := goodRow + tc.line + "\n" + goodRow
			sink, st, err := fetch(t, Config{}, content, sampleSubjects())
			if err != nil {
				t.Fatal(err)
			}
			if st.Read != 3 || st.Rejected != 1 || st.Selected != 2 || len(sink.Records) != 2 {
				t.Fatalf("stats %+v, %d records, rejects %+v", st, len(sink.Records), sink.Rejects)
			}
			if len(sink.Rejects) != 1 {
				t.Fatalf("rejects %+v", sink.Rejects)
			}
			rj := sink.Rejects[0]
			if rj.Source != "pbx" || rj.File != "Master.csv" || rj.Line != 2 || rj.Reason != tc.reason {
				t.Errorf("rejection %+v, want pbx Master.csv line 2 %q", rj, tc.reason)
			}
			assertNoContent(t, rj, tc.line)
		})
	}
}

// assertNoContent fails if the rejection holds any of line's values.
func assertNoContent(t *testing.T, rj model.Rejection, line string) {
	t.Helper()
	all := rj.Source + " " + rj.File + " " + rj.Reason
	for _, v := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == '"' || r == '<' || r == '>' }) {
		v = strings.TrimSpace(v)
		if len(v) >= 3 && strings.Contains(all, v) {
			t.Errorf("rejection %+v contains the row's value %q", rj, v)
		}
	}
	for _, v := range []string{"Secret", "07700900123", "4321", "private", "CC999", "1738584000"} {
		if strings.Contains(all, v) {
			t.Errorf("rejection %+v contains %q", rj, v)
		}
	}
}

func TestUnterminatedQuote(t *testing.T) {
	good := at("2025-02-03", row{src: "4321", dst: "4399", ch: "PJSIP/4321-00000001", user: "private note"}).String()
	broken := strings.Replace(good, `"private note"`, `"private note`, 1)
	tests := []struct {
		name    string
		content string
		line    int64
		read    int64
		good    int
	}{
		// The stray quote swallows nothing: the rows after it are read.
		{"then good rows", good + broken + good + good, 2, 4, 3},
		{"at the end of the file", good + good + strings.TrimSuffix(broken, "\n"), 3, 3, 2},
		{"followed by a row with one quote", good + broken + `"x` + "\n" + good, 2, 4, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink, st, err := fetch(t, Config{}, tc.content, sampleSubjects())
			if err != nil {
				t.Fatal(err)
			}
			if st.Read != tc.read || len(sink.Records) != tc.good {
				t.Errorf("stats %+v, %d records, rejects %+v", st, len(sink.Records), sink.Rejects)
			}
			found := false
			for _, rj := range sink.Rejects {
				if rj.Line == tc.line && rj.Reason == "unterminated quote" {
					found = true
				}
				assertNoContent(t, rj, broken)
			}
			if !found {
				t.Errorf("no unterminated-quote rejection at line %d: %+v", tc.line, sink.Rejects)
			}
		})
	}
}

func TestOverlongRow(t *testing.T) {
	good := at("2025-02-03", row{src: "4321", dst: "4399", ch: "PJSIP/4321-00000001"}).String()
	long := at("2025-02-03", row{src: "4321", dst: "4399", ch: "PJSIP/4321-00000001", user: strings.Repeat("x", maxRecord)}).String()
	longQuoteOpen := `"` + strings.Repeat("y", maxRecord/2) + "\n" + strings.Repeat("z", maxRecord/2+10) + "\n"
	sink, st, err := fetch(t, Config{}, good+long+good+longQuoteOpen+good, sampleSubjects())
	if err != nil {
		t.Fatal(err)
	}
	if st.Read != 6 || len(sink.Records) != 3 {
		t.Errorf("stats %+v, %d records, rejects %+v", st, len(sink.Records), sink.Rejects)
	}
	want := []model.Rejection{
		{Source: "pbx", File: "Master.csv", Line: 2, Reason: "record longer than 1 MiB"},
		{Source: "pbx", File: "Master.csv", Line: 4, Reason: "unterminated quote"},
		{Source: "pbx", File: "Master.csv", Line: 5, Reason: "expected 18 fields (16 + extra_columns), got 1"},
	}
	if len(sink.Rejects) != len(want) {
		t.Fatalf("rejects %+v", sink.Rejects)
	}
	for i := range want {
		if sink.Rejects[i] != want[i] {
			t.Errorf("reject %d: %+v, want %+v", i, sink.Rejects[i], want[i])
		}
	}
	// A row of exactly the limit is read.
	r := at("2025-02-03", row{src: "4321", dst: "4399", ch: "PJSIP/4321-00000001"})
	n := len(r.String()) - 1
	r.user = strings.Repeat("u", maxRecord-n)
	if len(r.String()) != maxRecord+1 {
		t.Fatalf("row of %d bytes", len(r.String()))
	}
	sink, st, err = fetch(t, Config{}, r.String(), sampleSubjects())
	if err != nil || st.Rejected != 0 || len(sink.Records) != 1 {
		t.Errorf("row at the limit: err %v stats %+v", err, st)
	}
}

// TestLineEndings checks LF, CRLF, a last line without a line ending and
// blank lines.
func TestLineEndings(t *testing.T) {
	rows := []row{
		at("2025-02-03", row{src: "4321", dst: "4399", ch: "PJSIP/4321-00000001", uid: "1.1"}),
		at("2025-02-04", row{src: "4399", dst: "4321", ch: "PJSIP/4399-00000001", uid: "1.2", answer: ""}),
		at("2025-02-05", row{src: "4321", dst: "07700900461", ch: "PJSIP/4321-00000001", uid: "1.3"}),
	}
	rows[1].answer = "" // unset answer: an empty unquoted field
	var lf strings.Builder
	for _, r := range rows {
		lf.WriteString(r.String())
	}
	variants := map[string]string{
		"LF":                  lf.String(),
		"CRLF":                strings.ReplaceAll(lf.String(), "\n", "\r\n"),
		"no final LF":         strings.TrimSuffix(lf.String(), "\n"),
		"no final CRLF":       strings.TrimSuffix(strings.ReplaceAll(lf.String(), "\n", "\r\n"), "\r\n"),
		"blank lines":         "\n" + strings.ReplaceAll(lf.String(), "\n", "\n\n"),
		"blank lines in CRLF": "\r\n" + strings.ReplaceAll(lf.String(), "\n", "\r\n\r\n"),
	}
	for name, content := range variants {
		sink, st, err := fetch(t, Config{}, content, sampleSubjects())
		if err != nil {
			t.Fatal(err)
		}
		if st.Read != 3 || st.Rejected != 0 || len(sink.Records) != 3 {
			t.Errorf("%s: stats %+v rejects %+v", name, st, sink.Rejects)
			continue
		}
		for i, e := range sink.Records {
			if got := get(e.Record, "unique_id"); got != rows[i].uid {
				t.Errorf("%s: record %d unique_id %q", name, i, got)
			}
			if get(e.Record, "user_field") != "" || get(e.Record, "outcome_raw") != "ANSWERED" {
				t.Errorf("%s: record %d holds a CR: %q", name, i, e.Record)
			}
		}
		if get(sink.Records[1].Record, "answer_utc") != nil {
			t.Errorf("%s: unset answer read as %v", name, get(sink.Records[1].Record, "answer_utc"))
		}
	}
}

// TestMultilineRecord checks a quoted field holding line breaks (cdr_csv
// writes a userfield as it is).
func TestMultilineRecord(t *testing.T) {
	first := at("2025-02-03", row{src: "4321", dst: "4399", ch: "PJSIP/4321-00000001"}).String()
	multi := at("2025-02-04", row{src: "4321", dst: "4399", ch: "PJSIP/4321-00000001", user: "line one\nline \"two\"\n\nline four, end"}).String()
	last := at("2025-02-05", row{src: "4321", dst: "4399", ch: "PJSIP/4321-00000001"}).String()
	for _, crlf := range []bool{false, true} {
		content := first + multi + last
		wantUser := "line one\nline \"two\"\n\nline four, end"
		if crlf {
			content = strings.ReplaceAll(content, "\n", "\r\n")
			wantUser = strings.ReplaceAll(wantUser, "\n", "\r\n")
		}
		sink, st, err := fetch(t, Config{}, content, sampleSubjects())
		if err != nil {
			t.Fatal(err)
		}
		if st.Read != 3 || st.Rejected != 0 || len(sink.Records) != 3 {
			t.Fatalf("crlf %v: stats %+v rejects %+v", crlf, st, sink.Rejects)
		}
		if got := get(sink.Records[1].Record, "user_field"); got != wantUser {
			t.Errorf("crlf %v: user_field %q", crlf, got)
		}
		for i, ref := range []string{"Master.csv:1", "Master.csv:2", "Master.csv:6"} {
			if got := get(sink.Records[i].Record, "source_ref"); got != ref {
				t.Errorf("crlf %v: record %d source_ref %q, want %q", crlf, i, got, ref)
			}
		}
	}
}

func TestStrict(t *testing.T) {
	good := at("2025-02-03", row{src: "4321", dst: "4399", ch: "PJSIP/4321-00000001"}).String()
	bad := strings.Replace(good, "2025-02-03 12:00:00", "2025-02-03 25:00:00", 1)
	sink, st, err := fetch(t, Config{Strict: true}, good+bad+good, sampleSubjects())
	if err == nil || !strings.Contains(err.Error(), `"pbx"`) || !strings.Contains(err.Error(), "1 row(s)") {
		t.Fatalf("strict with a bad row: err %v", err)
	}
	if st.Read != 3 || st.Rejected != 1 || len(sink.Rejects) != 1 {
		t.Errorf("strict reads the whole file first: stats %+v", st)
	}
	if _, _, err := fetch(t, Config{Strict: true}, good+good, sampleSubjects()); err != nil {
		t.Errorf("strict with good rows: %v", err)
	}
	if _, _, err := fetch(t, Config{}, good+bad+good, sampleSubjects()); err != nil {
		t.Errorf("not strict: %v", err)
	}
}

func TestFetchErrors(t *testing.T) {
	good := at("2025-02-03", row{src: "4321", dst: "4399", ch: "PJSIP/4321-00000001"}).String()
	c := newCSV(t, Config{Paths: []string{sourcetest.WriteFile(t, "Master.csv", strings.Repeat(good, 3*ctxEvery))}, ExtraColumns: []string{"uniqueid", "userfield"}})

	if _, err := c.Fetch(context.Background(), source.Query{}, newSink(t)); err == nil {
		t.Error("no matcher: no error")
	}

	// A sink error stops the Fetch and is returned.
	sink := &sourcetest.Recorder{T: t, Dataset: model.Calls, FailOn: 2}
	st, err := c.Fetch(context.Background(), sourcetest.Query(t, sampleSubjects()), sink)
	if !errors.Is(err, sourcetest.ErrSinkFull) || len(sink.Records) != 2 || st.Read != 2 {
		t.Errorf("sink error: err %v, %d records, stats %+v", err, len(sink.Records), st)
	}

	// Cancelled before: nothing is read.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	st, err = c.Fetch(ctx, sourcetest.Query(t, sampleSubjects()), newSink(t))
	if !errors.Is(err, context.Canceled) || st.Read != 0 {
		t.Errorf("cancelled: err %v, stats %+v", err, st)
	}

	// Cancelled while reading: stops within ctxEvery rows.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	cs := &cancelSink{Recorder: sourcetest.Recorder{T: t, Dataset: model.Calls}, cancel: cancel}
	st, err = c.Fetch(ctx, sourcetest.Query(t, sampleSubjects()), cs)
	if !errors.Is(err, context.Canceled) || st.Read > ctxEvery {
		t.Errorf("cancelled while reading: err %v, stats %+v", err, st)
	}
}

type cancelSink struct {
	sourcetest.Recorder
	cancel func()
}

func (s *cancelSink) Emit(subject string, d *model.Dataset, rec model.Record) error {
	s.cancel()
	return s.Recorder.Emit(subject, d, rec)
}

// TestQuotedIntegers checks that integers in quotes (which cdr_csv does
// not write) are still read.
func TestQuotedIntegers(t *testing.T) {
	good := at("2025-02-03", row{src: "4321", dst: "4399", ch: "PJSIP/4321-00000001"}).String()
	quoted := strings.Replace(good, ",60,55,", `,"60","55",`, 1)
	sink, st, err := fetch(t, Config{}, quoted, sampleSubjects())
	if err != nil || st.Rejected != 0 || len(sink.Records) != 1 || get(sink.Records[0].Record, "duration_s") != int64(60) {
		t.Errorf("err %v stats %+v rejects %+v", err, st, sink.Rejects)
	}
}
