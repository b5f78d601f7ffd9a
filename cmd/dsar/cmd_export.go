package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/urfave/cli/v2"

	"github.com/dsar-tool/dsar/crypto"
	"github.com/dsar-tool/dsar/exporter"
	"github.com/dsar-tool/dsar/exporter/config"
	"github.com/dsar-tool/dsar/exporter/letter"
	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/register"
	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/sources/all"
)

func newExportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "export a verified request's data into a signed, encrypted bundle",
		ArgsUsage: "ID",
		Description: "Reads every configured source once, keeps the records that belong to the\n" +
			"request's subject, and writes <out>/<ID>.zip.pgp: a zip of JSON, CSV, XLSX and\n" +
			"Parquet files with a cover note and a manifest, signed with the controller key\n" +
			"and encrypted to each --recipient-key (a file, or the fingerprint of a key in the\n" +
			"workspace keyring), to the config's archive_key, and/or to a passphrase.\n" +
			"Recipient keys are checked first: expired, revoked, weak or SHA-1-only keys are\n" +
			"refused before anything is read or written. '--passphrase generate' makes a\n" +
			"strong passphrase and prints it once, for you to send by another channel.\n" +
			"A protected controller key is unlocked with $" + keyPassphraseEnv + " or at a prompt.\n" +
			"Prints the bundle's path.\n\n" + exitHelp,
		Flags: []cli.Flag{
			configFlag(),
			&cli.StringSliceFlag{Name: "recipient-key", Usage: "encrypt to the public key in `FILE`, or to the keyring key with that fingerprint (repeatable)"},
			&cli.StringFlag{Name: "passphrase-file", Usage: "encrypt with the passphrase in `FILE` (first line)"},
			&cli.StringFlag{Name: "passphrase", Usage: "'generate': encrypt with a new passphrase of seven random words, printed once (`generate`)"},
			&cli.StringFlag{Name: "profile", Usage: "OpenPGP `PROFILE`: rfc4880 or rfc9580 (default: the config's, else rfc4880)"},
			&cli.StringFlag{Name: "formats", Usage: "comma-separated formats: json,csv,xlsx,parquet (default from config)"},
			&cli.StringFlag{Name: "out", Usage: "write the bundle into `DIR` (default: the outbox)"},
			&cli.StringFlag{Name: "redaction", Usage: "how other people's data in the records is handled: default, keep, or a policy `FILE` (default: the config's redaction, else default)"},
			&cli.StringFlag{Name: "generated-at", Usage: "state this `TIME` (RFC 3339) as the generation time, for reproducible output"},
		},
		Action: runExportAction,
	}
}

func runExportAction(c *cli.Context) error {
	id, err := oneArg(c, "ID")
	if err != nil {
		return err
	}
	keys := c.StringSlice("recipient-key")
	genPass := false
	switch {
	case c.String("passphrase") == "generate":
		genPass = true
	case c.IsSet("passphrase"):
		// The value is not repeated: it may be a secret.
		return withHint(errors.New("--passphrase: the only value is 'generate'"), exitUsage,
			"passphrases are never given on the command line; put one in a file and pass --passphrase-file FILE, or use --passphrase generate")
	}
	if v := c.String("profile"); v != "" {
		if _, err := crypto.ParseProfile(v); err != nil {
			return usageError("--profile %q: want rfc4880 or rfc9580", v)
		}
	}
	if genPass && c.String("passphrase-file") != "" {
		return usageError("--passphrase generate and --passphrase-file contradict each other: choose one")
	}
	if len(keys) == 0 && c.String("passphrase-file") == "" && !genPass {
		return withHint(fmt.Errorf("no recipient: give --recipient-key FILE|FINGERPRINT, --passphrase generate and/or --passphrase-file FILE"), exitUsage,
			"a subject without an OpenPGP key can be sent a passphrase bundle: --passphrase generate makes one and prints it for you to send by another channel")
	}
	var genAt time.Time
	if v := c.String("generated-at"); v != "" {
		if genAt, err = time.Parse(time.RFC3339, v); err != nil {
			return usageError("--generated-at %q: want an RFC 3339 time such as 2026-01-31T12:00:00Z", v)
		}
	}
	ws, err := openWorkspace(c)
	if err != nil {
		return err
	}
	defer ws.Close()
	fmts := ws.cfg.Formats
	if v := c.String("formats"); v != "" {
		fmts = nil
		for _, f := range strings.Split(v, ",") {
			fmts = append(fmts, strings.TrimSpace(f))
		}
	}
	out := ws.cfg.Resolve(ws.cfg.Outbox)
	if v := c.String("out"); v != "" {
		out = v
	}
	return runExport(c, ws, exportOpts{id: id, recipientKeys: keys, passphraseFile: c.String("passphrase-file"), generatePassphrase: genPass, formats: fmts, out: out, generatedAt: genAt, redaction: c.String("redaction")})
}

type exportOpts struct {
	id                 string
	recipientKeys      []string // files or keyring fingerprints
	passphraseFile     string
	generatePassphrase bool
	formats            []string
	out                string
	generatedAt        time.Time
	redaction          string
}

func runExport(c *cli.Context, ws *workspace, o exportOpts) error {
	ctx := c.Context
	req, err := ws.store.Get(ctx, o.id)
	if err != nil {
		return err
	}
	// The identity gate: nothing is read or written for an unverified request.
	if !req.IsVerified() {
		return withHint(fmt.Errorf("request %s: the requester's identity has not been verified; nothing was exported", req.ID), exitRefused,
			fmt.Sprintf("verify it first: dsar request verify %s --method \"how identity was checked\"", req.ID))
	}
	switch req.Status {
	case register.StatusRefused, register.StatusWithdrawn:
		return withHint(fmt.Errorf("request %s is %s; nothing was exported", req.ID, req.Status), exitRefused)
	case register.StatusAwaitingFee:
		return withHint(fmt.Errorf("request %s is awaiting payment of its fee; nothing was exported", req.ID), exitRefused,
			fmt.Sprintf("record the payment first: dsar request fee %s --paid DATE", req.ID))
	}
	// Load and check everything that can fail before any data is read.
	seal, generated, err := loadSealOptions(c, ws.cfg, o)
	if err != nil {
		return err
	}
	profile, err := loadProfile(ws.cfg)
	if err != nil {
		return err
	}
	policy, err := redactionPolicy(ws, o.redaction)
	if err != nil {
		return err
	}
	subjects, err := config.LoadSubjects(ws.cfg.Resolve(ws.cfg.Subjects))
	if err != nil {
		return err
	}
	var subject *model.Subject
	for i := range subjects {
		if subjects[i].ID == req.Subject {
			subject = &subjects[i]
		}
	}
	if subject == nil {
		return withHint(fmt.Errorf("request %s: subject %q is not in the subject directory %q", req.ID, req.Subject, ws.cfg.Subjects), exitError,
			"add the subject and the identifiers that were theirs (extensions, numbers, endpoints, with dates) to the subject directory")
	}
	sources, err := all.Build(ws.cfg)
	if err != nil {
		return err
	}
	matcher, err := source.NewMatcher([]model.Subject{*subject}, ws.cfg.Region, ws.cfg.Location())
	if err != nil {
		return fmt.Errorf("request %s: %w", req.ID, err)
	}
	matcher.OutsidePrefixes = ws.cfg.OutsidePrefixes
	scratch, err := exporter.NewScratch("")
	if err != nil {
		return err
	}
	defer scratch.Remove()

	data, err := exporter.Collect(ctx, *subject, matcher, sources)
	if err != nil {
		return fmt.Errorf("request %s: %w; nothing was exported", req.ID, err)
	}
	res, data, err := writeRequestBundle(ctx, ws, bundleJob{
		req: req, subject: *subject, data: data, seal: seal, profile: profile, policy: policy,
		formats: o.formats, out: o.out, scratch: scratch.Dir, generatedAt: o.generatedAt, what: "bundle written",
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, res.Path)
	if generated != "" {
		printPassphrase(c, res.Path, generated, seal.Profile)
	}
	if n := data.Rejected(); n > 0 {
		fmt.Fprintf(c.App.ErrWriter, "dsar: warning: %d source rows could not be read; they are listed in the bundle's manifest (run 'dsar sources check' to see them)\n", n)
		return partialErr
	}
	return nil
}

// loadSealOptions reads, checks and unlocks every key an export needs:
// the recipients (files or keyring fingerprints), the config's archive
// key, the passphrase (read or generated; generated is returned to be
// shown once the bundle is written) and the controller's signing key.
func loadSealOptions(c *cli.Context, cfg *config.Config, o exportOpts) (seal crypto.SealOptions, generated string, err error) {
	profile, err := profileFor(c, cfg)
	if err != nil {
		return seal, "", err
	}
	seal.Profile = profile
	now := time.Now()
	add := func(ks openpgp.EntityList) error {
		for _, e := range ks {
			if err := crypto.CheckRecipient(e, now); err != nil {
				return withHint(err, exitError, "nothing was exported; when you have a usable key, 'dsar keys import FILE' adds it to the workspace keyring")
			}
		}
		seal.Recipients = append(seal.Recipients, ks...)
		return nil
	}
	for _, v := range o.recipientKeys {
		ks, err := readKeysArg(c, "recipient-key", v)
		if err != nil {
			return seal, "", err
		}
		if err := add(ks); err != nil {
			return seal, "", err
		}
	}
	if cfg.ArchiveKey != "" {
		ks, err := crypto.ReadKeys(cfg.Resolve(cfg.ArchiveKey))
		if err != nil {
			return seal, "", fmt.Errorf("config %q: archive_key: %w", cfg.Path, err)
		}
		if err := add(ks); err != nil {
			return seal, "", fmt.Errorf("config %q: archive_key: %w", cfg.Path, err)
		}
	}
	switch {
	case o.passphraseFile != "":
		if seal.Passphrase, err = readPassphrase(o.passphraseFile); err != nil {
			return seal, "", err
		}
	case o.generatePassphrase:
		if generated, err = crypto.GeneratePassphrase(); err != nil {
			return seal, "", err
		}
		seal.Passphrase = []byte(generated)
	}
	if seal.Signer, err = loadSigner(c, cfg); err != nil {
		return seal, "", err
	}
	return seal, generated, nil
}

// printPassphrase shows a generated passphrase, once, on standard error
// (standard output carries only the bundle's path, for scripts).
func printPassphrase(c *cli.Context, bundle, pass string, profile crypto.Profile) {
	fmt.Fprintf(c.App.ErrWriter, "\nPassphrase for %s (shown only now and stored nowhere;\n"+
		"send it to the recipient by a different channel than the bundle, e.g. by phone or text message):\n\n"+
		"    %s\n\n", filepath.Base(bundle), pass)
	if profile == crypto.RFC9580 {
		fmt.Fprintf(c.App.ErrWriter, "Note: under the rfc9580 profile this bundle is an RFC 9580 message (AEAD, Argon2):\n"+
			"GnuPG and Sequoia sq 0.27 cannot open it; the recipient needs 'dsar decrypt' or RFC 9580 software.\n\n")
	}
}

func loadSigner(c *cli.Context, cfg *config.Config) (*openpgp.Entity, error) {
	if cfg.SigningKey == "" {
		return nil, fmt.Errorf("config %q: signing_key is not set: the controller's secret key is needed to sign bundles", cfg.Path)
	}
	path := cfg.Resolve(cfg.SigningKey)
	ks, err := crypto.ReadKeys(path)
	if err != nil {
		return nil, err
	}
	if len(ks) != 1 || ks[0].PrivateKey == nil {
		return nil, fmt.Errorf("config %q: signing_key %q must hold exactly one secret key", cfg.Path, cfg.SigningKey)
	}
	u := &keyUnlocker{c: c}
	if err := u.unlock(ks, "controller key", path); err != nil {
		return nil, err
	}
	return ks[0], nil
}

// loadProfile reads the controller profile the cover letter is built from.
func loadProfile(cfg *config.Config) (*letter.Profile, error) {
	p, err := letter.LoadProfile(cfg.Resolve(cfg.ControllerProfile))
	if err != nil {
		return nil, withHint(err, exitError, "the cover letter needs the controller's details and Article 15 information: fill in "+cfg.ControllerProfile+" (samples/controller.yaml is a worked example)")
	}
	return p, nil
}

func readPassphrase(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("passphrase file: %w", err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	line = strings.TrimRight(line, "\r")
	if line == "" {
		return nil, fmt.Errorf("passphrase file %q: the first line is empty", path)
	}
	return []byte(line), nil
}

func checkSubject(ws *workspace, id string) error {
	subjects, err := config.LoadSubjects(ws.cfg.Resolve(ws.cfg.Subjects))
	if err != nil {
		return err
	}
	for _, s := range subjects {
		if s.ID == id {
			return nil
		}
	}
	return withHint(fmt.Errorf("subject %q is not in the subject directory %q", id, ws.cfg.Subjects), exitUsage,
		"add the subject, with the identifiers that were theirs, to the subject directory first")
}
