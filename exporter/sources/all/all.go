// Package all is the one list of source connectors. Adding a connector is
// one entry in Kinds.
package all

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dsar-tool/dsar/exporter/config"
	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/sources/asterisk"
	"github.com/dsar-tool/dsar/exporter/sources/asterisksql"
	"github.com/dsar-tool/dsar/exporter/sources/cucm"
	"github.com/dsar-tool/dsar/exporter/sources/generic"
	"github.com/dsar-tool/dsar/exporter/sources/msgraph"
	"github.com/dsar-tool/dsar/exporter/sources/queuelog"
)

// Kinds lists every connector kind, in the order `dsar sources list` shows.
var Kinds = []source.Kind{
	asterisk.CSVKind,
	asterisksql.Kind,
	queuelog.Kind,
	cucm.Kind,
	generic.CSVKind,
	generic.JSONLKind,
	msgraph.CallRecordsKind,
	msgraph.PSTNKind,
	msgraph.PresenceKind,
	msgraph.SignInsKind,
}

// Lookup returns the named kind.
func Lookup(name string) (source.Kind, bool) {
	for _, k := range Kinds {
		if k.Name == name {
			return k, true
		}
	}
	return source.Kind{}, false
}

// Build constructs the configured sources of c.
func Build(c *config.Config) ([]source.Source, error) {
	var out []source.Source
	for _, sc := range c.Sources {
		s, err := build(c, sc)
		if err != nil {
			return nil, fmt.Errorf("config %q: source %q (line %d): %w", c.Path, sc.Name, sc.Line, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func build(c *config.Config, sc config.SourceConfig) (source.Source, error) {
	kind, ok := Lookup(sc.Kind)
	if !ok {
		var names []string
		for _, k := range Kinds {
			names = append(names, k.Name)
		}
		return nil, fmt.Errorf("unknown kind %q (known: %s)", sc.Kind, strings.Join(names, ", "))
	}
	known := map[string]bool{"name": true, "kind": true}
	var names []string
	for _, key := range kind.Keys {
		known[key.Name] = true
		names = append(names, key.Name)
	}
	present := map[string]bool{}
	for i := 0; i+1 < len(sc.Node.Content); i += 2 {
		key := sc.Node.Content[i]
		present[key.Value] = true
		if !known[key.Value] {
			return nil, fmt.Errorf("line %d: unknown key %q for kind %s (known: %s)", key.Line, key.Value, sc.Kind, strings.Join(names, ", "))
		}
	}
	for _, key := range kind.Keys {
		if key.Required && !present[key.Name] {
			return nil, fmt.Errorf("%s is required for kind %s: %s", key.Name, sc.Kind, key.Description)
		}
	}
	decode := func(v any) error { return sc.Node.Decode(v) }
	resolve := func(p string) string {
		if p == "" || filepath.IsAbs(p) || strings.Contains(p, "://") {
			return p
		}
		return filepath.Join(c.Dir, p)
	}
	return kind.New(sc.Name, decode, resolve)
}
