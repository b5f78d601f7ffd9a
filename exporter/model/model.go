// Package model declares the datasets dsar exports and the values that flow
// through the pipeline. Every format writer, the data dictionary and the
// schemas are derived from the declarations here, so adding a column is a
// one-place change.
//
// The package imports nothing of ours.
package model

import (
	"fmt"
	"time"
)

// Type is the logical type of a column.
type Type int

const (
	// String is UTF-8 text. Phone numbers and identifiers are always text,
	// never numbers, so leading zeros and dots survive every format.
	String Type = iota
	// Int is a signed 64-bit integer (Go int64).
	Int
	// Timestamp is an instant, held as a time.Time in UTC and written with
	// second precision.
	Timestamp
	// Date is a calendar date, held as a time.Time at midnight UTC.
	Date
	// Bool is true or false (Go bool).
	Bool
)

func (t Type) String() string {
	switch t {
	case String:
		return "string"
	case Int:
		return "integer"
	case Timestamp:
		return "timestamp"
	case Date:
		return "date"
	case Bool:
		return "boolean"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Column declares one column of a dataset.
type Column struct {
	Name        string   // snake_case, stable: part of the published schema
	Type        Type     //
	Unit        string   // e.g. "seconds", "UTC"; empty when none applies
	Nullable    bool     // whether a record may hold nil here
	Enum        []string // the allowed values of a String column, if closed
	Description string   // plain language, for the data dictionary and cover letter
}

// Dataset declares a table of records.
type Dataset struct {
	Name        string // file stem: json/<name>.json, csv/<name>.csv, ...
	Title       string // human title, used for the XLSX sheet name
	Description string
	Columns     []Column
}

// Index returns the position of the named column, or -1.
func (d *Dataset) Index(name string) int {
	for i, c := range d.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// Record is one row of a dataset: one value per column, in column order.
// A value is a string, int64, time.Time (UTC), bool, or nil for a null,
// according to the column's Type.
type Record []any

// Check reports whether r fits d: the right length and a value of the right
// Go type (or nil where the column is nullable) in every position.
func (d *Dataset) Check(r Record) error {
	if len(r) != len(d.Columns) {
		return fmt.Errorf("model: %s record has %d values, want %d", d.Name, len(r), len(d.Columns))
	}
	for i, c := range d.Columns {
		v := r[i]
		if v == nil {
			if !c.Nullable {
				return fmt.Errorf("model: %s.%s is null but not nullable", d.Name, c.Name)
			}
			continue
		}
		ok := false
		switch c.Type {
		case String:
			var s string
			s, ok = v.(string)
			if ok && len(c.Enum) > 0 && !(s == "" && c.Nullable) {
				ok = false
				for _, e := range c.Enum {
					if s == e {
						ok = true
					}
				}
				if !ok {
					return fmt.Errorf("model: %s.%s value %q is not one of %v", d.Name, c.Name, s, c.Enum)
				}
			}
		case Int:
			_, ok = v.(int64)
		case Timestamp, Date:
			_, ok = v.(time.Time)
		case Bool:
			_, ok = v.(bool)
		}
		if !ok {
			return fmt.Errorf("model: %s.%s holds %T, want %s", d.Name, c.Name, v, c.Type)
		}
	}
	return nil
}

// SchemaVersion is the version of the published dataset and manifest schemas.
// Bump it when a column is added, removed or changes meaning.
const SchemaVersion = "1.0"
