package letter

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/samples"
)

// minimal is a complete profile in which every dataset takes every item
// from defaults.
const minimal = `controller:
  name: Test College
  address: [1 High Street, Testtown TE1 1ST]
  email: info@test.example
dpo:
  email: dpo@test.example
defaults:
  purposes: [Running the telephones.]
  lawful_basis: Legitimate interests.
  categories: Call details.
  recipients: [IT staff.]
  retention: Two years.
  source: The telephone system.
  transfers: None.
  automated_decisions: None.
rights:
  how_to_exercise: Write to the DPO.
  rectification: Correction.
  erasure: Deletion.
  restriction: Restriction.
  objection: Objection.
complaints:
  controller:
    email: complaints@test.example
`

// lineContaining returns the 1-based line of the first line of doc containing s.
func lineContaining(t *testing.T, doc, s string) int {
	t.Helper()
	for i, l := range strings.Split(doc, "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("no line contains %q", s)
	return 0
}

func TestMinimalProfile(t *testing.T) {
	p, err := ParseProfile("min.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if p.DPO.Name != "Data Protection Officer" {
		t.Errorf("dpo name = %q, want the default", p.DPO.Name)
	}
	if p.Complaints.ICO.Name != ICOContact.Name || p.Complaints.ICO.Web != "ico.org.uk/make-a-complaint" {
		t.Errorf("ico = %+v, want the ICO's published details", p.Complaints.ICO)
	}
	if got := p.For("calls").Categories; len(got) != 1 || got[0] != "Call details." {
		t.Errorf("one-string list = %q", got)
	}
}

// TestSampleProfile: the shipped sample loads and gives every dataset every
// Article 15 item.
func TestSampleProfile(t *testing.T) {
	p := loadSample(t)
	for _, d := range model.Datasets {
		pg := p.For(d.Name)
		for _, it := range items {
			if !it.get(&pg) {
				t.Errorf("%s: no %s", d.Name, it.key)
			}
		}
	}
	if p.For("rights_requests").LawfulBasis == p.For("calls").LawfulBasis {
		t.Error("the rights_requests section does not override the default lawful basis")
	}
	gs := p.Groups([]string{"calls", "logins", "presence", "rights_requests", "request_events"})
	if len(gs) != 2 || len(gs[0].Datasets) != 3 || gs[1].Title != "Your data-protection requests" {
		t.Errorf("groups = %+v", gs)
	}
}

// TestProfileTemplate: the `dsar init` template is refused until every
// placeholder is replaced, with one problem per placeholder line; once
// replaced it loads.
func TestProfileTemplate(t *testing.T) {
	tmpl := string(samples.ProfileTemplate)
	_, err := ParseProfile("controller.yaml", samples.ProfileTemplate)
	var pe *ProfileError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a *ProfileError", err)
	}
	want := 0
	for _, l := range strings.Split(tmpl, "\n") {
		if strings.Contains(l, Placeholder) && !strings.HasPrefix(strings.TrimSpace(l), "#") {
			want++
		}
	}
	if len(pe.Problems) != want {
		t.Errorf("%d problems, want %d (one per placeholder):\n%v", len(pe.Problems), want, err)
	}
	for _, p := range pe.Problems {
		if p.Line == 0 || !strings.Contains(p.Msg, "placeholder") {
			t.Errorf("problem %+v: want a line and the word placeholder", p)
		}
	}
	if line := lineContaining(t, tmpl, `name: "EDIT: the controller's`); !strings.Contains(err.Error(), `profile "controller.yaml" line `+strconv.Itoa(line)+": controller.name still holds") {
		t.Errorf("error does not name controller.name at line %d:\n%v", line, err)
	}
	filled := strings.ReplaceAll(tmpl, Placeholder+" ", "")
	if _, err := ParseProfile("controller.yaml", []byte(filled)); err != nil {
		t.Fatalf("the filled-in template: %v", err)
	}
}

// TestProfileErrors: each kind of mistake is reported with the file and
// the line it is on.
func TestProfileErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(string) string
		marker string // text on the line the error must name; "" for none
		want   string
	}{
		{"unknown key", func(s string) string {
			return strings.Replace(s, "  retention: Two years.", "  retention: Two years.\n  retension: typo", 1)
		}, "retension", `unknown key "retension"`},
		{"unknown top-level key", func(s string) string { return s + "controler: {}\n" }, "controler", `unknown key "controler"`},
		{"missing item", func(s string) string { return strings.Replace(s, "  retention: Two years.\n", "", 1) },
			"defaults:", `datasets calls, logins, presence, rights_requests and request_events have no retention: add a processing section for them or set them under defaults`},
		{"missing item in a section", func(s string) string {
			s = strings.Replace(s, "  source: The telephone system.\n", "", 1)
			return s + "processing:\n  - datasets: [logins]\n    source: The login server.\n  - title: Calls\n    datasets: [calls]\n    retention: Six months.\n"
		}, "title: Calls", `dataset "calls" has no source: set them in its section or under defaults`},
		{"several missing items", func(s string) string {
			s = strings.Replace(s, "  retention: Two years.\n", "", 1)
			return strings.Replace(s, "  transfers: None.\n", "", 1)
		}, "defaults:", `no retention and transfers`},
		{"unknown dataset", func(s string) string { return s + "processing:\n  - datasets: [calls, callz]\n" }, "callz", `unknown dataset "callz"`},
		{"dataset twice", func(s string) string {
			return s + "processing:\n  - datasets: [calls]\n  - datasets: [logins, calls]\n"
		}, "[logins, calls]", `dataset "calls" is already in the section at line`},
		{"list where text is wanted", func(s string) string {
			return strings.Replace(s, "  retention: Two years.", "  retention: [Two years.]", 1)
		}, "retention: [", "want text, found a list"},
		{"mapping where a list is wanted", func(s string) string {
			return strings.Replace(s, "  purposes: [Running the telephones.]", "  purposes: {a: b}", 1)
		}, "purposes:", "want text or a list of text, found a mapping"},
		{"missing controller email", func(s string) string { return strings.Replace(s, "  email: info@test.example\n", "", 1) },
			"controller:", "controller.email is required"},
		{"missing right", func(s string) string { return strings.Replace(s, "  erasure: Deletion.\n", "", 1) },
			"rights:", "rights.erasure is required"},
		{"no complaint route", func(s string) string {
			return strings.Replace(s, "    email: complaints@test.example\n", "    name: Someone\n", 1)
		}, "  controller:\n    name: Someone", "complaints.controller needs an address or an email"},
		{"placeholder", func(s string) string { return strings.Replace(s, "Two years.", `"EDIT: how long"`, 1) },
			"EDIT:", `defaults.retention still holds the template's placeholder`},
		{"one dataset missing an item", func(s string) string {
			s = strings.Replace(s, "  categories: Call details.\n", "", 1)
			return s + "processing:\n  - datasets: [calls, logins, rights_requests, request_events]\n    categories: Records.\n"
		}, "defaults:", `dataset "presence" has no categories: add a processing section for it or set them under defaults`},
		{"yaml syntax", func(s string) string { return strings.Replace(s, "Two years.", "a: b: c", 1) }, "a: b: c", "mapping values are not allowed"},
		{"empty file", func(string) string { return "" }, "", "the file is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.edit(minimal)
			path := filepath.Join(t.TempDir(), "controller.yaml")
			if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadProfile(path)
			if err == nil {
				t.Fatal("the profile was accepted")
			}
			prefix := "profile " + `"` + path + `"`
			if tc.marker != "" {
				line := 0
				if strings.Contains(tc.marker, "\n") {
					line = lineContaining(t, doc, strings.Split(tc.marker, "\n")[0])
				} else {
					line = lineContaining(t, doc, tc.marker)
				}
				prefix += " line " + strconv.Itoa(line) + ": "
			}
			want := prefix
			if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant one naming %q and saying %q", err, want, tc.want)
			}
		})
	}
}

func TestLoadProfileMissingFile(t *testing.T) {
	_, err := LoadProfile(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("err = %v, want one naming the file", err)
	}
}
