package main

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/dsar-tool/dsar/exporter/register"
)

func newAuditCommand() *cli.Command {
	return &cli.Command{
		Name:  "audit",
		Usage: "show and check the audit log (who did what, when)",
		Subcommands: []*cli.Command{
			{
				Name:      "list",
				Usage:     "show the audit log",
				ArgsUsage: " ",
				Flags: []cli.Flag{configFlag(), &cli.StringFlag{Name: "request", Usage: "only entries about this request `ID`"},
					&cli.BoolFlag{Name: "json", Usage: "print JSON"}},
				Action: func(c *cli.Context) error {
					ws, err := openWorkspace(c)
					if err != nil {
						return err
					}
					defer ws.Close()
					log, err := ws.store.AuditLog(c.Context, c.String("request"))
					if err != nil {
						return err
					}
					if c.Bool("json") {
						if log == nil {
							log = []register.AuditEntry{}
						}
						return printJSON(c.App.Writer, log)
					}
					tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "SEQ\tTIME (UTC)\tOPERATOR\tACTION\tREQUEST\tDETAIL")
					for _, e := range log {
						detail := e.Detail
						if e.BundleSHA256 != "" {
							detail += " sha256 " + e.BundleSHA256
						}
						fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.At.Format("2006-01-02 15:04:05"), e.Operator, e.Action, e.RequestID, detail)
					}
					return tw.Flush()
				},
			},
			{
				Name:      "verify",
				Usage:     "check that no audit entry was edited, deleted or reordered",
				ArgsUsage: " ",
				Flags:     []cli.Flag{configFlag()},
				Action: func(c *cli.Context) error {
					ws, err := openWorkspace(c)
					if err != nil {
						return err
					}
					defer ws.Close()
					n, head, err := ws.store.VerifyAudit(c.Context)
					var ae *register.AuditError
					if errors.As(err, &ae) {
						return withHint(err, exitError, "the audit log has been altered outside dsar; keep the database as it is and report it")
					}
					if err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "audit log intact: %d entries; head %s (checked %s)\n", n, head, time.Now().UTC().Format(time.RFC3339))
					return nil
				},
			},
		},
	}
}
