package exporter

import (
	"fmt"
	"strings"
	"time"

	"github.com/dsar-tool/dsar/crypto"
	"github.com/dsar-tool/dsar/exporter/model"
)

// coverNote is the plain-language README.txt of a bundle.
func coverNote(data *Data, opt Options) string {
	var b strings.Builder
	r := opt.Request
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	p("Your personal data: response to request %s", r.ID)
	p("%s", strings.Repeat("=", 40+len(r.ID)))
	p("")
	p("This bundle holds the personal data about you that our telephone systems")
	p("and our register of data-protection requests hold, in answer to your")
	p("request %s (%s), received on %s.", r.ID, strings.Join(r.Types, ", "), r.Received.Format("2 January 2006"))
	if !r.Due.IsZero() {
		p("We must respond by %s.", r.Due.Format("Monday 2 January 2006"))
	}
	p("It was prepared on %s (UTC).", opt.GeneratedAt.UTC().Format("2 January 2006 at 15:04"))
	p("")
	p("What is in it")
	p("-------------")
	for _, d := range model.Datasets {
		p("- %s: %d rows. %s", d.Title, data.Rows(d.Name), d.Description)
	}
	p("")
	p("The same data is given in several formats; open whichever suits you:")
	for _, f := range opt.Formats {
		switch f {
		case "xlsx":
			p("- %s.xlsx: a spreadsheet (Excel, LibreOffice, Numbers), one sheet per table.", r.ID)
		case "csv":
			p("- csv/: plain text tables (comma-separated, UTF-8), one file per table.")
		case "json":
			p("- json/: the same tables as JSON, for computer programs.")
		case "parquet":
			p("- parquet/: the same tables as Apache Parquet, for data-analysis tools.")
		}
	}
	p("- manifest.json: a list of every file with its size, row count and SHA-256")
	p("  checksum, and what each source system contributed.")
	p("")
	p("All dates and times are in UTC (Coordinated Universal Time). In the UK,")
	p("add one hour for times between the last Sunday of March and the last")
	p("Sunday of October (British Summer Time).")
	p("")
	p("Where the data came from")
	p("------------------------")
	if len(data.Sources) == 0 {
		p("No telephone-system sources are configured.")
	}
	for _, s := range data.Sources {
		line := fmt.Sprintf("- %s (%s): %d records about you", s.Name, s.Kind, s.Selected)
		if s.First != nil && s.Last != nil {
			line += fmt.Sprintf(", from %s to %s", s.First.Format(time.DateOnly), s.Last.Format(time.DateOnly))
		}
		p("%s.", line)
		if s.Rejected > 0 {
			p("  %d rows of this source could not be read; they are listed in", s.Rejected)
			p("  manifest.json, and we are checking them.")
		}
	}
	p("")
	p("What each column means")
	p("----------------------")
	for _, d := range model.Datasets {
		p("%s:", d.Title)
		for _, c := range d.Columns {
			p("  %-20s %s", c.Name, c.Description)
		}
	}
	p("")
	p("Checking the bundle is genuine")
	p("------------------------------")
	p("The bundle is signed with our controller key. 'dsar decrypt' and")
	p("'gpg --decrypt' both check the signature; each file's SHA-256 checksum")
	p("is listed in manifest.json.")
	if opt.Seal.Signer != nil {
		p("Our signing key's fingerprint: %s", crypto.Fingerprint(opt.Seal.Signer))
	}
	p("")
	p("If anything is unclear or you think something is missing or wrong,")
	p("contact the Data Protection Officer, quoting %s. You may also", r.ID)
	p("complain to the Information Commissioner's Office (ico.org.uk).")
	return b.String()
}
