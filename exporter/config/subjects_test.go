package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
)

func TestLoadSubjects(t *testing.T) {
	p := writeSubjects(t, `
- id: S-1
  name: Alice
  identifiers:
    - {kind: extension, value: " 4321 ", from: 2024-01-01, to: 2025-12-31}
    - {kind: phone, value: "+44 20 7946 0001"}
- id: S-2
  identifiers: []
`)
	got, err := LoadSubjects(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []model.Subject{
		{ID: "S-1", Name: "Alice", Identifiers: []model.Identifier{
			{Kind: model.KindExtension, Value: "4321", From: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)},
			{Kind: model.KindPhone, Value: "+44 20 7946 0001"},
		}},
		{ID: "S-2"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d subjects, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID || got[i].Name != want[i].Name || len(got[i].Identifiers) != len(want[i].Identifiers) {
			t.Fatalf("subject %d: %+v, want %+v", i, got[i], want[i])
		}
		for j, id := range want[i].Identifiers {
			if g := got[i].Identifiers[j]; g.Kind != id.Kind || g.Value != id.Value || !g.From.Equal(id.From) || !g.To.Equal(id.To) {
				t.Errorf("subject %d identifier %d: %+v, want %+v", i, j, g, id)
			}
		}
	}
	if got, err := LoadSubjects(writeSubjects(t, "")); err != nil || len(got) != 0 {
		t.Errorf("empty directory: %v, %v", got, err)
	}
}

// TestLoadSubjectsErrors: each mistake is named by file, line and key,
// never by an identifier's value.
func TestLoadSubjectsErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"misspelt identifiers", "- id: S-1\n  identifers:\n    - {kind: extension, value: \"4321\"}\n", `line 2: unknown key "identifers" (did you mean "identifiers"?); want id, name, identifiers`},
		{"misspelt identifier key", "- id: S-1\n  identifiers:\n    - {kind: extension, vaule: \"4321\"}\n", `line 3: unknown key "vaule" (did you mean "value"?)`},
		{"unknown identifier key", "- id: S-1\n  identifiers:\n    - {kind: phone, value: \"4321\", note: x}\n", `line 3: unknown key "note"; want kind, value, from, to`},
		{"no id", "- name: Alice\n", "line 1: id is required"},
		{"duplicate id", "- id: S-1\n- id: S-1\n", `line 2: subject "S-1" already listed at line 1`},
		{"unknown kind", "- id: S-1\n  identifiers:\n    - {kind: fax, value: \"4321\"}\n", `line 3: subject "S-1": identifier kind "fax" unknown`},
		{"empty value", "- id: S-1\n  identifiers:\n    - {kind: phone, value: \" \"}\n", "identifier value is empty"},
		{"bad date", "- id: S-1\n  identifiers:\n    - {kind: phone, value: \"4321\", from: 01/02/2024}\n", "from: want a date YYYY-MM-DD"},
		{"ends before it starts", "- id: S-1\n  identifiers:\n    - {kind: phone, value: \"4321\", from: 2024-02-01, to: 2024-01-01}\n", "ends (to) before it starts (from)"},
		{"not a list", "id: S-1\n", "line 1: want a list of subjects"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadSubjects(writeSubjects(t, tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "4321") {
				t.Errorf("error %q holds an identifier value", err)
			}
		})
	}
}

func writeSubjects(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "subjects.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
