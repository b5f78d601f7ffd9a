package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"github.com/xuri/excelize/v2"
	"go.yaml.in/yaml/v3"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/register"
	"github.com/dsar-tool/dsar/formats"
)

func newRegisterCommand() *cli.Command {
	return &cli.Command{
		Name:  "register",
		Usage: "export the whole register, or import an existing log",
		Subcommands: []*cli.Command{
			{
				Name:      "export",
				Usage:     "write the whole register (requests and every event) as CSV or XLSX, for audit and record-keeping",
				ArgsUsage: " ",
				Flags: []cli.Flag{
					configFlag(),
					&cli.StringFlag{Name: "format", Value: "xlsx", Usage: "csv or xlsx (CSV writes FILE and FILE's events beside it)"},
					&cli.StringFlag{Name: "out", Usage: "the `FILE` to write"},
				},
				Action: runRegisterExport,
			},
			{
				Name:      "import",
				Usage:     "load an existing log of requests (CSV or XLSX) with a column mapping; all rows or none",
				ArgsUsage: "FILE",
				Flags: []cli.Flag{
					configFlag(),
					&cli.StringFlag{Name: "map", Usage: "the column mapping `MAPPING` (YAML); see 'dsar register import --help'"},
				},
				Description: "MAPPING is a YAML file naming, for each dsar field, the column of your log that holds it:\n\n" +
					"   id: Ref                      # optional: keep your references\n" +
					"   subject: Staff number        # required: an id in the subject directory\n" +
					"   types: Request type          # required; map your wording with type_values\n" +
					"   received: Date received      # required\n" +
					"   channel: How received        # optional: email, letter, form, phone, in-person\n" +
					"   verified: ID checked on      # optional date\n" +
					"   verification_method: ID seen # optional\n" +
					"   closed: Date closed          # optional date: the request is completed\n" +
					"   status: Status               # optional: one of dsar's statuses\n" +
					"   note: Notes                  # optional\n" +
					"   date_format: DD/MM/YYYY      # or YYYY-MM-DD (default), D/M/YYYY, DD-MM-YYYY\n" +
					"   id_requested: true           # whether proof of identity was asked for (default true)\n" +
					"   type_values: {SAR: access, Erasure: erasure}",
				Action: runRegisterImport,
			},
		},
	}
}

func runRegisterExport(c *cli.Context) (err error) {
	if err := requireFlag(c, "out"); err != nil {
		return err
	}
	format := c.String("format")
	if format != "csv" && format != "xlsx" {
		return usageError("--format %q: want csv or xlsx", format)
	}
	ws, err := openWorkspace(c)
	if err != nil {
		return err
	}
	defer ws.Close()
	reqs, events, err := ws.store.LogRows(c.Context)
	if err != nil {
		return err
	}
	if err := ws.audit(c, "register exported", "", fmt.Sprintf("%d requests as %s to %s", len(reqs), format, c.String("out")), ""); err != nil {
		return err
	}
	out := c.String("out")
	switch format {
	case "csv":
		evOut := strings.TrimSuffix(out, filepath.Ext(out)) + "-events.csv"
		if err := writeAtomic(out, func(w io.Writer) error { return writeAll(formats.NewCSV(w, register.LogDataset), reqs) }); err != nil {
			return err
		}
		if err := writeAtomic(evOut, func(w io.Writer) error { return writeAll(formats.NewCSV(w, register.LogEventsDataset), events) }); err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "%s (%d requests)\n%s (%d events)\n", out, len(reqs), evOut, len(events))
	case "xlsx":
		err := writeAtomic(out, func(w io.Writer) error {
			wb, err := formats.NewWorkbook(formats.WorkbookOptions{About: [][2]string{
				{"Register", ws.cfg.Path},
				{"Exported (UTC)", ws.store.Now().UTC().Format(time.RFC3339)},
				{"Requests", strconv.Itoa(len(reqs))},
				{"Events", strconv.Itoa(len(events))},
			}, Created: ws.store.Now().UTC()})
			if err != nil {
				return err
			}
			defer wb.Close()
			for _, t := range []struct {
				d    *model.Dataset
				recs []model.Record
			}{{register.LogDataset, reqs}, {register.LogEventsDataset, events}} {
				sw, err := wb.Sheet(t.d)
				if err != nil {
					return err
				}
				if err := writeAll(sw, t.recs); err != nil {
					return err
				}
			}
			_, err = wb.WriteTo(w)
			return err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "%s (%d requests, %d events)\n", out, len(reqs), len(events))
	}
	return nil
}

func writeAll(w formats.Writer, recs []model.Record) error {
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			return err
		}
	}
	return w.Close()
}

// writeAtomic writes path through a temporary file in the same folder,
// fsyncs and renames it; on failure nothing is left.
func writeAtomic(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

type importMapping struct {
	ID                 string            `yaml:"id"`
	Subject            string            `yaml:"subject"`
	Types              string            `yaml:"types"`
	Received           string            `yaml:"received"`
	Channel            string            `yaml:"channel"`
	Verified           string            `yaml:"verified"`
	VerificationMethod string            `yaml:"verification_method"`
	Closed             string            `yaml:"closed"`
	Status             string            `yaml:"status"`
	Note               string            `yaml:"note"`
	DateFormat         string            `yaml:"date_format"`
	IDRequested        *bool             `yaml:"id_requested"`
	TypeValues         map[string]string `yaml:"type_values"`
}

func dateLayout(f string) (string, error) {
	switch strings.ToUpper(f) {
	case "", "YYYY-MM-DD":
		return "2006-01-02", nil
	case "DD/MM/YYYY":
		return "02/01/2006", nil
	case "D/M/YYYY":
		return "2/1/2006", nil
	case "DD-MM-YYYY":
		return "02-01-2006", nil
	case "DD.MM.YYYY":
		return "02.01.2006", nil
	}
	return "", fmt.Errorf("date_format %q: want YYYY-MM-DD, DD/MM/YYYY, D/M/YYYY, DD-MM-YYYY or DD.MM.YYYY", f)
}

func runRegisterImport(c *cli.Context) error {
	file, err := oneArg(c, "FILE")
	if err != nil {
		return err
	}
	if err := requireFlag(c, "map"); err != nil {
		return err
	}
	mdata, err := os.ReadFile(c.String("map"))
	if err != nil {
		return fmt.Errorf("mapping: %w", err)
	}
	var m importMapping
	dec := yaml.NewDecoder(bytes.NewReader(mdata))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return fmt.Errorf("mapping %q: %w", c.String("map"), err)
	}
	if m.Subject == "" || m.Types == "" || m.Received == "" {
		return fmt.Errorf("mapping %q: subject, types and received must name columns of the log", c.String("map"))
	}
	layout, err := dateLayout(m.DateFormat)
	if err != nil {
		return fmt.Errorf("mapping %q: %w", c.String("map"), err)
	}
	table, err := readTable(file)
	if err != nil {
		return err
	}
	if len(table) == 0 {
		return fmt.Errorf("%s: no header row", file)
	}
	cols := map[string]int{}
	for i, h := range table[0] {
		cols[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	need := map[string]string{"id": m.ID, "subject": m.Subject, "types": m.Types, "received": m.Received, "channel": m.Channel,
		"verified": m.Verified, "verification_method": m.VerificationMethod, "closed": m.Closed, "status": m.Status, "note": m.Note}
	for field, col := range need {
		if col == "" {
			continue
		}
		if _, ok := cols[col]; !ok {
			return fmt.Errorf("mapping %q: %s: column %q is not in the header of %s", c.String("map"), field, col, file)
		}
	}
	ws, err := openWorkspace(c)
	if err != nil {
		return err
	}
	defer ws.Close()
	idReq := true
	if m.IDRequested != nil {
		idReq = *m.IDRequested
	}
	ie := &register.ImportError{File: file}
	var rows []register.ImportRow
	for i, rec := range table[1:] {
		line := i + 2
		get := func(col string) string {
			if col == "" {
				return ""
			}
			if j := cols[col]; j < len(rec) {
				return strings.TrimSpace(rec[j])
			}
			return ""
		}
		if strings.Join(rec, "") == "" {
			continue // a blank row
		}
		date := func(field, col string) (time.Time, error) {
			v := get(col)
			if v == "" {
				return time.Time{}, nil
			}
			t, err := time.Parse(layout, v)
			if err != nil {
				return time.Time{}, fmt.Errorf("%s (column %q): not a date in the form %s", field, col, m.DateFormat)
			}
			return t, nil
		}
		row := register.ImportRow{Line: line, ID: get(m.ID), Subject: get(m.Subject), Channel: strings.ToLower(get(m.Channel)),
			IDRequested: idReq, VerificationMethod: get(m.VerificationMethod), Status: get(m.Status), Note: get(m.Note)}
		var errs []error
		for _, t := range strings.Split(get(m.Types), ",") {
			t = strings.TrimSpace(t)
			if v, ok := m.TypeValues[t]; ok {
				t = v
			}
			if t != "" {
				t = strings.ToLower(t)
				if !slices.Contains(register.Types, t) {
					errs = append(errs, fmt.Errorf("types (column %q): unknown request type %q (map your wording in type_values)", m.Types, t))
				}
				row.Types = append(row.Types, t)
			}
		}
		var err error
		if row.Received, err = date("received", m.Received); err != nil {
			errs = append(errs, err)
		}
		if row.Verified, err = date("verified", m.Verified); err != nil {
			errs = append(errs, err)
		}
		if row.Closed, err = date("closed", m.Closed); err != nil {
			errs = append(errs, err)
		}
		if !row.Verified.IsZero() && row.VerificationMethod == "" {
			row.VerificationMethod = "recorded in the imported log"
		}
		if err := checkSubject(ws, row.Subject); err != nil && row.Subject != "" {
			errs = append(errs, fmt.Errorf("subject %q is not in the subject directory", row.Subject))
		}
		if len(errs) > 0 {
			ie.Rows = append(ie.Rows, register.RowError{Line: line, Err: errors.Join(errs...)})
			continue
		}
		rows = append(rows, row)
	}
	if len(ie.Rows) > 0 {
		return ie
	}
	n, err := ws.store.Import(c.Context, filepath.Base(file), rows, ws.cfg.Actor())
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "%d requests imported from %s\n", n, file)
	return nil
}

// readTable reads a CSV file or the first sheet of an XLSX file.
func readTable(file string) ([][]string, error) {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".xlsx":
		f, err := excelize.OpenFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		defer f.Close()
		sheets := f.GetSheetList()
		if len(sheets) == 0 {
			return nil, fmt.Errorf("%s: no sheets", file)
		}
		rows, err := f.GetRows(sheets[0])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		return rows, nil
	default:
		fh, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer fh.Close()
		r := csv.NewReader(fh)
		r.FieldsPerRecord = -1
		var out [][]string
		for {
			rec, err := r.Read()
			if err == io.EOF {
				return out, nil
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", file, err)
			}
			out = append(out, rec)
		}
	}
}
