package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dsar-tool/dsar/exporter"
	"github.com/dsar-tool/dsar/exporter/letter"
	"github.com/dsar-tool/dsar/exporter/redact"
)

// redactionKeyFile holds the workspace's secret for keyed pseudonyms
// (redaction action hash): the same number gets the same token within a
// request's bundle, and re-runs give identical bundles, but no one without
// this file can reverse or link tokens.
const redactionKeyFile = "keys/redaction.key"

// redactionSecret reads the workspace's redaction secret, creating it
// (32 random bytes, mode 0600) the first time.
func redactionSecret(ws *workspace) ([]byte, error) {
	path := filepath.Join(ws.cfg.Dir, filepath.FromSlash(redactionKeyFile))
	b, err := os.ReadFile(path)
	if err == nil && len(b) >= 32 {
		return b, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("redaction key: %w", err)
	}
	b = make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := writeAtomic(path, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
		return nil, fmt.Errorf("redaction key: %w", err)
	}
	return b, os.Chmod(path, 0o600)
}

// redactionPolicy returns the policy named by the flag value, else the
// config's, else the default.
func redactionPolicy(ws *workspace, flag string) (*redact.Policy, error) {
	v := flag
	if v == "" {
		v = ws.cfg.Redaction
	}
	if v != "" && v != "default" && v != "keep" {
		v = ws.cfg.Resolve(v)
		if flag != "" {
			v = flag // a path on the command line is relative to where it was typed
		}
	}
	p, err := redact.FromFlag(v)
	if err != nil {
		return nil, withHint(err, exitUsage, "--redaction takes default, keep, or a policy file (samples/redaction.yaml is an example)")
	}
	return p, nil
}

// applyRedaction applies the policy to a copy of data for one request.
func applyRedaction(ws *workspace, p *redact.Policy, requestID string, data *exporter.Data) (*exporter.Data, []letter.Redaction, error) {
	secret, err := redactionSecret(ws)
	if err != nil {
		return nil, nil, err
	}
	r, err := redact.New(p, redact.DeriveKey(secret, requestID))
	if err != nil {
		return nil, nil, err
	}
	r.Region = ws.cfg.Region
	out := exporter.Redact(data, r)
	return out, exporter.Redactions(r), nil
}

// redactionSummary says, for the register's timeline, which columns were
// redacted and how (names of columns and rules only, never values).
func redactionSummary(rs []letter.Redaction) string {
	if len(rs) == 0 {
		return " (nothing redacted)"
	}
	s := ":"
	for i, r := range rs {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprintf(" %s.%s %s in %d rows (rule %s)", r.Dataset, r.Column, r.Action, r.Rows, r.Rule)
	}
	return s
}
