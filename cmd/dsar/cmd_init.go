package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/dsar-tool/dsar/crypto"
	"github.com/dsar-tool/dsar/exporter/register"
	"github.com/dsar-tool/dsar/samples"
)

func newInitCommand() *cli.Command {
	return &cli.Command{
		Name:      "init",
		Usage:     "create a ready workspace: config, register, controller key, outbox, subject directory",
		ArgsUsage: "DIR",
		Flags: []cli.Flag{
			configFlag(),
			&cli.StringFlag{Name: "controller-uid", Value: "Data Protection Officer <dpo@example.ac.uk>", Usage: "user id of the controller's signing key"},
			&cli.StringFlag{Name: "passphrase-file", Usage: "protect the controller's secret key with the passphrase in `FILE` (else $" + keyPassphraseEnv + ", else a prompt on a terminal)"},
			&cli.BoolFlag{Name: "no-passphrase", Usage: "leave the controller's secret key unprotected (protect the folder instead)"},
			&cli.StringFlag{Name: "profile", Usage: "OpenPGP profile of the controller key: rfc4880 (default, read by GnuPG 2.2 and Sequoia) or rfc9580"},
		},
		Action: func(c *cli.Context) error {
			dir, err := oneArg(c, "DIR")
			if err != nil {
				return err
			}
			if c.IsSet("passphrase-file") && c.Bool("no-passphrase") {
				return usageError("--passphrase-file and --no-passphrase contradict each other")
			}
			return runInit(c, dir, c.String("controller-uid"))
		},
	}
}

// runInit builds the workspace in a staging folder beside dir and moves it
// into place at the end, so a failure leaves nothing half-made.
func runInit(c *cli.Context, dir, uid string) (err error) {
	dir = filepath.Clean(dir)
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return withHint(fmt.Errorf("folder %q is not empty", dir), exitError, "choose a new folder for the workspace")
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	stage, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".partial-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(stage)
		}
	}()
	if err := os.Chmod(stage, 0o750); err != nil {
		return err
	}
	for _, d := range []string{"keys", "outbox"} {
		if err := os.Mkdir(filepath.Join(stage, d), 0o700); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(stage, "dsar.yaml"), samples.ConfigTemplate, 0o640); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(stage, "subjects.yaml"), samples.SubjectsTemplate, 0o640); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(stage, "controller.yaml"), samples.ProfileTemplate, 0o640); err != nil {
		return err
	}
	profile := crypto.DefaultProfile
	if v := c.String("profile"); v != "" {
		if profile, err = crypto.ParseProfile(v); err != nil {
			return usageError("--profile: %v", err)
		}
	}
	var pass []byte
	switch {
	case c.Bool("no-passphrase"):
	case c.String("passphrase-file") != "":
		if pass, err = readPassphrase(c.String("passphrase-file")); err != nil {
			return err
		}
	case os.Getenv(keyPassphraseEnv) != "":
		pass = []byte(os.Getenv(keyPassphraseEnv))
	case isTerminal():
		if pass, err = promptNewPassphrase(c); err != nil {
			return err
		}
	}
	key, err := crypto.GenerateKeyWithOptions(uid, time.Now(), crypto.KeyOptions{Profile: profile})
	if err != nil {
		return err
	}
	if len(pass) > 0 {
		if err := crypto.ProtectKey(key, pass, profile); err != nil {
			return err
		}
	}
	if err := crypto.WriteKeyPair(filepath.Join(stage, "keys", "controller"), key); err != nil {
		return err
	}
	store, err := register.OpenSQLite(c.Context, filepath.Join(stage, "register.db"), register.Options{})
	if err != nil {
		return err
	}
	if err := store.Close(); err != nil {
		return err
	}
	os.Remove(dir) // an empty folder, if it exists
	if err := os.Rename(stage, dir); err != nil {
		return err
	}
	w := c.App.Writer
	fmt.Fprintf(w, "Workspace created in %s\n", dir)
	fmt.Fprintf(w, "  config            %s\n", filepath.Join(dir, "dsar.yaml"))
	fmt.Fprintf(w, "  register          %s\n", filepath.Join(dir, "register.db"))
	fmt.Fprintf(w, "  subject directory %s\n", filepath.Join(dir, "subjects.yaml"))
	fmt.Fprintf(w, "  controller profile %s (fill in every EDIT: value before the first export)\n", filepath.Join(dir, "controller.yaml"))
	fmt.Fprintf(w, "  controller key    %s (fingerprint %s)\n", filepath.Join(dir, "keys", "controller.sec.asc"), crypto.Fingerprint(key))
	fmt.Fprintf(w, "  outbox            %s\n", filepath.Join(dir, "outbox"))
	if len(pass) == 0 {
		fmt.Fprintf(w, "The controller's secret key is not protected by a passphrase: keep %s private.\n", filepath.Join(dir, "keys"))
	}
	fmt.Fprintf(w, "Next: add your sources to dsar.yaml and your staff to subjects.yaml; publish keys/controller.pub.asc so recipients can check signatures.\n")
	return nil
}
