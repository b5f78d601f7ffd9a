package source

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ExpandPaths expands a file source's globs: sorted, without duplicates. A
// glob that matches nothing is an error wrapping ErrNoFiles, and one that
// matches a folder is an error; both name the source and the pattern.
func ExpandPaths(name string, patterns []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, p := range patterns {
		m, err := filepath.Glob(p)
		if err != nil {
			return nil, fmt.Errorf("source %q: pattern %q: %w", name, p, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("source %q: pattern %q: %w", name, p, ErrNoFiles)
		}
		for _, f := range m {
			key := filepath.Clean(f)
			if abs, err := filepath.Abs(key); err == nil {
				key = abs
			}
			if seen[key] {
				continue
			}
			seen[key] = true
			fi, err := os.Stat(f)
			if err != nil {
				return nil, fmt.Errorf("source %q: %w", name, err)
			}
			if fi.IsDir() {
				return nil, fmt.Errorf("source %q: pattern %q matches a directory (%s): match files only", name, p, filepath.Base(f))
			}
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out, nil
}

// CheckPaths checks the paths setting of a file source called name when it
// is configured: at least one glob (example shows one in the message that
// says so), none empty, each a valid pattern. It returns a copy.
func CheckPaths(name string, paths []string, example string) ([]string, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("source %q: paths: at least one file glob is required (e.g. %s)", name, example)
	}
	for i, p := range paths {
		if strings.TrimSpace(p) == "" {
			return nil, fmt.Errorf("source %q: paths[%d] is empty", name, i)
		}
		if _, err := filepath.Match(p, ""); err != nil {
			return nil, fmt.Errorf("source %q: paths[%d] %q: %w", name, i, p, err)
		}
	}
	return append([]string(nil), paths...), nil
}

// Files begins the Fetch of a file source called name: it fails when q
// has no Matcher, and otherwise returns the files patterns match
// (ExpandPaths).
func Files(name string, q Query, patterns []string) ([]string, error) {
	if q.Matcher == nil {
		return nil, fmt.Errorf("source %q: query has no matcher", name)
	}
	return ExpandPaths(name, patterns)
}

// EachFile reads the files of the source called name in turn: it checks
// ctx before each, opens it and hands it to read with its base name, for
// references. It stops at the first error: ctx's, a failure to open a
// file (named after the source), or read's, which it returns as is.
func EachFile(ctx context.Context, name string, files []string, read func(r io.Reader, base string) error) error {
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := readFile(name, path, read); err != nil {
			return err
		}
	}
	return nil
}

func readFile(name, path string, read func(r io.Reader, base string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("source %q: %w", name, err)
	}
	defer f.Close()
	return read(f, filepath.Base(path))
}

// StrictError is the error of a source in strict mode that rejected n
// rows; what names them as the source counts them, e.g. "row(s)" or
// "line(s)".
func StrictError(name string, n int64, what string) error {
	return fmt.Errorf("source %q: %d %s could not be read (strict mode)", name, n, what)
}
