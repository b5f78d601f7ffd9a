package letter

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const sampleProfile = "../../samples/controller.yaml"

func loadSample(t *testing.T) *Profile {
	t.Helper()
	p, err := LoadProfile(sampleProfile)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ptr[T any](v T) *T { return &v }

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// sampleLetter is a letter for a bundle of every format, with one source,
// a rejected row and two redactions.
func sampleLetter(t *testing.T) *Letter {
	t.Helper()
	counts := map[string]int{"calls": 17, "logins": 4, "presence": 0, "rights_requests": 1, "request_events": 3}
	l := &Letter{
		Profile: loadSample(t),
		Request: Request{ID: "R-2026-0001", Types: []string{"access", "portability"},
			Received: date(2026, 1, 12), ClockStart: date(2026, 1, 13), Due: date(2026, 2, 13)},
		Subject:           Subject{ID: "S-1001", Name: "Alex Example"},
		GeneratedAt:       time.Date(2026, 2, 2, 10, 0, 0, 0, time.UTC),
		Generator:         "dsar 0.1.0",
		SignerFingerprint: "0123456789ABCDEF0123456789ABCDEF01234567",
		Formats:           []string{"json", "csv", "xlsx", "parquet"},
		DisplayZone:       "Europe/London",
		Sources: []Source{{Name: "pbx", Kind: "asterisk-csv", Selected: 21, Rejected: 2,
			First: ptr(time.Date(2025, 10, 3, 8, 59, 0, 0, time.UTC)), Last: ptr(time.Date(2026, 1, 28, 17, 2, 11, 0, time.UTC))}},
		Redactions: []Redaction{
			{Rule: "external-numbers", Dataset: "calls", Column: "other_number", Action: "mask", Condition: "the other party is outside the University", Rows: 9},
			{Rule: "caller-names", Dataset: "calls", Column: "other_name", Action: "drop", Rows: 5, Reason: "Caller-ID names of other people are not needed to understand your calls."},
		},
	}
	n := 0
	for _, d := range model.Datasets {
		l.Datasets = append(l.Datasets, Dataset{Dataset: d, Rows: counts[d.Name]})
	}
	file := func(path, dataset, media string, rows *int) {
		n++
		l.Files = append(l.Files, File{Path: path, Bytes: int64(1000*n + 7), SHA256: fmt.Sprintf("%064x", n*7919), Rows: rows, Dataset: dataset, MediaType: media})
	}
	for _, f := range []struct{ dir, ext, media string }{{"json", ".json", "application/json"}, {"csv", ".csv", "text/csv; charset=utf-8; header=present"}} {
		for _, d := range model.Datasets {
			file(f.dir+"/"+d.Name+f.ext, d.Name, f.media, ptr(counts[d.Name]))
		}
	}
	file("R-2026-0001.xlsx", "", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ptr(25))
	for _, d := range model.Datasets {
		file("parquet/"+d.Name+".parquet", d.Name, "application/vnd.apache.parquet", ptr(counts[d.Name]))
	}
	file("schema/dictionary.csv", "", "text/csv; charset=utf-8; header=present", nil)
	for _, d := range model.Datasets {
		file("schema/"+d.Name+".schema.json", "", "application/schema+json", nil)
	}
	file("schema/manifest.schema.json", "", "application/schema+json", nil)
	return l
}

func render(t *testing.T, l *Letter) (txt, html string) {
	t.Helper()
	var a, b bytes.Buffer
	if err := WriteText(&a, l); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&b, l); err != nil {
		t.Fatal(err)
	}
	return a.String(), b.String()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test -update and review the diff)", path)
	}
}

// TestGolden: the sample letter, as text and as HTML, is byte-stable.
func TestGolden(t *testing.T) {
	txt, html := render(t, sampleLetter(t))
	golden(t, "sample.txt.golden", []byte(txt))
	golden(t, "sample.html.golden", []byte(html))
	// Rendering again gives the same bytes.
	txt2, html2 := render(t, sampleLetter(t))
	if txt != txt2 || html != html2 {
		t.Fatal("two renderings of the same letter differ")
	}
}

// documents returns the text letter and the HTML letter's visible text,
// each with whitespace folded, so that wrapping does not matter.
func documents(t *testing.T, l *Letter) map[string]string {
	t.Helper()
	txt, page := render(t, l)
	return map[string]string{"README.txt": fold(txt), "README.html": htmlText(t, page)}
}

// TestArticle15Items: both letters hold every Article 15(1)-(2) item of
// the sample profile for every dataset, the rights, the complaint routes,
// the controller and the DPO.
func TestArticle15Items(t *testing.T) {
	l := sampleLetter(t)
	pr := l.Profile
	var want []string
	addText := func(s string) {
		for _, p := range paragraphs(s) {
			want = append(want, plainText(p))
		}
	}
	addLines := func(ls Lines) {
		for _, s := range ls {
			want = append(want, fold(s))
		}
	}
	for _, d := range model.Datasets {
		pg := pr.For(d.Name)
		addLines(pg.Purposes)
		addText(pg.LawfulBasis)
		addLines(pg.Categories)
		addLines(pg.Recipients)
		addText(pg.Retention)
		addText(pg.Source)
		addText(pg.Transfers)
		addText(pg.Safeguards)
		addText(pg.AutomatedDecisions)
	}
	r := pr.Rights
	for _, s := range []string{r.HowToExercise, r.Informed, r.Access, r.Rectification, r.Erasure, r.Restriction, r.Portability, r.Objection, r.AutomatedDecisions} {
		addText(s)
	}
	for _, ct := range []Contact{pr.Complaints.Controller, pr.Complaints.ICO} {
		want = append(want, ct.Name, ct.Email, ct.Phone, ct.Web)
		addLines(ct.Address)
		addText(ct.Note)
	}
	// The ICO's published details, whatever the profile says.
	want = append(want, "Information Commissioner's Office", "Wycliffe House", "Water Lane", "Wilmslow", "Cheshire", "SK9 5AF", "0303 123 1113", "ico.org.uk/make-a-complaint")
	c := pr.Controller
	want = append(want, c.Name, c.Email, c.Phone, c.Web, c.PublicKey, pr.DPO.Name, pr.DPO.Email, pr.DPO.Phone)
	addLines(c.Address)
	// The request.
	want = append(want, "R-2026-0001", "Monday 12 January 2026", "Tuesday 13 January 2026", "Friday 13 February 2026",
		"a copy of your personal data", "the right to data portability", "Alex Example", "S-1001",
		"2 February 2026 at 10:00 UTC (10:00 UK time)", "0123 4567 89AB CDEF 0123 4567 89AB CDEF 0123 4567",
		"dsar verify R-2026-0001.zip.pgp --signer controller.pub.asc", "gpg --decrypt R-2026-0001.zip.pgp", "Good signature from", "sha256sum")
	// Every column of every dataset, with its meaning.
	for _, d := range model.Datasets {
		for _, col := range d.Columns {
			want = append(want, col.Name+" ("+typeText(col)+") "+col.Description)
		}
	}
	// Sources and redactions.
	want = append(want, "pbx (asterisk-csv) 21 records about you, from 3 October 2025 at 08:59 UTC to 28 January 2026 at 17:02 UTC.",
		"2 rows of this system's records could not be read",
		"Calls, column other_number What we did: partly hidden", "When: only where the other party is outside the University.", "Rows affected: 9. Rule: external-numbers.",
		"Calls, column other_name What we did: removed", "Rows affected: 5. Rule: caller-names.", "Why: Caller-ID names of other people")
	for name, doc := range documents(t, l) {
		for _, w := range want {
			if w == "" {
				continue
			}
			if !strings.Contains(doc, fold(w)) {
				t.Errorf("%s does not say %q", name, w)
			}
		}
	}
}

// TestFileList: both letters list every file with its row count, size and
// checksum, and every dataset with its row count.
func TestFileList(t *testing.T) {
	l := sampleLetter(t)
	for name, doc := range documents(t, l) {
		for _, f := range l.Files {
			entry := f.Path + " " + fileText(f, map[string]string{"calls": "Calls", "logins": "Logins", "presence": "Presence", "rights_requests": "Rights requests", "request_events": "Request events"})
			if f.Rows != nil {
				n := "; " + rows(int64(*f.Rows))
				if strings.HasSuffix(f.Path, ".xlsx") {
					n += " in all"
				}
				entry += n
			}
			entry += "; " + count(f.Bytes) + " bytes. SHA-256: " + f.SHA256
			if !strings.Contains(doc, entry) {
				t.Errorf("%s: no entry %q", name, entry)
			}
		}
		for _, d := range l.Datasets {
			entry := fmt.Sprintf("%s %s. %s", d.Title, rows(int64(d.Rows)), d.Description)
			if !strings.Contains(doc, entry) {
				t.Errorf("%s: no dataset entry %q", name, entry)
			}
		}
	}
	// The sample's counts, spelled out, so that a formatting change that
	// drops the numbers cannot pass by comparing with itself.
	txt, _ := render(t, l)
	for _, s := range []string{"The Calls table as JSON; 17 rows; 1,007 bytes.", "The Rights requests table as CSV; 1 row;", "25 rows in all", "The Presence table as Parquet; 0 rows;"} {
		if !strings.Contains(txt, s) {
			t.Errorf("README.txt does not say %q", s)
		}
	}
}

// TestTextWidth: README.txt lines fit in 72 columns, except commands,
// which are never wrapped.
func TestTextWidth(t *testing.T) {
	txt, _ := render(t, sampleLetter(t))
	for i, line := range strings.Split(txt, "\n") {
		if n := len([]rune(line)); n > textWidth && !strings.HasPrefix(line, "    dsar ") && !strings.HasPrefix(line, "    gpg ") {
			t.Errorf("line %d is %d columns: %q", i+1, n, line)
		}
		if strings.HasSuffix(line, " ") {
			t.Errorf("line %d ends in a space", i+1)
		}
	}
}

// TestMinimalLetter: a letter with nothing optional still renders, and
// says plainly what is absent.
func TestMinimalLetter(t *testing.T) {
	p, err := ParseProfile("min.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	l := &Letter{Profile: p, Request: Request{ID: "R-1"}, GeneratedAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Formats: []string{"json"},
		Datasets: []Dataset{{Dataset: model.Calls}}}
	for name, doc := range documents(t, l) {
		for _, want := range []string{"not signed", "We did not remove or hide anything", "No telephone-system sources were searched",
			"We found no records about you", "Test College", "Running the telephones.", "Information Commissioner's Office", "Wycliffe House"} {
			if !strings.Contains(doc, want) {
				t.Errorf("%s does not say %q", name, want)
			}
		}
		if strings.Contains(doc, "UK time") {
			t.Errorf("%s mentions UK time without a display zone", name)
		}
	}
	_, page := render(t, l)
	for _, p := range checkSelfContained(page) {
		t.Error(p)
	}
	if err := WriteText(io.Discard, &Letter{Request: Request{ID: "R-1"}}); err == nil || !strings.Contains(err.Error(), "profile") {
		t.Errorf("no profile: err = %v", err)
	}
	if err := WriteHTML(io.Discard, &Letter{Profile: p}); err == nil || !strings.Contains(err.Error(), "request id") {
		t.Errorf("no request id: err = %v", err)
	}
}

// TestOtherZone: a zone other than the UK's gets a sentence from the
// time-zone database.
func TestOtherZone(t *testing.T) {
	l := sampleLetter(t)
	l.DisplayZone = "Europe/Paris"
	doc := documents(t, l)["README.txt"]
	for _, want := range []string{"Local time in Europe/Paris is UTC+1 for part of the year and UTC+2 for the rest", "(11:00 Europe/Paris time)"} {
		if !strings.Contains(doc, want) {
			t.Errorf("README.txt does not say %q", want)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestWriteErrors: an error from the writer is returned.
func TestWriteErrors(t *testing.T) {
	l := sampleLetter(t)
	if err := WriteText(failWriter{}, l); err == nil {
		t.Error("WriteText: no error from a failing writer")
	}
	if err := WriteHTML(failWriter{}, l); err == nil {
		t.Error("WriteHTML: no error from a failing writer")
	}
}

// TestSectionOrder: the section numbers the letter cites match the order
// the sections are built in.
func TestSectionOrder(t *testing.T) {
	doc, err := build(sampleLetter(t))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range doc.Sections {
		ids = append(ids, s.ID)
	}
	if strings.Join(ids, ",") != strings.Join(sectionOrder, ",") {
		t.Fatalf("sections %v, sectionOrder %v", ids, sectionOrder)
	}
}
