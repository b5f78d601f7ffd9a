// Package all is the one list of source connectors. Adding a connector is
// one entry here.
package all

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dsar-tool/dsar/exporter/config"
	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/sources/asterisk"
)

// Key documents one configuration key of a connector.
type Key struct {
	Name        string
	Description string
}

// Kind is a connector kind: its documentation and its constructor.
type Kind struct {
	Name    string
	Summary string
	Keys    []Key
	build   func(k *Kind, sc config.SourceConfig, resolve func(string) string) (source.Source, error)
}

// Kinds lists every connector kind, in the order `dsar sources list` shows.
var Kinds = []Kind{
	{
		Name:    "asterisk-csv",
		Summary: "Asterisk call detail records as cdr_csv writes them (Master.csv: no header, 16 columns plus the optional ones).",
		Keys: []Key{
			{"paths", "list of file globs, relative to the config file (e.g. cdr-csv/Master*.csv)"},
			{"timezone", "the PBX host's time zone (Asterisk writes local time), or UTC when cdr.conf sets usegmtime=yes"},
			{"extra_columns", "the optional columns this PBX writes after the 16 base columns, in order: uniqueid, userfield, peeraccount, linkedid, sequence"},
			{"strict", "true to fail the export when any row cannot be read (default false: such rows are listed in the manifest)"},
		},
		build: func(k *Kind, sc config.SourceConfig, resolve func(string) string) (source.Source, error) {
			var c struct {
				Name         string   `yaml:"name"`
				Kind         string   `yaml:"kind"`
				Paths        []string `yaml:"paths"`
				Timezone     string   `yaml:"timezone"`
				ExtraColumns []string `yaml:"extra_columns"`
				Strict       bool     `yaml:"strict"`
			}
			if err := decodeStrict(k, &sc, &c); err != nil {
				return nil, err
			}
			for i, p := range c.Paths {
				c.Paths[i] = resolve(p)
			}
			return asterisk.New(sc.Name, asterisk.Config{Paths: c.Paths, Timezone: c.Timezone, ExtraColumns: c.ExtraColumns, Strict: c.Strict})
		},
	},
}

// decodeStrict decodes a source entry, rejecting keys the connector does
// not know and naming them.
func decodeStrict(k *Kind, sc *config.SourceConfig, v any) error {
	known := map[string]bool{"name": true, "kind": true}
	var names []string
	for _, key := range k.Keys {
		known[key.Name] = true
		names = append(names, key.Name)
	}
	for i := 0; i+1 < len(sc.Node.Content); i += 2 {
		key := sc.Node.Content[i]
		if !known[key.Value] {
			return fmt.Errorf("line %d: unknown key %q for kind %s (known: %s)", key.Line, key.Value, sc.Kind, strings.Join(names, ", "))
		}
	}
	return sc.Node.Decode(v)
}

// Build constructs the configured sources of c.
func Build(c *config.Config) ([]source.Source, error) {
	var out []source.Source
	for _, sc := range c.Sources {
		var kind *Kind
		for i := range Kinds {
			if Kinds[i].Name == sc.Kind {
				kind = &Kinds[i]
			}
		}
		if kind == nil {
			var names []string
			for _, k := range Kinds {
				names = append(names, k.Name)
			}
			return nil, fmt.Errorf("config %q: source %q (line %d): unknown kind %q (known: %s)", c.Path, sc.Name, sc.Line, sc.Kind, strings.Join(names, ", "))
		}
		s, err := kind.build(kind, sc, func(p string) string {
			if filepath.IsAbs(p) {
				return p
			}
			return filepath.Join(c.Dir, p)
		})
		if err != nil {
			return nil, fmt.Errorf("config %q: source %q: %w", c.Path, sc.Name, err)
		}
		out = append(out, s)
	}
	return out, nil
}
