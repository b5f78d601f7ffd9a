package main

import (
	"archive/zip"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dsar-tool/dsar/crypto"
	"github.com/dsar-tool/dsar/exporter/itest"
)

// sampleWorkspace makes a workspace over the samples with one verified
// request for S-1001 and a recipient key pair, and returns the config path
// and the recipient key prefix.
func sampleWorkspace(t *testing.T) (cfg, recipient string) {
	t.Helper()
	t.Setenv("DSAR_TEST_NOW", "2026-02-02T10:00:00Z")
	t.Setenv("TMPDIR", t.TempDir())
	dir := t.TempDir()
	ws := filepath.Join(dir, "ws")
	dsar(t, "init", ws)
	for _, f := range []string{"dsar.yaml", "subjects.yaml", "controller.yaml", "cdr-csv/Master.csv"} {
		data, err := os.ReadFile(filepath.Join("../../samples", f))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(filepath.Join(ws, f)), 0o700)
		if err := os.WriteFile(filepath.Join(ws, f), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg = filepath.Join(ws, "dsar.yaml")
	recipient = filepath.Join(dir, "alex")
	dsar(t, "keys", "generate", "--uid", "Alex Example <alex@example.ac.uk>", "--out", recipient)
	dsar(t, "--config", cfg, "request", "new", "--subject", "S-1001", "--type", "access", "--received", "2026-01-12", "--id-requested=false")
	return cfg, recipient
}

func dsar(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(append([]string{"dsar"}, args...), &out, &errb); code != 0 {
		t.Fatalf("dsar %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	return out.String()
}

// TestGnuPGOpensBundle: `gpg --decrypt` of a dsar bundle succeeds, reports a
// good signature by the controller's key, and yields the zip.
func TestGnuPGOpensBundle(t *testing.T) {
	gpg := itest.LookPath(t, "gpg", "gnupg")
	cfg, recipient := sampleWorkspace(t)
	bundle := strings.TrimSpace(dsar(t, "--config", cfg, "export", "R-2026-0001", "--recipient-key", recipient+".pub.asc", "--passphrase-file", writeTemp(t, "pass", "a long passphrase for the test\n")))
	controller, err := crypto.ReadKeys(filepath.Join(filepath.Dir(cfg), "keys", "controller.pub.asc"))
	if err != nil {
		t.Fatal(err)
	}
	fpr := crypto.Fingerprint(controller[0])

	newHome := func() string {
		home := t.TempDir()
		os.Chmod(home, 0o700)
		t.Cleanup(func() { exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run() })
		return home
	}
	gpgRun := func(home string, args ...string) ([]byte, string) {
		t.Helper()
		cmd := exec.Command(gpg, append([]string{"--homedir", home, "--batch", "--no-tty", "--status-fd", "2"}, args...)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("gpg %s: %v\n%s", strings.Join(args, " "), err, errb.String())
		}
		return out.Bytes(), errb.String()
	}
	// One home with the recipient's key, one with only the passphrase.
	keyHome, passHome := newHome(), newHome()
	gpgRun(keyHome, "--import", recipient+".sec.asc")
	for _, h := range []string{keyHome, passHome} {
		gpgRun(h, "--import", filepath.Join(filepath.Dir(cfg), "keys", "controller.pub.asc"))
	}

	for _, mode := range []struct {
		name string
		home string
		args []string
	}{
		{"recipient key", keyHome, []string{"--decrypt", bundle}},
		{"passphrase", passHome, []string{"--pinentry-mode", "loopback", "--passphrase", "a long passphrase for the test", "--decrypt", bundle}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			plain, status := gpgRun(mode.home, mode.args...)
			if !strings.Contains(status, "[GNUPG:] GOODSIG") || !strings.Contains(status, "[GNUPG:] VALIDSIG "+fpr) {
				t.Fatalf("gpg did not report a good signature by %s:\n%s", fpr, status)
			}
			zr, err := zip.NewReader(bytes.NewReader(plain), int64(len(plain)))
			if err != nil {
				t.Fatalf("gpg's output is not the zip: %v", err)
			}
			names := map[string]bool{}
			for _, f := range zr.File {
				names[f.Name] = true
			}
			for _, want := range []string{"manifest.json", "README.txt", "csv/calls.csv", "json/calls.json", "parquet/calls.parquet", "R-2026-0001.xlsx"} {
				if !names[want] {
					t.Errorf("zip lacks %s", want)
				}
			}
		})
	}
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
