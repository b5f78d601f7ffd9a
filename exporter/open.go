package exporter

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/dsar-tool/dsar/crypto"
)

// DefaultMaxBytes caps the total uncompressed size a bundle may extract to
// (a guard against zip bombs).
const DefaultMaxBytes = 64 << 30

// ErrBundle is wrapped by every failure to accept a bundle's contents
// (as opposed to its envelope, which crypto reports).
var ErrBundle = errors.New("bundle check failed")

// OpenOptions configure OpenBundle.
type OpenOptions struct {
	Crypto     crypto.OpenOptions
	ScratchDir string // private (0700) directory for the decrypted zip
	OutDir     string // where to extract; empty to check only
	MaxBytes   int64  // total uncompressed size allowed; DefaultMaxBytes if 0
}

// Opened is what OpenBundle found.
type Opened struct {
	Manifest *Manifest
	Envelope *crypto.Opened
	OutDir   string
}

// OpenBundle decrypts the bundle at path, verifies its signature, checks
// every file against the manifest and, if opt.OutDir is set, extracts the
// files there. Nothing is extracted unless every check passes: files are
// written to a staging folder beside OutDir that is renamed into place at
// the end. OutDir must not exist, or be an empty folder.
func OpenBundle(ctx context.Context, bundle string, opt OpenOptions) (*Opened, error) {
	if opt.MaxBytes == 0 {
		opt.MaxBytes = DefaultMaxBytes
	}
	if opt.OutDir != "" {
		if err := checkOutDir(opt.OutDir); err != nil {
			return nil, err
		}
	}
	in, err := os.Open(bundle)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	plain, err := os.CreateTemp(opt.ScratchDir, "bundle-*.zip")
	if err != nil {
		return nil, err
	}
	defer func() { plain.Close(); os.Remove(plain.Name()) }()
	// The decrypted zip is bounded too, so that a huge message cannot fill
	// the scratch disk before the zip's own checks run.
	env, err := crypto.Open(&limitWriter{w: plain, left: opt.MaxBytes}, in, opt.Crypto)
	if err != nil {
		return nil, err
	}
	size, err := plain.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(plain, size)
	if err != nil {
		return nil, fmt.Errorf("%w: not a zip archive inside the envelope: %v", ErrBundle, err)
	}
	man, err := checkZip(ctx, zr, opt.MaxBytes)
	if err != nil {
		return nil, err
	}
	res := &Opened{Manifest: man, Envelope: env}
	if opt.OutDir == "" {
		return res, nil
	}
	if err := extract(ctx, zr, opt.OutDir); err != nil {
		return nil, err
	}
	res.OutDir = opt.OutDir
	return res, nil
}

// limitWriter fails once more than left bytes are written.
type limitWriter struct {
	w    io.Writer
	left int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.left {
		return 0, fmt.Errorf("%w: the decrypted bundle exceeds the size limit", ErrBundle)
	}
	l.left -= int64(len(p))
	return l.w.Write(p)
}

func checkOutDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("output folder %q: %w", dir, err)
	}
	if len(ents) > 0 {
		return fmt.Errorf("output folder %q is not empty: choose a new folder", dir)
	}
	return nil
}

// safeName reports whether a zip entry name is a plain relative path.
func safeName(name string) bool {
	if name == "" || strings.ContainsAny(name, "\\\x00") || strings.HasPrefix(name, "/") || filepath.IsAbs(name) {
		return false
	}
	if len(name) >= 2 && name[1] == ':' {
		return false // a drive letter
	}
	clean := path.Clean(name)
	if clean != name || clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return false
	}
	return true
}

func checkZip(ctx context.Context, zr *zip.Reader, max int64) (*Manifest, error) {
	entries := map[string]*zip.File{}
	var total uint64
	for _, f := range zr.File {
		if !safeName(f.Name) {
			return nil, fmt.Errorf("%w: entry %q has an unsafe path", ErrBundle, f.Name)
		}
		if !f.Mode().IsRegular() {
			return nil, fmt.Errorf("%w: entry %q is not a regular file (links and folders are refused)", ErrBundle, f.Name)
		}
		if _, dup := entries[f.Name]; dup {
			return nil, fmt.Errorf("%w: entry %q appears twice", ErrBundle, f.Name)
		}
		entries[f.Name] = f
		total += f.UncompressedSize64
		if total > uint64(max) {
			return nil, fmt.Errorf("%w: contents exceed the size limit of %d bytes", ErrBundle, max)
		}
	}
	mf, ok := entries[ManifestName]
	if !ok {
		return nil, fmt.Errorf("%w: no %s", ErrBundle, ManifestName)
	}
	rc, err := mf.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBundle, ManifestName, err)
	}
	var man Manifest
	err = json.NewDecoder(io.LimitReader(rc, 64<<20)).Decode(&man)
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBundle, ManifestName, err)
	}
	listed := map[string]bool{ManifestName: true}
	for _, mfile := range man.Files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f, ok := entries[mfile.Path]
		if !ok {
			return nil, fmt.Errorf("%w: %q is listed in the manifest but missing", ErrBundle, mfile.Path)
		}
		listed[mfile.Path] = true
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%w: %q: %v", ErrBundle, mfile.Path, err)
		}
		h := sha256.New()
		n, err := io.Copy(h, io.LimitReader(rc, mfile.Bytes+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%w: %q: %v", ErrBundle, mfile.Path, err)
		}
		if n != mfile.Bytes || hex.EncodeToString(h.Sum(nil)) != mfile.SHA256 {
			return nil, fmt.Errorf("%w: %q does not match its SHA-256 in the manifest", ErrBundle, mfile.Path)
		}
	}
	for name := range entries {
		if !listed[name] {
			return nil, fmt.Errorf("%w: %q is not listed in the manifest", ErrBundle, name)
		}
	}
	return &man, nil
}

func extract(ctx context.Context, zr *zip.Reader, out string) (err error) {
	out, err = filepath.Abs(out)
	if err != nil {
		return err
	}
	parent := filepath.Dir(out)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return err
	}
	stage, err := os.MkdirTemp(parent, "."+filepath.Base(out)+".partial-*")
	if err != nil {
		return err
	}
	stage = filepath.Clean(stage)
	defer func() {
		if err != nil {
			os.RemoveAll(stage)
		}
	}()
	for _, f := range zr.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		dst := filepath.Join(stage, filepath.FromSlash(f.Name))
		if !strings.HasPrefix(dst, stage+string(filepath.Separator)) {
			return fmt.Errorf("%w: entry %q escapes the output folder", ErrBundle, f.Name)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		if err := copyEntry(f, dst); err != nil {
			return err
		}
	}
	if err := os.Remove(out); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("output folder %q: %w", out, err)
	}
	if err := os.Rename(stage, out); err != nil {
		return err
	}
	return nil
}

func copyEntry(f *zip.File, dst string) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	w, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, io.LimitReader(rc, int64(f.UncompressedSize64))); err != nil {
		w.Close()
		return err
	}
	if err := w.Sync(); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}
