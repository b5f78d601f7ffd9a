package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/dsar-tool/dsar/exporter/config"
	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/sources/all"
)

func newSourcesCommand() *cli.Command {
	return &cli.Command{
		Name:  "sources",
		Usage: "list the connector kinds, and check the configured sources",
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list the connector kinds and their configuration keys",
				Action: func(c *cli.Context) error {
					w := c.App.Writer
					for _, k := range all.Kinds {
						fmt.Fprintf(w, "%s\n    %s\n", k.Name, k.Summary)
						for _, key := range k.Keys {
							req := ""
							if key.Required {
								req = " (required)"
							}
							fmt.Fprintf(w, "    %-14s %s%s\n", key.Name, key.Description, req)
						}
						fmt.Fprintln(w)
					}
					return nil
				},
			},
			{
				Name:      "check",
				Usage:     "read every configured source once: reachable, rows read and rejected (with the first reasons), period covered, rows matching a subject",
				ArgsUsage: " ",
				Flags: []cli.Flag{configFlag(),
					&cli.StringFlag{Name: "subject", Usage: "also count the records of this subject `ID`"},
					&cli.BoolFlag{Name: "json", Usage: "print JSON"}},
				Action: runSourcesCheck,
			},
		},
	}
}

type checkSink struct {
	selected map[string]int
	rejects  []model.Rejection
}

func (s *checkSink) Emit(subject string, d *model.Dataset, rec model.Record) error {
	s.selected[d.Name]++
	return nil
}

func (s *checkSink) Reject(r model.Rejection) {
	if len(s.rejects) < 10 {
		s.rejects = append(s.rejects, r)
	}
}

type sourceCheck struct {
	Name     string            `json:"name"`
	Kind     string            `json:"kind"`
	OK       bool              `json:"ok"`
	Error    string            `json:"error,omitempty"`
	Read     int64             `json:"rows_read"`
	Rejected int64             `json:"rows_rejected"`
	Reasons  []model.Rejection `json:"first_rejections"`
	First    string            `json:"first_row_utc,omitempty"`
	Last     string            `json:"last_row_utc,omitempty"`
	Subject  string            `json:"subject,omitempty"`
	Matching map[string]int    `json:"matching,omitempty"`
}

func runSourcesCheck(c *cli.Context) error {
	ws, err := openWorkspace(c)
	if err != nil {
		return err
	}
	defer ws.Close()
	var subjects []model.Subject
	if id := c.String("subject"); id != "" {
		all, err := config.LoadSubjects(ws.cfg.Resolve(ws.cfg.Subjects))
		if err != nil {
			return err
		}
		for _, s := range all {
			if s.ID == id {
				subjects = append(subjects, s)
			}
		}
		if len(subjects) == 0 {
			return usageError("subject %q is not in the subject directory", id)
		}
	}
	m, err := source.NewMatcher(subjects, ws.cfg.Region, ws.cfg.Location())
	if err != nil {
		return err
	}
	m.OutsidePrefixes = ws.cfg.OutsidePrefixes
	sources, err := all.Build(ws.cfg)
	if err != nil {
		return err
	}
	if err := ws.audit(c, "sources checked", "", "subject "+orDefault(c.String("subject"), "(none)"), ""); err != nil {
		return err
	}
	var out []sourceCheck
	failed := 0
	for _, src := range sources {
		sink := &checkSink{selected: map[string]int{}}
		st, err := src.Fetch(c.Context, source.Query{Subjects: subjects, Matcher: m}, sink)
		chk := sourceCheck{Name: src.Name(), Kind: src.Kind(), OK: err == nil, Read: st.Read, Rejected: st.Rejected, Reasons: sink.rejects, Subject: c.String("subject")}
		if chk.Reasons == nil {
			chk.Reasons = []model.Rejection{}
		}
		if err != nil {
			chk.Error = err.Error()
			failed++
		}
		if !st.First.IsZero() {
			chk.First, chk.Last = st.First.Format(time.RFC3339), st.Last.Format(time.RFC3339)
		}
		if len(subjects) > 0 {
			chk.Matching = sink.selected
		}
		out = append(out, chk)
	}
	if c.Bool("json") {
		if out == nil {
			out = []sourceCheck{}
		}
		if err := printJSON(c.App.Writer, out); err != nil {
			return err
		}
	} else {
		w := c.App.Writer
		if len(out) == 0 {
			fmt.Fprintln(w, "no sources are configured (add them under sources: in the config; 'dsar sources list' shows the kinds)")
		}
		for _, s := range out {
			state := "ok"
			if !s.OK {
				state = "FAILED: " + s.Error
			}
			fmt.Fprintf(w, "%s (%s): %s\n", s.Name, s.Kind, state)
			fmt.Fprintf(w, "  rows read %d, rejected %d\n", s.Read, s.Rejected)
			if s.First != "" {
				fmt.Fprintf(w, "  covers %s to %s\n", s.First, s.Last)
			}
			for _, r := range s.Reasons {
				fmt.Fprintf(w, "  rejected %s line %d: %s\n", r.File, r.Line, r.Reason)
			}
			if s.Rejected > int64(len(s.Reasons)) {
				fmt.Fprintf(w, "  ... and %d more rejected rows\n", s.Rejected-int64(len(s.Reasons)))
			}
			if s.Subject != "" {
				fmt.Fprintf(w, "  records of %s:", s.Subject)
				for _, d := range model.Datasets {
					if n := s.Matching[d.Name]; n > 0 {
						fmt.Fprintf(w, " %s %d", d.Name, n)
					}
				}
				fmt.Fprintln(w)
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d sources could not be read", failed, len(out))
	}
	return nil
}
