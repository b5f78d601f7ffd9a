package exporter

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dsar-tool/dsar/crypto"
)

// zipEntry is one entry of a hand-made bundle zip.
type zipEntry struct {
	name   string
	mode   os.FileMode // 0: a regular 0644 file
	data   []byte
	listed bool // listed in the manifest (with its true hash)
	hash   string
}

// sealZip builds a zip of entries plus a manifest listing the entries
// marked listed, seals it like a bundle and returns its path.
func sealZip(t *testing.T, seal crypto.SealOptions, entries []zipEntry, manifest bool) string {
	t.Helper()
	return sealPatchedZip(t, seal, entries, manifest, nil)
}

// sealPatchedZip is sealZip with the zip's bytes passed through patch.
func sealPatchedZip(t *testing.T, seal crypto.SealOptions, entries []zipEntry, manifest bool, patch func([]byte) []byte) string {
	t.Helper()
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	man := Manifest{SchemaVersion: "1", RequestID: "R-2026-0001", GeneratedAt: genAt}
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: genAt}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
		if e.listed {
			sum := sha256.Sum256(e.data)
			hash := hex.EncodeToString(sum[:])
			if e.hash != "" {
				hash = e.hash
			}
			man.Files = append(man.Files, ManifestFile{Path: e.name, Bytes: int64(len(e.data)), SHA256: hash, MediaType: "text/plain"})
		}
	}
	if manifest {
		w, err := zw.Create(ManifestName)
		if err != nil {
			t.Fatal(err)
		}
		json.NewEncoder(w).Encode(man)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zbytes := zbuf.Bytes()
	if patch != nil {
		zbytes = patch(zbytes)
	}
	path := filepath.Join(t.TempDir(), "R-2026-0001.zip.pgp")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sw, err := crypto.Seal(f, seal)
	if err != nil {
		t.Fatal(err)
	}
	sw.Write(zbytes)
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestOpenBundleRefusesUnsafeZips: a correctly signed bundle whose zip
// holds a dangerous entry is refused before anything is extracted.
func TestOpenBundleRefusesUnsafeZips(t *testing.T) {
	seal, open := sealOptions(t)
	ok := zipEntry{name: "README.txt", data: []byte("hello\n"), listed: true}
	bomb := bytes.Repeat([]byte{0}, 4<<20) // 4 MiB of zeros deflate to about 4 KiB
	for _, tc := range []struct {
		name     string
		entries  []zipEntry
		manifest bool
		max      int64
		want     string
		patch    func([]byte) []byte
	}{
		{"absolute path", []zipEntry{ok, {name: "/tmp/evil", data: []byte("x"), listed: true}}, true, 0, "unsafe path", nil},
		{"parent folder", []zipEntry{ok, {name: "../evil", data: []byte("x"), listed: true}}, true, 0, "unsafe path", nil},
		{"parent inside", []zipEntry{ok, {name: "csv/../../evil", data: []byte("x"), listed: true}}, true, 0, "unsafe path", nil},
		{"dot", []zipEntry{ok, {name: "./README2.txt", data: []byte("x"), listed: true}}, true, 0, "unsafe path", nil},
		{"backslash", []zipEntry{ok, {name: `..\evil`, data: []byte("x"), listed: true}}, true, 0, "unsafe path", nil},
		{"drive letter", []zipEntry{ok, {name: "C:/evil", data: []byte("x"), listed: true}}, true, 0, "unsafe path", nil},
		{"symbolic link", []zipEntry{ok, {name: "link", mode: os.ModeSymlink | 0o777, data: []byte("/etc/passwd"), listed: true}}, true, 0, "not a regular file", nil},
		{"folder", []zipEntry{ok, {name: "csv", mode: os.ModeDir | 0o755, listed: false}}, true, 0, "not a regular file", nil},
		{"folder with a slash", []zipEntry{ok, {name: "csv/", mode: os.ModeDir | 0o755, listed: false}}, true, 0, "unsafe path", nil},
		{"size understated", []zipEntry{ok, {name: "zeros.bin", data: bomb, listed: true}}, true, 0, `"zeros.bin"`, understate("zeros.bin", 1000)},
		{"duplicate", []zipEntry{ok, ok}, true, 0, "appears twice", nil},
		{"zip bomb", []zipEntry{ok, {name: "zeros.bin", data: bomb, listed: true}}, true, 1 << 20, "exceed the size limit", nil},
		{"no manifest", []zipEntry{ok}, false, 0, "no manifest.json", nil},
		{"unlisted file", []zipEntry{ok, {name: "extra.txt", data: []byte("x")}}, true, 0, `"extra.txt" is not listed`, nil},
		{"wrong hash", []zipEntry{ok, {name: "data.csv", data: []byte("a,b\n"), listed: true, hash: strings.Repeat("0", 64)}}, true, 0, `"data.csv" does not match its SHA-256`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bundle := sealPatchedZip(t, seal, tc.entries, tc.manifest, tc.patch)
			parent := t.TempDir()
			out := filepath.Join(parent, "got")
			_, err := OpenBundle(context.Background(), bundle, OpenOptions{Crypto: open, ScratchDir: t.TempDir(), OutDir: out, MaxBytes: tc.max})
			if err == nil {
				t.Fatal("unsafe bundle opened")
			}
			t.Log(err)
			if !errors.Is(err, ErrBundle) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ErrBundle mentioning %q", err, tc.want)
			}
			ents, _ := os.ReadDir(parent)
			if len(ents) != 0 {
				t.Errorf("%s holds %v after a refused bundle", parent, ents)
			}
			if _, err := os.Lstat("/tmp/evil"); err == nil && tc.name == "absolute path" {
				t.Error("/tmp/evil was written")
			}
		})
	}

	// The same zip bomb is fine under the default limit, and a safe
	// bundle extracts.
	bundle := sealZip(t, seal, []zipEntry{ok, {name: "zeros.bin", data: bomb, listed: true}}, true)
	out := filepath.Join(t.TempDir(), "got")
	if _, err := OpenBundle(context.Background(), bundle, OpenOptions{Crypto: open, ScratchDir: t.TempDir(), OutDir: out}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(out, "zeros.bin")); err != nil || fi.Size() != int64(len(bomb)) {
		t.Errorf("zeros.bin: %v", err)
	}
}

// TestOpenBundleCheckOnly: with no OutDir nothing is written but the
// checks all run.
func TestOpenBundleCheckOnly(t *testing.T) {
	seal, open := sealOptions(t)
	ok := zipEntry{name: "README.txt", data: []byte("hello\n"), listed: true}
	cwd, _ := os.Getwd()
	before, _ := os.ReadDir(cwd)
	res, err := OpenBundle(context.Background(), sealZip(t, seal, []zipEntry{ok}, true), OpenOptions{Crypto: open, ScratchDir: t.TempDir()})
	if err != nil || res.OutDir != "" || res.Manifest.RequestID != "R-2026-0001" || !res.Envelope.Verified {
		t.Fatalf("err %v, %+v", err, res)
	}
	after, _ := os.ReadDir(cwd)
	if len(after) != len(before) {
		t.Errorf("check-only open wrote into %s", cwd)
	}
	bad := sealZip(t, seal, []zipEntry{ok, {name: "../evil", data: []byte("x"), listed: true}}, true)
	if _, err := OpenBundle(context.Background(), bad, OpenOptions{Crypto: open, ScratchDir: t.TempDir()}); !errors.Is(err, ErrBundle) {
		t.Errorf("check-only open of an unsafe zip: %v", err)
	}
}

// understate returns a patch that sets the uncompressed size the central
// directory states for the entry name to n (a zip bomb that lies about
// its size).
func understate(name string, n uint32) func([]byte) []byte {
	return func(z []byte) []byte {
		z = bytes.Clone(z)
		for i := 0; i+46 < len(z); i++ {
			if string(z[i:i+4]) != "PK\x01\x02" {
				continue
			}
			nameLen := int(z[i+28]) | int(z[i+29])<<8
			if string(z[i+46:i+46+nameLen]) == name {
				z[i+24], z[i+25], z[i+26], z[i+27] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
			}
		}
		return z
	}
}

// TestOpenBundleSizeLimit: a bundle whose decrypted zip is larger than the
// limit is refused before its contents are checked, and nothing is kept.
func TestOpenBundleSizeLimit(t *testing.T) {
	data := sampleData(t)
	seal, open := sealOptions(t)
	res := writeSample(t, data, seal, t.TempDir())
	scratch := t.TempDir()
	_, err := OpenBundle(context.Background(), res.Path, OpenOptions{Crypto: open, ScratchDir: scratch, OutDir: filepath.Join(t.TempDir(), "got"), MaxBytes: 1024})
	if !errors.Is(err, ErrBundle) {
		t.Fatalf("err = %v, want the size limit", err)
	}
	if ents, _ := os.ReadDir(scratch); len(ents) != 0 {
		t.Fatalf("scratch holds %d files after a refused bundle", len(ents))
	}
}
