package main

import (
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/dsar-tool/dsar/exporter"
	"github.com/dsar-tool/dsar/exporter/config"
	"github.com/dsar-tool/dsar/exporter/register"
	"github.com/dsar-tool/dsar/samples"
)

// workspace is an opened configuration and register.
type workspace struct {
	cfg   *config.Config
	store *register.Store
}

func (w *workspace) Close() error { return w.store.Close() }

// audit records an action that reads personal data or the register (the
// register's own changes audit themselves).
func (w *workspace) audit(c *cli.Context, action, requestID, detail, sha string) error {
	return w.store.Audit(c.Context, register.AuditEntry{Operator: w.cfg.Actor(), Action: action, RequestID: requestID, Detail: detail, BundleSHA256: sha})
}

func configPath(c *cli.Context) string {
	for _, ctx := range c.Lineage() {
		if ctx.IsSet("config") {
			return ctx.String("config")
		}
	}
	return c.String("config")
}

func openWorkspace(c *cli.Context) (*workspace, error) {
	cfg, err := config.Load(configPath(c))
	if err != nil {
		return nil, err
	}
	cal, err := loadCalendar(cfg)
	if err != nil {
		return nil, err
	}
	opt := register.Options{Calendar: cal, ClockStart: cfg.Clock.Start, RepeatWindow: cfg.Clock.RepeatWindow}
	var store *register.Store
	if cfg.Register.Driver == "postgres" {
		store, err = register.OpenPostgres(c.Context, cfg.RegisterDSN(), "the register database", opt)
	} else {
		store, err = register.OpenSQLite(c.Context, cfg.Resolve(cfg.Register.Path), opt)
	}
	if err != nil {
		return nil, err
	}
	if now := os.Getenv("DSAR_TEST_NOW"); now != "" {
		// Tests pin the clock so that dates in scripts stay valid.
		t, err := time.Parse(time.RFC3339, now)
		if err != nil {
			return nil, fmt.Errorf("DSAR_TEST_NOW: %w", err)
		}
		store.Now = func() time.Time { return t }
	}
	// Remove what a killed export left half-written.
	exporter.SweepPartial(cfg.Resolve(cfg.Outbox))
	return &workspace{cfg: cfg, store: store}, nil
}

func loadCalendar(cfg *config.Config) (*register.Calendar, error) {
	data := samples.BankHolidays
	if cfg.Clock.BankHolidays != "" {
		var err error
		data, err = os.ReadFile(cfg.Resolve(cfg.Clock.BankHolidays))
		if err != nil {
			return nil, fmt.Errorf("config %q: clock.bank_holidays: %w", cfg.Path, err)
		}
	}
	cal, err := register.ParseCalendar(data, cfg.Clock.Division)
	if err != nil {
		return nil, fmt.Errorf("config %q: %w", cfg.Path, err)
	}
	return cal, nil
}

// parseDate reads a YYYY-MM-DD flag value.
func parseDate(flag, v string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, usageError("--%s %q: want a date YYYY-MM-DD", flag, v)
	}
	return t, nil
}
