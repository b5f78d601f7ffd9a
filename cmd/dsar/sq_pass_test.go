package main

import (
	"archive/zip"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dsar-tool/dsar/exporter/itest"
)

// TestSequoiaOpensPassphraseBundle: Sequoia's sq decrypts a passphrase
// bundle and reports a good signature by the controller. sq 0.27 reads the
// password only from a terminal, so the test gives it one with script(1).
func TestSequoiaOpensPassphraseBundle(t *testing.T) {
	sq := itest.LookPath(t, "sq", "sq")
	scr := itest.LookPath(t, "script", "bsdutils")
	cfg, _ := sampleWorkspace(t)
	const pass = "a long passphrase for the sequoia test"
	bundle := strings.TrimSpace(dsar(t, "--config", cfg, "export", "R-2026-0001", "--passphrase-file", writeTemp(t, "pass", pass+"\n")))
	out := filepath.Join(t.TempDir(), "out.zip")
	ctrl := filepath.Join(filepath.Dir(cfg), "keys", "controller.pub.asc")
	cmd := exec.Command(scr, "-qec", strings.Join([]string{sq, "decrypt", "--signer-cert", ctrl, "-o", out, bundle}, " "), "/dev/null")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin = pr
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(time.Second) // let sq ask first
		pw.WriteString(pass + "\n")
		pw.Close()
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sq decrypt: %v\n%s", err, buf.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("sq decrypt did not finish:\n%s", buf.String())
	}
	if !strings.Contains(buf.String(), "Good signature") || !strings.Contains(buf.String(), "AES-256") {
		t.Fatalf("sq did not report a good signature and AES-256:\n%s", buf.String())
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatalf("sq's output is not the zip: %v", err)
	}
	defer zr.Close()
	found := false
	for _, f := range zr.File {
		found = found || f.Name == "manifest.json"
	}
	if !found {
		t.Fatal("the zip sq decrypted has no manifest.json")
	}
}
