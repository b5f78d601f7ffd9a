package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/dsar-tool/dsar/crypto"
	"github.com/dsar-tool/dsar/exporter/itest"
)

// cliWorkspace is a workspace made by 'dsar init' with the samples, one
// verified request (R-2026-0001) and a subject key pair subj.{sec,pub}.asc.
type cliWorkspace struct {
	t    *testing.T
	dir  string // holds ws/ and the test's files
	conf string
}

func newCLIWorkspace(t *testing.T) *cliWorkspace {
	t.Helper()
	t.Setenv(keyPassphraseEnv, "") // a developer's own would protect the test keys
	dir := t.TempDir()
	w := &cliWorkspace{t: t, dir: dir, conf: filepath.Join(dir, "ws", "dsar.yaml")}
	ws := filepath.Join(dir, "ws")
	runOK(t, "init", ws)
	for _, f := range []string{"dsar.yaml", "subjects.yaml", "controller.yaml", "cdr-csv/Master.csv"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "samples", f))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(filepath.Join(ws, f)), 0o700)
		if err := os.WriteFile(filepath.Join(ws, f), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	w.ok("keys", "generate", "--uid", "Subject <s@example.org>", "--out", w.path("subj"), "--no-passphrase")
	w.ok("request", "new", "--subject", "S-1001", "--type", "access", "--received", "2026-01-12", "--id-requested=false")
	return w
}

func (w *cliWorkspace) path(name string) string { return filepath.Join(w.dir, name) }

// run runs dsar with the workspace's config and returns the exit code,
// standard output and standard error.
func (w *cliWorkspace) run(args ...string) (int, string, string) {
	w.t.Helper()
	return runDsar(append([]string{"--config", w.conf}, args...)...)
}

func (w *cliWorkspace) ok(args ...string) (string, string) {
	w.t.Helper()
	code, out, errs := w.run(args...)
	if code != 0 {
		w.t.Fatalf("dsar %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out, errs
}

func runDsar(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(append([]string{"dsar"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func runOK(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := runDsar(args...)
	if code != 0 {
		t.Fatalf("dsar %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// refused checks that decrypting bundle fails with a message matching
// want and leaves no output (nor a staging folder) behind.
func (w *cliWorkspace) refused(bundle, want string, extra ...string) {
	w.t.Helper()
	out := w.path("got")
	args := append([]string{"decrypt", bundle, "--key", w.path("subj.sec.asc"), "--signer", w.path("ws/keys/controller.pub.asc"), "--out", out}, extra...)
	code, stdout, stderr := w.run(args...)
	if code == 0 {
		w.t.Fatalf("decrypt succeeded:\n%s", stdout)
	}
	if !regexp.MustCompile(want).MatchString(stderr) || !strings.Contains(stderr, "nothing was extracted") {
		w.t.Errorf("stderr %q does not match %q and say nothing was extracted", stderr, want)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		w.t.Errorf("%s exists after a failed decrypt", out)
	}
	ents, _ := os.ReadDir(w.dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".got") {
			w.t.Errorf("staging folder %s left behind", e.Name())
		}
	}
	code, _, stderr = w.run(append([]string{"verify", bundle, "--key", w.path("subj.sec.asc"), "--signer", w.path("ws/keys/controller.pub.asc")}, extra...)...)
	if code == 0 || !regexp.MustCompile(want).MatchString(stderr) {
		w.t.Errorf("verify: exit %d, stderr %q, want a failure matching %q", code, stderr, want)
	}
}

// TestCLITampered changes a bundle in every way the issue lists and
// checks that decrypt and verify refuse it and extract nothing.
func TestCLITampered(t *testing.T) {
	w := newCLIWorkspace(t)
	w.ok("export", "R-2026-0001", "--recipient-key", w.path("subj.pub.asc"), "--formats", "csv,json")
	orig, err := os.ReadFile(w.path("ws/outbox/R-2026-0001.zip.pgp"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := w.path(name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flip := func(at int) []byte {
		b := bytes.Clone(orig)
		b[at] ^= 0x20
		return b
	}
	// The message ends with the signature packet (about 120 bytes) and the
	// 22-byte MDC packet, all encrypted.
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"header byte", flip(12), "corrupt or was modified|no given key"},
		{"body byte", flip(len(orig) / 2), "corrupt or was modified"},
		{"signature byte", flip(len(orig) - 60), "corrupt or was modified|bad signature"},
		{"MDC byte", flip(len(orig) - 5), "corrupt or was modified"},
		{"truncated by one byte", orig[:len(orig)-1], "corrupt or was modified"},
		{"truncated by half", orig[:len(orig)/2], "corrupt or was modified"},
		{"appended garbage", append(bytes.Clone(orig), "trailing"...), "corrupt or was modified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.refused(write("R-2026-0001.zip.pgp", tc.data), tc.want)
		})
	}

	// The original plaintext, re-sealed: signed by another key, or not
	// signed at all, to the same recipient.
	subj, err := crypto.ReadKeys(w.path("subj.sec.asc"))
	if err != nil {
		t.Fatal(err)
	}
	var zip bytes.Buffer
	if _, err := crypto.Open(&zip, bytes.NewReader(orig), crypto.OpenOptions{Keys: subj, NoVerify: true}); err != nil {
		t.Fatal(err)
	}
	mallory, err := crypto.GenerateKey("Mallory <m@example.org>", time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("re-signed by another key", func(t *testing.T) {
		w.t = t
		var buf bytes.Buffer
		sw, err := crypto.Seal(&buf, crypto.SealOptions{Recipients: subj, Signer: mallory, FileName: "R-2026-0001.zip"})
		if err != nil {
			t.Fatal(err)
		}
		sw.Write(zip.Bytes())
		if err := sw.Close(); err != nil {
			t.Fatal(err)
		}
		w.refused(write("R-2026-0001.zip.pgp", buf.Bytes()), "signed by key .*"+crypto.Fingerprint(mallory)+".*not a trusted signer")
	})
	t.Run("unsigned", func(t *testing.T) {
		w.t = t
		var buf bytes.Buffer
		pt, err := openpgp.Encrypt(&buf, subj, nil, &openpgp.FileHints{IsBinary: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		pt.Write(zip.Bytes())
		if err := pt.Close(); err != nil {
			t.Fatal(err)
		}
		w.refused(write("R-2026-0001.zip.pgp", buf.Bytes()), "message is not signed")
	})
	t.Run("another request's bundle", func(t *testing.T) {
		w.t = t
		w.ok("request", "new", "--subject", "S-1001", "--type", "portability", "--received", "2026-01-20", "--id-requested=false")
		w.ok("export", "R-2026-0002", "--recipient-key", w.path("subj.pub.asc"), "--formats", "csv", "--out", w.path("second"))
		other, err := os.ReadFile(w.path("second/R-2026-0002.zip.pgp"))
		if err != nil {
			t.Fatal(err)
		}
		w.refused(write("R-2026-0001.zip.pgp", other), "named for request R-2026-0001 but holds the bundle of request R-2026-0002")
	})
	t.Run("untouched", func(t *testing.T) {
		w.t = t
		w.ok("decrypt", write("R-2026-0001.zip.pgp", orig), "--key", w.path("subj.sec.asc"), "--signer", w.path("ws/keys/controller.pub.asc"), "--out", w.path("ok"))
	})
}

var passphraseRE = regexp.MustCompile(`(?m)^Passphrase for R-2026-0001\.zip\.pgp \(shown only now and stored nowhere;\n.*by a different channel than the bundle.*\n\n    ([a-z -]+)\n`)

// TestCLIGeneratedPassphrase: --passphrase generate prints a passphrase of
// seven words once, on standard error, stores it nowhere, and it opens the
// bundle in dsar and in GnuPG.
func TestCLIGeneratedPassphrase(t *testing.T) {
	w := newCLIWorkspace(t)
	code, _, stderr := w.run("export", "R-2026-0001", "--passphrase", "secret words")
	if code != exitUsage || strings.Contains(stderr, "secret words") {
		t.Errorf("--passphrase with a value: exit %d, want %d, without repeating it: %s", code, exitUsage, stderr)
	}
	code, _, _ = w.run("export", "R-2026-0001", "--passphrase", "generate", "--passphrase-file", w.path("x"))
	if code != exitUsage {
		t.Errorf("--passphrase generate with --passphrase-file: exit %d, want %d", code, exitUsage)
	}

	stdout, stderr := w.ok("export", "R-2026-0001", "--passphrase", "generate", "--formats", "csv")
	if !strings.HasSuffix(strings.TrimSpace(stdout), "R-2026-0001.zip.pgp") || strings.Count(strings.TrimSpace(stdout), "\n") != 0 {
		t.Errorf("stdout should be the bundle's path only: %q", stdout)
	}
	m := passphraseRE.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no labelled passphrase in stderr:\n%s", stderr)
	}
	pass := m[1]
	if n := len(strings.Fields(pass)); n != crypto.PassphraseWords {
		t.Errorf("passphrase %q has %d words", pass, n)
	}
	// Stored nowhere: not in the workspace (register, audit), not in the
	// bundle.
	filepath.WalkDir(w.path("ws"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if data, _ := os.ReadFile(p); bytes.Contains(data, []byte(pass)) {
				t.Errorf("%s contains the passphrase", p)
			}
		}
		return nil
	})
	showOut, _ := w.ok("request", "show", "R-2026-0001", "--json")
	if !strings.Contains(showOut, "a passphrase") {
		t.Errorf("the export event does not say a passphrase was used:\n%s", showOut)
	}

	pf := w.path("pass.txt")
	os.WriteFile(pf, []byte(pass+"\n"), 0o600)
	bundle := w.path("ws/outbox/R-2026-0001.zip.pgp")
	w.ok("decrypt", bundle, "--passphrase-file", pf, "--signer", w.path("ws/keys/controller.pub.asc"), "--out", w.path("got"))

	// A second export gets a different passphrase.
	_, stderr2 := w.ok("export", "R-2026-0001", "--passphrase", "generate", "--formats", "csv", "--out", w.path("again"))
	if m2 := passphraseRE.FindStringSubmatch(stderr2); m2 == nil || m2[1] == pass {
		t.Errorf("second passphrase: %v", m2)
	}

	t.Run("gpg", func(t *testing.T) {
		gpg := itest.LookPath(t, "gpg", "gnupg")
		home := gpgHome(t)
		gpgRun(t, gpg, home, "--import", w.path("ws/keys/controller.pub.asc"))
		status := gpgRun(t, gpg, home, "--status-fd", "1", "--pinentry-mode", "loopback", "--passphrase-file", pf, "--output", w.path("gpg.zip"), "--decrypt", bundle)
		for _, want := range []string{"DECRYPTION_OKAY", "GOODSIG ", "VALIDSIG "} {
			if !strings.Contains(status, "[GNUPG:] "+want) {
				t.Errorf("gpg status lacks %s:\n%s", want, status)
			}
		}
		zip, _ := os.ReadFile(w.path("gpg.zip"))
		if !bytes.HasPrefix(zip, []byte("PK\x03\x04")) {
			t.Errorf("gpg output is not a zip (%d bytes)", len(zip))
		}
	})
}

func gpgHome(t *testing.T) string {
	t.Helper()
	// Short: gpg-agent's socket path is limited to about 100 bytes.
	home, err := os.MkdirTemp("", "dsar-gpg")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(home, 0o700)
	// The agent's key protection need not be slow in a test.
	os.WriteFile(filepath.Join(home, "gpg-agent.conf"), []byte("s2k-count 65536\n"), 0o600)
	t.Cleanup(func() {
		exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run()
		os.RemoveAll(home)
	})
	return home
}

func gpgRun(t *testing.T, gpg, home string, args ...string) string {
	t.Helper()
	cmd := exec.Command(gpg, append([]string{"--batch", "--no-tty", "--homedir", home}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("gpg %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

// TestCLIGnuPGRecipient: a recipient whose key GnuPG made (its secret key
// protected by a passphrase) gets a bundle through the keyring, opens it
// with dsar decrypt and with gpg, and gpg reports a good signature.
func TestCLIGnuPGRecipient(t *testing.T) {
	gpg := itest.LookPath(t, "gpg", "gnupg")
	home := gpgHome(t)
	w := newCLIWorkspace(t)
	keyPass := w.path("gpg-pass.txt")
	os.WriteFile(keyPass, []byte("gpg key passphrase\n"), 0o600)
	loop := []string{"--pinentry-mode", "loopback", "--passphrase-file", keyPass}
	for _, algo := range []string{"ed25519/cv25519"} {
		t.Run(algo, func(t *testing.T) {
			w.t = t
			prim, sub, _ := strings.Cut(algo, "/")
			uid := "GnuPG " + prim + " <gpg-" + prim + "@example.org>"
			gpgRun(t, gpg, home, append(loop, "--quick-gen-key", uid, prim, "sign,cert", "never")...)
			colons := gpgRun(t, gpg, home, "--with-colons", "--list-keys", "="+uid)
			fpr := regexp.MustCompile(`(?m)^fpr:+([0-9A-F]{40}):`).FindStringSubmatch(colons)[1]
			gpgRun(t, gpg, home, append(loop, "--quick-add-key", fpr, sub, "encr", "never")...)
			pub, sec := w.path(prim+".pub.asc"), w.path(prim+".sec.asc")
			os.WriteFile(pub, []byte(gpgRun(t, gpg, home, "--armor", "--export", fpr)), 0o600)
			os.WriteFile(sec, []byte(gpgRun(t, gpg, home, append(loop, "--armor", "--export-secret-keys", fpr)...)), 0o600)

			out, _ := w.ok("keys", "import", pub)
			if !strings.Contains(out, "imported "+fpr) {
				t.Errorf("import: %s", out)
			}
			outDir := w.path("out-" + prim)
			w.ok("export", "R-2026-0001", "--recipient-key", fpr, "--formats", "csv", "--out", outDir)
			bundle := filepath.Join(outDir, "R-2026-0001.zip.pgp")

			// dsar decrypt with GnuPG's protected secret key.
			got := w.path("got-" + prim)
			code, _, stderr := w.run("decrypt", bundle, "--key", sec, "--signer", w.path("ws/keys/controller.pub.asc"), "--out", got)
			if code == 0 || !strings.Contains(stderr, "protected by a passphrase") {
				t.Errorf("locked GnuPG key: exit %d, %s", code, stderr)
			}
			stdout, _ := w.ok("decrypt", bundle, "--key", sec, "--key-passphrase-file", keyPass, "--signer", w.path("ws/keys/controller.pub.asc"), "--out", got)
			if !strings.Contains(stdout, "Good signature") {
				t.Errorf("decrypt: %s", stdout)
			}
			if _, err := os.Stat(filepath.Join(got, "csv", "calls.csv")); err != nil {
				t.Error(err)
			}

			// gpg opens it and checks the controller's signature.
			gpgRun(t, gpg, home, "--import", w.path("ws/keys/controller.pub.asc"))
			status := gpgRun(t, gpg, home, append(loop, "--status-fd", "1", "--output", w.path("gpg-"+prim+".zip"), "--decrypt", bundle)...)
			for _, want := range []string{"DECRYPTION_OKAY", "GOODSIG "} {
				if !strings.Contains(status, "[GNUPG:] "+want) {
					t.Errorf("gpg status lacks %s:\n%s", want, status)
				}
			}
		})
	}
}

// TestCLISequoiaRecipient: a key Sequoia's sq generated is a recipient;
// sq decrypts the bundle and verifies the controller's signature, and
// dsar decrypt opens it with sq's secret key.
func TestCLISequoiaRecipient(t *testing.T) {
	sq := itest.LookPath(t, "sq", "sq")
	w := newCLIWorkspace(t)
	sqRun := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(sq, args...)
		cmd.Dir = w.dir
		cmd.Env = append(os.Environ(), "HOME="+w.dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("sq %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	sqRun("key", "generate", "--userid", "Sequoia <sq@example.org>", "--export", "sq.key")
	sqRun("key", "extract-cert", "--output", "sq.cert", "sq.key")
	w.ok("export", "R-2026-0001", "--recipient-key", w.path("sq.cert"), "--formats", "json")
	bundle := w.path("ws/outbox/R-2026-0001.zip.pgp")
	out := sqRun("decrypt", "--recipient-key", "sq.key", "--signer-cert", filepath.Join("ws", "keys", "controller.pub.asc"), "--output", "sq.zip", bundle)
	if !strings.Contains(out, "Good signature") {
		t.Errorf("sq decrypt:\n%s", out)
	}
	f, err := os.Open(w.path("sq.zip"))
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 4)
	io.ReadFull(f, head)
	f.Close()
	if string(head) != "PK\x03\x04" {
		t.Errorf("sq output starts %q, not a zip", head)
	}
	stdout, _ := w.ok("decrypt", bundle, "--key", w.path("sq.key"), "--signer", w.path("ws/keys/controller.pub.asc"), "--out", w.path("got"))
	if !strings.Contains(stdout, "Good signature") {
		t.Errorf("dsar decrypt with sq's key: %s", stdout)
	}
}
