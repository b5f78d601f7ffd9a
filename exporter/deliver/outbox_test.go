package deliver

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func outboxFolder(t *testing.T) (string, Destination) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "outbox")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir, newDest(t, Config{Kind: "outbox", Path: dir})
}

func TestOutboxDeliver(t *testing.T) {
	dir, d := outboxFolder(t)
	src, sum := makeBundle(t, 1<<20+3)
	rec, err := d.Deliver(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	wantOnly(t, dir, bundle) // no temporary file left
	final := filepath.Join(dir, bundle)
	if got := fileSHA(t, final); got != sum {
		t.Errorf("delivered SHA-256 %s, want %s", got, sum)
	}
	if rec.Destination != final || rec.Bytes != 1<<20+3 || rec.SHA256 != sum || rec.At.IsZero() {
		t.Errorf("receipt %+v", rec)
	}
	if fi, err := os.Stat(final); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("delivered file mode %v (%v), want the bundle's 0600", fi.Mode(), err)
	}
	if d.String() != dir {
		t.Errorf("String() = %q, want %q", d.String(), dir)
	}
}

// The exporter may write straight into the outbox: delivering then only
// reads the bundle back.
func TestOutboxAlreadyThere(t *testing.T) {
	dir, d := outboxFolder(t)
	src, sum := makeBundle(t, 5000)
	inPlace := filepath.Join(dir, bundle)
	if err := os.Rename(src, inPlace); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(inPlace)
	for _, p := range []string{inPlace, filepath.Join(dir, ".", "..", "outbox", bundle)} {
		rec, err := d.Deliver(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		if rec.SHA256 != sum || rec.Bytes != 5000 || rec.Destination != inPlace {
			t.Errorf("receipt %+v", rec)
		}
	}
	after, _ := os.Stat(inPlace)
	if !os.SameFile(before, after) {
		t.Error("the bundle in place was replaced by a copy")
	}
	wantOnly(t, dir, bundle)
}

func TestOutboxRedeliver(t *testing.T) {
	dir, d := outboxFolder(t)
	src, sum := makeBundle(t, 4096)
	for range 2 {
		rec, err := d.Deliver(t.Context(), src)
		if err != nil {
			t.Fatal(err)
		}
		if rec.SHA256 != sum {
			t.Fatalf("receipt SHA-256 %s, want %s", rec.SHA256, sum)
		}
	}
	wantOnly(t, dir, bundle)

	// A re-export with other bytes replaces the earlier delivery.
	src2, sum2 := makeBundle(t, 4097)
	if _, err := d.Deliver(t.Context(), src2); err != nil {
		t.Fatal(err)
	}
	wantOnly(t, dir, bundle)
	if got := fileSHA(t, filepath.Join(dir, bundle)); got != sum2 {
		t.Errorf("after re-delivery SHA-256 %s, want %s", got, sum2)
	}
}

// A folder that cannot be written: chmod for an ordinary user; root
// ignores permissions, so there the folder is made immutable.
func TestOutboxReadOnlyFolder(t *testing.T) {
	dir, d := outboxFolder(t)
	src, _ := makeBundle(t, 1000)
	if os.Geteuid() == 0 {
		chattr, err := exec.LookPath("chattr")
		if err != nil {
			t.Skip("root ignores folder permissions and chattr (e2fsprogs) is missing")
		}
		if out, err := exec.Command(chattr, "+i", dir).CombinedOutput(); err != nil {
			t.Skipf("root ignores folder permissions and chattr +i failed: %s", out)
		}
		t.Cleanup(func() { exec.Command(chattr, "-i", dir).Run() })
	} else {
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
	}
	_, err := d.Deliver(t.Context(), src)
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "permissions") {
		t.Fatalf("got %v, want an error naming the folder and its permissions", err)
	}
	wantOnly(t, dir)
}

// The rename fails (the final name is a folder): the copy is removed.
func TestOutboxRenameFails(t *testing.T) {
	dir, d := outboxFolder(t)
	src, _ := makeBundle(t, 1000)
	if err := os.MkdirAll(filepath.Join(dir, bundle, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := d.Deliver(t.Context(), src)
	t.Log(err)
	if err == nil {
		t.Fatal("delivered over a folder")
	}
	wantOnly(t, dir, bundle)
	if fi, _ := os.Stat(filepath.Join(dir, bundle)); !fi.IsDir() {
		t.Error("the folder under the final name was replaced")
	}
}

func TestOutboxCancelled(t *testing.T) {
	dir, d := outboxFolder(t)
	src, _ := makeBundle(t, 8<<20)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	d.(*outbox).progress = func(n int64) {
		if n >= 1<<20 {
			cancel()
		}
	}
	_, err := d.Deliver(ctx, src)
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("got %v, want a cancelled delivery", err)
	}
	wantOnly(t, dir)
}

func TestOutboxMissingFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not-mounted")
	d := newDest(t, Config{Path: dir}) // kind defaults to outbox
	src, _ := makeBundle(t, 10)
	_, err := d.Deliver(t.Context(), src)
	if err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("got %v, want a missing-folder error naming it", err)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("the missing outbox folder was created")
	}
}

func TestOutboxMissingBundle(t *testing.T) {
	_, d := outboxFolder(t)
	_, err := d.Deliver(t.Context(), filepath.Join(t.TempDir(), bundle))
	if err == nil || !strings.Contains(err.Error(), "cannot read the bundle") {
		t.Fatalf("got %v", err)
	}
}
