package main

import (
	"bytes"
	"fmt"
	"strings"

	"errors"
	"github.com/dsar-tool/dsar/exporter/itest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"dsar": func() { os.Exit(run(os.Args, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the CLI scripts in testdata/*.txtar. Each script gets
// $SAMPLES (the repository's samples folder) and a pinned clock.
func TestScripts(t *testing.T) {
	samples, err := filepath.Abs("../../samples")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata",
		Setup: func(env *testscript.Env) error {
			env.Setenv("SAMPLES", samples)
			env.Setenv("DSAR_TEST_NOW", "2026-02-02T10:00:00Z")
			env.Setenv("TMPDIR", env.WorkDir+"/tmp")
			return os.MkdirAll(env.WorkDir+"/tmp", 0o700)
		},
		RequireExplicitExec: true,
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "pg":
				err := pgReachable()
				if err != nil && itest.Required() {
					return false, fmt.Errorf("PostgreSQL is required (DSAR_REQUIRE_INTEGRATION=1): %v", err)
				}
				return err == nil, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// status N PROG ARGS...: run PROG and check its exit status is N;
			// its output is then available to stdout/stderr assertions.
			"status": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 2 || neg {
					ts.Fatalf("usage: status N PROG [ARGS...]")
				}
				want, err := strconv.Atoi(args[0])
				if err != nil {
					ts.Fatalf("status: %v", err)
				}
				got := 0
				if err := ts.Exec(args[1], args[2:]...); err != nil {
					var ee *exec.ExitError
					if !errors.As(err, &ee) {
						ts.Fatalf("status: %v", err)
					}
					got = ee.ExitCode()
				}
				if got != want {
					ts.Fatalf("exit status %d, want %d", got, want)
				}
			},
			// flipbyte SRC DST: copy SRC to DST with one byte in the middle changed.
			"flipbyte": func(ts *testscript.TestScript, neg bool, args []string) {
				data, err := os.ReadFile(ts.MkAbs(args[0]))
				ts.Check(err)
				data[len(data)/2] ^= 0x01
				ts.Check(os.WriteFile(ts.MkAbs(args[1]), data, 0o600))
			},
			// truncate SRC DST: copy SRC to DST without its last 100 bytes.
			"truncate": func(ts *testscript.TestScript, neg bool, args []string) {
				data, err := os.ReadFile(ts.MkAbs(args[0]))
				ts.Check(err)
				ts.Check(os.WriteFile(ts.MkAbs(args[1]), data[:len(data)-100], 0o600))
			},
			// waitfor PATH: wait (up to a minute) until PATH exists and, for a
			// folder, holds something.
			"waitfor": func(ts *testscript.TestScript, neg bool, args []string) {
				deadline := time.Now().Add(time.Minute)
				for time.Now().Before(deadline) {
					if fi, err := os.Stat(ts.MkAbs(args[0])); err == nil {
						if !fi.IsDir() {
							return
						}
						if ents, _ := os.ReadDir(ts.MkAbs(args[0])); len(ents) > 0 {
							return
						}
					}
					time.Sleep(50 * time.Millisecond)
				}
				ts.Fatalf("%s did not appear within a minute", args[0])
			},
			// copysamples DIR: copy the sample source folders into DIR.
			"copysamples": func(ts *testscript.TestScript, neg bool, args []string) {
				for _, d := range []string{"cdr-csv", "queue_log", "cucm", "generic", "msgraph"} {
					ts.Check(os.CopyFS(filepath.Join(ts.MkAbs(args[0]), d), os.DirFS(filepath.Join(samples, d))))
				}
			},
			// sleep DURATION: wait, e.g. for a background command.
			"sleep": func(ts *testscript.TestScript, neg bool, args []string) {
				d, err := time.ParseDuration(args[0])
				ts.Check(err)
				time.Sleep(d)
			},
			// pgschema VAR: create an empty PostgreSQL schema for this script
			// and set VAR to a DSN that uses it.
			"pgschema": func(ts *testscript.TestScript, neg bool, args []string) {
				dsn, drop, err := newPGSchema()
				ts.Check(err)
				ts.Defer(drop)
				ts.Setenv(args[0], dsn)
			},
			// bulkrequests CONFIG N KEYFILE: log N verified requests spread over
			// the sample subjects, each to be sealed to KEYFILE by runs.
			"bulkrequests": func(ts *testscript.TestScript, neg bool, args []string) {
				n, err := strconv.Atoi(args[1])
				ts.Check(err)
				// The commands run in this process: give it the script's
				// environment for the variables they read.
				for _, k := range []string{"REGISTER_DSN", "DSAR_TEST_NOW"} {
					if v := ts.Getenv(k); v != "" {
						old, had := os.LookupEnv(k)
						os.Setenv(k, v)
						defer func() {
							if had {
								os.Setenv(k, old)
							} else {
								os.Unsetenv(k)
							}
						}()
					}
				}
				subjects := []string{"S-1001", "S-1002", "S-1003", "S-1004", "S-1006"}
				for i := 0; i < n; i++ {
					var out, errb bytes.Buffer
					if code := run([]string{"dsar", "--config", ts.MkAbs(args[0]), "request", "new", "--subject", subjects[i%len(subjects)], "--type", "access", "--received", "2026-01-12", "--id-requested=false"}, &out, &errb); code != 0 {
						ts.Fatalf("request new: %s", errb.String())
					}
					id := strings.TrimSpace(out.String())
					if code := run([]string{"dsar", "--config", ts.MkAbs(args[0]), "request", "set", id, "--recipient-key", ts.MkAbs(args[2])}, &out, &errb); code != 0 {
						ts.Fatalf("request set: %s", errb.String())
					}
				}
			},
			// empty DIR: DIR holds no files (no partial bundle, no temp file).
			"empty": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 {
					ts.Fatalf("usage: empty DIR")
				}
				ents, err := os.ReadDir(ts.MkAbs(args[0]))
				if err != nil && !os.IsNotExist(err) {
					ts.Fatalf("%v", err)
				}
				if (len(ents) == 0) == neg {
					var names []string
					for _, e := range ents {
						names = append(names, e.Name())
					}
					ts.Fatalf("%s holds %v", args[0], names)
				}
			},
		},
	})
}
