package source

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
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
