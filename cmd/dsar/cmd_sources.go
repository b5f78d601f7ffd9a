package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/dsar-tool/dsar/exporter/sources/all"
)

func newSourcesCommand() *cli.Command {
	return &cli.Command{
		Name:  "sources",
		Usage: "list the source connectors and their configuration keys",
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list the connector kinds and their configuration keys",
				Action: func(c *cli.Context) error {
					w := c.App.Writer
					for _, k := range all.Kinds {
						fmt.Fprintf(w, "%s\n    %s\n", k.Name, k.Summary)
						for _, key := range k.Keys {
							req := ""
							if key.Required {
								req = " (required)"
							}
							fmt.Fprintf(w, "    %-14s %s%s\n", key.Name, key.Description, req)
						}
					}
					return nil
				},
			},
		},
	}
}
