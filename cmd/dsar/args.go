package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// reorderArgs moves each command's flags in front of its positional
// arguments, so that `dsar request verify ID --method X` works as people
// write it: urfave/cli v2 stops reading flags at the first argument.
// Everything after "--" is left as it is.
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	rest := args[1:]
	cmds := app.Commands
	flags := app.Flags
	// Walk the command path, leaving global flags where they are.
	for len(rest) > 0 {
		a := rest[0]
		if strings.HasPrefix(a, "-") {
			out = append(out, a)
			rest = rest[1:]
			if takesValue(flags, a) && len(rest) > 0 {
				out = append(out, rest[0])
				rest = rest[1:]
			}
			continue
		}
		var next *cli.Command
		for _, c := range cmds {
			if c.HasName(a) {
				next = c
			}
		}
		if next == nil {
			break
		}
		out = append(out, a)
		rest = rest[1:]
		cmds, flags = next.Subcommands, next.Flags
		if len(next.Subcommands) == 0 {
			break
		}
	}
	var fl, pos []string
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		switch {
		case a == "--":
			pos = append(pos, rest[i:]...)
			i = len(rest)
		case strings.HasPrefix(a, "-") && a != "-":
			fl = append(fl, a)
			if takesValue(flags, a) && i+1 < len(rest) {
				fl = append(fl, rest[i+1])
				i++
			}
		default:
			pos = append(pos, a)
		}
	}
	return append(append(out, fl...), pos...)
}

// takesValue reports whether the flag arg (e.g. "--out", "-o") names a
// known flag that takes a separate value.
func takesValue(flags []cli.Flag, arg string) bool {
	if strings.Contains(arg, "=") {
		return false
	}
	name := strings.TrimLeft(arg, "-")
	for _, f := range flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			if _, isBool := f.(*cli.BoolFlag); isBool {
				return false
			}
			return true
		}
	}
	return false
}
