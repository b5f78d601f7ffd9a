package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/dsar-tool/dsar/exporter/register"
)

func newRequestCommand() *cli.Command {
	cmd := &cli.Command{
		Name:  "request",
		Usage: "log, verify and look at rights requests",
		Subcommands: []*cli.Command{
			{
				Name:      "new",
				Usage:     "log a new request and print its id",
				ArgsUsage: " ",
				Flags: []cli.Flag{
					configFlag(),
					&cli.StringFlag{Name: "subject", Usage: "the subject's `ID` in the subject directory"},
					&cli.StringFlag{Name: "type", Usage: "the right(s) exercised, comma-separated: " + strings.Join(register.Types, ", ")},
					&cli.StringFlag{Name: "received", Usage: "the `DATE` the request was received (YYYY-MM-DD)"},
					&cli.StringFlag{Name: "channel", Usage: "how it arrived: " + strings.Join(register.Channels, ", ")},
					&cli.BoolFlag{Name: "id-requested", Value: true, Usage: "proof of identity is required before export (--id-requested=false when identity is already known)"},
					&cli.StringFlag{Name: "lawful-basis", Usage: "the lawful basis of the processing the request concerns (e.g. \"Art. 6(1)(f) legitimate interests\")"},
					&cli.StringFlag{Name: "note", Usage: "a note for the timeline"},
					&cli.StringSliceFlag{Name: "recipient-key", Usage: "for unattended runs: the recipient's public key `FILE` or keyring fingerprint (repeatable; see 'dsar request set')"},
					&cli.StringFlag{Name: "passphrase", Usage: "for unattended runs: 'generate' a passphrase kept encrypted to the archive key"},
					&cli.StringFlag{Name: "destination", Usage: "for unattended runs: a destination `NAME` from the config"},
				},
				Action: func(c *cli.Context) error {
					if c.Args().Present() {
						return usageError("unexpected argument %q", c.Args().First())
					}
					for _, f := range []string{"subject", "type", "received"} {
						if c.String(f) == "" {
							return usageError("--%s is required", f)
						}
					}
					received, err := parseDate("received", c.String("received"))
					if err != nil {
						return err
					}
					ws, err := openWorkspace(c)
					if err != nil {
						return err
					}
					defer ws.Close()
					if err := checkSubject(ws, c.String("subject")); err != nil {
						return err
					}
					var types []string
					for _, t := range strings.Split(c.String("type"), ",") {
						types = append(types, strings.TrimSpace(t))
					}
					delivery, err := deliveryFromFlags(c, ws)
					if err != nil {
						return err
					}
					cr, err := ws.store.Create(c.Context, register.NewRequest{
						Subject: c.String("subject"), Types: types, Received: received, Channel: c.String("channel"),
						IDRequested: c.Bool("id-requested"), LawfulBasis: c.String("lawful-basis"), Actor: ws.cfg.Actor(), Note: c.String("note"),
					})
					if err != nil {
						return withHint(err, exitUsage)
					}
					if delivery != nil {
						if _, err := ws.store.SetDelivery(c.Context, cr.ID, *delivery, ws.cfg.Actor()); err != nil {
							return fmt.Errorf("%s was logged, but its delivery could not be set: %w", cr.ID, err)
						}
					}
					fmt.Fprintln(c.App.Writer, cr.ID)
					if cr.RepeatOf != nil {
						fmt.Fprintf(c.App.ErrWriter, "dsar: warning: %s may repeat %s (same subject and type, received %s); decide whether it is manifestly unfounded or excessive: it has not been refused\n",
							cr.ID, cr.RepeatOf.ID, cr.RepeatOf.Received.Format(time.DateOnly))
					}
					return nil
				},
			},
			{
				Name:      "verify",
				Usage:     "record that the requester's identity was verified",
				ArgsUsage: "ID",
				Flags: []cli.Flag{
					configFlag(),
					&cli.StringFlag{Name: "method", Usage: "how identity was verified (e.g. \"staff card seen in person\")"},
					&cli.StringFlag{Name: "at", Usage: "the `DATE` of verification (default today)"},
				},
				Action: func(c *cli.Context) error {
					id, err := oneArg(c, "ID")
					if err != nil {
						return err
					}
					if c.String("method") == "" {
						return usageError("--method is required: say how identity was verified")
					}
					var at time.Time
					if c.String("at") != "" {
						if at, err = parseDate("at", c.String("at")); err != nil {
							return err
						}
					}
					ws, err := openWorkspace(c)
					if err != nil {
						return err
					}
					defer ws.Close()
					r, err := ws.store.Verify(c.Context, id, c.String("method"), at, ws.cfg.Actor())
					if err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "%s verified on %s", r.ID, r.Verified.Format(time.DateOnly))
					if !r.Due.IsZero() {
						fmt.Fprintf(c.App.Writer, "; due %s", r.Due.Format(time.DateOnly))
					}
					fmt.Fprintln(c.App.Writer)
					return nil
				},
			},
			{
				Name:      "show",
				Usage:     "show a request and its timeline",
				ArgsUsage: "ID",
				Flags:     []cli.Flag{configFlag(), &cli.BoolFlag{Name: "json", Usage: "print JSON"}},
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
					r, err := ws.store.Get(c.Context, id)
					if err != nil {
						return err
					}
					if err := ws.audit(c, "request viewed", r.ID, "", ""); err != nil {
						return err
					}
					today := ws.store.Now()
					if c.Bool("json") {
						return printJSON(c.App.Writer, requestJSON(r, today))
					}
					printRequest(c.App.Writer, r, today)
					return nil
				},
			},
			{
				Name:      "list",
				Usage:     "list the requests in the register",
				ArgsUsage: " ",
				Flags: []cli.Flag{configFlag(), &cli.BoolFlag{Name: "json", Usage: "print JSON"},
					&cli.StringFlag{Name: "status", Usage: "only requests in this status: " + strings.Join(register.Statuses, ", ")},
					&cli.StringFlag{Name: "due-within", Usage: "only open requests due within this many days (`7d`, 2w)"},
					&cli.BoolFlag{Name: "overdue", Usage: "only open requests past their due date"},
				},
				Action: func(c *cli.Context) error {
					if c.Args().Present() {
						return usageError("unexpected argument %q", c.Args().First())
					}
					if st := c.String("status"); st != "" && !slices.Contains(register.Statuses, st) {
						return usageError("--status %q: want one of %s", st, strings.Join(register.Statuses, ", "))
					}
					within := -1
					if v := c.String("due-within"); v != "" {
						n, err := parseDays(v)
						if err != nil {
							return err
						}
						within = n
					}
					ws, err := openWorkspace(c)
					if err != nil {
						return err
					}
					defer ws.Close()
					all, err := ws.store.List(c.Context, "")
					if err != nil {
						return err
					}
					if err := ws.audit(c, "requests listed", "", fmt.Sprintf("%d requests in the register", len(all)), ""); err != nil {
						return err
					}
					today := ws.store.Now()
					var rs []*register.Request
					for _, r := range all {
						due := r.CurrentDue()
						switch {
						case c.String("status") != "" && r.Status != c.String("status"):
							continue
						case c.Bool("overdue") && (!r.IsOpen() || due.IsZero() || daysLeft(due, today) >= 0):
							continue
						case within >= 0 && (!r.IsOpen() || due.IsZero() || daysLeft(due, today) > within):
							continue
						}
						rs = append(rs, r)
					}
					if c.Bool("json") {
						out := make([]any, 0, len(rs))
						for _, r := range rs {
							out = append(out, requestJSON(r, today))
						}
						return printJSON(c.App.Writer, out)
					}
					tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "ID\tSUBJECT\tTYPES\tSTATUS\tRECEIVED\tDUE\tDAYS LEFT")
					for _, r := range rs {
						due, left := "-", "-"
						if d := r.CurrentDue(); !d.IsZero() {
							due = d.Format(time.DateOnly)
							if r.IsOpen() {
								n := daysLeft(d, today)
								left = fmt.Sprint(n)
								if n < 0 {
									left += " OVERDUE"
								}
							}
						} else if r.Paused {
							due = "paused"
						} else if r.IsOpen() {
							due = "not started" // waiting for ID, a fee or verification
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Subject, strings.Join(r.Types, ","), r.Status, r.Received.Format(time.DateOnly), due, left)
					}
					return tw.Flush()
				},
			},
		},
	}
	cmd.Subcommands = append(cmd.Subcommands, requestStepCommands()...)
	cmd.Subcommands = append(cmd.Subcommands, requestDeliveryCommands()...)
	return cmd
}

// parseDays reads "7d", "7" or "2w" as a number of days.
func parseDays(v string) (int, error) {
	mult := 1
	s := v
	switch {
	case strings.HasSuffix(s, "d"):
		s = strings.TrimSuffix(s, "d")
	case strings.HasSuffix(s, "w"):
		s, mult = strings.TrimSuffix(s, "w"), 7
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, usageError("--due-within %q: want a number of days such as 7d, or weeks such as 2w", v)
	}
	return n * mult, nil
}

func oneArg(c *cli.Context, name string) (string, error) {
	switch c.NArg() {
	case 0:
		return "", usageError("missing %s argument", name)
	case 1:
		return c.Args().First(), nil
	}
	return "", usageError("too many arguments: want one %s", name)
}

// daysLeft counts calendar days from today until the end of due.
func daysLeft(due, today time.Time) int {
	y, m, d := today.Date()
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return int(due.Sub(t).Hours() / 24)
}

func dateOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Format(time.DateOnly)
}

func requestJSON(r *register.Request, today time.Time) map[string]any {
	var left any
	if d := r.CurrentDue(); !d.IsZero() && r.IsOpen() {
		left = daysLeft(d, today)
	}
	pauses := make([]map[string]any, 0, len(r.Pauses))
	for _, p := range r.Pauses {
		pauses = append(pauses, map[string]any{"asked": dateOrNil(p.Asked), "answered": dateOrNil(p.Answered)})
	}
	var fee any
	if r.FeeAmountPence > 0 {
		fee = map[string]any{"amount_gbp": fmt.Sprintf("%d.%02d", r.FeeAmountPence/100, r.FeeAmountPence%100), "reason": r.FeeReason, "requested": dateOrNil(r.FeeRequested), "paid": dateOrNil(r.FeePaid)}
	}
	events := make([]map[string]any, 0, len(r.Events))
	for _, e := range r.Events {
		ev := map[string]any{"seq": e.Seq, "at": e.At.UTC().Format(time.RFC3339), "event": e.Type, "actor": e.Actor, "note": e.Note}
		if e.BundleFile != "" {
			ev["bundle_file"], ev["bundle_sha256"] = e.BundleFile, e.BundleSHA256
		}
		events = append(events, ev)
	}
	return map[string]any{
		"id": r.ID, "subject": r.Subject, "types": r.Types, "status": r.Status,
		"received": r.Received.Format(time.DateOnly), "channel": r.Channel,
		"id_requested": r.IDRequested, "verified": dateOrNil(r.Verified), "verification_method": r.VerificationMethod,
		"id_received": dateOrNil(r.IDReceived), "lawful_basis": r.LawfulBasis,
		"clock_start": dateOrNil(r.ClockStart), "due": dateOrNil(r.Due), "extended_due": dateOrNil(r.ExtendedDue),
		"clock_paused": r.Paused, "pause_days": r.PauseDays, "clarifications": pauses, "fee": fee,
		"manifestly_unfounded_or_excessive": r.UnfoundedReason, "extension_reason": r.ExtensionReason,
		"extension_notified": dateOrNil(r.ExtensionNotified), "refusal_reason": r.RefusalReason,
		"closed": dateOrNil(r.Closed), "repeat_of": r.RepeatOf,
		"days_left": left, "events": events,
	}
}

func printRequest(w io.Writer, r *register.Request, today time.Time) {
	day := func(t time.Time) string { return t.Format("Mon 2 Jan 2006") }
	row := func(label, format string, a ...any) {
		fmt.Fprintf(w, "%-13s"+format+"\n", append([]any{label}, a...)...)
	}
	row("Request", "%s", r.ID)
	row("Subject", "%s", r.Subject)
	row("Types", "%s", strings.Join(r.Types, ", "))
	row("Status", "%s", r.Status)
	row("Received", "%s", day(r.Received))
	if r.Channel != "" {
		row("Channel", "%s", r.Channel)
	}
	if r.LawfulBasis != "" {
		row("Lawful basis", "%s", r.LawfulBasis)
	}
	if r.RepeatOf != "" {
		row("Repeat?", "may repeat %s (flagged for the DPO's decision)", r.RepeatOf)
	}
	if r.IDRequested {
		switch {
		case !r.Verified.IsZero():
			row("Verified", "%s (%s)", day(r.Verified), r.VerificationMethod)
		default:
			row("Verified", "no: identity not yet verified (dsar request verify %s --method ...)", r.ID)
		}
		if !r.IDReceived.IsZero() {
			row("ID received", "%s", day(r.IDReceived))
		}
	} else {
		row("Verified", "identity proof not asked for")
	}
	if r.UnfoundedReason != "" {
		row("Unfounded", "manifestly unfounded or excessive: %s", r.UnfoundedReason)
	}
	if r.FeeAmountPence > 0 {
		paid := "unpaid"
		if !r.FeePaid.IsZero() {
			paid = "paid " + day(r.FeePaid)
		}
		row("Fee", "£%d.%02d (%s), asked %s, %s", r.FeeAmountPence/100, r.FeeAmountPence%100, r.FeeReason, day(r.FeeRequested), paid)
	}
	for _, p := range r.Pauses {
		if p.Answered.IsZero() {
			row("Clarify", "asked %s, awaiting the answer: the clock is paused", day(p.Asked))
		} else {
			row("Clarify", "asked %s, answered %s (%d days added)", day(p.Asked), day(p.Answered), int(p.Answered.Sub(p.Asked).Hours()/24))
		}
	}
	if !r.ClockStart.IsZero() {
		row("Clock start", "%s", day(r.ClockStart))
	}
	state := func(d time.Time) string {
		if !r.IsOpen() {
			return r.Status
		}
		n := daysLeft(d, today)
		if n < 0 {
			return fmt.Sprintf("OVERDUE by %d days", -n)
		}
		return fmt.Sprintf("%d days left", n)
	}
	switch {
	case r.DueErr != nil:
		row("Due", "unknown: %v", r.DueErr)
	case r.Paused:
		row("Due", "paused while awaiting clarification")
	case !r.Due.IsZero() && !r.ExtendedDue.IsZero():
		row("Due", "%s (original deadline)", day(r.Due))
		row("Extended to", "%s (%s): %s; subject told %s", day(r.ExtendedDue), state(r.ExtendedDue), r.ExtensionReason, day(r.ExtensionNotified))
	case !r.Due.IsZero():
		row("Due", "%s (%s)", day(r.Due), state(r.Due))
	case r.FeeAmountPence > 0 && r.FeePaid.IsZero():
		row("Due", "not yet running (waiting for the fee)")
	default:
		row("Due", "not yet running (waiting for identity verification)")
	}
	if r.RefusalReason != "" {
		row("Refused", "%s", r.RefusalReason)
	}
	if !r.Closed.IsZero() {
		row("Closed", "%s", day(r.Closed))
	}
	fmt.Fprintf(w, "\nTimeline\n")
	for _, e := range r.Events {
		fmt.Fprintf(w, "  %d  %s  %-22s %-12s %s\n", e.Seq, e.At.UTC().Format("2006-01-02 15:04Z"), e.Type, e.Actor, e.Note)
		if e.BundleFile != "" {
			fmt.Fprintf(w, "       bundle %s sha256 %s\n", e.BundleFile, e.BundleSHA256)
		}
	}
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
