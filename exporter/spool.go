package exporter

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
)

// Spool holds the records of a bulk run's subjects in files in the private
// scratch folder, one file per subject, so that a run reads each source
// once for all its subjects yet holds only one subject's data in memory at
// a time (Load). Files are written and read by this process only and are
// removed by Close (and, after a crash, with the scratch folder). Once
// CollectSpooled has returned, Load may be called from several goroutines.
type Spool struct {
	dir      string
	idx      map[string]int // subject -> file number
	sources  []*SourceReport
	subjects []string

	// While sources are read, each subject's encoded records gather in
	// memory and are appended to its file in large writes: a run of many
	// subjects meets them in no order, and opening a file per record (or
	// keeping thousands open) would cost more than the reading.
	pending  [][]byte // by file number
	buffered int      // bytes in pending, all subjects together
}

var (
	// spoolFlushAt is how much of one subject's records is written at once.
	spoolFlushAt = 32 << 10
	// spoolMaxBuffered bounds the records held in memory for all subjects
	// together; past it every subject's are written.
	spoolMaxBuffered = 16 << 20
)

// CollectSpooled reads every source once for all the subjects and spools
// each subject's records in dir. m must have been built from subjects.
func CollectSpooled(ctx context.Context, subjects []model.Subject, m *source.Matcher, sources []source.Source, dir string) (sp *Spool, err error) {
	sp = &Spool{dir: dir, idx: map[string]int{}, pending: make([][]byte, len(subjects))}
	defer func() {
		if err != nil {
			sp.Close()
		}
	}()
	for i, s := range subjects {
		sp.idx[s.ID] = i
		sp.subjects = append(sp.subjects, s.ID)
	}
	q := source.Query{Subjects: subjects, Matcher: m}
	for si, src := range sources {
		sink := &spoolSink{sp: sp, src: si, name: src.Name()}
		st, err := src.Fetch(ctx, q, sink)
		if err == nil {
			err = sink.err
		}
		if err != nil {
			return nil, fmt.Errorf("source %q: %w", src.Name(), err)
		}
		sp.sources = append(sp.sources, &SourceReport{Name: src.Name(), Kind: src.Kind(), Read: st.Read, Rejected: st.Rejected,
			Rejections: append([]model.Rejection{}, sink.rejected...), Truncated: sink.trunc})
	}
	if err := sp.flushAll(); err != nil {
		return nil, err
	}
	sp.pending = nil
	return sp, nil
}

type spoolSink struct {
	sp       *Spool
	src      int
	name     string
	rejected []model.Rejection
	trunc    bool
	err      error
}

func (s *spoolSink) Emit(subject string, d *model.Dataset, rec model.Record) error {
	n, ok := s.sp.idx[subject]
	if !ok {
		return nil
	}
	if err := d.Check(rec); err != nil {
		return fmt.Errorf("source %q emitted a bad record: %w", s.name, err)
	}
	di := -1
	for i, x := range model.Datasets {
		if x == d {
			di = i
		}
	}
	sp := s.sp
	was := len(sp.pending[n])
	sp.pending[n] = encodeRecord(sp.pending[n], s.src, di, rec)
	sp.buffered += len(sp.pending[n]) - was
	switch {
	case len(sp.pending[n]) >= spoolFlushAt:
		return sp.flush(n)
	case sp.buffered >= spoolMaxBuffered:
		return sp.flushAll()
	}
	return nil
}

func (s *spoolSink) Reject(r model.Rejection) {
	if len(s.rejected) < MaxListedRejections {
		s.rejected = append(s.rejected, r)
	} else {
		s.trunc = true
	}
}

// RowsRead is the number of source rows the scan read, all sources together.
func (sp *Spool) RowsRead() int64 {
	var n int64
	for _, r := range sp.sources {
		n += r.Read
	}
	return n
}

func (sp *Spool) path(n int) string { return filepath.Join(sp.dir, fmt.Sprintf("spool-%06d", n)) }

// flush appends subject file n's pending records to its file.
func (sp *Spool) flush(n int) error {
	b := sp.pending[n]
	if len(b) == 0 {
		return nil
	}
	f, err := os.OpenFile(sp.path(n), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	sp.buffered -= len(b)
	// Keep the buffer for the subject's next records unless holding one
	// per subject would itself exceed the bound.
	if len(sp.pending)*2*spoolFlushAt <= spoolMaxBuffered && cap(b) <= 2*spoolFlushAt {
		sp.pending[n] = b[:0]
	} else {
		sp.pending[n] = nil
	}
	return nil
}

// flushAll writes every subject's pending records.
func (sp *Spool) flushAll() error {
	for n := range sp.pending {
		if err := sp.flush(n); err != nil {
			return err
		}
	}
	return nil
}

// Load returns one subject's data, deduplicated and sorted as Collect
// would give it.
func (sp *Spool) Load(subject string) (*Data, error) {
	n, ok := sp.idx[subject]
	if !ok {
		return nil, fmt.Errorf("spool: subject %q was not collected", subject)
	}
	// records[source][dataset]
	records := make([][][]model.Record, len(sp.sources))
	for i := range records {
		records[i] = make([][]model.Record, len(model.Datasets))
	}
	f, err := os.Open(sp.path(n))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("spool: %w", err)
	default:
		r := bufio.NewReaderSize(f, 64<<10)
		for {
			si, di, rec, err := decodeRecord(r)
			if err == io.EOF {
				break
			}
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("spool: %w", err)
			}
			records[si][di] = append(records[si][di], rec)
		}
		f.Close()
	}
	data := &Data{Tables: map[string][]model.Record{}}
	for si, base := range sp.sources {
		rep := *base
		for di, d := range model.Datasets {
			recs := records[si][di]
			if len(recs) == 0 {
				continue
			}
			kept := dedupe(d, recs)
			rep.Selected += int64(len(recs))
			rep.Duplicates += int64(len(recs) - len(kept))
			span(d, kept, &rep)
			data.Tables[d.Name] = append(data.Tables[d.Name], kept...)
		}
		data.Sources = append(data.Sources, &rep)
	}
	normalise(data)
	return data, nil
}

// Close removes the spool's files.
func (sp *Spool) Close() error {
	sp.pending = nil
	for n := range sp.subjects {
		os.Remove(sp.path(n))
	}
	return nil
}

// The spool's record encoding: source index, dataset index, number of
// values, then each value as a tag byte and its payload.
const (
	tagNil byte = iota
	tagString
	tagInt
	tagTime
	tagFalse
	tagTrue
)

func encodeRecord(b []byte, src, ds int, rec model.Record) []byte {
	b = binary.AppendUvarint(b, uint64(src))
	b = binary.AppendUvarint(b, uint64(ds))
	b = binary.AppendUvarint(b, uint64(len(rec)))
	for _, v := range rec {
		switch v := v.(type) {
		case nil:
			b = append(b, tagNil)
		case string:
			b = append(b, tagString)
			b = binary.AppendUvarint(b, uint64(len(v)))
			b = append(b, v...)
		case int64:
			b = append(b, tagInt)
			b = binary.AppendVarint(b, v)
		case time.Time:
			b = append(b, tagTime)
			b = binary.AppendVarint(b, v.Unix())
			b = binary.AppendUvarint(b, uint64(v.Nanosecond()))
		case bool:
			if v {
				b = append(b, tagTrue)
			} else {
				b = append(b, tagFalse)
			}
		default:
			panic(fmt.Sprintf("spool: value of type %T", v))
		}
	}
	return b
}

func decodeRecord(r *bufio.Reader) (src, ds int, rec model.Record, err error) {
	s, err := binary.ReadUvarint(r)
	if err != nil {
		return 0, 0, nil, err // io.EOF at a record boundary
	}
	fail := func(err error) (int, int, model.Record, error) {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, 0, nil, err
	}
	d, err := binary.ReadUvarint(r)
	if err != nil {
		return fail(err)
	}
	n, err := binary.ReadUvarint(r)
	if err != nil || n > 1024 {
		return fail(fmt.Errorf("corrupt record"))
	}
	rec = make(model.Record, n)
	for i := range rec {
		tag, err := r.ReadByte()
		if err != nil {
			return fail(err)
		}
		switch tag {
		case tagNil:
		case tagString:
			l, err := binary.ReadUvarint(r)
			if err != nil {
				return fail(err)
			}
			buf := make([]byte, l)
			if _, err := io.ReadFull(r, buf); err != nil {
				return fail(err)
			}
			rec[i] = string(buf)
		case tagInt:
			v, err := binary.ReadVarint(r)
			if err != nil {
				return fail(err)
			}
			rec[i] = v
		case tagTime:
			sec, err := binary.ReadVarint(r)
			if err != nil {
				return fail(err)
			}
			ns, err := binary.ReadUvarint(r)
			if err != nil {
				return fail(err)
			}
			rec[i] = time.Unix(sec, int64(ns)).UTC()
		case tagFalse, tagTrue:
			rec[i] = tag == tagTrue
		default:
			return fail(fmt.Errorf("corrupt record"))
		}
	}
	return int(s), int(d), rec, nil
}
