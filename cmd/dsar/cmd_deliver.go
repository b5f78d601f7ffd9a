package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// deliverBundle delivers a request's bundle to its destination (the outbox
// when none is set, where it already is) and records the delivery.
func deliverBundle(c *cli.Context, ws *workspace, id, destination, path, sha string) error {
	where := "outbox " + path
	if destination != "" {
		d, ok := findDestination(ws.cfg, destination)
		if !ok {
			return fmt.Errorf("request %s: destination %q is not in the config", id, destination)
		}
		receipt, err := deliverTo(c, ws, d, path)
		if err != nil {
			return fmt.Errorf("request %s: delivery to %s failed: %w; retry with 'dsar deliver %s'", id, destination, err, id)
		}
		if receipt.sha != sha {
			return fmt.Errorf("request %s: delivery to %s sent %s, not the bundle's SHA-256", id, destination, receipt.sha)
		}
		where = receipt.where
	}
	return ws.store.MarkDelivered(c.Context, id, where, sha, ws.cfg.Actor())
}

func newDeliverCommand() *cli.Command {
	return &cli.Command{
		Name:      "deliver",
		Usage:     "deliver (again) a request's current bundle to its destination, without re-exporting",
		ArgsUsage: "ID",
		Flags:     []cli.Flag{configFlag()},
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
			st, err := ws.store.State(c.Context, id)
			if err != nil {
				return err
			}
			if st.BundleFile == "" {
				return withHint(fmt.Errorf("request %s has no current bundle", id), exitError, "export it first: dsar export ID or dsar run")
			}
			if err := deliverBundle(c, ws, id, st.Destination, st.BundleFile, st.BundleSHA256); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "%s delivered to %s\n", id, orDefault(st.Destination, "the outbox"))
			return nil
		},
	}
}
