package exporter

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/parquet-go/parquet-go"
	"github.com/xuri/excelize/v2"

	"github.com/dsar-tool/dsar/crypto"
	"github.com/dsar-tool/dsar/exporter/letter"
	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/register"
	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/sources/asterisk"
	"github.com/dsar-tool/dsar/formats"
)

var genAt = time.Date(2026, 2, 2, 10, 0, 0, 0, time.UTC)

// sampleData collects S-1001's records from the sample Master.csv.
func sampleData(t *testing.T) *Data {
	t.Helper()
	src, err := asterisk.New("pbx", asterisk.Config{Paths: []string{"../samples/cdr-csv/Master*.csv"}, Timezone: "Europe/London", ExtraColumns: []string{"uniqueid", "userfield"}})
	if err != nil {
		t.Fatal(err)
	}
	subj := model.Subject{ID: "S-1001", Identifiers: []model.Identifier{
		{Kind: model.KindExtension, Value: "4321", From: time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)},
		{Kind: model.KindSIP, Value: "4321", From: time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)},
		{Kind: model.KindPhone, Value: "01632 960555"},
	}}
	loc, _ := time.LoadLocation("Europe/London")
	m, err := source.NewMatcher([]model.Subject{subj}, "GB", loc)
	if err != nil {
		t.Fatal(err)
	}
	data, err := Collect(context.Background(), subj, m, []source.Source{src})
	if err != nil {
		t.Fatal(err)
	}
	req := &register.Request{ID: "R-2026-0001", Subject: "S-1001", Types: []string{"access"}, Status: register.StatusInProgress,
		Received: time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC), Events: []register.Event{{Seq: 1, At: genAt, Type: "created", Actor: "dpo"}}}
	AddHistory(data, []*register.Request{req}, time.Time{})
	return data
}

func sealOptions(t *testing.T) (crypto.SealOptions, crypto.OpenOptions) {
	t.Helper()
	ctrl, err := crypto.GenerateKey("Controller <dpo@example.ac.uk>", genAt.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	subj, err := crypto.GenerateKey("Alex <alex@example.ac.uk>", genAt.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return crypto.SealOptions{Recipients: []*openpgp.Entity{subj}, Signer: ctrl},
		crypto.OpenOptions{Keys: []*openpgp.Entity{subj}, Signers: []*openpgp.Entity{ctrl}}
}

func writeSample(t *testing.T, data *Data, seal crypto.SealOptions, out string) *Result {
	t.Helper()
	req := &register.Request{ID: "R-2026-0001", Types: []string{"access"}, Received: time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC)}
	res, err := WriteBundle(context.Background(), data, Options{Request: req, Subject: "S-1001", Formats: formats.Names, Seal: seal,
		OutDir: out, ScratchDir: t.TempDir(), GeneratedAt: genAt, Generator: "dsar test", Profile: sampleProfile(t), SubjectName: "Alex Example", DisplayZone: "Europe/London"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func sampleProfile(t *testing.T) *letter.Profile {
	t.Helper()
	p, err := letter.LoadProfile("../samples/controller.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func decryptZip(t *testing.T, path string, open crypto.OpenOptions) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := crypto.Open(&buf, f, open); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestFormatsHoldTheSameRows: every format of every dataset holds the rows
// the manifest states, and the CSV and JSON values agree.
func TestFormatsHoldTheSameRows(t *testing.T) {
	data := sampleData(t)
	if n := data.Rows("calls"); n == 0 {
		t.Fatal("the sample subject has no calls")
	}
	seal, open := sealOptions(t)
	res := writeSample(t, data, seal, t.TempDir())
	plain := decryptZip(t, res.Path, open)
	zr, err := zip.NewReader(bytes.NewReader(plain), int64(len(plain)))
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) []byte {
		f, err := zr.Open(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		return b
	}
	xl, err := excelize.OpenReader(bytes.NewReader(read("R-2026-0001.xlsx")))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range model.Datasets {
		want := data.Rows(d.Name)
		var js []map[string]any
		if err := json.Unmarshal(read("json/"+d.Name+".json"), &js); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(read("csv/" + d.Name + ".csv"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		pb := read("parquet/" + d.Name + ".parquet")
		pf, err := parquet.OpenFile(bytes.NewReader(pb), int64(len(pb)))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := xl.GetRows(d.Title)
		if err != nil {
			t.Fatalf("sheet %q: %v", d.Title, err)
		}
		if len(js) != want || len(recs)-1 != want || int(pf.NumRows()) != want || len(rows)-1 != want {
			t.Errorf("%s: json %d, csv %d, parquet %d, xlsx %d rows; want %d", d.Name, len(js), len(recs)-1, pf.NumRows(), len(rows)-1, want)
		}
		for i, rec := range recs[1:] {
			for j, c := range d.Columns {
				if c.Type != model.String || js[i][c.Name] == nil {
					continue
				}
				if got := js[i][c.Name].(string); formats.Neutralise(got) != rec[j] {
					t.Errorf("%s row %d %s: csv %q, json %q", d.Name, i+1, c.Name, rec[j], got)
				}
			}
		}
	}
	for _, f := range res.Manifest.Files {
		if f.Rows != nil && f.Dataset != "" && *f.Rows != data.Rows(f.Dataset) {
			t.Errorf("manifest: %s rows %d, want %d", f.Path, *f.Rows, data.Rows(f.Dataset))
		}
	}
}

// TestReproducible: the same inputs and generation time give the same zip.
func TestReproducible(t *testing.T) {
	seal, open := sealOptions(t)
	a := decryptZip(t, writeSample(t, sampleData(t), seal, t.TempDir()).Path, open)
	b := decryptZip(t, writeSample(t, sampleData(t), seal, t.TempDir()).Path, open)
	if !bytes.Equal(a, b) {
		t.Fatal("two exports with the same inputs and generation time differ")
	}
}

// TestNoPartialBundle: a failure while writing leaves no file in the
// output folder.
func TestNoPartialBundle(t *testing.T) {
	data := sampleData(t)
	seal, _ := sealOptions(t)
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := &register.Request{ID: "R-2026-0001", Types: []string{"access"}}
	_, err := WriteBundle(ctx, data, Options{Request: req, Subject: "S-1001", Formats: formats.Names, Seal: seal, OutDir: out, ScratchDir: t.TempDir(), GeneratedAt: genAt, Profile: sampleProfile(t)})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	_, err = WriteBundle(context.Background(), data, Options{Request: req, Subject: "S-1001", Formats: []string{"pdf"}, Seal: seal, OutDir: out, ScratchDir: t.TempDir(), GeneratedAt: genAt, Profile: sampleProfile(t)})
	if err == nil {
		t.Fatal("an unknown format was accepted")
	}
	ents, _ := os.ReadDir(out)
	if len(ents) != 0 {
		t.Fatalf("output folder holds %v after failures", ents)
	}
}

// TestOpenBundleRefusesTampering: a bundle whose zip does not match its
// manifest is refused and nothing is extracted.
func TestOpenBundleChecksManifest(t *testing.T) {
	data := sampleData(t)
	seal, open := sealOptions(t)
	res := writeSample(t, data, seal, t.TempDir())
	out := filepath.Join(t.TempDir(), "got")
	o, err := OpenBundle(context.Background(), res.Path, OpenOptions{Crypto: open, ScratchDir: t.TempDir(), OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	if o.Manifest.RequestID != "R-2026-0001" {
		t.Fatalf("manifest = %+v", o.Manifest)
	}
	if _, err := os.Stat(filepath.Join(out, "csv", "calls.csv")); err != nil {
		t.Fatal(err)
	}
	// A second extraction into the same, now non-empty, folder is refused.
	if _, err := OpenBundle(context.Background(), res.Path, OpenOptions{Crypto: open, ScratchDir: t.TempDir(), OutDir: out}); err == nil {
		t.Fatal("extraction into a non-empty folder succeeded")
	}
}

// countingSource counts how often a source is scanned.
type countingSource struct {
	source.Source
	fetches int
}

func (c *countingSource) Fetch(ctx context.Context, q source.Query, s source.Sink) (source.Stats, error) {
	c.fetches++
	return c.Source.Fetch(ctx, q, s)
}

// TestCollectManyScansOnce: a bulk run over several subjects scans each
// source once, and gives each subject exactly what a single export would.
func TestCollectManyScansOnce(t *testing.T) {
	src, err := asterisk.New("pbx", asterisk.Config{Paths: []string{"../samples/cdr-csv/Master*.csv"}, Timezone: "Europe/London", ExtraColumns: []string{"uniqueid", "userfield"}})
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Europe/London")
	subjects := []model.Subject{
		{ID: "S-1001", Identifiers: []model.Identifier{{Kind: model.KindExtension, Value: "4321", From: time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)}, {Kind: model.KindSIP, Value: "4321", From: time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)}, {Kind: model.KindPhone, Value: "01632 960555"}}},
		{ID: "S-1002", Identifiers: []model.Identifier{{Kind: model.KindExtension, Value: "4312"}, {Kind: model.KindSIP, Value: "siobhan-desk"}, {Kind: model.KindPhone, Value: "020 7946 0312"}}},
		{ID: "S-1003", Identifiers: []model.Identifier{{Kind: model.KindExtension, Value: "43210"}, {Kind: model.KindSIP, Value: "43210"}}},
	}
	m, err := source.NewMatcher(subjects, "GB", loc)
	if err != nil {
		t.Fatal(err)
	}
	cs := &countingSource{Source: src}
	bulk, err := CollectMany(context.Background(), subjects, m, []source.Source{cs})
	if err != nil {
		t.Fatal(err)
	}
	if cs.fetches != 1 {
		t.Fatalf("%d scans for %d subjects, want 1", cs.fetches, len(subjects))
	}
	// The spool as configured, then with limits small enough that every
	// subject's records are written in many pieces, by the per-subject
	// limit and by the overall one, interleaved with other subjects'.
	defer func(at, max int) { spoolFlushAt, spoolMaxBuffered = at, max }(spoolFlushAt, spoolMaxBuffered)
	for _, lim := range [][2]int{{spoolFlushAt, spoolMaxBuffered}, {300, 1 << 20}, {1 << 20, 700}, {1, 1}} {
		spoolFlushAt, spoolMaxBuffered = lim[0], lim[1]
		spoolDir := t.TempDir()
		cs.fetches = 0
		sp, err := CollectSpooled(context.Background(), subjects, m, []source.Source{cs}, spoolDir)
		if err != nil {
			t.Fatal(err)
		}
		if cs.fetches != 1 {
			t.Fatalf("spooled: %d scans for %d subjects, want 1", cs.fetches, len(subjects))
		}
		for _, s := range subjects {
			got, err := sp.Load(s.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := bulk[s.ID]
			if fmt.Sprint(got.Tables) != fmt.Sprint(want.Tables) || got.Sources[0].Selected != want.Sources[0].Selected {
				t.Errorf("limits %v: %s: spooled data differs from in-memory collection", lim, s.ID)
			}
		}
		sp.Close()
		if ents, _ := os.ReadDir(spoolDir); len(ents) != 0 {
			t.Errorf("spool files left after Close: %d", len(ents))
		}
	}
	for _, s := range subjects {
		one, err := source.NewMatcher([]model.Subject{s}, "GB", loc)
		if err != nil {
			t.Fatal(err)
		}
		single, err := Collect(context.Background(), s, one, []source.Source{src})
		if err != nil {
			t.Fatal(err)
		}
		got, want := bulk[s.ID], single
		if got.Rows("calls") == 0 || fmt.Sprint(got.Tables) != fmt.Sprint(want.Tables) {
			t.Errorf("%s: bulk gave %d calls, a single export %d (or they differ)", s.ID, got.Rows("calls"), want.Rows("calls"))
		}
		if got.Sources[0].Selected != want.Sources[0].Selected {
			t.Errorf("%s: bulk selected %d, single %d", s.ID, got.Sources[0].Selected, want.Sources[0].Selected)
		}
	}
}
