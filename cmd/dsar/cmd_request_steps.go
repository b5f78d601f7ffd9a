package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/dsar-tool/dsar/exporter/register"
)

// stepCommand builds a `dsar request <name> ID ...` command that applies
// one change and prints the request's new state.
func stepCommand(name, usage string, flags []cli.Flag, apply func(c *cli.Context, ws *workspace, id string) (*register.Request, error)) *cli.Command {
	return &cli.Command{
		Name:      name,
		Usage:     usage,
		ArgsUsage: "ID",
		Flags:     append([]cli.Flag{configFlag(), &cli.BoolFlag{Name: "json", Usage: "print the request as JSON"}}, flags...),
		Action: func(c *cli.Context) error {
			id, err := oneArg(c, "ID")
			if err != nil {
				return err
			}
			ws, err := openWorkspace(c)
			if err != nil {
				return err
			}
			defer ws.Close()
			r, err := apply(c, ws, id)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return printJSON(c.App.Writer, requestJSON(r, ws.store.Now()))
			}
			fmt.Fprintf(c.App.Writer, "%s %s", r.ID, r.Status)
			switch {
			case r.Paused:
				fmt.Fprintf(c.App.Writer, "; clock paused")
			case !r.CurrentDue().IsZero():
				fmt.Fprintf(c.App.Writer, "; due %s", r.CurrentDue().Format(time.DateOnly))
			}
			fmt.Fprintln(c.App.Writer)
			return nil
		},
	}
}

func optDate(c *cli.Context, flag string) (time.Time, error) {
	if c.String(flag) == "" {
		return time.Time{}, nil
	}
	return parseDate(flag, c.String(flag))
}

func requireFlag(c *cli.Context, names ...string) error {
	for _, n := range names {
		if c.String(n) == "" {
			return usageError("--%s is required", n)
		}
	}
	return nil
}

// parsePounds reads an amount in pounds ("10", "10.5", "£10.50") as pence.
func parsePounds(s string) (int64, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "£")
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f > 1e6 || math.Abs(f*100-math.Round(f*100)) > 1e-6 {
		return 0, usageError("--amount %q: want an amount in pounds such as 10 or 12.50", s)
	}
	return int64(math.Round(f * 100)), nil
}

func requestStepCommands() []*cli.Command {
	actor := func(ws *workspace) string { return ws.cfg.Actor() }
	return []*cli.Command{
		stepCommand("id-received", "record the day the proof of identity asked for arrived (the clock starts then, under clock.start: receipt)",
			[]cli.Flag{&cli.StringFlag{Name: "at", Usage: "the `DATE` it arrived (YYYY-MM-DD)"}},
			func(c *cli.Context, ws *workspace, id string) (*register.Request, error) {
				if err := requireFlag(c, "at"); err != nil {
					return nil, err
				}
				at, err := optDate(c, "at")
				if err != nil {
					return nil, err
				}
				return ws.store.IDReceived(c.Context, id, at, actor(ws))
			}),
		stepCommand("clarify", "record that clarification was asked for (--asked; the clock pauses) or received (--answered; it runs again)",
			[]cli.Flag{
				&cli.StringFlag{Name: "asked", Usage: "the `DATE` the subject was asked to clarify"},
				&cli.StringFlag{Name: "answered", Usage: "the `DATE` the clarification arrived"},
			},
			func(c *cli.Context, ws *workspace, id string) (*register.Request, error) {
				asked, answered := c.String("asked"), c.String("answered")
				if (asked == "") == (answered == "") {
					return nil, usageError("give exactly one of --asked DATE or --answered DATE")
				}
				if asked != "" {
					at, err := parseDate("asked", asked)
					if err != nil {
						return nil, err
					}
					return ws.store.ClarifyAsked(c.Context, id, at, actor(ws))
				}
				at, err := parseDate("answered", answered)
				if err != nil {
					return nil, err
				}
				return ws.store.ClarifyAnswered(c.Context, id, at, actor(ws))
			}),
		stepCommand("extend", "extend the deadline by two further months for a complex or numerous request",
			[]cli.Flag{
				&cli.StringFlag{Name: "reason", Usage: "why the request is complex or numerous (given to the subject)"},
				&cli.StringFlag{Name: "notified", Usage: "the `DATE` the subject was told of the extension and why"},
				&cli.StringFlag{Name: "force", Usage: "record an extension notified after the original deadline anyway, with this `REASON`"},
			},
			func(c *cli.Context, ws *workspace, id string) (*register.Request, error) {
				if err := requireFlag(c, "reason", "notified"); err != nil {
					return nil, err
				}
				n, err := parseDate("notified", c.String("notified"))
				if err != nil {
					return nil, err
				}
				return ws.store.Extend(c.Context, id, c.String("reason"), n, c.String("force"), actor(ws))
			}),
		stepCommand("unfounded", "record the DPO's decision that a request is manifestly unfounded or excessive (then refuse it or charge a fee)",
			[]cli.Flag{&cli.StringFlag{Name: "reason", Usage: "why"}},
			func(c *cli.Context, ws *workspace, id string) (*register.Request, error) {
				if err := requireFlag(c, "reason"); err != nil {
					return nil, err
				}
				return ws.store.MarkUnfounded(c.Context, id, c.String("reason"), actor(ws))
			}),
		stepCommand("fee", "ask for a reasonable fee (--amount, --reason; the clock waits) or record its payment (--paid)",
			[]cli.Flag{
				&cli.StringFlag{Name: "amount", Usage: "the fee in pounds (`GBP`)"},
				&cli.StringFlag{Name: "reason", Usage: "why a fee is charged"},
				&cli.StringFlag{Name: "at", Usage: "the `DATE` the fee was asked for (default today)"},
				&cli.StringFlag{Name: "paid", Usage: "the `DATE` the fee was paid"},
			},
			func(c *cli.Context, ws *workspace, id string) (*register.Request, error) {
				if c.String("paid") != "" {
					if c.String("amount") != "" || c.String("reason") != "" {
						return nil, usageError("--paid records a payment; give it without --amount and --reason")
					}
					at, err := parseDate("paid", c.String("paid"))
					if err != nil {
						return nil, err
					}
					return ws.store.FeePaid(c.Context, id, at, actor(ws))
				}
				if err := requireFlag(c, "amount", "reason"); err != nil {
					return nil, err
				}
				pence, err := parsePounds(c.String("amount"))
				if err != nil {
					return nil, err
				}
				at, err := optDate(c, "at")
				if err != nil {
					return nil, err
				}
				return ws.store.RequestFee(c.Context, id, pence, c.String("reason"), at, actor(ws))
			}),
		stepCommand("refuse", "refuse the request, recording why",
			[]cli.Flag{&cli.StringFlag{Name: "reason", Usage: "why (the subject is told, with their right to complain)"}},
			func(c *cli.Context, ws *workspace, id string) (*register.Request, error) {
				if err := requireFlag(c, "reason"); err != nil {
					return nil, err
				}
				return ws.store.Refuse(c.Context, id, c.String("reason"), actor(ws))
			}),
		stepCommand("withdraw", "record that the subject withdrew the request",
			[]cli.Flag{&cli.StringFlag{Name: "note", Usage: "a note for the timeline"}},
			func(c *cli.Context, ws *workspace, id string) (*register.Request, error) {
				return ws.store.Withdraw(c.Context, id, c.String("note"), actor(ws))
			}),
		stepCommand("complete", "record that the request has been answered",
			[]cli.Flag{&cli.StringFlag{Name: "note", Usage: "a note for the timeline"}},
			func(c *cli.Context, ws *workspace, id string) (*register.Request, error) {
				return ws.store.Complete(c.Context, id, c.String("note"), actor(ws))
			}),
	}
}
