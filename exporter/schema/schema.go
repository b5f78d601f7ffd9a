// Package schema derives the bundle's machine-readable descriptions from
// the dataset declarations in package model: the data dictionary
// (schema/dictionary.csv), one JSON Schema per JSON file
// (schema/<dataset>.schema.json) and the JSON Schema of manifest.json
// (schema/manifest.schema.json).
//
// Every schema is JSON Schema draft 2020-12 and is written from ordered
// structs, never maps, so the same declarations always give the same bytes.
// Each carries an $id under BaseURL with model.SchemaVersion in its path; the
// ids name the schemas, nothing is fetched from them.
package schema

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/dsar-tool/dsar/exporter/model"
)

// BaseURL is the prefix of every schema's $id.
const BaseURL = "https://dsar.example/schema/"

// Draft is the JSON Schema dialect of every schema.
const Draft = "https://json-schema.org/draft/2020-12/schema"

// Patterns the JSON files' values match (see formats.NewJSON).
const (
	// TimestampPattern matches a UTC timestamp with second precision,
	// "2025-10-26T01:40:00Z".
	TimestampPattern = `^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$`
	// DatePattern matches a calendar date, "2025-10-26".
	DatePattern = `^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$`
	// manifestTimePattern is a UTC time as encoding/json writes a
	// time.Time in UTC: second precision or finer.
	manifestTimePattern = `^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?Z$`
)

// DictionaryHeader is the header row of the data dictionary.
var DictionaryHeader = []string{"dataset", "column", "type", "unit", "nullable", "enum", "description"}

// WriteDictionary writes the data dictionary of ds to w as CSV (RFC 4180,
// UTF-8, CRLF line ends): the DictionaryHeader row, then one row per column
// of every dataset, in declaration order. type is the model type name
// (string, integer, timestamp, date, boolean); nullable is true or false;
// enum is the allowed values separated by "|", empty when any value is
// allowed.
func WriteDictionary(w io.Writer, ds []*model.Dataset) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(DictionaryHeader); err != nil {
		return fmt.Errorf("schema: dictionary: %w", err)
	}
	for _, d := range ds {
		for _, c := range d.Columns {
			row := []string{d.Name, c.Name, c.Type.String(), c.Unit, strconv.FormatBool(c.Nullable), strings.Join(c.Enum, "|"), c.Description}
			if err := cw.Write(row); err != nil {
				return fmt.Errorf("schema: dictionary: %w", err)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("schema: dictionary: %w", err)
	}
	return nil
}

// ID returns the $id of the schema named name ("calls", "manifest").
func ID(name string) string { return BaseURL + model.SchemaVersion + "/" + name + ".schema.json" }

// node is one JSON Schema, with its keywords in the order they are written.
// Fields left empty are omitted.
type node struct {
	Schema               string   `json:"$schema,omitempty"`
	ID                   string   `json:"$id,omitempty"`
	Title                string   `json:"title,omitempty"`
	Type                 any      `json:"type,omitempty"` // a string, or a list with "null"
	Format               string   `json:"format,omitempty"`
	Pattern              string   `json:"pattern,omitempty"`
	Enum                 []any    `json:"enum,omitempty"`
	Minimum              *int64   `json:"minimum,omitempty"`
	Description          string   `json:"description,omitempty"`
	Unit                 string   `json:"x-unit,omitempty"` // an annotation: the column's unit
	Items                *node    `json:"items,omitempty"`
	Properties           props    `json:"properties,omitempty"`
	Required             []string `json:"required,omitempty"`
	AdditionalProperties *bool    `json:"additionalProperties,omitempty"`
}

// prop is one named property.
type prop struct {
	name string
	node *node
}

// props marshals as a JSON object with its keys in slice order.
type props []prop

func (ps props) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(p.name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(p.node)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

var no = false

// object is a closed object schema: every property required, no others.
func object(ps ...prop) *node {
	n := &node{Type: "object", Properties: props(ps), AdditionalProperties: &no}
	for _, p := range ps {
		n.Required = append(n.Required, p.name)
	}
	return n
}

// optional returns o with the named properties no longer required.
func optional(o *node, names ...string) *node {
	var req []string
	for _, r := range o.Required {
		keep := true
		for _, n := range names {
			if r == n {
				keep = false
			}
		}
		if keep {
			req = append(req, r)
		}
	}
	o.Required = req
	return o
}

// column is the schema of one column's values.
func column(c model.Column) (*node, error) {
	n := &node{Description: c.Description, Unit: c.Unit}
	var typ string
	switch c.Type {
	case model.String:
		typ = "string"
	case model.Int:
		typ = "integer"
	case model.Timestamp:
		typ, n.Format, n.Pattern = "string", "date-time", TimestampPattern
	case model.Date:
		typ, n.Format, n.Pattern = "string", "date", DatePattern
	case model.Bool:
		typ = "boolean"
	default:
		return nil, fmt.Errorf("schema: column %q has unknown type %v", c.Name, c.Type)
	}
	if c.Nullable {
		n.Type = []string{typ, "null"}
	} else {
		n.Type = typ
	}
	if len(c.Enum) > 0 {
		for _, e := range c.Enum {
			n.Enum = append(n.Enum, e)
		}
		if c.Nullable {
			// model.Dataset.Check lets a nullable enumerated column hold
			// "" as well as null.
			n.Enum = append(n.Enum, "", nil)
		}
	}
	return n, nil
}

// JSONSchema returns the JSON Schema (draft 2020-12) of json/<d.Name>.json
// as formats.NewJSON writes it: an array of objects, each with exactly the
// dataset's columns, all required. Strings are "string", integers
// "integer", booleans "boolean"; timestamps are strings of format
// date-time matching TimestampPattern and dates strings of format date
// matching DatePattern; a nullable column also allows null; an enumerated
// column allows only its values. Each property carries the column's
// description, and its unit as the annotation "x-unit". The result is
// indented JSON ending in a newline.
func JSONSchema(d *model.Dataset) ([]byte, error) {
	var ps []prop
	seen := map[string]bool{}
	for _, c := range d.Columns {
		if seen[c.Name] {
			return nil, fmt.Errorf("schema: dataset %q declares column %q twice", d.Name, c.Name)
		}
		seen[c.Name] = true
		n, err := column(c)
		if err != nil {
			return nil, fmt.Errorf("schema: dataset %q: %w", d.Name, err)
		}
		ps = append(ps, prop{c.Name, n})
	}
	items := object(ps...)
	root := &node{
		Schema:      Draft,
		ID:          ID(d.Name),
		Title:       d.Title,
		Description: d.Description + " One object per row; every column is present, null where the value is empty and the column allows it.",
		Type:        "array",
		Items:       items,
	}
	return marshal(root)
}

func marshal(n *node) ([]byte, error) {
	b, err := json.MarshalIndent(n, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return append(b, '\n'), nil
}

func str(desc string) *node { return &node{Type: "string", Description: desc} }

func count(desc string) *node {
	var zero int64
	return &node{Type: "integer", Minimum: &zero, Description: desc}
}

func utcTime(desc string) *node {
	return &node{Type: "string", Format: "date-time", Pattern: manifestTimePattern, Description: desc}
}

// ManifestSchema returns the JSON Schema (draft 2020-12) of manifest.json,
// mirroring exporter.Manifest field for field (this package cannot import
// package exporter; exporter's tests check the two agree). Objects are
// closed (additionalProperties false); fields the manifest omits when empty
// are optional. The result is indented JSON ending in a newline.
func ManifestSchema() []byte {
	rejection := optional(object(
		prop{"source", str("The source the row was read from.")},
		prop{"file", str("The file the row is in, where the source is a file.")},
		prop{"line", count("The row's line number in that file.")},
		prop{"reason", str("Why the row could not be read. Never the row's content.")},
	), "file", "line")
	source := optional(object(
		prop{"name", str("The source's name in the configuration.")},
		prop{"kind", str("The connector kind, e.g. asterisk-csv.")},
		prop{"rows_read", count("Rows the source read.")},
		prop{"rows_selected", count("Rows about the subject.")},
		prop{"rows_duplicate", count("Selected rows dropped as exact duplicates of another.")},
		prop{"rows_rejected", count("Rows that could not be read.")},
		prop{"rejected", &node{Type: "array", Items: rejection, Description: "Where the rejected rows are, up to a limit (see rejected_truncated)."}},
		prop{"rejected_truncated", &node{Type: "boolean", Description: "Present and true when more rows were rejected than are listed."}},
		prop{"first_record_utc", utcTime("The earliest selected record's time; absent when none.")},
		prop{"last_record_utc", utcTime("The latest selected record's time; absent when none.")},
	), "rejected_truncated", "first_record_utc", "last_record_utc")
	file := optional(object(
		prop{"path", str("The file's path in the zip.")},
		prop{"bytes", count("The file's size in bytes.")},
		prop{"sha256", &node{Type: "string", Pattern: "^[0-9a-f]{64}$", Description: "SHA-256 of the file, lower-case hexadecimal."}},
		prop{"rows", count("Data rows in the file (for a workbook, in all its data sheets); absent for files that hold no rows.")},
		prop{"dataset", str("The dataset the file holds; absent for files that hold none or several.")},
		prop{"media_type", str("The file's media type.")},
	), "rows", "dataset")
	dataset := object(
		prop{"name", str("The dataset's name.")},
		prop{"rows", count("The dataset's row count.")},
	)
	redaction := optional(object(
		prop{"rule", str("The redaction rule's name in the policy.")},
		prop{"dataset", str("The dataset the rule applied to.")},
		prop{"column", str("The column the rule applied to.")},
		prop{"action", &node{Type: "string", Description: "What was done: keep, mask, hash or drop."}},
		prop{"condition", str("When the rule applies; absent or empty for every row.")},
		prop{"rows", count("Rows the rule changed.")},
	), "condition")
	root := object(
		prop{"schema_version", str("The version of this schema and of the dataset schemas.")},
		prop{"request_id", str("The rights request the bundle answers.")},
		prop{"subject_id", str("The data subject's identifier in the subject directory.")},
		prop{"request_types", &node{Type: "array", Items: &node{Type: "string"}, Description: "The rights the request exercises (access, portability, ...)."}},
		prop{"generator", str("The program and version that made the bundle.")},
		prop{"generated_at", utcTime("The bundle's stated generation time.")},
		prop{"datasets", &node{Type: "array", Items: dataset, Description: "Every dataset, in bundle order, with its row count."}},
		prop{"files", &node{Type: "array", Items: file, Description: "Every file of the bundle before the manifest, in zip order."}},
		prop{"sources", &node{Type: "array", Items: source, Description: "What each source contributed."}},
		prop{"redactions", &node{Type: "array", Items: redaction, Description: "The redactions applied, one per rule and column."}},
	)
	root.Schema, root.ID = Draft, ID("manifest")
	root.Title = "dsar bundle manifest"
	root.Description = "manifest.json, the last entry of a dsar bundle's zip."
	b, err := marshal(root)
	if err != nil {
		panic(err) // the manifest schema is a constant
	}
	return b
}
