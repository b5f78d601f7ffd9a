package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/urfave/cli/v2"

	"github.com/dsar-tool/dsar/crypto"
	"github.com/dsar-tool/dsar/exporter"
	"github.com/dsar-tool/dsar/exporter/config"
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
			"and encrypted to each --recipient-key and/or the passphrase in --passphrase-file.\n" +
			"Prints the bundle's path.\n\n" + exitHelp,
		Flags: []cli.Flag{
			configFlag(),
			&cli.StringSliceFlag{Name: "recipient-key", Usage: "encrypt to the public key in `FILE` (repeatable)"},
			&cli.StringFlag{Name: "passphrase-file", Usage: "encrypt with the passphrase in `FILE` (first line)"},
			&cli.StringFlag{Name: "formats", Usage: "comma-separated formats: json,csv,xlsx,parquet (default from config)"},
			&cli.StringFlag{Name: "out", Usage: "write the bundle into `DIR` (default: the outbox)"},
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
	if len(keys) == 0 && c.String("passphrase-file") == "" {
		return withHint(fmt.Errorf("no recipient: give --recipient-key FILE and/or --passphrase-file FILE"), exitUsage,
			"a subject without an OpenPGP key can be sent a passphrase bundle: put a strong passphrase in a file and pass --passphrase-file")
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
	return runExport(c, ws, exportOpts{id: id, recipientKeys: keys, passphraseFile: c.String("passphrase-file"), formats: fmts, out: out, generatedAt: genAt})
}

type exportOpts struct {
	id             string
	recipientKeys  []string
	passphraseFile string
	formats        []string
	out            string
	generatedAt    time.Time
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
	// Load everything that can fail before any data is read.
	seal := crypto.SealOptions{}
	for _, f := range o.recipientKeys {
		ks, err := crypto.ReadKeys(f)
		if err != nil {
			return err
		}
		seal.Recipients = append(seal.Recipients, ks...)
	}
	if o.passphraseFile != "" {
		if seal.Passphrase, err = readPassphrase(o.passphraseFile); err != nil {
			return err
		}
	}
	signer, err := loadSigner(ws.cfg)
	if err != nil {
		return err
	}
	seal.Signer = signer
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
	scratch, err := exporter.NewScratch("")
	if err != nil {
		return err
	}
	defer scratch.Remove()

	data, err := exporter.Collect(ctx, *subject, matcher, sources)
	if err != nil {
		return fmt.Errorf("request %s: %w; nothing was exported", req.ID, err)
	}
	history, err := ws.store.List(ctx, req.Subject)
	if err != nil {
		return err
	}
	if err := ws.store.WithEvents(ctx, history); err != nil {
		return err
	}
	exporter.AddHistory(data, history)
	genAt := o.generatedAt
	if genAt.IsZero() {
		genAt = ws.store.Now().UTC().Truncate(time.Second)
	}
	res, err := exporter.WriteBundle(ctx, data, exporter.Options{
		Request: req, History: history, Subject: subject.ID, Formats: o.formats, Seal: seal,
		OutDir: o.out, ScratchDir: scratch.Dir, GeneratedAt: genAt, Generator: "dsar " + version,
	})
	if err != nil {
		return fmt.Errorf("request %s: %w; nothing was exported", req.ID, err)
	}
	note := fmt.Sprintf("bundle written: %d calls; formats %s; recipients %d key(s)", data.Rows(model.Calls.Name), strings.Join(o.formats, ","), len(seal.Recipients))
	if seal.Passphrase != nil {
		note += " and a passphrase"
	}
	if err := ws.store.AddEvent(ctx, req.ID, register.Event{Type: register.EventExported, Actor: ws.cfg.Actor(), Note: note, BundleFile: res.Path, BundleSHA256: res.SHA256}); err != nil {
		return fmt.Errorf("request %s: bundle %s was written but the register could not record it: %w", req.ID, res.Path, err)
	}
	fmt.Fprintln(c.App.Writer, res.Path)
	if n := data.Rejected(); n > 0 {
		fmt.Fprintf(c.App.ErrWriter, "dsar: warning: %d source rows could not be read; they are listed in the bundle's manifest (run 'dsar sources check' to see them)\n", n)
		return partialErr
	}
	return nil
}

func loadSigner(cfg *config.Config) (*openpgp.Entity, error) {
	if cfg.SigningKey == "" {
		return nil, fmt.Errorf("config %q: signing_key is not set: the controller's secret key is needed to sign bundles", cfg.Path)
	}
	ks, err := crypto.ReadKeys(cfg.Resolve(cfg.SigningKey))
	if err != nil {
		return nil, err
	}
	if len(ks) != 1 || ks[0].PrivateKey == nil {
		return nil, fmt.Errorf("config %q: signing_key %q must hold exactly one secret key", cfg.Path, cfg.SigningKey)
	}
	return ks[0], nil
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
