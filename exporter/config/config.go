// Package config reads a dsar workspace's configuration (dsar.yaml) and its
// subject directory (subjects.yaml). Relative paths in either file are
// resolved against the directory of the file that holds them.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dsar-tool/dsar/exporter/internal/suggest"
	"github.com/dsar-tool/dsar/exporter/model"
)

// Config is a workspace configuration.
type Config struct {
	// Register is where requests and their timelines are kept.
	Register struct {
		Driver string `yaml:"driver"`  // sqlite (default) or postgres
		Path   string `yaml:"path"`    // sqlite: the database file
		DSN    string `yaml:"dsn"`     // postgres: a connection string (postgres://user@host/db)
		DSNEnv string `yaml:"dsn_env"` // postgres: read the connection string from this environment variable instead (keeps passwords out of the file)
	} `yaml:"register"`
	SigningKey string `yaml:"signing_key"` // the controller's secret key (armoured)
	ArchiveKey string `yaml:"archive_key"` // optional: the DPO office's public key; every bundle is also encrypted to it
	Profile    string `yaml:"profile"`     // OpenPGP profile: rfc4880 (default) or rfc9580
	Subjects   string `yaml:"subjects"`    // the subject directory
	// ControllerProfile is the controller's profile (YAML): who we are and
	// the Article 15 information the cover letter gives.
	ControllerProfile string `yaml:"controller_profile"`
	Outbox            string `yaml:"outbox"` // where bundles are written
	Region            string `yaml:"region"` // default phone-number region (GB)
	// OutsidePrefixes are the site's outside-line prefixes (e.g. "9"),
	// stripped from dialled numbers before they are read as phone numbers.
	OutsidePrefixes []string `yaml:"outside_prefixes"`
	Timezone        string   `yaml:"timezone"` // the site's zone, for identifier validity dates
	Operator        string   `yaml:"operator"` // who is recorded as the actor (default: the OS user)
	Formats         []string `yaml:"formats"`  // default formats to export
	// Redaction is the policy for other people's data in the records:
	// default, keep, or a policy file (see samples/redaction.yaml).
	Redaction string `yaml:"redaction"`
	Clock     struct {
		Start        string `yaml:"start"`         // receipt (default) or verification
		Division     string `yaml:"division"`      // england-and-wales (default), scotland, northern-ireland
		BankHolidays string `yaml:"bank_holidays"` // a bank-holidays.json; default: the one shipped
		// RepeatWindow is how many days back a request of the same subject
		// and type is flagged as a possible repeat (default 90).
		RepeatWindow int `yaml:"repeat_window_days"`
	} `yaml:"clock"`
	Sources []SourceConfig `yaml:"sources"`
	// Destinations are where runs deliver bundles besides the outbox.
	Destinations []Destination `yaml:"destinations"`
	// Retention: delivered bundles older than this many days are deleted
	// by 'dsar purge' and by scheduled runs (0: never).
	RetentionDays int `yaml:"retention_days"`

	// Path is the file the configuration was read from; Dir its directory.
	Path string `yaml:"-"`
	Dir  string `yaml:"-"`
}

// Destination is a named delivery target; Node holds the whole entry for
// the delivery package to decode.
type Destination struct {
	Name string
	Kind string
	Node yaml.Node
}

// UnmarshalYAML keeps the node for the delivery package.
func (d *Destination) UnmarshalYAML(n *yaml.Node) error {
	var head struct {
		Name string `yaml:"name"`
		Kind string `yaml:"kind"`
	}
	if err := n.Decode(&head); err != nil {
		return err
	}
	d.Name, d.Kind, d.Node = head.Name, head.Kind, *n
	return nil
}

// SourceConfig is one entry of the sources list. Name and Kind are common
// to all connectors; Node holds the whole entry for the connector to
// decode its own keys from.
type SourceConfig struct {
	Name string
	Kind string
	Line int
	Node yaml.Node
}

// UnmarshalYAML keeps the node for the connector.
func (s *SourceConfig) UnmarshalYAML(n *yaml.Node) error {
	var head struct {
		Name string `yaml:"name"`
		Kind string `yaml:"kind"`
	}
	if err := n.Decode(&head); err != nil {
		return err
	}
	s.Name, s.Kind, s.Line, s.Node = head.Name, head.Kind, n.Line, *n
	return nil
}

// Load reads and checks the configuration at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("config %q not found: create a workspace with 'dsar init DIR' or pass --config FILE", path)
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("config %q: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	c.Path, c.Dir = abs, filepath.Dir(abs)
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("config %q: %w", path, err)
	}
	return &c, nil
}

func (c *Config) check() error {
	if c.Register.Driver == "" {
		c.Register.Driver = "sqlite"
	}
	switch c.Register.Driver {
	case "sqlite":
		if c.Register.Path == "" {
			c.Register.Path = "register.db"
		}
	case "postgres":
		if c.Register.DSN == "" && c.Register.DSNEnv == "" {
			return fmt.Errorf("register: driver postgres needs dsn or dsn_env")
		}
		if c.Register.DSNEnv != "" && os.Getenv(c.Register.DSNEnv) == "" {
			return fmt.Errorf("register.dsn_env: environment variable %s is not set", c.Register.DSNEnv)
		}
	default:
		return fmt.Errorf("register.driver %q: want sqlite or postgres", c.Register.Driver)
	}
	if c.Subjects == "" {
		c.Subjects = "subjects.yaml"
	}
	if c.ControllerProfile == "" {
		c.ControllerProfile = "controller.yaml"
	}
	if c.Outbox == "" {
		c.Outbox = "outbox"
	}
	if c.Region == "" {
		c.Region = "GB"
	}
	if c.Timezone == "" {
		c.Timezone = "Europe/London"
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		return fmt.Errorf("timezone %q: %w", c.Timezone, err)
	}
	if c.Clock.Division == "" {
		c.Clock.Division = "england-and-wales"
	}
	if len(c.Formats) == 0 {
		c.Formats = []string{"json", "csv", "xlsx", "parquet"}
	}
	seen := map[string]bool{}
	for i, s := range c.Sources {
		if s.Name == "" {
			return fmt.Errorf("sources[%d] (line %d): name is required", i, s.Line)
		}
		if seen[s.Name] {
			return fmt.Errorf("sources[%d] (line %d): duplicate source name %q", i, s.Line, s.Name)
		}
		seen[s.Name] = true
		if s.Kind == "" {
			return fmt.Errorf("source %q (line %d): kind is required (see 'dsar sources list')", s.Name, s.Line)
		}
	}
	return nil
}

// RegisterDSN returns the PostgreSQL connection string.
func (c *Config) RegisterDSN() string {
	if c.Register.DSNEnv != "" {
		return os.Getenv(c.Register.DSNEnv)
	}
	return c.Register.DSN
}

// Resolve returns p made absolute against the config's directory.
func (c *Config) Resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// Location returns the site's zone.
func (c *Config) Location() *time.Location {
	loc, _ := time.LoadLocation(c.Timezone)
	return loc
}

// Actor is who is recorded as doing things: the operator from config, or
// the OS user.
func (c *Config) Actor() string {
	if c.Operator != "" {
		return c.Operator
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}

// LoadSubjects reads a subject directory: a YAML list of
// {id, name, identifiers: [{kind, value, from, to}]} with dates YYYY-MM-DD.
// Errors name the file and line, never the identifier values.
func LoadSubjects(path string) ([]model.Subject, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("subjects: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("subjects %q: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil // an empty directory
	}
	root := doc.Content[0]
	if root.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("subjects %q line %d: want a list of subjects", path, root.Line)
	}
	type rawID struct {
		Kind  string `yaml:"kind"`
		Value string `yaml:"value"`
		From  string `yaml:"from"`
		To    string `yaml:"to"`
	}
	var out []model.Subject
	ids := map[string]int{}
	for _, n := range root.Content {
		if err := knownKeys(path, n, subjectKeys); err != nil {
			return nil, err
		}
		var raw struct {
			ID          string  `yaml:"id"`
			Name        string  `yaml:"name"`
			Identifiers []rawID `yaml:"identifiers"`
		}
		if err := n.Decode(&raw); err != nil {
			return nil, fmt.Errorf("subjects %q line %d: %w", path, n.Line, err)
		}
		if raw.ID == "" {
			return nil, fmt.Errorf("subjects %q line %d: id is required", path, n.Line)
		}
		if prev, dup := ids[raw.ID]; dup {
			return nil, fmt.Errorf("subjects %q line %d: subject %q already listed at line %d", path, n.Line, raw.ID, prev)
		}
		ids[raw.ID] = n.Line
		s := model.Subject{ID: raw.ID, Name: raw.Name}
		idNodes := mapValue(n, "identifiers")
		for j, r := range raw.Identifiers {
			line := n.Line
			if idNodes != nil && j < len(idNodes.Content) {
				line = idNodes.Content[j].Line
				if err := knownKeys(path, idNodes.Content[j], identifierKeys); err != nil {
					return nil, err
				}
			}
			if !slices.Contains(model.IdentifierKinds, r.Kind) {
				return nil, fmt.Errorf("subjects %q line %d: subject %q: identifier kind %q unknown (want one of %s)", path, line, raw.ID, r.Kind, strings.Join(model.IdentifierKinds, ", "))
			}
			if strings.TrimSpace(r.Value) == "" {
				return nil, fmt.Errorf("subjects %q line %d: subject %q: identifier value is empty", path, line, raw.ID)
			}
			id := model.Identifier{Kind: r.Kind, Value: strings.TrimSpace(r.Value)}
			for _, f := range []struct {
				name string
				s    string
				dst  *time.Time
			}{{"from", r.From, &id.From}, {"to", r.To, &id.To}} {
				if f.s == "" {
					continue
				}
				t, err := time.Parse(time.DateOnly, f.s)
				if err != nil {
					return nil, fmt.Errorf("subjects %q line %d: subject %q: %s: want a date YYYY-MM-DD", path, line, raw.ID, f.name)
				}
				*f.dst = t
			}
			if !id.From.IsZero() && !id.To.IsZero() && id.To.Before(id.From) {
				return nil, fmt.Errorf("subjects %q line %d: subject %q: identifier ends (to) before it starts (from)", path, line, raw.ID)
			}
			s.Identifiers = append(s.Identifiers, id)
		}
		out = append(out, s)
	}
	return out, nil
}

// The keys of a subject and of an identifier in the subject directory.
var (
	subjectKeys    = []string{"id", "name", "identifiers"}
	identifierKeys = []string{"kind", "value", "from", "to"}
)

// knownKeys fails on a key of mapping n that is not one of keys: a
// misspelt "identifiers" would otherwise leave a subject with none, and
// an export that finds nothing.
func knownKeys(path string, n *yaml.Node, keys []string) error {
	if n.Kind != yaml.MappingNode {
		return nil // Decode reports what is wrong with it
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if slices.Contains(keys, k.Value) {
			continue
		}
		hint := ""
		if best := suggest.Closest(k.Value, keys); best != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", best)
		}
		return fmt.Errorf("subjects %q line %d: unknown key %q%s; want %s", path, k.Line, k.Value, hint, strings.Join(keys, ", "))
	}
	return nil
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
