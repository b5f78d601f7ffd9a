package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/dsar-tool/dsar/crypto"
)

func newKeysCommand() *cli.Command {
	return &cli.Command{
		Name:  "keys",
		Usage: "manage OpenPGP keys",
		Subcommands: []*cli.Command{
			{
				Name:      "generate",
				Usage:     "generate a key pair: PREFIX.sec.asc (secret, mode 0600) and PREFIX.pub.asc",
				ArgsUsage: " ",
				Flags: []cli.Flag{
					configFlag(),
					&cli.StringFlag{Name: "uid", Usage: "the key's user id, \"Name <email>\""},
					&cli.StringFlag{Name: "out", Usage: "file name `PREFIX` for the two key files"},
				},
				Action: func(c *cli.Context) error {
					if c.Args().Present() {
						return usageError("unexpected argument %q", c.Args().First())
					}
					if c.String("uid") == "" || c.String("out") == "" {
						return usageError("--uid \"Name <email>\" and --out PREFIX are required")
					}
					e, err := crypto.GenerateKey(c.String("uid"), time.Now())
					if err != nil {
						return err
					}
					if err := crypto.WriteKeyPair(c.String("out"), e); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "%s.sec.asc\n%s.pub.asc\nfingerprint %s\n", c.String("out"), c.String("out"), crypto.Fingerprint(e))
					return nil
				},
			},
		},
	}
}
