package exporter

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

const scratchPrefix = "dsar-scratch-"

// Scratch is a private (0700) directory for the few things a library must
// write to disk. Remove deletes it and everything in it; call it on every
// exit path. A crashed process's scratch is removed by SweepScratch.
type Scratch struct{ Dir string }

// NewScratch creates a scratch directory under base (the system's temporary
// directory if base is empty). Its name carries the process id so that a
// later sweep can tell whether its owner is still running.
func NewScratch(base string) (*Scratch, error) {
	if base == "" {
		base = os.TempDir()
	}
	dir, err := os.MkdirTemp(base, fmt.Sprintf("%s%d-", scratchPrefix, os.Getpid()))
	if err != nil {
		return nil, fmt.Errorf("scratch folder: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("scratch folder: %w", err)
	}
	return &Scratch{Dir: dir}, nil
}

// Remove deletes the scratch directory.
func (s *Scratch) Remove() error { return os.RemoveAll(s.Dir) }

// SweepScratch removes scratch directories under base left by processes
// that are no longer running, and returns how many it removed.
func SweepScratch(base string) int {
	if base == "" {
		base = os.TempDir()
	}
	ents, err := os.ReadDir(base)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ents {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, scratchPrefix) {
			continue
		}
		pidStr, _, _ := strings.Cut(strings.TrimPrefix(name, scratchPrefix), "-")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid == os.Getpid() || alive(pid) {
			continue
		}
		if os.RemoveAll(filepath.Join(base, name)) == nil {
			n++
		}
	}
	return n
}

// PartialDir is the hidden folder inside an output folder where bundles
// are written before they are renamed into place.
const PartialDir = ".partial"

// SweepPartial removes the unfinished bundles that killed processes left in
// outDir's staging folder, and returns how many it removed.
func SweepPartial(outDir string) int {
	dir := filepath.Join(outDir, PartialDir)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ents {
		name := e.Name()
		i := strings.LastIndex(name, ".")
		if i < 0 {
			continue
		}
		pidStr, _, _ := strings.Cut(name[i+1:], "-")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid == os.Getpid() || alive(pid) {
			continue
		}
		if os.Remove(filepath.Join(dir, name)) == nil {
			n++
		}
	}
	os.Remove(dir) // only if empty
	return n
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
