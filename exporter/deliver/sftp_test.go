package deliver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const bundle = "R-2026-0001.zip.pgp"

// makeBundle writes size pseudo-random bytes to a bundle file and returns
// its path and SHA-256.
func makeBundle(t *testing.T, size int) (string, string) {
	t.Helper()
	data := make([]byte, size)
	r := rand.NewChaCha8([32]byte{byte(size), byte(size >> 8), byte(size >> 16)})
	r.Read(data)
	p := filepath.Join(t.TempDir(), bundle)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return p, hex.EncodeToString(sum[:])
}

func newDest(t *testing.T, c Config) Destination {
	t.Helper()
	d, err := New(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// remoteFolder is a fresh folder the test sshd delivers into.
func remoteFolder(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "incoming")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// names lists a folder.
func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ns []string
	for _, e := range es {
		ns = append(ns, e.Name())
	}
	return ns
}

// wantOnly fails unless dir holds exactly want (no .part files).
func wantOnly(t *testing.T, dir string, want ...string) {
	t.Helper()
	got := names(t, dir)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("folder holds %q, want %q", got, want)
	}
}

func fileSHA(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func TestSFTPUpload(t *testing.T) {
	s := testServer(t)
	remote := remoteFolder(t)
	src, sum := makeBundle(t, 3<<20+17)
	d := newDest(t, s.config(t, s.port, remote))

	rec, err := d.Deliver(t.Context(), src)
	if err != nil {
		t.Fatalf("%v\nsshd: %s", err, s.tail())
	}
	wantOnly(t, remote, bundle)
	if got := fileSHA(t, filepath.Join(remote, bundle)); got != sum {
		t.Errorf("delivered file SHA-256 %s, want %s", got, sum)
	}
	if rec.SHA256 != sum || rec.Bytes != 3<<20+17 {
		t.Errorf("receipt %+v, want SHA-256 %s and %d bytes", rec, sum, 3<<20+17)
	}
	wantDest := "sftp://" + hostPort("127.0.0.1", s.port) + filepath.ToSlash(filepath.Join(remote, bundle))
	if rec.Destination != wantDest {
		t.Errorf("receipt destination %q, want %q", rec.Destination, wantDest)
	}
	if rec.At.IsZero() || rec.At.Location() != time.UTC {
		t.Errorf("receipt time %v, want a UTC time", rec.At)
	}
	if str := d.String(); strings.Contains(str, s.user+"@") || strings.Contains(str, "client_ed25519") {
		t.Errorf("String() = %q holds the user or key", str)
	}
}

// A relative dir is under the login folder; the receipt shows where.
func TestSFTPRelativeDir(t *testing.T) {
	s := testServer(t)
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home folder")
	}
	remote, err := os.MkdirTemp(home, ".dsar-deliver-test-")
	if err != nil {
		t.Skipf("cannot write to the home folder: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(remote) })
	src, sum := makeBundle(t, 1000)
	c := s.config(t, s.port, filepath.Base(remote))
	d := newDest(t, c)
	if want := "sftp://" + hostPort("127.0.0.1", s.port) + "/~/" + filepath.Base(remote); d.String() != want {
		t.Errorf("String() = %q, want %q", d.String(), want)
	}
	rec, err := d.Deliver(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	if got := fileSHA(t, filepath.Join(remote, bundle)); got != sum {
		t.Errorf("delivered SHA-256 %s, want %s", got, sum)
	}
	if !strings.HasSuffix(rec.Destination, filepath.ToSlash(filepath.Join(remote, bundle))) {
		t.Errorf("receipt destination %q does not name the absolute path", rec.Destination)
	}
}

func TestSFTPReplace(t *testing.T) {
	s := testServer(t)
	for _, tc := range []struct {
		name string
		port int
	}{
		{"posix-rename", s.port},
		{"plain rename", s.noPosix}, // no posix-rename: remove + rename
	} {
		t.Run(tc.name, func(t *testing.T) {
			remote := remoteFolder(t)
			if err := os.WriteFile(filepath.Join(remote, bundle), []byte("an earlier delivery"), 0o644); err != nil {
				t.Fatal(err)
			}
			src, sum := makeBundle(t, 200_000)
			rec, err := newDest(t, s.config(t, tc.port, remote)).Deliver(t.Context(), src)
			if err != nil {
				t.Fatalf("%v\nsshd: %s", err, s.tail())
			}
			wantOnly(t, remote, bundle)
			if got := fileSHA(t, filepath.Join(remote, bundle)); got != sum || rec.SHA256 != sum {
				t.Errorf("after replacing: file %s, receipt %s, want %s", got, rec.SHA256, sum)
			}
		})
	}
	// The second case took the fallback: that port does not offer
	// posix-rename.
	d := newDest(t, s.config(t, s.noPosix, t.TempDir())).(*sftpDest)
	sess, err := d.connect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer sess.close()
	if _, ok := sess.sc.HasExtension("posix-rename@openssh.com"); ok {
		t.Fatal("the server offers posix-rename: the plain-rename case did not test the fallback")
	}
}

func TestSFTPUnknownHostKey(t *testing.T) {
	s := testServer(t)
	remote := remoteFolder(t)
	src, _ := makeBundle(t, 1000)
	c := s.config(t, s.port, remote)
	// known_hosts knows another server only.
	other, _, err := writeEd25519(filepath.Join(t.TempDir(), "other"), "")
	if err != nil {
		t.Fatal(err)
	}
	c.KnownHosts = s.knownHosts(t, s.port+1, other.PublicKey())

	_, err = newDest(t, c).Deliver(t.Context(), src)
	t.Log(err)
	var he *HostKeyError
	if !errors.As(err, &he) || he.Changed {
		t.Fatalf("got %v, want an unknown host key error", err)
	}
	msg := err.Error()
	for _, want := range []string{hostPort("127.0.0.1", s.port), "not in known_hosts", c.KnownHosts, "administrator", "add this line"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	wantOnly(t, remote)
}

func TestSFTPChangedHostKey(t *testing.T) {
	s := testServer(t)
	remote := remoteFolder(t)
	src, _ := makeBundle(t, 1000)
	c := s.config(t, s.port, remote)
	imposter, _, err := writeEd25519(filepath.Join(t.TempDir(), "old"), "")
	if err != nil {
		t.Fatal(err)
	}
	c.KnownHosts = s.knownHosts(t, s.port, imposter.PublicKey())

	_, err = newDest(t, c).Deliver(t.Context(), src)
	t.Log(err)
	var he *HostKeyError
	if !errors.As(err, &he) || !he.Changed {
		t.Fatalf("got %v, want a changed host key error", err)
	}
	for _, want := range []string{hostPort("127.0.0.1", s.port), "does not match", "intercepting"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	wantOnly(t, remote)
}

// The server lets the upload's file be created but refuses to write it.
func TestSFTPWriteRefused(t *testing.T) {
	s := testServer(t)
	remote := remoteFolder(t)
	if err := os.WriteFile(filepath.Join(remote, bundle), []byte("an earlier delivery"), 0o644); err != nil {
		t.Fatal(err)
	}
	src, _ := makeBundle(t, 500_000)
	_, err := newDest(t, s.config(t, s.writeDenied, remote)).Deliver(t.Context(), src)
	t.Log(err)
	if err == nil {
		t.Fatal("delivery succeeded on a server that refuses writes")
	}
	if !strings.Contains(err.Error(), "refused the upload") || !strings.Contains(err.Error(), "/incoming") {
		t.Errorf("error %q should say the server refused the upload and name the folder", err)
	}
	wantOnly(t, remote, bundle) // the earlier delivery, untouched
	if data, _ := os.ReadFile(filepath.Join(remote, bundle)); string(data) != "an earlier delivery" {
		t.Errorf("earlier delivery changed to %d bytes", len(data))
	}
}

func TestSFTPMissingRemoteFolder(t *testing.T) {
	s := testServer(t)
	src, _ := makeBundle(t, 1000)
	_, err := newDest(t, s.config(t, s.port, filepath.Join(t.TempDir(), "nope"))).Deliver(t.Context(), src)
	if err == nil || !strings.Contains(err.Error(), "remote folder does not exist") {
		t.Fatalf("got %v, want a missing-folder error", err)
	}
}

// Cancelling mid-upload stops it and removes the partial file.
func TestSFTPCancelMidUpload(t *testing.T) {
	s := testServer(t)
	remote := remoteFolder(t)
	src, _ := makeBundle(t, 32<<20)
	d := newDest(t, s.config(t, s.port, remote)).(*sftpDest)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var sawPart atomic.Bool
	d.progress = func(n int64) { // on the upload's goroutine
		if n >= 4<<20 && ctx.Err() == nil {
			es, _ := os.ReadDir(remote)
			sawPart.Store(len(es) == 1 && strings.HasPrefix(es[0].Name(), "."+bundle+".part-"))
			cancel()
		}
	}
	start := time.Now()
	_, err := d.Deliver(ctx, src)
	t.Log(err)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if !sawPart.Load() {
		t.Error("no partial upload was seen before cancelling")
	}
	if el := time.Since(start); el > cancelGrace {
		t.Errorf("cancelled delivery took %s", el)
	}
	wantOnly(t, remote)
}

// A connection cut mid-upload: the partial file is removed over a new
// connection.
func TestSFTPConnectionCut(t *testing.T) {
	s := testServer(t)
	remote := remoteFolder(t)
	src, _ := makeBundle(t, 32<<20)
	p := newCutProxy(t, s.port, 4<<20, false)
	c := s.config(t, p.port, remote)
	c.KnownHosts = s.knownHosts(t, p.port, s.hostKey)
	_, err := newDest(t, c).Deliver(t.Context(), src)
	t.Log(err)
	if err == nil {
		t.Fatal("delivery succeeded over a cut connection")
	}
	select {
	case <-p.cut:
	default:
		t.Fatalf("the connection was not cut: %v", err)
	}
	if strings.Contains(err.Error(), "could not be removed") {
		t.Errorf("partial upload not removed: %v", err)
	}
	wantOnly(t, remote)
}

// A server that stops answering mid-upload: the upload gives up after the
// timeout, and the partial file is removed over a new connection.
func TestSFTPStalled(t *testing.T) {
	s := testServer(t)
	remote := remoteFolder(t)
	src, _ := makeBundle(t, 32<<20)
	p := newCutProxy(t, s.port, 2<<20, true)
	c := s.config(t, p.port, remote)
	c.KnownHosts = s.knownHosts(t, p.port, s.hostKey)
	c.Timeout = time.Second
	start := time.Now()
	_, err := newDest(t, c).Deliver(t.Context(), src)
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), "stalled for 1s") {
		t.Fatalf("got %v, want a stalled upload", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("stalled delivery took %s", el)
	}
	wantOnly(t, remote)
}

func TestSFTPKeys(t *testing.T) {
	s := testServer(t)
	t.Run("PEM RSA key", func(t *testing.T) {
		remote := remoteFolder(t)
		src, sum := makeBundle(t, 1000)
		c := s.config(t, s.port, remote)
		c.KeyFile = s.rsaPEMKey
		rec, err := newDest(t, c).Deliver(t.Context(), src)
		if err != nil || rec.SHA256 != sum {
			t.Fatalf("got %+v, %v", rec, err)
		}
	})
	t.Run("key with passphrase", func(t *testing.T) {
		remote := remoteFolder(t)
		src, sum := makeBundle(t, 1000)
		c := s.config(t, s.port, remote)
		c.KeyFile = s.lockedKey

		t.Setenv(PassphraseEnv, "")
		_, err := New(c, nil)
		if err == nil || !strings.Contains(err.Error(), PassphraseEnv) {
			t.Errorf("without a passphrase: got %v, want an error naming %s", err, PassphraseEnv)
		}
		t.Setenv(PassphraseEnv, "wrong")
		_, err = New(c, nil)
		if err == nil || !strings.Contains(err.Error(), "does not open") || strings.Contains(err.Error(), "wrong") {
			t.Errorf("with a wrong passphrase: got %v", err)
		}
		t.Setenv(PassphraseEnv, testPassphrase)
		rec, err := newDest(t, c).Deliver(t.Context(), src)
		if err != nil || rec.SHA256 != sum {
			t.Fatalf("got %+v, %v", rec, err)
		}
	})
	t.Run("key not authorized", func(t *testing.T) {
		remote := remoteFolder(t)
		src, _ := makeBundle(t, 1000)
		c := s.config(t, s.port, remote)
		c.KeyFile = s.strangerKey
		_, err := newDest(t, c).Deliver(t.Context(), src)
		if err == nil || !strings.Contains(err.Error(), "authorized_keys") {
			t.Fatalf("got %v, want an error pointing at authorized_keys", err)
		}
		wantOnly(t, remote)
	})
}

func TestSFTPConnectRefused(t *testing.T) {
	s := testServer(t)
	ports, err := freePorts(1) // nothing listens there now
	if err != nil {
		t.Fatal(err)
	}
	src, _ := makeBundle(t, 10)
	c := s.config(t, ports[0], t.TempDir())
	_, err = newDest(t, c).Deliver(t.Context(), src)
	if err == nil || !strings.Contains(err.Error(), "cannot connect") || !strings.Contains(err.Error(), hostPort("127.0.0.1", ports[0])) {
		t.Fatalf("got %v, want a connect error naming the host", err)
	}
}

func TestSFTPBytesUnchanged(t *testing.T) {
	// The receipt's hash is of what was sent: check against a second,
	// independent read of the delivered file for a size that is not a
	// multiple of the SFTP packet size.
	s := testServer(t)
	remote := remoteFolder(t)
	src, _ := makeBundle(t, 32768*3+1)
	rec, err := newDest(t, s.config(t, s.port, remote)).Deliver(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(src)
	b, _ := os.ReadFile(filepath.Join(remote, bundle))
	if !bytes.Equal(a, b) || rec.SHA256 != fileSHA(t, src) {
		t.Fatal("delivered bytes differ from the bundle")
	}
}
