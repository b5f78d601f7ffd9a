package main

import (
	"errors"
	"fmt"

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
			"the files into --out (a new or empty folder). Any failure extracts nothing.\n\n" + exitHelp,
		Flags: []cli.Flag{
			configFlag(),
			&cli.StringFlag{Name: "key", Usage: "your secret key `FILE`"},
			&cli.StringFlag{Name: "passphrase-file", Usage: "the passphrase in `FILE` (first line)"},
			&cli.StringFlag{Name: "signer", Usage: "the sender's public key `FILE`"},
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
			if c.String("signer") == "" {
				return withHint(errors.New("--signer is required: the bundle's signature must be checked"), exitUsage,
					"the controller that sent the bundle publishes its public key; pass it with --signer FILE")
			}
			if c.String("out") == "" {
				return usageError("--out DIR is required")
			}
			opt := crypto.OpenOptions{}
			if f := c.String("key"); f != "" {
				if opt.Keys, err = crypto.ReadKeys(f); err != nil {
					return err
				}
			}
			if f := c.String("passphrase-file"); f != "" {
				if opt.Passphrase, err = readPassphrase(f); err != nil {
					return err
				}
			}
			if opt.Signers, err = crypto.ReadKeys(c.String("signer")); err != nil {
				return err
			}
			scratch, err := exporter.NewScratch("")
			if err != nil {
				return err
			}
			defer scratch.Remove()
			res, err := exporter.OpenBundle(c.Context, bundle, exporter.OpenOptions{Crypto: opt, ScratchDir: scratch.Dir, OutDir: c.String("out")})
			if err != nil {
				return fmt.Errorf("%s: %w; nothing was extracted", bundle, err)
			}
			m := res.Manifest
			w := c.App.Writer
			fmt.Fprintf(w, "Good signature from %s\n", res.Envelope.SignerFingerprint)
			fmt.Fprintf(w, "Request %s, generated %s by %s\n", m.RequestID, m.GeneratedAt.Format("2006-01-02 15:04:05Z"), m.Generator)
			for _, d := range m.Datasets {
				fmt.Fprintf(w, "  %-16s %d rows\n", d.Name, d.Rows)
			}
			fmt.Fprintf(w, "%d files checked against the manifest and extracted to %s\n", len(m.Files)+1, res.OutDir)
			return nil
		},
	}
}
