package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/dsar-tool/dsar/crypto"
	"github.com/dsar-tool/dsar/exporter"
)

func newVerifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "check a bundle's signature and contents without extracting it",
		ArgsUsage: "BUNDLE",
		Description: "Decrypts BUNDLE with --key or --passphrase-file into private scratch space,\n" +
			"checks it was signed by the key in --signer and that every file matches the\n" +
			"manifest, and prints the manifest's summary. Nothing is extracted or kept.\n" +
			"Exit status 0 means the bundle is intact and signed by --signer.\n\n" + exitHelp,
		Flags: []cli.Flag{
			configFlag(),
			&cli.StringFlag{Name: "signer", Usage: "the sender's public key `FILE` (or its fingerprint in the workspace keyring)"},
			&cli.StringFlag{Name: "key", Usage: "a secret key `FILE` the bundle was encrypted to"},
			&cli.StringFlag{Name: "key-passphrase-file", Usage: "the passphrase of a protected --key, in `FILE` (first line)"},
			&cli.StringFlag{Name: "passphrase-file", Usage: "the bundle's passphrase in `FILE` (first line)"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON"},
		},
		Action: runVerify,
	}
}

// verifySummary is what 'dsar verify --json' prints.
type verifySummary struct {
	Bundle      string                  `json:"bundle"`
	Signer      string                  `json:"signer"`
	SignedAt    time.Time               `json:"signed_at"`
	Cipher      string                  `json:"cipher"`
	RequestID   string                  `json:"request_id"`
	GeneratedAt time.Time               `json:"generated_at"`
	Generator   string                  `json:"generator"`
	Datasets    []exporter.DatasetCount `json:"datasets"`
	Files       []exporter.ManifestFile `json:"files"`
}

func runVerify(c *cli.Context) error {
	bundle, err := oneArg(c, "BUNDLE")
	if err != nil {
		return err
	}
	if c.String("signer") == "" {
		return withHint(errors.New("--signer is required: verify checks the bundle's signature"), exitUsage,
			"the controller that sent the bundle publishes its public key; pass it with --signer FILE")
	}
	if c.String("key") == "" && c.String("passphrase-file") == "" {
		return withHint(errors.New("give --key FILE or --passphrase-file FILE: the signature and the manifest are inside the encryption"), exitUsage)
	}
	opt, err := openOptions(c)
	if err != nil {
		return err
	}
	scratch, err := exporter.NewScratch("")
	if err != nil {
		return err
	}
	defer scratch.Remove()
	res, err := openBundleNamed(c, bundle, exporter.OpenOptions{Crypto: opt, ScratchDir: scratch.Dir})
	if err != nil {
		return fmt.Errorf("%s: %w", bundle, err)
	}
	m, env := res.Manifest, res.Envelope
	w := c.App.Writer
	if c.Bool("json") {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(verifySummary{
			Bundle: bundle, Signer: env.SignerFingerprint, SignedAt: env.SignedAt.UTC(), Cipher: env.Cipher,
			RequestID: m.RequestID, GeneratedAt: m.GeneratedAt, Generator: m.Generator, Datasets: m.Datasets, Files: m.Files,
		})
	}
	var total int64
	for _, f := range m.Files {
		total += f.Bytes
	}
	signer := env.SignerFingerprint
	for _, e := range opt.Signers {
		if crypto.Fingerprint(e) == env.SignerFingerprint {
			if id := e.PrimaryIdentity(); id != nil {
				signer += " (" + id.Name + ")"
			}
		}
	}
	fmt.Fprintf(w, "Good signature from %s, made %s\n", signer, env.SignedAt.UTC().Format("2006-01-02 15:04:05Z"))
	fmt.Fprintf(w, "Encrypted with %s\n", env.Cipher)
	fmt.Fprintf(w, "Request %s, generated %s by %s\n", m.RequestID, m.GeneratedAt.UTC().Format("2006-01-02 15:04:05Z"), m.Generator)
	for _, d := range m.Datasets {
		fmt.Fprintf(w, "  %-16s %d rows\n", d.Name, d.Rows)
	}
	fmt.Fprintf(w, "%d files (%d bytes) and the manifest match; nothing was extracted\n", len(m.Files), total)
	return nil
}
