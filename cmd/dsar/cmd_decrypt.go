package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/dsar-tool/dsar/crypto"
	"github.com/dsar-tool/dsar/exporter"
)

func newDecryptCommand() *cli.Command {
	return &cli.Command{
		Name:      "decrypt",
		Usage:     "decrypt a bundle, verify its signature and contents, and extract it",
		ArgsUsage: "BUNDLE",
		Description: "Decrypts BUNDLE with --key or --passphrase-file, checks it was signed by the\n" +
			"key in --signer and that every file matches the manifest, and only then extracts\n" +
			"the files into --out (a new or empty folder). Any failure extracts nothing.\n" +
			"A passphrase-protected --key is unlocked with --key-passphrase-file, $" + keyPassphraseEnv + ",\n" +
			"or at a prompt. --no-verify accepts an unsigned bundle or one signed by another key\n" +
			"(with a warning): use it only if you know where the bundle came from.\n\n" + exitHelp,
		Flags: []cli.Flag{
			configFlag(),
			&cli.StringFlag{Name: "key", Usage: "your secret key `FILE`"},
			&cli.StringFlag{Name: "key-passphrase-file", Usage: "the passphrase of a protected --key, in `FILE` (first line)"},
			&cli.StringFlag{Name: "passphrase-file", Usage: "the bundle's passphrase in `FILE` (first line)"},
			&cli.StringFlag{Name: "signer", Usage: "the sender's public key `FILE` (or its fingerprint in the workspace keyring)"},
			&cli.BoolFlag{Name: "no-verify", Usage: "do not require a signature by --signer (prints a warning)"},
			&cli.StringFlag{Name: "out", Usage: "extract into `DIR` (must not exist or be empty)"},
		},
		Action: func(c *cli.Context) error {
			bundle, err := oneArg(c, "BUNDLE")
			if err != nil {
				return err
			}
			if c.String("key") == "" && c.String("passphrase-file") == "" {
				return usageError("give --key FILE or --passphrase-file FILE to decrypt with")
			}
			if c.String("signer") == "" && !c.Bool("no-verify") {
				return withHint(errors.New("--signer is required: the bundle's signature must be checked"), exitUsage,
					"the controller that sent the bundle publishes its public key; pass it with --signer FILE")
			}
			if c.String("out") == "" {
				return usageError("--out DIR is required")
			}
			opt, err := openOptions(c)
			if err != nil {
				return err
			}
			if opt.NoVerify {
				fmt.Fprintln(c.App.ErrWriter, "dsar: WARNING: --no-verify: the bundle is accepted even if it is unsigned or signed by an unknown key;\n"+
					"dsar: WARNING: anyone could have made or changed it. Use it only if you know where it came from.")
			}
			scratch, err := exporter.NewScratch("")
			if err != nil {
				return err
			}
			defer scratch.Remove()
			res, err := openBundleNamed(c, bundle, exporter.OpenOptions{Crypto: opt, ScratchDir: scratch.Dir, OutDir: c.String("out")})
			if err != nil {
				return fmt.Errorf("%s: %w; nothing was extracted", bundle, err)
			}
			m := res.Manifest
			w := c.App.Writer
			if res.Envelope.Verified {
				fmt.Fprintf(w, "Good signature from %s\n", res.Envelope.SignerFingerprint)
			} else {
				fmt.Fprintf(w, "Signature NOT verified (--no-verify; signing key ID %s)\n", orNone(res.Envelope.SignerKeyID))
			}
			fmt.Fprintf(w, "Request %s, generated %s by %s\n", m.RequestID, m.GeneratedAt.Format("2006-01-02 15:04:05Z"), m.Generator)
			for _, d := range m.Datasets {
				fmt.Fprintf(w, "  %-16s %d rows\n", d.Name, d.Rows)
			}
			fmt.Fprintf(w, "%d files checked against the manifest and extracted to %s\n", len(m.Files)+1, res.OutDir)
			return nil
		},
	}
}

// openOptions reads the keys, passphrase and signers of decrypt and
// verify, unlocking a protected --key.
func openOptions(c *cli.Context) (crypto.OpenOptions, error) {
	opt := crypto.OpenOptions{NoVerify: c.Bool("no-verify")}
	var err error
	if f := c.String("key"); f != "" {
		if opt.Keys, err = crypto.ReadKeys(f); err != nil {
			return opt, err
		}
		u := &keyUnlocker{c: c, file: c.String("key-passphrase-file"), fileFlag: "key-passphrase-file"}
		if err := u.unlock(opt.Keys, "secret key", f); err != nil {
			return opt, err
		}
	} else if c.String("key-passphrase-file") != "" {
		return opt, usageError("--key-passphrase-file needs --key FILE")
	}
	if f := c.String("passphrase-file"); f != "" {
		if opt.Passphrase, err = readPassphrase(f); err != nil {
			return opt, err
		}
	}
	if v := c.String("signer"); v != "" {
		if opt.Signers, err = readKeysArg(c, "signer", v); err != nil {
			return opt, err
		}
	}
	return opt, nil
}

func orNone(s string) string {
	if s == "" {
		return "none: unsigned"
	}
	return s
}

// openBundleNamed is exporter.OpenBundle that also refuses a bundle whose
// file name names another request than its manifest does: a genuine
// bundle for another request swapped in under this one's name. With
// opt.OutDir set, the files are extracted into a hidden folder beside it
// and moved into place only after that check.
func openBundleNamed(c *cli.Context, bundle string, opt exporter.OpenOptions) (res *exporter.Opened, err error) {
	out := opt.OutDir
	if out != "" {
		out = filepath.Clean(out)
		if ents, err := os.ReadDir(out); err == nil && len(ents) > 0 {
			return nil, fmt.Errorf("output folder %q is not empty: choose a new folder", out)
		}
		if err := os.MkdirAll(filepath.Dir(out), 0o700); err != nil {
			return nil, err
		}
		stage, merr := os.MkdirTemp(filepath.Dir(out), "."+filepath.Base(out)+".check-*")
		if merr != nil {
			return nil, merr
		}
		defer func() {
			if err != nil {
				os.RemoveAll(stage)
			}
		}()
		opt.OutDir = stage
	}
	res, err = exporter.OpenBundle(c.Context, bundle, opt)
	if err != nil {
		return nil, err
	}
	if err := checkBundleName(bundle, res.Manifest.RequestID); err != nil {
		return nil, err
	}
	if out != "" {
		if err := os.Remove(out); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("output folder %q: %w", out, err)
		}
		if err := os.Rename(res.OutDir, out); err != nil {
			return nil, err
		}
		res.OutDir = out
	}
	return res, nil
}

var requestIDRE = regexp.MustCompile(`^[A-Za-z]+-[0-9]{4}-[0-9]+$`)

// checkBundleName refuses a bundle named <ID>.zip.pgp for another request
// ID than the one its manifest holds. Names not shaped like a request ID
// (renamed by the recipient) are not checked.
func checkBundleName(bundle, id string) error {
	base := filepath.Base(bundle)
	stem, ok := strings.CutSuffix(base, ".zip.pgp")
	if !ok {
		stem, ok = strings.CutSuffix(base, ".zip.gpg")
	}
	if !ok || stem == id || !requestIDRE.MatchString(stem) {
		return nil
	}
	return withHint(fmt.Errorf("%w: the file is named for request %s but holds the bundle of request %s", exporter.ErrBundle, stem, id), exitError,
		"another bundle was put in this one's place; if you renamed the file yourself, name it "+id+".zip.pgp")
}
