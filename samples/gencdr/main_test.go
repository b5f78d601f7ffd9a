package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRun runs the command as the Makefile's bench target does, smaller.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	out, subj := filepath.Join(dir, "Master.csv"), filepath.Join(dir, "subjects.yaml")
	var stdout bytes.Buffer
	if err := run([]string{"-rows", "1000", "-staff", "50", "-out", out, "-subjects", subj}, &stdout); err != nil {
		t.Fatal(err)
	}
	if stdout.Len() != 0 {
		t.Errorf("printed %q", stdout.String())
	}
	csv, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(csv, []byte{'\n'}); n != 1000 {
		t.Errorf("%d lines", n)
	}
	yml, err := os.ReadFile(subj)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(yml, []byte("- id: S-0042\n")) || bytes.Contains(yml, []byte("S-0051")) {
		t.Errorf("subjects.yaml does not list S-0001..S-0050")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// To standard output, the same bytes.
	stdout.Reset()
	if err := run([]string{"-rows", "1000", "-staff", "50"}, &stdout); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stdout.Bytes(), csv) {
		t.Error("standard output differs from the file")
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "Master.csv")
	for _, args := range [][]string{
		{"-out", "-", "-subjects", "-"},
		{"-rows", "10", "extra"},
		{"-rows", "-1", "-out", out},
		{"-staff", "0", "-out", out},
		{"-staff", "8000", "-out", out},
		{"-rows", "ten"},
		{"-rows", "10", "-out", filepath.Join(dir, "no", "such", "dir", "Master.csv")},
	} {
		var stdout bytes.Buffer
		if err := run(args, &stdout); err == nil {
			t.Errorf("%s: no error", strings.Join(args, " "))
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed run left %s", out)
	}
}
