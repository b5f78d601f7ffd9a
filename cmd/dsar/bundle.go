package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dsar-tool/dsar/crypto"
	"github.com/dsar-tool/dsar/exporter"
	"github.com/dsar-tool/dsar/exporter/letter"
	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/redact"
	"github.com/dsar-tool/dsar/exporter/register"
)

// bundleJob is one request's bundle, as dsar export and dsar run both
// write it: the subject's collected records, the seal and the choices.
type bundleJob struct {
	req         *register.Request
	subject     model.Subject
	data        *exporter.Data // collected records; redaction works on a copy
	seal        crypto.SealOptions
	profile     *letter.Profile
	policy      *redact.Policy
	formats     []string
	out         string
	scratch     string
	generatedAt time.Time // zero: now
	owner       string    // the run's lease owner; "" for dsar export
	sealedPass  string    // a generated passphrase, encrypted to the archive key
	what        string    // how the timeline describes the export
}

// writeRequestBundle adds the subject's request history as it stood at
// the generation time, applies the redaction policy, writes and seals the
// bundle, and records it as the request's current bundle.
func writeRequestBundle(ctx context.Context, ws *workspace, j bundleJob) (*exporter.Result, *exporter.Data, error) {
	history, err := ws.store.List(ctx, j.req.Subject)
	if err == nil {
		err = ws.store.WithEvents(ctx, history)
	}
	if err != nil {
		return nil, nil, err
	}
	genAt := j.generatedAt
	if genAt.IsZero() {
		genAt = ws.store.Now().UTC().Truncate(time.Second)
	}
	exporter.AddHistory(j.data, history, genAt)
	data, redactions, err := applyRedaction(ws, j.policy, j.req.ID, j.data)
	if err != nil {
		return nil, nil, err
	}
	res, err := exporter.WriteBundle(ctx, data, exporter.Options{
		Request: j.req, Subject: j.subject.ID, Formats: j.formats, Seal: j.seal,
		OutDir: j.out, ScratchDir: j.scratch, GeneratedAt: genAt, Generator: "dsar " + version,
		SubjectName: j.subject.Name, Profile: j.profile, DisplayZone: ws.cfg.Timezone, Redactions: redactions,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("request %s: %w; nothing was exported", j.req.ID, err)
	}
	testPause("written")
	note := fmt.Sprintf("%s: %d calls, %d logins, %d presence changes; formats %s; recipients %d key(s)", j.what,
		data.Rows(model.Calls.Name), data.Rows(model.Logins.Name), data.Rows(model.Presence.Name), strings.Join(j.formats, ","), len(j.seal.Recipients))
	switch {
	case j.sealedPass != "":
		note += " and a generated passphrase (kept encrypted to the archive key)"
	case j.seal.Passphrase != nil:
		note += " and a passphrase"
	}
	note += fmt.Sprintf("; sealed with %s (SEIPD v%d), signed with %s", res.Sealed.Cipher, res.Sealed.SEIPD, res.Sealed.Hash)
	note += "; redaction " + j.policy.Name() + redactionSummary(redactions)
	ev := register.Event{Type: register.EventExported, Actor: ws.cfg.Actor(), Note: note, BundleFile: res.Path, BundleSHA256: res.SHA256}
	if err := ws.store.MarkExported(ctx, j.req.ID, j.owner, ev, j.sealedPass); err != nil {
		return nil, nil, fmt.Errorf("request %s: bundle %s was written but the register could not record it: %w", j.req.ID, res.Path, err)
	}
	return res, data, nil
}
