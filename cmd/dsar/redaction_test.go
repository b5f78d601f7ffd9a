package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/dsar-tool/dsar/crypto"
)

// bundleText decrypts a bundle and returns the text of every file in it,
// with the XLSX unzipped and the Parquet decoded, so that a value can be
// looked for in every format.
func bundleText(t *testing.T, bundle, keyPrefix string) map[string]string {
	t.Helper()
	keys, err := crypto.ReadKeys(keyPrefix + ".sec.asc")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(bundle)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var plain bytes.Buffer
	if _, err := crypto.Open(&plain, f, crypto.OpenOptions{Keys: keys, NoVerify: true}); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var walk func(prefix string, data []byte)
	walk = func(prefix string, data []byte) {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		for _, zf := range zr.File {
			rc, err := zf.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			name := prefix + zf.Name
			switch filepath.Ext(zf.Name) {
			case ".xlsx":
				walk(name+"!", b)
			case ".parquet":
				pf, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
				if err != nil {
					t.Fatal(err)
				}
				var sb strings.Builder
				for _, rg := range pf.RowGroups() {
					rows := rg.Rows()
					buf := make([]parquet.Row, 64)
					for {
						n, err := rows.ReadRows(buf)
						for _, r := range buf[:n] {
							for _, v := range r {
								fmt.Fprintf(&sb, "%s\n", v.String())
							}
						}
						if err != nil {
							break
						}
					}
					rows.Close()
				}
				out[name] = sb.String()
			default:
				out[name] = string(b)
			}
		}
	}
	walk("", plain.Bytes())
	return out
}

// TestNoRedactedValueInBundle: under the default policy no outside party's
// number or name appears in any file of any format; with --redaction keep
// they do (so the search would find them).
func TestNoRedactedValueInBundle(t *testing.T) {
	cfg, recipient := sampleWorkspace(t)
	// The outside caller of S-1001 in the sample, in the forms a file could hold.
	secrets := []string{"07700900461", "+447700900461", "7700900461", "O'Brien"}
	check := func(policy string, wantFound bool) {
		t.Helper()
		out := t.TempDir()
		bundle := strings.TrimSpace(dsar(t, "--config", cfg, "export", "R-2026-0001", "--recipient-key", recipient+".pub.asc", "--redaction", policy, "--out", out))
		files := bundleText(t, bundle, recipient)
		found := false
		for name, text := range files {
			for _, s := range secrets {
				if strings.Contains(text, s) {
					found = true
					if !wantFound {
						t.Errorf("policy %s: %s holds a redacted value", policy, name)
					}
				}
			}
		}
		if wantFound && !found {
			t.Errorf("policy %s: the outside caller's details are nowhere in the bundle; the test would not notice a leak", policy)
		}
		if policy == "default" {
			man := files["manifest.json"]
			if !strings.Contains(man, `"rule": "other-number-external"`) || !strings.Contains(man, `"column": "other_number"`) {
				t.Errorf("manifest does not list the redactions:\n%s", man)
			}
			if !strings.Contains(files["README.txt"], "other_number") {
				t.Errorf("the cover letter does not list the redacted columns")
			}
		}
	}
	check("keep", true)
	check("default", false)
}

// TestReproducibleExport: two exports of the same request with the same
// --generated-at give byte-identical zips inside their envelopes, although
// the first export is recorded in the register before the second runs.
func TestReproducibleExport(t *testing.T) {
	cfg, recipient := sampleWorkspace(t)
	zipOf := func() []byte {
		out := t.TempDir()
		bundle := strings.TrimSpace(dsar(t, "--config", cfg, "export", "R-2026-0001", "--recipient-key", recipient+".pub.asc",
			"--generated-at", "2026-02-02T09:30:00Z", "--out", out))
		keys, err := crypto.ReadKeys(recipient + ".sec.asc")
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(bundle)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var plain bytes.Buffer
		if _, err := crypto.Open(&plain, f, crypto.OpenOptions{Keys: keys, NoVerify: true}); err != nil {
			t.Fatal(err)
		}
		return plain.Bytes()
	}
	a, b := zipOf(), zipOf()
	if !bytes.Equal(a, b) {
		t.Fatalf("two exports with the same --generated-at differ (%d and %d bytes)", len(a), len(b))
	}
}
