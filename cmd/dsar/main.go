// Command dsar answers data-subject rights requests about staff telephony
// data: it keeps the request register, exports a subject's records from the
// telephone systems into a signed, encrypted bundle, and opens such bundles.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/dsar-tool/dsar/crypto"
	"github.com/dsar-tool/dsar/exporter"
	"github.com/dsar-tool/dsar/exporter/register"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0"

// Exit codes.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitPartial     = 3
	exitRefused     = 4
	exitInterrupted = 130
)

const exitHelp = `EXIT STATUS:
   0    done
   1    error (nothing was written)
   2    usage: a bad command, flag or argument
   3    bundle written, but some source rows could not be read (listed in its manifest)
   4    refused by policy (for example: the requester's identity is not verified)
   130  interrupted (Ctrl-C); nothing was written`

// cliError is an error with an exit code and hints for the person at the
// terminal.
type cliError struct {
	code  int
	err   error
	hints []string
}

func (e *cliError) Error() string { return e.err.Error() }
func (e *cliError) Unwrap() error { return e.err }

func usageError(format string, a ...any) *cliError {
	return &cliError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

func withHint(err error, code int, hints ...string) *cliError {
	return &cliError{code: code, err: err, hints: hints}
}

func newApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:    "dsar",
		Usage:   "answer data-subject rights requests about staff telephony data",
		Version: version,
		Description: "dsar keeps the register of rights requests, exports everything the telephone\n" +
			"systems hold about a member of staff into one signed, encrypted bundle\n" +
			"(JSON, CSV, XLSX, Parquet, a cover note and a manifest), and opens such bundles.\n\n" +
			"Start with 'dsar init DIR'. Every command reads its workspace from --config\n" +
			"(default $DSAR_CONFIG, then ./dsar.yaml).",
		CustomAppHelpTemplate: cli.AppHelpTemplate + "\n" + exitHelp + "\n",
		Writer:                stdout,
		ErrWriter:             stderr,
		Flags:                 []cli.Flag{configFlag()},
		Commands: []*cli.Command{
			newInitCommand(),
			newKeysCommand(),
			newRequestCommand(),
			newExportCommand(),
			newDecryptCommand(),
			newVerifyCommand(),
			newSourcesCommand(),
			newRegisterCommand(),
			newAuditCommand(),
			newRunCommand(),
			newServeCommand(),
			newPurgeCommand(),
			newDeliverCommand(),
		},
		OnUsageError: func(c *cli.Context, err error, isSubcommand bool) error {
			return &cliError{code: exitUsage, err: err}
		},
		CommandNotFound: func(c *cli.Context, name string) {
			fmt.Fprintf(stderr, "dsar: error: unknown command %q\ndsar: hint: run 'dsar help' for the list of commands\n", name)
			panic(exitCode(exitUsage))
		},
		ExitErrHandler: func(c *cli.Context, err error) {},
	}
}

type exitCode int

func configFlag() cli.Flag {
	return &cli.StringFlag{Name: "config", Usage: "workspace configuration `FILE`", EnvVars: []string{"DSAR_CONFIG"}, Value: "dsar.yaml"}
}

func main() { os.Exit(run(os.Args, os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) (code int) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer func() {
		if r := recover(); r != nil {
			if c, ok := r.(exitCode); ok {
				code = int(c)
				return
			}
			panic(r)
		}
	}()
	exporter.SweepScratch("")
	app := newApp(stdout, stderr)
	err := app.RunContext(ctx, reorderArgs(app, args))
	return report(stderr, err)
}

// report prints err for a person and returns the exit code.
func report(stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	code := exitError
	var hints []string
	var ce *cliError
	if errors.As(err, &ce) {
		code = ce.code
		hints = ce.hints
	}
	switch {
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "dsar: interrupted; nothing was written")
		return exitInterrupted
	case errors.Is(err, partialErr):
		return exitPartial
	case errors.Is(err, register.ErrNotFound):
		hints = append(hints, "'dsar request list' shows the requests in the register")
	case errors.Is(err, crypto.ErrWrongSigner):
		hints = append(hints, "check --signer is the public key of the controller that sent the bundle")
	case errors.Is(err, crypto.ErrNoKey):
		hints = append(hints, "this bundle was not encrypted to that key or passphrase")
	}
	msg := err.Error()
	if code == exitUsage && len(hints) == 0 && !strings.Contains(msg, "help") {
		hints = append(hints, "run 'dsar help' or 'dsar COMMAND --help'")
	}
	fmt.Fprintf(stderr, "dsar: error: %s\n", msg)
	for _, h := range hints {
		fmt.Fprintf(stderr, "dsar: hint: %s\n", h)
	}
	return code
}

// partialErr marks a run that wrote its bundle but had rejected rows; the
// command has already said so.
var partialErr = errors.New("some source rows were rejected")
