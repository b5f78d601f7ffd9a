// Command gencdr writes a synthetic Asterisk Master.csv (cdr_csv layout
// with uniqueid and userfield: 18 columns, Europe/London local times) for
// benchmarks, and optionally the matching subjects.yaml. The output is
// deterministic for a given -seed. It prints nothing but errors.
//
//	go run ./samples/gencdr -rows 1000000 -staff 2000 -out Master.csv -subjects subjects.yaml
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dsar-tool/dsar/samples/gencdr/cdrgen"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "gencdr:", err)
		os.Exit(2)
	}
}

// run runs the command with args (without the program name); "-" as a
// file name means stdout.
func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("gencdr", flag.ContinueOnError)
	rows := fs.Int("rows", 1000000, "CDR rows to write")
	staff := fs.Int("staff", 2000, "members of staff (extensions 2001 upwards; at most 7999)")
	seed := fs.Uint64("seed", 1, "random seed (the same seed gives the same file)")
	out := fs.String("out", "-", "the Master.csv to write (- for standard output)")
	subjects := fs.String("subjects", "", "also write the staff's subjects.yaml here (- for standard output)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *out == "-" && *subjects == "-" {
		return fmt.Errorf("-out and -subjects cannot both be standard output")
	}
	if *rows < 0 {
		return fmt.Errorf("-rows must not be negative")
	}
	// Check the staff count before writing anything.
	list, err := cdrgen.StaffList(*staff)
	if err != nil {
		return err
	}
	if err := write(*out, stdout, func(w io.Writer) error {
		return cdrgen.Write(w, cdrgen.Options{Rows: *rows, Staff: *staff, Seed: *seed})
	}); err != nil {
		return err
	}
	if *subjects != "" {
		if err := write(*subjects, stdout, func(w io.Writer) error { return cdrgen.WriteSubjects(w, list) }); err != nil {
			return err
		}
	}
	return nil
}

// write writes a file through a temporary name, so that an interrupted run
// leaves no half-written file behind.
func write(path string, stdout io.Writer, fn func(io.Writer) error) error {
	if path == "-" {
		w := bufio.NewWriter(stdout)
		if err := fn(w); err != nil {
			return err
		}
		return w.Flush()
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
