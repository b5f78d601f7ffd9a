package formats

import (
	"bufio"
	"fmt"
	"io"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"

	"github.com/dsar-tool/dsar/exporter/model"
)

// parquetRowGroup is the number of rows buffered and written as one row
// group. A variable so tests can exercise several row groups cheaply.
var parquetRowGroup = 64 << 10

// ParquetCreatedBy is the created_by string written in every Parquet
// footer, in place of arrow's version string.
const ParquetCreatedBy = "dsar"

// NewParquet returns a Writer that writes the records of d to w as a
// Parquet file, using Apache Arrow's pqarrow writer. The schema follows d:
//
//	String    -> BYTE_ARRAY, logical type STRING (arrow utf8)
//	Int       -> INT64 (arrow int64)
//	Timestamp -> INT64, TIMESTAMP(MILLIS, isAdjustedToUTC=true) (arrow timestamp[ms, tz=UTC])
//	Date      -> INT32, DATE (arrow date32)
//	Bool      -> BOOLEAN
//
// Columns are REQUIRED unless Column.Nullable, then OPTIONAL. Each field
// carries its column description as arrow field metadata ("description"),
// kept in the serialized arrow schema stored in the footer
// ("ARROW:schema"); file metadata also records "dsar.dataset".
//
// Pages are snappy-compressed, and dictionary-encoded only for columns
// with an Enum. Records are buffered and written in row groups of 65,536
// rows, so memory stays bounded. Timestamps hold whole seconds; strings
// are exact (not neutralised), with invalid UTF-8 bytes replaced by U+FFFD.
//
// Writing never seeks, and Close leaves w open, even if w is an
// io.WriteCloser. The output does not depend on the time of writing.
func NewParquet(w io.Writer, d *model.Dataset) (Writer, error) {
	if err := checkDataset(d); err != nil {
		return nil, err
	}
	fields := make([]arrow.Field, len(d.Columns))
	props := []parquet.WriterProperty{
		parquet.WithCreatedBy(ParquetCreatedBy),
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithDictionaryDefault(false),
		parquet.WithMaxRowGroupLength(int64(parquetRowGroup)),
	}
	for i, c := range d.Columns {
		var t arrow.DataType
		switch c.Type {
		case model.String:
			t = arrow.BinaryTypes.String
		case model.Int:
			t = arrow.PrimitiveTypes.Int64
		case model.Timestamp:
			t = &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}
		case model.Date:
			t = arrow.FixedWidthTypes.Date32
		case model.Bool:
			t = arrow.FixedWidthTypes.Boolean
		}
		var md arrow.Metadata
		if c.Description != "" {
			md = arrow.NewMetadata([]string{"description"}, []string{c.Description})
		}
		fields[i] = arrow.Field{Name: c.Name, Type: t, Nullable: c.Nullable, Metadata: md}
		if len(c.Enum) > 0 {
			props = append(props, parquet.WithDictionaryFor(c.Name, true))
		}
	}
	meta := arrow.NewMetadata([]string{"dsar.dataset"}, []string{d.Name})
	schema := arrow.NewSchema(fields, &meta)

	// The chain is pqarrow -> bufio -> stickyWriter -> w. arrow's
	// file.Writer.Close also closes its sink if the sink is an
	// io.WriteCloser (utils.TellWrapper.Close); neither *bufio.Writer nor
	// *stickyWriter is one, so w stays open. The buffer also keeps arrow
	// from panicking when its first write (the magic number, in
	// NewFileWriter) fails, and stickyWriter keeps errors that arrow drops
	// when it closes row groups.
	out := &stickyWriter{w: w}
	buf := bufio.NewWriterSize(out, 256<<10)
	fw, err := pqarrow.NewFileWriter(schema, buf, parquet.NewWriterProperties(props...),
		pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return nil, fmt.Errorf("formats: %s parquet schema: %w", d.Name, err)
	}
	p := &parquetWriter{
		d:   d,
		fw:  fw,
		buf: buf,
		out: out,
		b:   array.NewRecordBuilder(memory.DefaultAllocator, schema),
	}
	return p, nil
}

type parquetWriter struct {
	d      *model.Dataset
	fw     *pqarrow.FileWriter
	buf    *bufio.Writer
	out    *stickyWriter
	b      *array.RecordBuilder
	n      int   // rows in b
	rows   int64 // rows written in all
	err    error
	closed bool
}

func (p *parquetWriter) Write(r model.Record) error {
	if p.closed {
		return errClosed
	}
	if p.err != nil {
		return p.err
	}
	if err := checkRecord(p.d, p.rows+1, r); err != nil {
		return err
	}
	p.rows++
	for i, v := range r {
		fb := p.b.Field(i)
		if v == nil {
			fb.AppendNull()
			continue
		}
		switch v := v.(type) {
		case string:
			fb.(*array.StringBuilder).Append(validUTF8(v))
		case int64:
			fb.(*array.Int64Builder).Append(v)
		case bool:
			fb.(*array.BooleanBuilder).Append(v)
		case time.Time:
			if p.d.Columns[i].Type == model.Date {
				fb.(*array.Date32Builder).Append(arrow.Date32(floorDiv(v.Unix(), 86400)))
			} else {
				fb.(*array.TimestampBuilder).Append(arrow.Timestamp(v.Unix() * 1000))
			}
		}
	}
	p.n++
	if p.n >= parquetRowGroup {
		return p.flush()
	}
	return nil
}

// flush writes the buffered rows as one row group.
func (p *parquetWriter) flush() error {
	if p.n == 0 {
		return nil
	}
	rec := p.b.NewRecord()
	p.n = 0
	err := p.fw.Write(rec)
	rec.Release()
	if err == nil {
		err = p.out.err
	}
	if err != nil {
		p.err = fmt.Errorf("formats: writing %s as parquet: %w", p.d.Name, err)
	}
	return p.err
}

func (p *parquetWriter) Close() error {
	if p.closed {
		return errClosed
	}
	p.closed = true
	defer p.b.Release()
	if p.err != nil {
		_ = p.fw.Close()
		return p.err
	}
	err := p.flush()
	if cerr := p.fw.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("formats: writing %s as parquet: %w", p.d.Name, cerr)
	}
	if ferr := p.buf.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("formats: writing %s as parquet: %w", p.d.Name, ferr)
	}
	return err
}

// floorDiv returns a/b rounded down, for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}
