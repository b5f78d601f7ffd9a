package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/urfave/cli/v2"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/dsar-tool/dsar/crypto"
	"github.com/dsar-tool/dsar/exporter"
	"github.com/dsar-tool/dsar/exporter/config"
	"github.com/dsar-tool/dsar/exporter/letter"
	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/redact"
	"github.com/dsar-tool/dsar/exporter/register"
	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/sources/all"
)

func newRunCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "export every request that is ready (verified, open, no current bundle), as a scheduled run would",
		ArgsUsage: " ",
		Description: "Reads each source once for all the ready requests' subjects, then seals and\n" +
			"delivers one bundle per request with the delivery set by 'dsar request set'.\n" +
			"A failure of one request is recorded and does not stop the others. Workers on\n" +
			"several machines can share a PostgreSQL register: each request is claimed with\n" +
			"a lease, and a crashed worker's lease expires.\n\n" + exitHelp,
		Flags: []cli.Flag{
			configFlag(),
			&cli.IntFlag{Name: "workers", Value: runtime.NumCPU(), Usage: "requests sealed in parallel"},
			&cli.StringSliceFlag{Name: "request", Usage: "only this request `ID` (repeatable)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "list what would be exported, and export nothing"},
			&cli.DurationFlag{Name: "lease", Value: 15 * time.Minute, Usage: "how long a claimed request stays this worker's before others may take it"},
			&cli.StringFlag{Name: "log-format", Usage: "text or json (default: json when not on a terminal)"},
		},
		Action: func(c *cli.Context) error {
			ws, err := openWorkspace(c)
			if err != nil {
				return err
			}
			defer ws.Close()
			return runBulk(c, ws, bulkOpts{workers: c.Int("workers"), ids: c.StringSlice("request"), dryRun: c.Bool("dry-run"), lease: c.Duration("lease"), logFormat: c.String("log-format")})
		},
	}
}

type bulkOpts struct {
	workers   int
	ids       []string
	dryRun    bool
	lease     time.Duration
	logFormat string
}

// newLogger returns the run's event log: JSON lines (one per event, with a
// message_type) for schedulers, text for people. No personal data is ever
// logged: requests are named by id.
func newLogger(c *cli.Context, format string) (*slog.Logger, error) {
	switch format {
	case "":
		if isTerminal() {
			format = "text"
		} else {
			format = "json"
		}
	case "text", "json":
	default:
		return nil, usageError("--log-format %q: want text or json", format)
	}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(c.App.ErrWriter, nil)), nil
	}
	return slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}})), nil
}

func workerID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

type bulkResult struct {
	id, status, detail string
	rejected           int64
}

func runBulk(c *cli.Context, ws *workspace, o bulkOpts) error {
	ctx := c.Context
	log, err := newLogger(c, o.logFormat)
	if err != nil {
		return err
	}
	if o.workers < 1 {
		return usageError("--workers must be at least 1")
	}
	ready, err := ws.store.Ready(ctx, o.ids)
	if err != nil {
		return err
	}
	if o.dryRun {
		tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSUBJECT\tDUE\tRECIPIENTS\tDESTINATION")
		for _, r := range ready {
			st, err := ws.store.State(ctx, r.ID)
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Subject, dateOr(r.CurrentDue(), "-"), describeDelivery(st), orDefault(st.Destination, "outbox"))
		}
		tw.Flush()
		fmt.Fprintf(c.App.Writer, "%d requests would be exported (dry run: nothing was written)\n", len(ready))
		return nil
	}
	owner := workerID()
	log.Info("run started", "message_type", "run_started", "requests", len(ready), "workers", o.workers)
	results := make([]bulkResult, 0, len(ready))
	var mu sync.Mutex
	record := func(r bulkResult) {
		mu.Lock()
		results = append(results, r)
		mu.Unlock()
		switch r.status {
		case "exported":
			log.Info("request exported", "message_type", "request_exported", "request_id", r.id, "detail", r.detail)
		case "skipped":
			log.Info("request skipped", "message_type", "request_skipped", "request_id", r.id, "reason", r.detail)
		default:
			log.Error("request failed", "message_type", "request_failed", "request_id", r.id, "error", r.detail)
		}
	}

	// Check every request's delivery and subject before reading anything.
	profile, err := loadProfile(ws.cfg)
	if err != nil {
		return err
	}
	policy, err := redactionPolicy(ws, "")
	if err != nil {
		return err
	}
	subjects, err := config.LoadSubjects(ws.cfg.Resolve(ws.cfg.Subjects))
	if err != nil {
		return err
	}
	byID := map[string]model.Subject{}
	for _, s := range subjects {
		byID[s.ID] = s
	}
	type job struct {
		req   *register.Request
		state *register.RunState
	}
	var jobs []job
	wanted := map[string]model.Subject{}
	for _, r := range ready {
		st, err := ws.store.State(ctx, r.ID)
		if err != nil {
			return err
		}
		subj, ok := byID[r.Subject]
		switch {
		case len(st.Recipients) == 0 && !st.GeneratePassphrase:
			msg := fmt.Sprintf("no recipient: set one with 'dsar request set %s --recipient-key FILE' or '--passphrase generate'", r.ID)
			ws.store.Release(ctx, r.ID, "", msg)
			record(bulkResult{id: r.ID, status: "failed", detail: msg})
			continue
		case !ok:
			msg := fmt.Sprintf("subject %q is not in the subject directory", r.Subject)
			ws.store.Release(ctx, r.ID, "", msg)
			record(bulkResult{id: r.ID, status: "failed", detail: msg})
			continue
		}
		wanted[subj.ID] = subj
		jobs = append(jobs, job{r, st})
	}
	if len(jobs) > 0 {
		var subjList []model.Subject
		for _, s := range wanted {
			subjList = append(subjList, s)
		}
		matcher, err := source.NewMatcher(subjList, ws.cfg.Region, ws.cfg.Location())
		if err != nil {
			return err
		}
		matcher.OutsidePrefixes = ws.cfg.OutsidePrefixes
		sources, err := all.Build(ws.cfg)
		if err != nil {
			return err
		}
		scratch, err := exporter.NewScratch("")
		if err != nil {
			return err
		}
		defer scratch.Remove()
		// One scan of each source for every subject of the run; each
		// subject's records wait in the private scratch folder, so memory
		// holds one subject's data per worker, not the whole run's.
		scanStart := time.Now()
		spool, err := exporter.CollectSpooled(ctx, subjList, matcher, sources, scratch.Dir)
		if err != nil {
			return fmt.Errorf("run: %w; nothing was exported", err)
		}
		defer spool.Close()
		log.Info("sources scanned", "message_type", "sources_scanned", "sources", len(sources), "subjects", len(subjList),
			"rows_read", spool.RowsRead(), "duration_ms", time.Since(scanStart).Milliseconds())
		// A progress bar for people at a terminal; schedulers get the JSON
		// lines instead. Neither names anyone: requests are counted.
		var bar *mpb.Bar
		var progress *mpb.Progress
		if o.logFormat != "json" && isTerminal() && term.IsTerminal(int(os.Stderr.Fd())) {
			progress = mpb.NewWithContext(ctx, mpb.WithOutput(c.App.ErrWriter), mpb.WithWidth(40))
			bar = progress.AddBar(int64(len(jobs)),
				mpb.PrependDecorators(decor.Name("requests "), decor.CountersNoUnit("%d/%d")),
				mpb.AppendDecorators(decor.Percentage(), decor.Name(" "), decor.EwmaETA(decor.ET_STYLE_GO, 30)))
			// The bar shows progress; only problems are logged beside it.
			log = slog.New(slog.NewTextHandler(progress, &slog.HandlerOptions{Level: slog.LevelWarn}))
		}
		queue := make(chan job)
		var wg sync.WaitGroup
		for w := 0; w < o.workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range queue {
					start := time.Now()
					record(exportClaimed(c, ws, owner, o.lease, j.req, j.state, spool, scratch.Dir, profile, policy, wanted[j.req.Subject]))
					if bar != nil {
						bar.EwmaIncrement(time.Since(start))
					}
				}
			}()
		}
	feed:
		for _, j := range jobs {
			select {
			case queue <- j:
			case <-ctx.Done():
				break feed
			}
		}
		close(queue)
		wg.Wait()
		if progress != nil {
			bar.Abort(false)
			progress.Wait()
		}
	}
	var exported, failed, skipped int
	var rejected int64
	for _, r := range results {
		switch r.status {
		case "exported":
			exported++
		case "skipped":
			skipped++
		default:
			failed++
		}
		rejected += r.rejected
	}
	log.Info("run finished", "message_type", "run_finished", "exported", exported, "failed", failed, "skipped", skipped, "rows_rejected", rejected)
	fmt.Fprintf(c.App.Writer, "%d exported, %d failed, %d skipped (claimed by another worker)\n", exported, failed, skipped)
	if err := ctx.Err(); err != nil {
		return err
	}
	if failed > 0 {
		return withHint(fmt.Errorf("%d of %d requests failed; each failure is recorded in the register ('dsar request show ID')", failed, len(ready)), exitError)
	}
	if rejected > 0 {
		return partialErr
	}
	return nil
}

// exportClaimed claims one request, writes its bundle and records it.
func exportClaimed(c *cli.Context, ws *workspace, owner string, lease time.Duration, req *register.Request, st *register.RunState, spool *exporter.Spool, scratch string, profile *letter.Profile, policy *redact.Policy, subj model.Subject) bulkResult {
	ctx := c.Context
	if err := ws.store.Claim(ctx, req.ID, owner, lease); err != nil {
		if errors.Is(err, register.ErrLeased) {
			return bulkResult{id: req.ID, status: "skipped", detail: "claimed by another worker or already exported"}
		}
		return bulkResult{id: req.ID, status: "failed", detail: err.Error()}
	}
	fail := func(err error) bulkResult {
		ws.store.Release(ctx, req.ID, owner, err.Error())
		return bulkResult{id: req.ID, status: "failed", detail: err.Error()}
	}
	testPause("claimed")
	seal, generated, err := loadSealOptions(c, ws.cfg, exportOpts{recipientKeys: st.Recipients, generatePassphrase: st.GeneratePassphrase})
	if err != nil {
		return fail(err)
	}
	var sealedPass string
	if generated != "" {
		if sealedPass, err = sealForArchive(ws.cfg, seal, generated); err != nil {
			return fail(err)
		}
	}
	// Each bundle loads its own copy of the subject's records.
	data, err := spool.Load(req.Subject)
	if err != nil {
		return fail(err)
	}
	res, mine, err := writeRequestBundle(ctx, ws, bundleJob{
		req: req, subject: subj, data: data, seal: seal, profile: profile, policy: policy,
		formats: ws.cfg.Formats, out: ws.cfg.Resolve(ws.cfg.Outbox), scratch: scratch,
		owner: owner, sealedPass: sealedPass, what: "bundle written by a scheduled run",
	})
	if err != nil {
		return fail(err)
	}
	if err := deliverBundle(c, ws, req.ID, st.Destination, res.Path, res.SHA256); err != nil {
		// The bundle stays current; 'dsar deliver ID' retries.
		ws.store.Release(ctx, req.ID, "", err.Error())
		return bulkResult{id: req.ID, status: "failed", detail: err.Error()}
	}
	return bulkResult{id: req.ID, status: "exported", detail: res.Path, rejected: mine.Rejected()}
}

// sealForArchive encrypts a generated passphrase to the archive key so
// that only the DPO's office can read it again ('dsar request passphrase').
func sealForArchive(cfg *config.Config, seal crypto.SealOptions, pass string) (string, error) {
	if cfg.ArchiveKey == "" {
		return "", fmt.Errorf("a generated passphrase needs archive_key in %q: it is kept only encrypted to the DPO office's archive key", cfg.Path)
	}
	ks, err := crypto.ReadKeys(cfg.Resolve(cfg.ArchiveKey))
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	aw, err := armor.Encode(&buf, "PGP MESSAGE", nil)
	if err != nil {
		return "", err
	}
	w, err := crypto.Seal(aw, crypto.SealOptions{Recipients: ks, Signer: seal.Signer, Profile: seal.Profile})
	if err != nil {
		return "", err
	}
	if _, err := w.Write([]byte(pass)); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	if err := aw.Close(); err != nil {
		return "", err
	}
	return buf.String(), nil
}

func describeDelivery(st *register.RunState) string {
	var parts []string
	if len(st.Recipients) > 0 {
		parts = append(parts, fmt.Sprintf("%d key(s)", len(st.Recipients)))
	}
	if st.GeneratePassphrase {
		parts = append(parts, "generated passphrase")
	}
	if len(parts) == 0 {
		return "NONE (dsar request set ID --recipient-key FILE)"
	}
	return strings.Join(parts, " + ")
}

func dateOr(t time.Time, or string) string {
	if t.IsZero() {
		return or
	}
	return t.Format(time.DateOnly)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
