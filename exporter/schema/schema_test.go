package schema

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dsar-tool/dsar/exporter/itest"
	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/formats"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

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

// TestGolden: the dictionary and every schema are byte-stable.
func TestGolden(t *testing.T) {
	var dict bytes.Buffer
	if err := WriteDictionary(&dict, model.Datasets); err != nil {
		t.Fatal(err)
	}
	golden(t, "dictionary.csv.golden", dict.Bytes())
	for _, d := range model.Datasets {
		a, err := JSONSchema(d)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := JSONSchema(d)
		if !bytes.Equal(a, b) {
			t.Fatalf("%s: two calls give different schemas", d.Name)
		}
		golden(t, d.Name+".schema.json.golden", a)
	}
	golden(t, "manifest.schema.json.golden", ManifestSchema())
}

// TestDictionary: one row per column of every dataset, in order, with
// the declared type, unit, nullability, enumeration and description; CRLF
// line ends.
func TestDictionary(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteDictionary(&buf, model.Datasets); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(buf.String(), "\r\n"); got != strings.Count(buf.String(), "\n") {
		t.Errorf("%d of %d line ends are CRLF", got, strings.Count(buf.String(), "\n"))
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "dataset,column,type,unit,nullable,enum,description" {
		t.Fatalf("header = %q", recs[0])
	}
	i := 1
	for _, d := range model.Datasets {
		for _, c := range d.Columns {
			if i >= len(recs) {
				t.Fatalf("the dictionary stops before %s.%s", d.Name, c.Name)
			}
			want := []string{d.Name, c.Name, c.Type.String(), c.Unit, fmt.Sprint(c.Nullable), strings.Join(c.Enum, "|"), c.Description}
			if strings.Join(recs[i], "\x00") != strings.Join(want, "\x00") {
				t.Errorf("row %d = %q, want %q", i+1, recs[i], want)
			}
			i++
		}
	}
	if i != len(recs) {
		t.Errorf("the dictionary has %d rows, want %d", len(recs)-1, i-1)
	}
}

// TestJSONSchemaShape: the schema's properties are the columns, in order,
// all required, nothing else allowed; types follow the declarations.
func TestJSONSchemaShape(t *testing.T) {
	for _, d := range model.Datasets {
		b, err := JSONSchema(d)
		if err != nil {
			t.Fatal(err)
		}
		var s struct {
			Schema string `json:"$schema"`
			ID     string `json:"$id"`
			Type   string `json:"type"`
			Items  struct {
				Properties           json.RawMessage `json:"properties"`
				Required             []string        `json:"required"`
				AdditionalProperties *bool           `json:"additionalProperties"`
			} `json:"items"`
		}
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		if s.Schema != "https://json-schema.org/draft/2020-12/schema" || s.ID != "https://dsar.example/schema/"+model.SchemaVersion+"/"+d.Name+".schema.json" || s.Type != "array" {
			t.Errorf("%s: $schema %q, $id %q, type %q", d.Name, s.Schema, s.ID, s.Type)
		}
		if s.Items.AdditionalProperties == nil || *s.Items.AdditionalProperties {
			t.Errorf("%s: additionalProperties is not false", d.Name)
		}
		// Property order, read with a token decoder.
		dec := json.NewDecoder(bytes.NewReader(s.Items.Properties))
		dec.Token()
		var order []string
		for dec.More() {
			k, _ := dec.Token()
			order = append(order, k.(string))
			var skip json.RawMessage
			dec.Decode(&skip)
		}
		var cols []string
		for _, c := range d.Columns {
			cols = append(cols, c.Name)
		}
		if strings.Join(order, ",") != strings.Join(cols, ",") || strings.Join(s.Items.Required, ",") != strings.Join(cols, ",") {
			t.Errorf("%s: properties %v, required %v; want the columns %v", d.Name, order, s.Items.Required, cols)
		}
	}
}

func TestJSONSchemaErrors(t *testing.T) {
	dup := &model.Dataset{Name: "x", Columns: []model.Column{{Name: "a"}, {Name: "a"}}}
	if _, err := JSONSchema(dup); err == nil || !strings.Contains(err.Error(), `column "a" twice`) {
		t.Errorf("duplicate column: err = %v", err)
	}
	odd := &model.Dataset{Name: "x", Columns: []model.Column{{Name: "a", Type: model.Type(99)}}}
	if _, err := JSONSchema(odd); err == nil || !strings.Contains(err.Error(), `column "a" has unknown type`) {
		t.Errorf("unknown type: err = %v", err)
	}
}

// records returns rows for d that exercise every column's edge values:
// the first typical, then the extremes of each type (null wherever the
// column allows it).
func records(d *model.Dataset) []model.Record {
	paris, _ := time.LoadLocation("Europe/Paris")
	var out []model.Record
	for v := 0; v < 4; v++ {
		r := make(model.Record, len(d.Columns))
		for i, c := range d.Columns {
			if v == 3 && c.Nullable {
				r[i] = nil
				continue
			}
			switch c.Type {
			case model.String:
				if len(c.Enum) > 0 {
					r[i] = c.Enum[v%len(c.Enum)]
					continue
				}
				r[i] = []string{"4321", "", "=1+2 \"quoted\" \\ back\tslash\nnew line \u2028 \U0001F4DE caf\u00e9", "invalid \xff utf-8"}[v]
			case model.Int:
				r[i] = []int64{42, 0, math.MaxInt64, math.MinInt64}[v]
			case model.Timestamp:
				r[i] = []time.Time{
					time.Date(2025, 10, 26, 1, 40, 0, 0, time.UTC),
					time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
					time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
					time.Date(2025, 3, 30, 3, 0, 0, 0, paris), // not UTC: written in UTC
				}[v]
			case model.Date:
				r[i] = []time.Time{
					time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC),
					time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
					time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
					time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
				}[v]
			case model.Bool:
				r[i] = v%2 == 0
			}
		}
		out = append(out, r)
	}
	return out
}

type validationCase struct {
	Name     string `json:"name"`
	Schema   string `json:"schema"`
	Instance string `json:"instance"`
	Valid    bool   `json:"valid"`
}

// runValidator checks every case with python3-jsonschema in one run.
func runValidator(t *testing.T, cases []validationCase) {
	t.Helper()
	py := itest.Python(t, "jsonschema")
	dir := t.TempDir()
	b, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	list := filepath.Join(dir, "cases.json")
	if err := os.WriteFile(list, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "testdata/validate.py", list).CombinedOutput()
	if err != nil {
		t.Fatalf("python3-jsonschema: %v\n%s", err, out)
	}
	t.Logf("%s", bytes.TrimSpace(out))
}

func writeFile(t *testing.T, path string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestJSONFilesValidate: every JSON file formats.NewJSON writes, with edge
// values and nulls, or empty, validates against its schema with an
// independent validator (python3-jsonschema); and rows that break the
// schema in each way it guards against are rejected.
func TestJSONFilesValidate(t *testing.T) {
	dir := t.TempDir()
	var cases []validationCase
	for _, d := range model.Datasets {
		sb, err := JSONSchema(d)
		if err != nil {
			t.Fatal(err)
		}
		schema := writeFile(t, filepath.Join(dir, d.Name+".schema.json"), sb)
		recs := records(d)
		for _, r := range recs {
			if err := d.Check(r); err != nil {
				t.Fatalf("test record: %v", err)
			}
		}
		var buf bytes.Buffer
		w := formats.NewJSON(&buf, d)
		for _, r := range recs {
			if err := w.Write(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, validationCase{d.Name + " records", schema, writeFile(t, filepath.Join(dir, d.Name+".json"), buf.Bytes()), true})

		var empty bytes.Buffer
		w = formats.NewJSON(&empty, d)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, validationCase{d.Name + " empty", schema, writeFile(t, filepath.Join(dir, d.Name+"-empty.json"), empty.Bytes()), true})

		// Break the first written row in every way the schema guards
		// against; each must be rejected.
		var rows []map[string]any
		if err := json.Unmarshal(buf.Bytes(), &rows); err != nil {
			t.Fatal(err)
		}
		bad := func(name string, edit func(row map[string]any)) {
			row := map[string]any{}
			for k, v := range rows[0] {
				row[k] = v
			}
			edit(row)
			b, _ := json.Marshal([]any{row})
			cases = append(cases, validationCase{d.Name + " " + name, schema, writeFile(t, filepath.Join(dir, d.Name+"-"+strings.ReplaceAll(name, " ", "-")+".json"), b), false})
		}
		first := d.Columns[0].Name
		bad("missing column", func(r map[string]any) { delete(r, first) })
		bad("extra column", func(r map[string]any) { r["not_a_column"] = "x" })
		bad("not an array", func(r map[string]any) {})
		cases[len(cases)-1].Instance = writeFile(t, filepath.Join(dir, d.Name+"-object.json"), mustJSON(rows[0]))
		for _, c := range d.Columns {
			c := c
			switch {
			case c.Type == model.Int:
				bad(c.Name+" as text", func(r map[string]any) { r[c.Name] = "42" })
				bad(c.Name+" fractional", func(r map[string]any) { r[c.Name] = 1.5 })
			case c.Type == model.Timestamp:
				bad(c.Name+" with a space", func(r map[string]any) { r[c.Name] = "2025-10-26 01:40:00Z" })
				bad(c.Name+" with an offset", func(r map[string]any) { r[c.Name] = "2025-10-26T02:40:00+01:00" })
				bad(c.Name+" month 13", func(r map[string]any) { r[c.Name] = "2025-13-26T01:40:00Z" })
			case c.Type == model.Date:
				bad(c.Name+" as a timestamp", func(r map[string]any) { r[c.Name] = "2026-01-12T00:00:00Z" })
			case c.Type == model.Bool:
				bad(c.Name+" as text", func(r map[string]any) { r[c.Name] = "true" })
			case len(c.Enum) > 0:
				bad(c.Name+" outside its values", func(r map[string]any) { r[c.Name] = "not-a-value" })
			case c.Type == model.String:
				bad(c.Name+" as a number", func(r map[string]any) { r[c.Name] = 4321 })
			}
			if !c.Nullable {
				bad(c.Name+" null", func(r map[string]any) { r[c.Name] = nil })
			}
		}
	}
	runValidator(t, cases)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// sampleManifest mirrors what exporter writes (exporter's own test checks
// a real one); it covers the optional fields and a redaction.
const sampleManifest = `{
  "schema_version": "1.0",
  "request_id": "R-2026-0001",
  "subject_id": "S-1001",
  "request_types": ["access"],
  "generator": "dsar test",
  "generated_at": "2026-02-02T10:00:00Z",
  "datasets": [{"name": "calls", "rows": 3}],
  "files": [
    {"path": "README.txt", "bytes": 10, "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "media_type": "text/plain; charset=utf-8"},
    {"path": "json/calls.json", "bytes": 10, "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "rows": 3, "dataset": "calls", "media_type": "application/json"}
  ],
  "sources": [{"name": "pbx", "kind": "asterisk-csv", "rows_read": 9, "rows_selected": 3, "rows_duplicate": 0, "rows_rejected": 1,
    "rejected": [{"source": "pbx", "file": "Master.csv", "line": 7, "reason": "too few fields"}], "rejected_truncated": true,
    "first_record_utc": "2025-10-26T01:40:00Z", "last_record_utc": "2025-10-27T01:40:00.5Z"}],
  "redactions": [{"rule": "external-numbers", "dataset": "calls", "column": "other_number", "action": "mask", "condition": "external", "rows": 2}]
}`

// TestManifestSchema: the manifest schema is a valid 2020-12 schema, a
// manifest of the current layout passes, and drift is caught.
func TestManifestSchema(t *testing.T) {
	dir := t.TempDir()
	schema := writeFile(t, filepath.Join(dir, "manifest.schema.json"), ManifestSchema())
	cases := []validationCase{{"manifest", schema, writeFile(t, filepath.Join(dir, "ok.json"), []byte(sampleManifest)), true}}
	bad := func(name, old, new string) {
		if !strings.Contains(sampleManifest, old) {
			t.Fatalf("%s: the sample has no %q", name, old)
		}
		m := strings.Replace(sampleManifest, old, new, 1)
		cases = append(cases, validationCase{"manifest " + name, schema, writeFile(t, filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json"), []byte(m)), false})
	}
	bad("unknown key", `"generator":`, `"generater": "x", "generator":`)
	bad("missing key", `"subject_id": "S-1001",`, ``)
	bad("short sha256", `"sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "rows"`, `"sha256": "e3b0", "rows"`)
	bad("negative rows", `"rows": 3}]`, `"rows": -3}]`)
	bad("local time", `"generated_at": "2026-02-02T10:00:00Z"`, `"generated_at": "2026-02-02T10:00:00+01:00"`)
	bad("redaction without rule", `"rule": "external-numbers", `, ``)
	bad("null request types", `"request_types": ["access"]`, `"request_types": null`)
	runValidator(t, cases)
}
