package exporter

import (
	"archive/zip"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/flate"

	"github.com/dsar-tool/dsar/crypto"
	"github.com/dsar-tool/dsar/exporter/letter"
	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/register"
	"github.com/dsar-tool/dsar/exporter/schema"
	"github.com/dsar-tool/dsar/formats"
)

// Manifest describes a bundle's contents. It is the last entry of the zip;
// its layout is versioned by SchemaVersion.
type Manifest struct {
	SchemaVersion string          `json:"schema_version"`
	RequestID     string          `json:"request_id"`
	SubjectID     string          `json:"subject_id"`
	RequestTypes  []string        `json:"request_types"`
	Generator     string          `json:"generator"`
	GeneratedAt   time.Time       `json:"generated_at"`
	Datasets      []DatasetCount  `json:"datasets"`
	Files         []ManifestFile  `json:"files"`
	Sources       []*SourceReport `json:"sources"`
	Redactions    []Redaction     `json:"redactions"`
}

// Redaction is one redaction rule as applied to one column of a bundle.
type Redaction struct {
	Rule      string `json:"rule"`
	Dataset   string `json:"dataset"`
	Column    string `json:"column"`
	Action    string `json:"action"`
	Condition string `json:"condition,omitempty"`
	Rows      int    `json:"rows"`
}

// DatasetCount is the number of rows of one dataset.
type DatasetCount struct {
	Name string `json:"name"`
	Rows int    `json:"rows"`
}

// ManifestFile describes one file of the bundle.
type ManifestFile struct {
	Path      string `json:"path"`
	Bytes     int64  `json:"bytes"`
	SHA256    string `json:"sha256"`
	Rows      *int   `json:"rows,omitempty"`
	Dataset   string `json:"dataset,omitempty"`
	MediaType string `json:"media_type"`
}

// ManifestName is the manifest's path in the bundle.
const ManifestName = "manifest.json"

// Options configure one export.
type Options struct {
	Request     *register.Request
	Subject     string             // subject id
	Formats     []string           // subset of formats.Names
	Seal        crypto.SealOptions // recipients, passphrase, signer
	OutDir      string             // where the bundle is written
	ScratchDir  string             // private (0700) scratch space for libraries
	GeneratedAt time.Time          // the bundle's stated generation time
	Generator   string             // e.g. "dsar 0.1.0"
	SubjectName string             // how the cover letter addresses the subject
	Profile     *letter.Profile    // the controller's profile: the cover letter's Article 15 information (required)
	DisplayZone string             // the subject's time zone, for the letter's note on UTC
	Redactions  []letter.Redaction // the redactions applied to data, for the letter and manifest
}

// Result is what an export produced.
type Result struct {
	Path     string // the bundle
	SHA256   string // of the bundle file (the ciphertext)
	Bytes    int64
	Manifest *Manifest
	Sealed   crypto.SealInfo // the cipher, hash and recipients actually used
}

// BundleName returns the file name of a request's bundle.
func BundleName(requestID string) string { return requestID + ".zip.pgp" }

// AddHistory adds the subject's own rights requests and their timelines to
// data as the rights_requests and request_events datasets, as they stood at
// asOf (the bundle's generation time): later events, such as an earlier
// export of the same bundle, are left out, so that a re-run with the same
// generation time gives the same bytes.
func AddHistory(data *Data, history []*register.Request, asOf time.Time) {
	var reqs, evs []model.Record
	for _, r := range history {
		var verified, start, due any
		if !r.Verified.IsZero() {
			verified = r.Verified
		}
		if !r.ClockStart.IsZero() {
			start = r.ClockStart
		}
		if !r.Due.IsZero() {
			due = r.Due
		}
		reqs = append(reqs, model.Record{r.ID, strings.Join(r.Types, ","), r.Status, r.Received, r.Channel, r.IDRequested, verified, r.VerificationMethod, start, due, dateOrNil(r.ExtendedDue), dateOrNil(r.Closed)})
		for _, e := range r.Events {
			if !asOf.IsZero() && e.At.After(asOf) {
				continue
			}
			evs = append(evs, model.Record{r.ID, int64(e.Seq), e.At.UTC(), e.Type, e.Actor, e.Note})
		}
	}
	data.Tables[model.RightsRequests.Name] = reqs
	data.Tables[model.RequestEvents.Name] = evs
}

func dateOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// TestHookMidWrite, if set, is called in the middle of writing a bundle
// (after the data files, before the manifest). Kill tests use it to stop a
// process at that point; it is nil otherwise.
var TestHookMidWrite func()

// WriteBundle writes data as a sealed bundle in opt.OutDir and returns its
// path. The file appears complete under its final name or not at all.
func WriteBundle(ctx context.Context, data *Data, opt Options) (res *Result, err error) {
	for _, f := range opt.Formats {
		if !slices.Contains(formats.Names, f) {
			return nil, fmt.Errorf("unknown format %q (want one of %s)", f, strings.Join(formats.Names, ", "))
		}
	}
	if len(opt.Formats) == 0 {
		return nil, errors.New("no formats selected")
	}
	if opt.Profile == nil {
		return nil, errors.New("no controller profile: the cover letter needs one (config controller_profile)")
	}
	if err := os.MkdirAll(opt.OutDir, 0o750); err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}
	final := filepath.Join(opt.OutDir, BundleName(opt.Request.ID))
	// The ciphertext is written in a hidden staging folder inside the
	// output folder (the same file system, so the final rename is atomic),
	// never as a partial file beside finished bundles. The name carries
	// the process id so that SweepPartial can remove what a killed
	// process left.
	stage := filepath.Join(opt.OutDir, PartialDir)
	if err := os.MkdirAll(stage, 0o700); err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}
	tmp, err := os.CreateTemp(stage, fmt.Sprintf("%s.%d-*", BundleName(opt.Request.ID), os.Getpid()))
	if err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
		os.Remove(stage) // only if empty
	}()
	fileHash := sha256.New()
	counter := &countWriter{}
	buf := bufio.NewWriterSize(io.MultiWriter(tmp, fileHash, counter), 1<<20)
	seal := opt.Seal
	seal.FileName = opt.Request.ID + ".zip"
	seal.ModTime = opt.GeneratedAt
	sw, err := crypto.Seal(buf, seal)
	if err != nil {
		return nil, err
	}
	man, err := writeZip(ctx, sw, data, opt)
	if err != nil {
		return nil, err
	}
	if err := sw.Close(); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if err := buf.Flush(); err != nil {
		return nil, fmt.Errorf("write bundle: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return nil, fmt.Errorf("write bundle: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("write bundle: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return nil, fmt.Errorf("write bundle: %w", err)
	}
	syncDir(opt.OutDir)
	return &Result{Path: final, SHA256: hex.EncodeToString(fileHash.Sum(nil)), Bytes: counter.n, Manifest: man, Sealed: sw.Info()}, nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// entryWriter hashes and counts what goes into one zip entry.
type entryWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (e *entryWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	e.h.Write(p[:n])
	e.n += int64(n)
	return n, err
}

type zipBuilder struct {
	zw    *zip.Writer
	mod   time.Time
	files []ManifestFile
}

func (z *zipBuilder) entry(path, media, dataset string, rows *int, write func(w io.Writer) error) error {
	h := &zip.FileHeader{Name: path, Method: zip.Deflate, Modified: z.mod}
	if alreadyCompressed(path) {
		h.Method = zip.Store
	}
	h.SetMode(0o644)
	w, err := z.zw.CreateHeader(h)
	if err != nil {
		return fmt.Errorf("bundle %s: %w", path, err)
	}
	ew := &entryWriter{w: w, h: sha256.New()}
	if err := write(ew); err != nil {
		return fmt.Errorf("bundle %s: %w", path, err)
	}
	z.files = append(z.files, ManifestFile{Path: path, Bytes: ew.n, SHA256: hex.EncodeToString(ew.h.Sum(nil)), Rows: rows, Dataset: dataset, MediaType: media})
	return nil
}

// bundleDeflateLevel is the compression level of the bundle's entries.
// klauspost/compress at level 5 writes about what compress/flate's
// default does (the zip package's own) in about half the time; the
// output is the same for the same input, as reproducible bundles need.
const bundleDeflateLevel = 5

func newDeflater(w io.Writer) (io.WriteCloser, error) {
	return flate.NewWriter(w, bundleDeflateLevel)
}

// alreadyCompressed reports whether a bundle entry is compressed by its
// own format, so that deflating it again would cost time and save little:
// an .xlsx is itself a zip. (Parquet is not: its Snappy pages and its
// metadata still shrink by a fifth or more.)
func alreadyCompressed(path string) bool {
	return strings.HasSuffix(path, ".xlsx")
}

func writeRecords(w formats.Writer, recs []model.Record) error {
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			return err
		}
	}
	return w.Close()
}

func writeZip(ctx context.Context, dst io.Writer, data *Data, opt Options) (*Manifest, error) {
	z := &zipBuilder{zw: zip.NewWriter(dst), mod: opt.GeneratedAt.UTC()}
	z.zw.RegisterCompressor(zip.Deflate, newDeflater)
	man := &Manifest{
		SchemaVersion: model.SchemaVersion,
		RequestID:     opt.Request.ID,
		SubjectID:     opt.Subject,
		RequestTypes:  opt.Request.Types,
		Generator:     opt.Generator,
		GeneratedAt:   opt.GeneratedAt.UTC(),
		Sources:       data.Sources,
		Redactions:    []Redaction{},
	}
	for _, r := range opt.Redactions {
		man.Redactions = append(man.Redactions, Redaction{Rule: r.Rule, Dataset: r.Dataset, Column: r.Column, Action: r.Action, Condition: r.Condition, Rows: r.Rows})
	}
	if man.Sources == nil {
		man.Sources = []*SourceReport{}
	}
	for _, d := range model.Datasets {
		man.Datasets = append(man.Datasets, DatasetCount{Name: d.Name, Rows: data.Rows(d.Name)})
	}
	// Formats in bundle order (formats.Names), whatever order was asked for.
	for _, f := range formats.Names {
		if !slices.Contains(opt.Formats, f) {
			continue
		}
		var err error
		switch f {
		case "json":
			err = z.datasets(ctx, data, "json", ".json", "application/json", func(w io.Writer, d *model.Dataset) (formats.Writer, error) { return formats.NewJSON(w, d), nil })
		case "csv":
			err = z.datasets(ctx, data, "csv", ".csv", "text/csv; charset=utf-8; header=present", func(w io.Writer, d *model.Dataset) (formats.Writer, error) { return formats.NewCSV(w, d), nil })
		case "xlsx":
			err = z.workbook(ctx, data, opt, man)
		case "parquet":
			err = z.datasets(ctx, data, "parquet", ".parquet", "application/vnd.apache.parquet", formats.NewParquet)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := z.schemas(); err != nil {
		return nil, err
	}
	if err := z.letters(data, opt, man); err != nil {
		return nil, err
	}
	if TestHookMidWrite != nil {
		TestHookMidWrite()
	}
	man.Files = z.files
	if err := z.entry(ManifestName, "application/json", "", nil, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(man)
	}); err != nil {
		return nil, err
	}
	if err := z.zw.Close(); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	return man, nil
}

// schemas writes the data dictionary and the JSON Schemas, derived from
// the dataset declarations.
func (z *zipBuilder) schemas() error {
	if err := z.entry("schema/dictionary.csv", "text/csv; charset=utf-8; header=present", "", nil, func(w io.Writer) error {
		return schema.WriteDictionary(w, model.Datasets)
	}); err != nil {
		return err
	}
	for _, d := range model.Datasets {
		b, err := schema.JSONSchema(d)
		if err != nil {
			return err
		}
		if err := z.entry("schema/"+d.Name+".schema.json", "application/schema+json", "", nil, func(w io.Writer) error {
			_, err := w.Write(b)
			return err
		}); err != nil {
			return err
		}
	}
	return z.entry("schema/manifest.schema.json", "application/schema+json", "", nil, func(w io.Writer) error {
		_, err := w.Write(schema.ManifestSchema())
		return err
	})
}

// letters writes README.html and README.txt, after the files they list.
func (z *zipBuilder) letters(data *Data, opt Options, man *Manifest) error {
	r := opt.Request
	l := &letter.Letter{
		Profile:     opt.Profile,
		Request:     letter.Request{ID: r.ID, Types: r.Types, Received: r.Received, ClockStart: r.ClockStart, Due: r.Due, ExtendedDue: r.ExtendedDue},
		Subject:     letter.Subject{ID: opt.Subject, Name: opt.SubjectName},
		GeneratedAt: opt.GeneratedAt.UTC(),
		Generator:   opt.Generator,
		Redactions:  opt.Redactions,
		Formats:     opt.Formats,
		DisplayZone: opt.DisplayZone,
		Bundle:      BundleName(r.ID),
	}
	if opt.Seal.Signer != nil {
		l.SignerFingerprint = crypto.Fingerprint(opt.Seal.Signer)
	}
	for _, d := range model.Datasets {
		l.Datasets = append(l.Datasets, letter.Dataset{Dataset: d, Rows: data.Rows(d.Name)})
	}
	for _, f := range z.files {
		l.Files = append(l.Files, letter.File(f))
	}
	for _, s := range data.Sources {
		l.Sources = append(l.Sources, letter.Source{Name: s.Name, Kind: s.Kind, Selected: s.Selected - s.Duplicates, Rejected: s.Rejected, First: s.First, Last: s.Last})
	}
	if err := z.entry("README.html", "text/html; charset=utf-8", "", nil, func(w io.Writer) error { return letter.WriteHTML(w, l) }); err != nil {
		return err
	}
	return z.entry("README.txt", "text/plain; charset=utf-8", "", nil, func(w io.Writer) error { return letter.WriteText(w, l) })
}

func (z *zipBuilder) datasets(ctx context.Context, data *Data, dir, ext, media string, open func(io.Writer, *model.Dataset) (formats.Writer, error)) error {
	for _, d := range model.Datasets {
		if err := ctx.Err(); err != nil {
			return err
		}
		recs := data.Tables[d.Name]
		n := len(recs)
		if err := z.entry(dir+"/"+d.Name+ext, media, d.Name, &n, func(w io.Writer) error {
			fw, err := open(w, d)
			if err != nil {
				return err
			}
			return writeRecords(fw, recs)
		}); err != nil {
			return err
		}
	}
	return nil
}

func (z *zipBuilder) workbook(ctx context.Context, data *Data, opt Options, man *Manifest) error {
	about := [][2]string{
		{"Request", opt.Request.ID},
		{"Subject", opt.Subject},
		{"Generated (UTC)", opt.GeneratedAt.UTC().Format(time.RFC3339)},
		{"Times", "All dates and times in this workbook are in UTC (Coordinated Universal Time)."},
	}
	for _, d := range man.Datasets {
		about = append(about, [2]string{"Sheet: " + model.DatasetByName(d.Name).Title, fmt.Sprintf("%d rows", d.Rows)})
	}
	wb, err := formats.NewWorkbook(formats.WorkbookOptions{About: about, Created: opt.GeneratedAt.UTC(), TmpDir: opt.ScratchDir})
	if err != nil {
		return err
	}
	defer wb.Close()
	for _, d := range model.Datasets {
		if err := ctx.Err(); err != nil {
			return err
		}
		sw, err := wb.Sheet(d)
		if err != nil {
			return err
		}
		if err := writeRecords(sw, data.Tables[d.Name]); err != nil {
			return err
		}
	}
	total := 0
	for _, d := range model.Datasets {
		total += data.Rows(d.Name)
	}
	return z.entry(opt.Request.ID+".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "", &total, func(w io.Writer) error {
		_, err := wb.WriteTo(w)
		return err
	})
}
