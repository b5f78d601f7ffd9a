// Package letter writes a bundle's cover letter, README.html and README.txt:
// what the bundle is, what it holds, what each column means, the Article
// 15(1)-(2) information from the controller's Profile, the data subject's
// other rights, how to complain, how to open each format and how to check
// that the bundle is genuine.
//
// The two files say the same things: the letter is built once as a small
// document and rendered twice. Output depends only on the Letter (no clock,
// no map order, no environment), so the same Letter gives the same bytes.
//
// # The HTML page
//
// README.html is one self-contained page: inline CSS, no scripts, no
// images, fonts or style sheets from elsewhere. Web and email addresses are
// written as plain text, not links, so opening the page never contacts
// anyone; the only links are to the page's own headings. It reads on a
// phone (fluid, one column) and prints (a print style sheet).
package letter

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
)

// Letter is everything a cover letter says.
type Letter struct {
	Profile *Profile // required
	Request Request  // ID required
	Subject Subject
	// GeneratedAt is the bundle's stated generation time; it is the only
	// time the letter uses.
	GeneratedAt time.Time
	Generator   string // e.g. "dsar 0.1.0"; optional
	// Datasets are the bundle's tables in bundle order, with row counts.
	Datasets []Dataset
	// Files are the bundle's data and schema files, in bundle order. The
	// README files and manifest.json are not listed (the manifest gives
	// their checksums).
	Files   []File
	Sources []Source
	// Redactions are the redaction rules applied, in the order applied.
	Redactions []Redaction
	// SignerFingerprint is the controller signing key's fingerprint in
	// hexadecimal (crypto.Fingerprint); empty if the bundle is not signed.
	SignerFingerprint string
	// Formats are the data formats in the bundle (formats.Names order).
	Formats []string
	// DisplayZone is the IANA time zone the subject lives in, e.g.
	// "Europe/London", for a sentence on turning UTC into local time; empty
	// for none.
	DisplayZone string
	// Bundle is the bundle's file name; default Request.ID + ".zip.pgp".
	Bundle string
}

// Request is the request the bundle answers. Dates are calendar dates
// (midnight UTC); a zero date is not stated.
type Request struct {
	ID          string
	Types       []string // register.Types values, e.g. "access"
	Received    time.Time
	ClockStart  time.Time
	Due         time.Time
	ExtendedDue time.Time
}

// Subject is the person the bundle is about.
type Subject struct {
	ID   string
	Name string // optional
}

// Dataset is one table of the bundle and its number of rows.
type Dataset struct {
	*model.Dataset
	Rows int
}

// File is one file of the bundle. Its fields are those of
// exporter.ManifestFile, in the same order, so one converts to the other.
type File struct {
	Path      string
	Bytes     int64
	SHA256    string
	Rows      *int
	Dataset   string
	MediaType string
}

// Source is what one source system contributed.
type Source struct {
	Name     string
	Kind     string
	Selected int64      // records about the subject
	Rejected int64      // rows that could not be read
	First    *time.Time // earliest record selected; nil if none
	Last     *time.Time // latest record selected; nil if none
}

// Redaction is one redaction rule as applied to one column.
type Redaction struct {
	Rule      string // the rule's name in the policy
	Dataset   string // dataset name
	Column    string // column name
	Action    string // keep, mask, hash or drop
	Condition string // when it applies, in words that complete "only where …"; empty for every row
	Rows      int    // rows it changed
	Reason    string // optional: why, in plain words
}

// WriteText writes l as README.txt: UTF-8 text wrapped at 72 columns,
// lines ended by "\n".
func WriteText(w io.Writer, l *Letter) error {
	doc, err := build(l)
	if err != nil {
		return err
	}
	return renderText(w, doc)
}

// WriteHTML writes l as README.html: one self-contained HTML page (see the
// package documentation), with the same content as WriteText.
func WriteHTML(w io.Writer, l *Letter) error {
	doc, err := build(l)
	if err != nil {
		return err
	}
	return renderHTML(w, doc)
}

// build turns l into the document both renderers write.
func build(l *Letter) (*document, error) {
	if l.Profile == nil {
		return nil, errors.New("letter: no controller profile")
	}
	if l.Request.ID == "" {
		return nil, errors.New("letter: no request id")
	}
	b := &builder{l: l, pr: l.Profile, z: newZone(l.DisplayZone), titles: map[string]string{}}
	for _, d := range l.Datasets {
		b.titles[d.Name] = d.Title
	}
	return b.document(), nil
}

type builder struct {
	l      *Letter
	pr     *Profile
	z      zone
	titles map[string]string
}

func (b *builder) bundleName() string {
	if b.l.Bundle != "" {
		return b.l.Bundle
	}
	return b.l.Request.ID + ".zip.pgp"
}

func (b *builder) has(format string) bool { return slices.Contains(b.l.Formats, format) }

// xlsxName is the workbook's path in the bundle, or "".
func (b *builder) xlsxName() string {
	for _, f := range b.l.Files {
		if strings.HasSuffix(f.Path, ".xlsx") {
			return f.Path
		}
	}
	if b.has("xlsx") {
		return b.l.Request.ID + ".xlsx"
	}
	return ""
}

func (b *builder) totalRows() int64 {
	var n int64
	for _, d := range b.l.Datasets {
		n += int64(d.Rows)
	}
	return n
}

func (b *builder) dpoContact() string {
	s := "our Data Protection Officer"
	if e := b.pr.DPO.Email; e != "" {
		s += " at " + e
	}
	return s
}

func (b *builder) document() *document {
	l, pr := b.l, b.pr
	doc := &document{
		Lang:  "en-GB",
		Title: t("Your personal data: our response to request ", nw(l.Request.ID)),
	}
	sub := "From " + pr.Controller.Name
	if l.Subject.Name != "" {
		sub += ", for " + l.Subject.Name
	}
	doc.Subtitle = sub + ", " + shortDate(l.GeneratedAt)

	// In brief.
	brief := t("This is our answer to your request ", nw(l.Request.ID))
	if !l.Request.Received.IsZero() {
		brief = t(brief, ", which we received on ", longDate(l.Request.Received))
	}
	brief = t(brief, ". It holds ", plural(b.totalRows(), "record", "records"),
		" about you from our telephone systems and our register of data-protection requests, and the information the law says we must give you with them.")
	if x := b.xlsxName(); x != "" {
		brief = t(brief, " The easiest file to start with is the spreadsheet ", c(x), ".")
	}
	brief = t(brief, " If anything is unclear, missing or wrong, contact ", b.dpoContact(), ", quoting ", nw(l.Request.ID), ".")
	doc.Intro = []block{noteb(brief)}

	doc.Sections = []section{
		b.requestSection(),
		b.whoSection(),
		b.contentsSection(),
		b.formatsSection(),
		b.columnsSection(),
		b.whySection(),
		b.othersSection(),
		b.rightsSection(),
		b.complainSection(),
		b.genuineSection(),
		b.layoutSection(),
	}
	return doc
}

func (b *builder) requestSection() section {
	r := b.l.Request
	var ds []def
	ds = append(ds, d("Our reference", t(nw(r.ID))))
	if b.l.Subject.ID != "" || b.l.Subject.Name != "" {
		who := b.l.Subject.Name
		switch {
		case who == "":
			who = "our reference " + b.l.Subject.ID
		case b.l.Subject.ID != "":
			who += " (our reference " + b.l.Subject.ID + ")"
		}
		ds = append(ds, d("Prepared for", t(who)))
	}
	if len(r.Types) > 0 {
		var asked []text
		for _, typ := range r.Types {
			asked = append(asked, t(requestTypeText(typ)))
		}
		if len(asked) == 1 {
			ds = append(ds, d("You asked for", asked[0]))
		} else {
			ds = append(ds, bullets("You asked for", asked...))
		}
	}
	if !r.Received.IsZero() {
		ds = append(ds, d("We received it on", t(longDate(r.Received))))
	}
	if !r.ClockStart.IsZero() {
		ds = append(ds, d("Time limit counted from", t(longDate(r.ClockStart))))
	}
	if !r.Due.IsZero() {
		ds = append(ds, d("We must reply by", t(longDate(r.Due))))
	}
	if !r.ExtendedDue.IsZero() {
		ds = append(ds, d("Extended to", t(longDate(r.ExtendedDue))))
	}
	gen := utcTime(b.l.GeneratedAt) + b.z.local(b.l.GeneratedAt)
	if b.l.Generator != "" {
		gen += ", by " + b.l.Generator
	}
	ds = append(ds, d("Bundle prepared on", t(gen)))
	blocks := []block{kv(ds...)}
	if !r.Due.IsZero() {
		blocks = append(blocks, p("The law gives us one calendar month to reply, counted from the day we received your request (or, where we needed it, the proof of identity we asked for). When the last day falls on a weekend or bank holiday, the time limit runs to the next working day."))
	}
	if !r.ExtendedDue.IsZero() {
		blocks = append(blocks, p("We extended the time limit, as the law allows for complex or numerous requests, and told you why within the first month."))
	}
	return section{ID: "request", Title: "Your request", Blocks: blocks}
}

func contactDefs(ct Contact) []def {
	var ds []def
	if ct.Name != "" {
		ds = append(ds, d("Name", t(ct.Name)))
	}
	if len(ct.Address) > 0 {
		ds = append(ds, d("Address", addressText(ct.Address)))
	}
	if ct.Email != "" {
		ds = append(ds, d("Email", t(ct.Email)))
	}
	if ct.Phone != "" {
		ds = append(ds, d("Telephone", t(ct.Phone)))
	}
	if ct.Web != "" {
		ds = append(ds, d("Web", t(ct.Web)))
	}
	return ds
}

// addressText puts each address line on its own line.
func addressText(lines Lines) text {
	var x text
	for i, s := range lineTexts(lines) {
		if i > 0 {
			x = append(x, lineBreak)
		}
		x = append(x, s...)
	}
	return x
}

func (b *builder) whoSection() section {
	ct := b.pr.Controller
	intro := ct.Name + " is the controller of the data in this bundle: we decide why and how it is used."
	if ct.Department != "" {
		intro += " " + ct.Department + " runs the telephone systems the data comes from."
	}
	ds := contactDefs(Contact{Address: ct.Address, Email: ct.Email, Phone: ct.Phone, Web: ct.Web})
	if ct.Registration != "" {
		ds = append(ds, d("ICO registration", t(ct.Registration)))
	}
	dpo := b.pr.DPO
	dpoDefs := contactDefs(Contact{Name: dpo.Name, Address: dpo.Address, Email: dpo.Email, Phone: dpo.Phone})
	return section{ID: "who", Title: "Who we are", Blocks: []block{
		p(intro),
		kv(ds...),
		h3("dpo", "Our Data Protection Officer"),
		p("Our Data Protection Officer answers questions about your data and handles rights requests:"),
		kv(dpoDefs...),
	}}
}

func (b *builder) contentsSection() section {
	l := b.l
	var blocks []block
	blocks = append(blocks, p("The bundle holds these tables of data about you. Each table is given in every format in the bundle, with the same rows in each:"))
	var ds []def
	for _, dd := range l.Datasets {
		ds = append(ds, d(t(em(dd.Title)), t(rows(int64(dd.Rows))+". "+dd.Description)))
	}
	blocks = append(blocks, dl(ds...))
	if b.totalRows() == 0 {
		blocks = append(blocks, p("We found no records about you in these systems, so the tables are empty."))
	}

	blocks = append(blocks, h3("files", "The files"))
	blocks = append(blocks, p("Each file, what it holds, its size and its SHA-256 checksum (section ", b.sectionNumber("genuine"), " explains how to use the checksum):"))
	var fs []def
	for _, f := range l.Files {
		desc := fileText(f, b.titles)
		if f.Rows != nil {
			if strings.HasSuffix(f.Path, ".xlsx") {
				desc += "; " + rows(int64(*f.Rows)) + " in all"
			} else {
				desc += "; " + rows(int64(*f.Rows))
			}
		}
		desc += "; " + bytesText(f.Bytes) + "."
		fs = append(fs, d(t(c(f.Path)), t(desc, lineBreak, "SHA-256: ", hx(f.SHA256))))
	}
	if len(fs) > 0 {
		blocks = append(blocks, dl(fs...))
	}
	blocks = append(blocks, p("The bundle also holds this letter (", c("README.html"), " and ", c("README.txt"), ") and ", c("manifest.json"),
		", a list of every file with its size, row count and checksum, for computer programs."))

	blocks = append(blocks, h3("sources", "Where the data came from"))
	if len(l.Sources) == 0 {
		blocks = append(blocks, p("No telephone-system sources were searched for this bundle; it holds only our register of your data-protection requests."))
	} else {
		blocks = append(blocks, p("We searched these systems for records about you:"))
		var ss []def
		for _, s := range l.Sources {
			desc := []text{}
			line := plural(s.Selected, "record", "records") + " about you"
			if s.First != nil && s.Last != nil {
				if s.First.Equal(*s.Last) {
					line += ", on " + utcTime(*s.First)
				} else {
					line += ", from " + utcTime(*s.First) + " to " + utcTime(*s.Last)
				}
			}
			desc = append(desc, t(line+"."))
			if s.Rejected > 0 {
				desc = append(desc, t(plural(s.Rejected, "row", "rows"), " of this system's records could not be read, so we could not tell whether they are about you. manifest.json lists where they are (file and line, not what they hold). We are looking into them and will tell you if they turn out to hold data about you."))
			}
			term := t(em(s.Name))
			if s.Kind != "" {
				term = t(term, " (", s.Kind, ")")
			}
			ss = append(ss, d(term, desc...))
		}
		blocks = append(blocks, dl(ss...))
	}

	blocks = append(blocks, h3("times", "Dates and times"))
	blocks = append(blocks, p("All dates and times in the files are in UTC (Coordinated Universal Time), so they mean the same whichever computer opens them. ", b.z.sentence(l.GeneratedAt.UTC().Year())))
	return section{ID: "contents", Title: "What this bundle contains", Blocks: blocks}
}

// sectionNumber is the 1-based number of the section with the given id,
// as text.
func (b *builder) sectionNumber(id string) string {
	for i, s := range sectionOrder {
		if s == id {
			return fmt.Sprint(i + 1)
		}
	}
	return "?"
}

// sectionOrder lists the section ids in the order document() adds them.
var sectionOrder = []string{"request", "who", "contents", "formats", "columns", "why", "others", "rights", "complain", "genuine", "layout"}

func (b *builder) formatsSection() section {
	id := b.l.Request.ID
	var ds []def
	for _, f := range b.l.Formats {
		switch f {
		case "xlsx":
			ds = append(ds, d(t(em("Spreadsheet: "), c(b.xlsxName())),
				t("Open it in Microsoft Excel, LibreOffice Calc, Apple Numbers or Google Sheets. There is one sheet per table and an About sheet that describes the request. Dates and times are real date cells, in UTC.")))
		case "csv":
			ds = append(ds, d(t(em("CSV: "), c("csv/")),
				t("One plain-text table per dataset: values separated by commas, first row the column names, UTF-8. Any spreadsheet or text editor opens them. In Excel, use Data > From Text/CSV and choose UTF-8, so that accented letters show correctly."),
				t("Text that begins with = + - or @ has an apostrophe (') added in front, so that a spreadsheet shows it rather than running it as a formula; a phone number +441632960555 appears as '+441632960555. The JSON and Parquet files hold the values exactly.")))
		case "json":
			ds = append(ds, d(t(em("JSON: "), c("json/")),
				t("The same tables as JSON, for computer programs: one array of objects per table, one object per row. Any text editor opens them. The files in ", c("schema/"), " describe them exactly.")))
		case "parquet":
			ds = append(ds, d(t(em("Parquet: "), c("parquet/")),
				t("The same tables as Apache Parquet, with typed columns, for data-analysis tools such as Python (pandas or pyarrow), R (arrow), DuckDB, Power BI or Spark. A text editor cannot show them.")))
		default:
			ds = append(ds, d(t(em(f))))
		}
	}
	blocks := []block{}
	if len(b.l.Formats) > 1 {
		blocks = append(blocks, p("The same data is given in ", fmt.Sprint(len(b.l.Formats)), " formats; you only need the one that suits you."))
	}
	blocks = append(blocks, dl(ds...))
	blocks = append(blocks, p("You have the bundle as ", c(b.bundleName()), ", an encrypted file: open it with ", c("dsar decrypt"), " or GnuPG (section ", b.sectionNumber("genuine"), ") and you get the files above, as in the zip archive ", c(id+".zip"), "."))
	return section{ID: "formats", Title: "How to open the files", Blocks: blocks}
}

func (b *builder) columnsSection() section {
	blocks := []block{p("Every table has the same columns in every format. This is what each column means; ", c("schema/dictionary.csv"), " gives the same list for computer programs.")}
	for _, dd := range b.l.Datasets {
		blocks = append(blocks, h3("columns-"+dd.Name, dd.Title+" ("+dd.Name+")"), p(dd.Description))
		var ds []def
		for _, col := range dd.Columns {
			ds = append(ds, d(t(c(col.Name), " ", mu("("+typeText(col)+")")), t(col.Description)))
		}
		blocks = append(blocks, dl(ds...))
	}
	return section{ID: "columns", Title: "What each column means", Blocks: blocks}
}

func (b *builder) whySection() section {
	blocks := []block{p("As well as the data, the law (Article 15 of the UK GDPR) entitles you to know why we hold it, what we do with it and who sees it. For each group of tables:")}
	var names []string
	for _, dd := range b.l.Datasets {
		names = append(names, dd.Name)
	}
	for i, g := range b.pr.Groups(names) {
		var ts []string
		for _, n := range g.Datasets {
			if tt := b.titles[n]; tt != "" {
				ts = append(ts, tt)
			} else {
				ts = append(ts, n)
			}
		}
		title := g.Title
		if title == "" {
			title = joinAnd(ts)
		}
		blocks = append(blocks, h3(fmt.Sprintf("why-%d", i+1), title))
		if g.Title != "" {
			blocks = append(blocks, p("This applies to these tables: ", joinAnd(ts), "."))
		}
		pg := g.Processing
		var ds []def
		ds = append(ds, listDef(items[0].title, pg.Purposes))
		ds = append(ds, d(items[1].title, paragraphs(pg.LawfulBasis)...))
		ds = append(ds, listDef(items[2].title, pg.Categories))
		ds = append(ds, listDef(items[3].title, pg.Recipients))
		ds = append(ds, d(items[4].title, paragraphs(pg.Retention)...))
		ds = append(ds, d(items[5].title, paragraphs(pg.Source)...))
		ds = append(ds, d(items[6].title, append(paragraphs(pg.Transfers), paragraphs(pg.Safeguards)...)...))
		ds = append(ds, d(items[7].title, paragraphs(pg.AutomatedDecisions)...))
		blocks = append(blocks, dl(ds...))
	}
	return section{ID: "why", Title: "Why we hold your data and what we do with it", Blocks: blocks}
}

// listDef is a def with one paragraph, or bullets when there are several.
func listDef(term string, l Lines) def {
	ts := lineTexts(l)
	if len(ts) == 1 {
		return d(term, ts[0])
	}
	return bullets(term, ts...)
}

func (b *builder) othersSection() section {
	blocks := []block{p("Some records also hold information about other people: for example, the number of the person you called, or the name their telephone showed. That is their personal data as well as yours, and the law (UK GDPR Article 15(4) and the Data Protection Act 2018, Schedule 2, paragraph 16) lets us withhold it where giving it to you would affect their rights. We follow a written policy for this and record what we did.")}
	if len(b.l.Redactions) == 0 {
		blocks = append(blocks, p("We did not remove or hide anything in this bundle: every value is as our systems recorded it."))
		return section{ID: "others", Title: "Information about other people", Blocks: blocks}
	}
	blocks = append(blocks, p("In this bundle we handled these columns as follows:"))
	var ds []def
	for _, r := range b.l.Redactions {
		title := r.Dataset
		if tt := b.titles[r.Dataset]; tt != "" {
			title = tt
		}
		var desc []text
		desc = append(desc, t("What we did: ", actionText(r.Action), "."))
		if r.Condition != "" {
			desc = append(desc, t("When: only where ", r.Condition, "."))
		} else {
			desc = append(desc, t("When: in every row."))
		}
		desc = append(desc, t("Rows affected: ", count(int64(r.Rows)), ". Rule: ", c(r.Rule), "."))
		if r.Reason != "" {
			desc = append(desc, t("Why: ", r.Reason))
		}
		ds = append(ds, d(t(em(title), ", column ", c(r.Column)), desc...))
	}
	blocks = append(blocks, dl(ds...))
	blocks = append(blocks, p("If you need any of this information, for example to follow up a particular call, tell ", b.dpoContact(), " why; we will consider whether we can give it to you."))
	return section{ID: "others", Title: "Information about other people", Blocks: blocks}
}

func (b *builder) rightsSection() section {
	r := b.pr.Rights
	blocks := []block{p("Data-protection law gives you these rights over your data:")}
	var ds []def
	add := func(title, s string) {
		if ps := paragraphs(s); len(ps) > 0 {
			ds = append(ds, d(t(em(title)), ps...))
		}
	}
	add("To be informed", r.Informed)
	add("Access", r.Access)
	add("Correction (rectification)", r.Rectification)
	add("Deletion (erasure)", r.Erasure)
	add("Restricting what we do (restriction)", r.Restriction)
	add("Data portability", r.Portability)
	add("Objecting (objection)", r.Objection)
	add("Automated decisions and profiling", r.AutomatedDecisions)
	blocks = append(blocks, dl(ds...))
	blocks = append(blocks, h3("exercise", "How to use your rights"))
	for _, ps := range paragraphs(r.HowToExercise) {
		blocks = append(blocks, p(ps))
	}
	return section{ID: "rights", Title: "Your other rights", Blocks: blocks}
}

func (b *builder) complainSection() section {
	co := b.pr.Complaints
	blocks := []block{p("If you are unhappy with how we have used your data or handled your request, you can complain to us:")}
	blocks = append(blocks, kv(contactDefs(co.Controller)...))
	for _, ps := range paragraphs(co.Controller.Note) {
		blocks = append(blocks, p(ps))
	}
	blocks = append(blocks, p("You can also complain to the Information Commissioner's Office (ICO), the UK's independent regulator for data protection:"))
	blocks = append(blocks, kv(contactDefs(co.ICO)...))
	for _, ps := range paragraphs(co.ICO.Note) {
		blocks = append(blocks, p(ps))
	}
	return section{ID: "complain", Title: "How to complain", Blocks: blocks}
}

func (b *builder) genuineSection() section {
	l := b.l
	bundle := b.bundleName()
	var blocks []block
	if l.SignerFingerprint == "" {
		blocks = append(blocks, noteb("This bundle is not signed, so you cannot check with a signature that it came from us. Check each file's checksum against the list in section ", b.sectionNumber("contents"), ", and contact ", b.dpoContact(), " if in doubt."))
	} else {
		fp := strings.ToUpper(strings.ReplaceAll(l.SignerFingerprint, " ", ""))
		blocks = append(blocks,
			p("We signed the bundle with our controller key, so you can check that it came from us and that nobody has changed it. The key's fingerprint is:"),
			noteb(fpr(fingerprintGroups(fp))),
		)
		where := "Ask " + b.dpoContact() + " for our public key (a file such as controller.pub.asc) if you did not receive it with the bundle."
		if pk := b.pr.Controller.PublicKey; pk != "" {
			where = "Our public key (a file such as controller.pub.asc) is published at " + pk + "; you can also ask " + b.dpoContact() + " for it."
		}
		blocks = append(blocks, p(where, " Check that its fingerprint is the one above, and is the one we publish."))

		blocks = append(blocks, h3("verify-dsar", "With dsar"),
			p("If you have the ", c("dsar"), " program, this checks the signature and every file without extracting anything (use ", c("--passphrase-file FILE"), " instead of ", c("--key"), " if we gave you a passphrase):"),
			cmds("dsar verify "+bundle+" --signer controller.pub.asc --key your-key.sec.asc"),
			p("It prints ", c("Good signature from"), " followed by our key's fingerprint, and says that the files match the manifest. ", c("dsar decrypt"), " makes the same checks before it extracts the files."),
			h3("verify-gpg", "With GnuPG"),
			p("Import our public key once, then decrypt the bundle; GnuPG checks the signature as it decrypts:"),
			cmds("gpg --import controller.pub.asc", "gpg --decrypt "+bundle+" > "+l.Request.ID+".zip"),
			p("GnuPG must print ", c(`Good signature from "…"`), ", and the fingerprint it shows must be the one above. A warning that the key \"is not certified with a trusted signature\" only means you have not told GnuPG to trust our key; what matters is that the fingerprint is ours. (", c("gpg --verify"), " alone does not work on an encrypted bundle: use ", c("gpg --decrypt"), ".)"),
			noteb("If a program reports a BAD signature, a different fingerprint or no signature at all, do not rely on the files: contact ", b.dpoContact(), "."),
		)
	}
	blocks = append(blocks, h3("checksums", "Checking each file"),
		p("Each file's SHA-256 checksum is listed in section ", b.sectionNumber("contents"), " and in ", c("manifest.json"), ". After extracting the files you can compute a file's checksum yourself; it must be the same (Windows shows the letters as capitals, which does not matter):"),
		cmds("# Linux",
			"sha256sum json/calls.json",
			"# macOS",
			"shasum -a 256 json/calls.json",
			"# Windows (PowerShell)",
			"Get-FileHash json/calls.json -Algorithm SHA256"),
	)
	return section{ID: "genuine", Title: "How to check this bundle is genuine", Blocks: blocks}
}

func (b *builder) layoutSection() section {
	id := b.l.Request.ID
	var ds []def
	ds = append(ds, d(t(c("README.html"), ", ", c("README.txt")), t("This letter.")))
	ds = append(ds, d(t(c("manifest.json")), t("The request, the schema version (", model.SchemaVersion, "), when and by which program the bundle was made, and for every file its path, size, SHA-256, rows and media type; for every source the rows read, selected, duplicated and rejected (with where, never what); and the redactions applied. ", c("schema/manifest.schema.json"), " describes it.")))
	ds = append(ds, d(t(c("schema/")), t(c("dictionary.csv"), " (dataset, column, type, unit, nullable, enum, description) and one JSON Schema (draft 2020-12) per JSON file, ", c("<table>.schema.json"), ".")))
	if b.has("json") {
		ds = append(ds, d(t(c("json/<table>.json")), t("One JSON array of objects per table, keys in column order; timestamps as ", c("YYYY-MM-DDTHH:MM:SSZ"), " (UTC), dates as ", c("YYYY-MM-DD"), ", empty values as null.")))
	}
	if b.has("csv") {
		ds = append(ds, d(t(c("csv/<table>.csv")), t("RFC 4180, UTF-8, CRLF line ends, a header row; empty values as empty fields.")))
	}
	if b.has("xlsx") {
		ds = append(ds, d(t(c(id+".xlsx")), t("One sheet per table and an About sheet.")))
	}
	if b.has("parquet") {
		ds = append(ds, d(t(c("parquet/<table>.parquet")), t("Typed columns: timestamps in UTC, 64-bit integers, dates, booleans; enumerations as strings.")))
	}
	return section{ID: "layout", Title: "For organisations receiving this bundle", Blocks: []block{
		p("If you received this bundle from us at the data subject's request (data portability), this is its layout. The zip sits inside an OpenPGP message signed by us and encrypted to you:"),
		dl(ds...),
	}}
}
