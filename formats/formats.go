// Package formats writes dataset records as JSON, CSV, XLSX and Parquet.
// Every writer derives its layout (field names, header, column types) from
// a model.Dataset declaration and takes records one at a time.
//
// Writers never close the io.Writer they are given: Close flushes what is
// buffered and reports the first error, like archive/zip's Writer.
//
// # Values
//
// All four formats agree on what a value means:
//
//   - Timestamp values are written in UTC with second precision; any
//     sub-second part is dropped. JSON and CSV use RFC 3339
//     ("2025-10-26T01:40:00Z"), XLSX a date cell formatted
//     "yyyy-mm-dd hh:mm:ss", Parquet a UTC-adjusted millisecond timestamp.
//   - Date values are calendar dates: "2025-10-26" in JSON and CSV, a
//     date cell in XLSX, date32 in Parquet.
//   - Strings are UTF-8. Invalid UTF-8 bytes become U+FFFD, one per byte,
//     as encoding/json does, so every format holds the same text.
//   - A null is null in JSON and Parquet and an empty field or cell in CSV
//     and XLSX (where an empty string is also written as an empty cell).
//
// CSV and XLSX text that a spreadsheet would take for a formula is
// neutralised with a leading apostrophe (see Neutralise); JSON and Parquet
// hold text exactly.
//
// # Errors
//
// A record that does not fit its dataset (wrong length, a value of the
// wrong Go type, a null in a non-nullable column) is rejected with an error
// naming the dataset, row number and column, never the value, and nothing of
// it is written; the writer stays usable. An error from the underlying
// io.Writer is sticky: it is returned by that Write or a later one, and by
// Close.
//
// # Determinism
//
// Writing the same records with the same options gives the same bytes in
// every format: no wall-clock time, random identifier or map order reaches
// the output.
package formats

import (
	"errors"

	"github.com/dsar-tool/dsar/exporter/model"
)

// Writer writes the records of one dataset in one format.
type Writer interface {
	// Write appends one record. The record must fit the dataset
	// (model.Dataset.Check); the writer does not keep it after returning.
	Write(r model.Record) error
	// Close writes any trailer and flushes. It does not close the
	// underlying io.Writer. Close must be called exactly once.
	Close() error
}

// Names lists the format names in bundle order.
var Names = []string{"json", "csv", "xlsx", "parquet"}

// errClosed is returned by Write or Close on a writer already closed.
var errClosed = errors.New("formats: writer already closed")
