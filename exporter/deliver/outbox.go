package deliver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// outbox delivers into a local folder (or a mounted share).
type outbox struct {
	dir string // absolute

	progress func(n int64) // test hook: called as bytes are copied
}

var _ Destination = (*outbox)(nil)

func newOutbox(c Config, resolve func(string) string) (*outbox, error) {
	for _, k := range []struct {
		key, hint string
		set       bool
	}{
		{"host", "", c.Host != ""},
		{"port", "", c.Port != 0},
		{"user", "", c.User != ""},
		{"key_file", "", c.KeyFile != ""},
		{"known_hosts", "", c.KnownHosts != ""},
		{"dir", `; did you mean "path"?`, c.Dir != ""},
		{"timeout", "", c.Timeout != 0},
	} {
		if k.set {
			return nil, fmt.Errorf("outbox destination: %q is an sftp setting (set kind: sftp)%s", k.key, k.hint)
		}
	}
	if c.Path == "" {
		return nil, fmt.Errorf(`outbox destination: "path" is required: the folder to deliver bundles into`)
	}
	dir, err := filepath.Abs(resolve(c.Path))
	if err != nil {
		return nil, fmt.Errorf("outbox destination: path %q: %w", c.Path, err)
	}
	return &outbox{dir: dir}, nil
}

func (o *outbox) String() string { return o.dir }

// Deliver copies the bundle into the folder: a temporary file in the same
// folder, fsync, rename, fsync of the folder. A bundle that is already
// in the folder is only read back to hash it.
func (o *outbox) Deliver(ctx context.Context, bundlePath string) (Receipt, error) {
	name, err := bundleName(bundlePath)
	if err != nil {
		return Receipt{}, fmt.Errorf("deliver to outbox %q: %w", o.dir, err)
	}
	final := filepath.Join(o.dir, name)
	rec, err := o.deliver(ctx, bundlePath, final)
	if err != nil {
		return Receipt{}, fmt.Errorf("deliver %q to outbox %q: %w", name, o.dir, err)
	}
	return rec, nil
}

func (o *outbox) deliver(ctx context.Context, bundlePath, final string) (rec Receipt, err error) {
	if err := ctx.Err(); err != nil {
		return Receipt{}, err
	}
	di, err := os.Stat(o.dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return Receipt{}, errors.New("the outbox folder does not exist: create it (or mount the share) or correct path")
	case err != nil:
		return Receipt{}, err
	case !di.IsDir():
		return Receipt{}, errors.New("the outbox path is not a folder: correct path")
	}

	src, err := os.Open(bundlePath)
	if err != nil {
		return Receipt{}, fmt.Errorf("cannot read the bundle: %w", err)
	}
	defer src.Close()
	si, err := src.Stat()
	if err != nil {
		return Receipt{}, fmt.Errorf("cannot read the bundle: %w", err)
	}
	if !si.Mode().IsRegular() {
		return Receipt{}, fmt.Errorf("the bundle %q is not a regular file", bundlePath)
	}
	size := si.Size()

	// Already in place (the exporter wrote it straight into the outbox):
	// read it back for the receipt.
	if fi, err := os.Stat(final); err == nil && os.SameFile(si, fi) {
		r := newSendReader(ctx, src, o.progress)
		n, err := io.Copy(io.Discard, r)
		if err != nil {
			return Receipt{}, fmt.Errorf("cannot read the bundle: %w", err)
		}
		if n != size {
			return Receipt{}, fmt.Errorf("the bundle changed while it was read (%d bytes, expected %d): export it again", n, size)
		}
		return Receipt{Destination: final, Bytes: n, SHA256: r.sum(), At: now()}, nil
	}

	tmp, err := os.CreateTemp(o.dir, tempName(filepath.Base(final))+"*")
	if err != nil {
		return Receipt{}, fmt.Errorf("cannot write into the outbox folder: %w: check its permissions and free space", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	r := newSendReader(ctx, src, o.progress)
	n, err := io.Copy(tmp, r)
	if err != nil {
		if cancelled(err) {
			return Receipt{}, err
		}
		return Receipt{}, fmt.Errorf("copy failed: %w", err)
	}
	if n != size {
		return Receipt{}, fmt.Errorf("the bundle changed while it was copied (%d bytes, expected %d): export it again", n, size)
	}
	if err = tmp.Chmod(si.Mode().Perm()); err != nil {
		return Receipt{}, fmt.Errorf("cannot set the permissions of the copy: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		return Receipt{}, fmt.Errorf("cannot flush the copy to disk: %w", err)
	}
	ti, err := tmp.Stat()
	if err != nil {
		return Receipt{}, err
	}
	if ti.Size() != size {
		err = fmt.Errorf("the copy has %d bytes, expected %d: check the folder's free space", ti.Size(), size)
		return Receipt{}, err
	}
	if err = tmp.Close(); err != nil {
		return Receipt{}, fmt.Errorf("cannot close the copy: %w", err)
	}
	if err = ctx.Err(); err != nil {
		return Receipt{}, err
	}
	if err = os.Rename(tmp.Name(), final); err != nil {
		if fi, serr := os.Lstat(final); serr == nil && fi.IsDir() {
			return Receipt{}, fmt.Errorf("a folder named %q is in the way: move it elsewhere", filepath.Base(final))
		}
		return Receipt{}, fmt.Errorf("cannot move the copy to its final name: %w", err)
	}
	// Best effort: the file is complete under its name whatever this
	// returns, and a delivery error now would break the promise that a
	// failed delivery leaves nothing under the final name.
	syncDir(o.dir)
	return Receipt{Destination: final, Bytes: n, SHA256: r.sum(), At: now()}, nil
}

// syncDir flushes a folder's entries (the rename) to disk, where the file
// system can.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
