package exporter

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dsar-tool/dsar/exporter/itest"
	"github.com/dsar-tool/dsar/exporter/schema"
)

// validateJSON checks instance against schema (JSON Schema 2020-12) with
// python3-jsonschema, an independent validator.
const validateJSON = `
import json, sys
import jsonschema
V = jsonschema.Draft202012Validator
schema = json.load(open(sys.argv[1], encoding="utf-8"))
V.check_schema(schema)
instance = json.load(open(sys.argv[2], encoding="utf-8"))
errs = list(V(schema, format_checker=V.FORMAT_CHECKER).iter_errors(instance))
for e in errs:
    print("at %s: %s" % (list(e.absolute_path), e.message))
sys.exit(1 if errs else 0)
`

// TestManifestMatchesSchema: the manifest.json of a real bundle validates
// against schema.ManifestSchema.
func TestManifestMatchesSchema(t *testing.T) {
	py := itest.Python(t, "jsonschema")
	seal, open := sealOptions(t)
	res := writeSample(t, sampleData(t), seal, t.TempDir())
	plain := decryptZip(t, res.Path, open)
	zr, err := zip.NewReader(bytes.NewReader(plain), int64(len(plain)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := zr.Open(ManifestName)
	if err != nil {
		t.Fatal(err)
	}
	man, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sp, mp := filepath.Join(dir, "manifest.schema.json"), filepath.Join(dir, "manifest.json")
	if err := os.WriteFile(sp, schema.ManifestSchema(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mp, man, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(py, "-c", validateJSON, sp, mp).CombinedOutput(); err != nil {
		t.Fatalf("manifest.json does not match schema/manifest.schema.json: %v\n%s", err, out)
	}
}

// TestManifestSchemaCoversManifest: every field of Manifest, including the
// ones a sample leaves out (omitempty), has a property in the schema with
// the same name, and the schema has no property the Manifest lacks, at
// every level. (A field of interface type, such as []any, is not checked
// below its own name.)
func TestManifestSchemaCoversManifest(t *testing.T) {
	var root map[string]any
	if err := json.Unmarshal(schema.ManifestSchema(), &root); err != nil {
		t.Fatal(err)
	}
	compareFields(t, "manifest", reflect.TypeFor[Manifest](), root)
}

// compareFields compares the JSON fields of struct type typ with the
// properties of the object schema s, and recurses into each field.
func compareFields(t *testing.T, at string, typ reflect.Type, s map[string]any) {
	t.Helper()
	props, _ := s["properties"].(map[string]any)
	required := map[string]bool{}
	if r, ok := s["required"].([]any); ok {
		for _, name := range r {
			required[name.(string)] = true
		}
	}
	var fields []string
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields = append(fields, name)
		p, ok := props[name].(map[string]any)
		if !ok {
			t.Errorf("%s.%s: the Go field %s has no property in the schema", at, name, f.Name)
			continue
		}
		omit := strings.Contains(opts, "omitempty")
		if omit == required[name] {
			t.Errorf("%s.%s: omitempty is %v but the schema says required %v", at, name, omit, required[name])
		}
		compareType(t, at+"."+name, f.Type, p)
	}
	var extra []string
	for name := range props {
		if !slices.Contains(fields, name) {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range extra {
		t.Errorf("%s.%s: the schema has a property that %s does not", at, name, typ)
	}
	if ap, ok := s["additionalProperties"].(bool); !ok || ap {
		t.Errorf("%s: the schema allows other properties", at)
	}
}

func compareType(t *testing.T, at string, typ reflect.Type, s map[string]any) {
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	want := ""
	switch {
	case typ == reflect.TypeFor[time.Time]():
		want = "string"
	case typ.Kind() == reflect.String:
		want = "string"
	case typ.Kind() == reflect.Bool:
		want = "boolean"
	case typ.Kind() >= reflect.Int && typ.Kind() <= reflect.Uint64:
		want = "integer"
	case typ.Kind() == reflect.Slice:
		want = "array"
	case typ.Kind() == reflect.Struct:
		want = "object"
	case typ.Kind() == reflect.Interface:
		return
	}
	if got, _ := s["type"].(string); got != want {
		t.Errorf("%s: schema type %v, want %q for Go type %s", at, s["type"], want, typ)
		return
	}
	switch want {
	case "array":
		items, _ := s["items"].(map[string]any)
		compareType(t, at+"[]", typ.Elem(), items)
	case "object":
		if typ != reflect.TypeFor[time.Time]() {
			compareFields(t, at, typ, s)
		}
	}
}
