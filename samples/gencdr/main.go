// Command gencdr writes a synthetic Asterisk Master.csv (cdr_csv layout
// with uniqueid and userfield: 18 columns, Europe/London local times) for
// benchmarks, and optionally the matching subjects.yaml. The output is
// deterministic for a given -seed. It prints nothing but errors.
//
//	go run ./samples/gencdr -rows 1000000 -staff 2000 -out Master.csv -subjects subjects.yaml
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dsar-tool/dsar/samples/gencdr/cdrgen"
)

func main() {
	rows := flag.Int("rows", 1000000, "CDR rows to write")
	staff := flag.Int("staff", 2000, "members of staff (extensions 2001 upwards; at most 7999)")
	seed := flag.Uint64("seed", 1, "random seed (the same seed gives the same file)")
	out := flag.String("out", "-", "the Master.csv to write (- for standard output)")
	subjects := flag.String("subjects", "", "also write the staff's subjects.yaml here (- for standard output)")
	flag.Parse()
	if flag.NArg() > 0 {
		fail(fmt.Errorf("unexpected arguments %q", flag.Args()))
	}
	if *out == "-" && *subjects == "-" {
		fail(fmt.Errorf("-out and -subjects cannot both be standard output"))
	}
	if err := write(*out, func(w io.Writer) error {
		return cdrgen.Write(w, cdrgen.Options{Rows: *rows, Staff: *staff, Seed: *seed})
	}); err != nil {
		fail(err)
	}
	if *subjects != "" {
		list, err := cdrgen.StaffList(*staff)
		if err != nil {
			fail(err)
		}
		if err := write(*subjects, func(w io.Writer) error { return cdrgen.WriteSubjects(w, list) }); err != nil {
			fail(err)
		}
	}
}

// write writes a file through a temporary name, so that an interrupted run
// leaves no half-written file behind.
func write(path string, fn func(io.Writer) error) error {
	if path == "-" {
		w := bufio.NewWriter(os.Stdout)
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

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gencdr:", err)
	os.Exit(1)
}
