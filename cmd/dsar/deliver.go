package main

import (
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/dsar-tool/dsar/exporter/config"
	"github.com/dsar-tool/dsar/exporter/deliver"
)

type receipt struct{ where, sha string }

// deliverTo sends a bundle to a configured destination.
func deliverTo(c *cli.Context, ws *workspace, d config.Destination, path string) (receipt, error) {
	dc, err := deliver.ParseConfig(&d.Node)
	if err != nil {
		return receipt{}, err
	}
	dest, err := deliver.New(dc, func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return ws.cfg.Resolve(p)
	})
	if err != nil {
		return receipt{}, err
	}
	r, err := dest.Deliver(c.Context, path)
	if err != nil {
		return receipt{}, err
	}
	return receipt{where: r.Destination, sha: r.SHA256}, nil
}
