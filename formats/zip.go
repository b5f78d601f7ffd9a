package formats

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"github.com/klauspost/compress/flate"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// sortedZip is an excelize.ZipWriter that makes the .xlsx archive
// deterministic. excelize writes the stream-written sheets in Go map order
// and leaves zip entry times zero; sortedZip compresses each entry into
// memory as it is written and, on Close, writes them to dst sorted by name
// ("[Content_Types].xml" sorts first, as Office writes it), every entry
// timed at modified.
type sortedZip struct {
	dst      io.Writer
	modified time.Time
	entries  []*zipEntry
	cur      *zipEntry
	fw       *flate.Writer
	crc      hash.Hash32
	err      error
}

var _ excelize.ZipWriter = (*sortedZip)(nil)

// xlsxDeflateLevel is the compression level of .xlsx entries. With
// klauspost/compress, level 5 gives about the size of compress/flate's
// default level in about half the time (100,000 call rows: 12.4 MB
// against 11.9 MB, and 1.8 s against 2.7 s for the whole workbook).
const xlsxDeflateLevel = 5

type zipEntry struct {
	name string
	data bytes.Buffer // deflated
	crc  uint32
	size uint64 // uncompressed
}

func newSortedZip(dst io.Writer, modified time.Time) *sortedZip {
	return &sortedZip{dst: dst, modified: modified, crc: crc32.NewIEEE()}
}

// Create starts the entry name; its data must be written before the next
// Create or Close.
func (z *sortedZip) Create(name string) (io.Writer, error) {
	if err := z.end(); err != nil {
		return nil, err
	}
	for _, e := range z.entries {
		if e.name == name {
			return nil, fmt.Errorf("formats: duplicate zip entry %q", name)
		}
	}
	e := &zipEntry{name: name}
	if z.fw == nil {
		fw, err := flate.NewWriter(&e.data, xlsxDeflateLevel)
		if err != nil {
			return nil, err
		}
		z.fw = fw
	} else {
		z.fw.Reset(&e.data)
	}
	z.crc.Reset()
	z.cur = e
	z.entries = append(z.entries, e)
	return entryWriter{z}, nil
}

type entryWriter struct{ z *sortedZip }

func (w entryWriter) Write(p []byte) (int, error) {
	z := w.z
	if z.err != nil {
		return 0, z.err
	}
	n, err := z.fw.Write(p)
	z.crc.Write(p[:n])
	z.cur.size += uint64(n)
	if err != nil {
		z.err = err
	}
	return n, err
}

// end finishes the current entry.
func (z *sortedZip) end() error {
	if z.err != nil {
		return z.err
	}
	if z.cur == nil {
		return nil
	}
	if err := z.fw.Close(); err != nil {
		z.err = err
		return err
	}
	z.cur.crc = z.crc.Sum32()
	z.cur = nil
	return nil
}

// AddFS is not used by excelize's writer and is not supported.
func (z *sortedZip) AddFS(fs.FS) error {
	return errors.New("formats: AddFS not supported")
}

// Close writes the archive to dst.
func (z *sortedZip) Close() error {
	if err := z.end(); err != nil {
		return err
	}
	slices.SortFunc(z.entries, func(a, b *zipEntry) int { return strings.Compare(a.name, b.name) })
	date, clock := msDosTime(z.modified)
	zw := zip.NewWriter(z.dst)
	for _, e := range z.entries {
		w, err := zw.CreateRaw(&zip.FileHeader{
			Name:               e.name,
			Method:             zip.Deflate,
			CreatorVersion:     20, // as zip.Writer.CreateHeader sets them
			ReaderVersion:      20,
			ModifiedDate:       date,
			ModifiedTime:       clock,
			CRC32:              e.crc,
			CompressedSize64:   uint64(e.data.Len()),
			UncompressedSize64: e.size,
		})
		if err != nil {
			return err
		}
		if _, err := w.Write(e.data.Bytes()); err != nil {
			return err
		}
		e.data = bytes.Buffer{}
	}
	z.entries = nil
	return zw.Close()
}

// msDosTime returns t (UTC, from 1980) in MS-DOS date and time format.
func msDosTime(t time.Time) (date, clock uint16) {
	t = t.UTC()
	if t.Year() > 2107 { // the last year MS-DOS dates can hold
		t = time.Date(2107, 12, 31, 23, 59, 58, 0, time.UTC)
	}
	date = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	clock = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	return date, clock
}
