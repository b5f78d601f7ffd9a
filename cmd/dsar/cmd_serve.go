package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/urfave/cli/v2"

	"github.com/dsar-tool/dsar/exporter"
)

func newServeCommand() *cli.Command {
	return &cli.Command{
		Name:      "serve",
		Usage:     "run 'dsar run' (and the retention purge) on a cron schedule until stopped",
		ArgsUsage: " ",
		Description: "Runs in the foreground (for systemd, a container or a terminal). On SIGTERM or\n" +
			"Ctrl-C it stops taking requests; a request being sealed is abandoned cleanly\n" +
			"(no partial bundle; its lease is released) and taken by the next run.\n" +
			"samples/systemd/ has a service and timer to use instead of serve.",
		Flags: []cli.Flag{
			configFlag(),
			&cli.StringFlag{Name: "schedule", Usage: "a cron `SPEC` (minute hour day-of-month month day-of-week), e.g. \"0 2 * * *\" for 02:00 daily, or @hourly"},
			&cli.IntFlag{Name: "workers", Value: 2, Usage: "requests sealed in parallel"},
			&cli.DurationFlag{Name: "lease", Value: 15 * time.Minute, Usage: "lease on a claimed request"},
			&cli.StringFlag{Name: "log-format", Usage: "text or json (default: json when not on a terminal)"},
		},
		Action: func(c *cli.Context) error {
			if err := requireFlag(c, "schedule"); err != nil {
				return err
			}
			sched, err := cron.ParseStandard(c.String("schedule"))
			if err != nil {
				return usageError("--schedule %q: %v", c.String("schedule"), err)
			}
			log, err := newLogger(c, c.String("log-format"))
			if err != nil {
				return err
			}
			ctx := c.Context
			for {
				next := sched.Next(time.Now())
				log.Info("waiting for the next run", "message_type", "serve_waiting", "next_run", next.UTC().Format(time.RFC3339))
				select {
				case <-ctx.Done():
					log.Info("stopped", "message_type", "serve_stopped")
					return nil
				case <-time.After(time.Until(next)):
				}
				err := func() error {
					ws, err := openWorkspace(c)
					if err != nil {
						return err
					}
					defer ws.Close()
					exporter.SweepScratch("")
					err = runBulk(c, ws, bulkOpts{workers: c.Int("workers"), lease: c.Duration("lease"), logFormat: c.String("log-format")})
					if ws.cfg.RetentionDays > 0 && ctx.Err() == nil {
						if perr := purge(c, ws, ws.cfg.RetentionDays, false); perr != nil && err == nil {
							err = perr
						}
					}
					return err
				}()
				switch {
				case ctx.Err() != nil:
					log.Info("stopped", "message_type", "serve_stopped")
					return nil
				case err != nil && !errors.Is(err, partialErr):
					// One run's failures are recorded per request; keep serving.
					log.Error("run ended with errors", "message_type", "serve_run_failed", "error", err.Error())
				}
			}
		},
	}
}

func newPurgeCommand() *cli.Command {
	return &cli.Command{
		Name:      "purge",
		Usage:     "delete delivered bundles past the retention period, and what crashed runs left",
		ArgsUsage: " ",
		Flags: []cli.Flag{
			configFlag(),
			&cli.StringFlag{Name: "older-than", Usage: "delete bundles delivered more than this long ago (`30d`, 4w; default: retention_days from the config)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "list what would be deleted, and delete nothing"},
		},
		Action: func(c *cli.Context) error {
			ws, err := openWorkspace(c)
			if err != nil {
				return err
			}
			defer ws.Close()
			days := ws.cfg.RetentionDays
			if v := c.String("older-than"); v != "" {
				if days, err = parseDays(v); err != nil {
					return usageError("--older-than %q: want a number of days such as 30d, or weeks such as 4w", v)
				}
			}
			if days <= 0 {
				return usageError("give --older-than DAYS, or set retention_days in the config")
			}
			return purge(c, ws, days, c.Bool("dry-run"))
		},
	}
}

// purge deletes bundles delivered more than days ago and records each
// deletion in the register and the audit log.
func purge(c *cli.Context, ws *workspace, days int, dryRun bool) error {
	ctx := c.Context
	before := ws.store.Now().AddDate(0, 0, -days)
	list, err := ws.store.Delivered(ctx, before)
	if err != nil {
		return err
	}
	n := 0
	for _, r := range list {
		if dryRun {
			fmt.Fprintf(c.App.Writer, "would delete %s (%s, delivered %s)\n", r.BundleFile, r.ID, r.DeliveredAt.Format(time.DateOnly))
			continue
		}
		if err := os.Remove(r.BundleFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("request %s: %w", r.ID, err)
		}
		if err := ws.store.Purged(ctx, r.ID, ws.cfg.Actor()); err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "deleted %s (%s, delivered %s)\n", r.BundleFile, r.ID, r.DeliveredAt.Format(time.DateOnly))
		n++
	}
	if dryRun {
		fmt.Fprintf(c.App.Writer, "%d bundles would be deleted (dry run)\n", len(list))
		return nil
	}
	scratch := exporter.SweepScratch("")
	partial := exporter.SweepPartial(ws.cfg.Resolve(ws.cfg.Outbox))
	fmt.Fprintf(c.App.Writer, "%d bundles deleted; %d scratch folders and %d unfinished bundles of crashed runs removed\n", n, scratch, partial)
	return nil
}
