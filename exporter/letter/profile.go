package letter

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dsar-tool/dsar/exporter/model"
)

// Profile is a controller profile: who the controller is, how to reach its
// Data Protection Officer, what it does with each dataset and why, the
// data subject's other rights and where to complain. It is the data the
// Article 15(1)-(2) part of a cover letter is written from.
//
// A profile is a YAML file (samples/templates/controller.yaml is a commented
// template). Text values are plain English addressed to the data subject
// ("we", "you"); a blank line in a text value starts a new paragraph.
type Profile struct {
	Controller Controller `yaml:"controller"`
	DPO        DPO        `yaml:"dpo"`
	// Defaults holds the Article 15 items shared by every dataset; a
	// section of Processing overrides an item for its datasets.
	Defaults Processing `yaml:"defaults"`
	// Processing holds one section per dataset or group of datasets.
	// Each dataset appears in at most one section; a dataset in none
	// takes every item from Defaults.
	Processing []Section   `yaml:"processing"`
	Rights     Rights      `yaml:"rights"`
	Complaints Complaints  `yaml:"complaints"`
	Path       string      `yaml:"-"` // the file the profile was read from
	lines      map[int]int // Processing index → line of its section
}

// Controller is the organisation that decides why and how the data is
// processed.
type Controller struct {
	Name       string `yaml:"name"`       // required: legal name
	Department string `yaml:"department"` // optional: the part that runs the systems
	Address    Lines  `yaml:"address"`    // required: postal address, one line per item
	Email      string `yaml:"email"`      // required
	Phone      string `yaml:"phone"`
	Web        string `yaml:"web"` // e.g. the privacy notice's address
	// Registration is the controller's ICO registration number, if any.
	Registration string `yaml:"ico_registration"`
	// PublicKey says where recipients can get the controller's public
	// signing key (an address, or how to ask for it).
	PublicKey string `yaml:"public_key"`
}

// DPO is the controller's Data Protection Officer.
type DPO struct {
	Name    string `yaml:"name"`  // a person or a role; default "Data Protection Officer"
	Email   string `yaml:"email"` // required
	Phone   string `yaml:"phone"`
	Address Lines  `yaml:"address"`
}

// Processing is the Article 15(1)-(2) information about one dataset or
// group: each field is required for every dataset once Defaults are
// applied, except Safeguards.
type Processing struct {
	Purposes    Lines  `yaml:"purposes"`     // Art. 15(1)(a): why we use the data
	LawfulBasis string `yaml:"lawful_basis"` // Art. 6 basis, in plain words
	Categories  Lines  `yaml:"categories"`   // Art. 15(1)(b): what kinds of data
	Recipients  Lines  `yaml:"recipients"`   // Art. 15(1)(c): who receives it
	Retention   string `yaml:"retention"`    // Art. 15(1)(d): how long it is kept, or the criteria
	Source      string `yaml:"source"`       // Art. 15(1)(g): where it comes from
	// Transfers says whether the data goes outside the UK (Art. 15(1)(c)
	// "third countries"); Safeguards how it is then protected (Art. 15(2)).
	Transfers  string `yaml:"transfers"`
	Safeguards string `yaml:"safeguards"`
	// AutomatedDecisions says whether automated decision-making or
	// profiling is used, and if so how it works and what it means for the
	// subject (Art. 15(1)(h)).
	AutomatedDecisions string `yaml:"automated_decisions"`
}

// Section is the processing information for some datasets.
type Section struct {
	Title      string   `yaml:"title"`    // optional heading, e.g. "Telephone records"
	Datasets   []string `yaml:"datasets"` // dataset names (model.Datasets)
	Processing `yaml:",inline"`
}

// Rights describes the data subject's rights and how to exercise them.
// HowToExercise, Rectification, Erasure, Restriction and Objection (the
// rights Art. 15(1)(e) names) are required; the others are shown when set.
type Rights struct {
	HowToExercise      string `yaml:"how_to_exercise"`
	Informed           string `yaml:"informed"`
	Access             string `yaml:"access"`
	Rectification      string `yaml:"rectification"`
	Erasure            string `yaml:"erasure"`
	Restriction        string `yaml:"restriction"`
	Portability        string `yaml:"portability"`
	Objection          string `yaml:"objection"`
	AutomatedDecisions string `yaml:"automated_decisions"`
}

// Complaints are the routes for a complaint (Art. 15(1)(f)).
type Complaints struct {
	// Controller is required: a postal address or an email.
	Controller Contact `yaml:"controller"`
	// ICO defaults to the Information Commissioner's Office's published
	// details (ICOContact) when left out entirely.
	ICO Contact `yaml:"ico"`
}

// Contact is where to send a complaint.
type Contact struct {
	Name    string `yaml:"name"`
	Address Lines  `yaml:"address"`
	Email   string `yaml:"email"`
	Phone   string `yaml:"phone"`
	Web     string `yaml:"web"`
	Note    string `yaml:"note"` // e.g. "please contact us first"
}

// ICOContact is the Information Commissioner's Office's complaint route,
// used when a profile gives none.
var ICOContact = Contact{
	Name:    "Information Commissioner's Office",
	Address: Lines{"Wycliffe House", "Water Lane", "Wilmslow", "Cheshire", "SK9 5AF"},
	Phone:   "0303 123 1113",
	Web:     "ico.org.uk/make-a-complaint",
}

// Lines is a list of text items. In YAML it is either one string or a
// list of strings.
type Lines []string

// UnmarshalYAML accepts a string or a list of strings.
func (l *Lines) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			*l = nil
			return nil
		}
		*l = Lines{n.Value}
		return nil
	case yaml.SequenceNode:
		out := make(Lines, 0, len(n.Content))
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: want text, found %s", c.Line, kindName(c))}}
			}
			out = append(out, c.Value)
		}
		*l = out
		return nil
	}
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: want text or a list of text, found %s", n.Line, kindName(n))}}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return "a value"
}

// Placeholder starts every value in the `dsar init` template that the
// controller must replace; LoadProfile refuses a profile that still holds
// one, so a template's wording never reaches a data subject.
const Placeholder = "EDIT:"

// Item names an Article 15 item of Processing, as the YAML key.
type item struct {
	key   string
	title string // plain-language heading in the letter
	get   func(*Processing) bool
}

var items = []item{
	{"purposes", "Why we use it", func(p *Processing) bool { return nonEmpty(p.Purposes) }},
	{"lawful_basis", "Our lawful basis", func(p *Processing) bool { return strings.TrimSpace(p.LawfulBasis) != "" }},
	{"categories", "What kinds of data", func(p *Processing) bool { return nonEmpty(p.Categories) }},
	{"recipients", "Who receives it", func(p *Processing) bool { return nonEmpty(p.Recipients) }},
	{"retention", "How long we keep it", func(p *Processing) bool { return strings.TrimSpace(p.Retention) != "" }},
	{"source", "Where it comes from", func(p *Processing) bool { return strings.TrimSpace(p.Source) != "" }},
	{"transfers", "Transfers outside the UK", func(p *Processing) bool { return strings.TrimSpace(p.Transfers) != "" }},
	{"automated_decisions", "Automated decisions and profiling", func(p *Processing) bool { return strings.TrimSpace(p.AutomatedDecisions) != "" }},
}

func nonEmpty(l Lines) bool {
	for _, s := range l {
		if strings.TrimSpace(s) != "" {
			return true
		}
	}
	return false
}

// ProfileError lists every problem found in a profile, each with the line
// it concerns (0 when the problem is a key that is missing altogether).
type ProfileError struct {
	Path     string
	Problems []Problem
}

// Problem is one problem in a profile.
type Problem struct {
	Line int
	Msg  string
}

func (e *ProfileError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "profile %q", e.Path)
		if p.Line > 0 {
			fmt.Fprintf(&b, " line %d", p.Line)
		}
		b.WriteString(": ")
		b.WriteString(p.Msg)
	}
	return b.String()
}

// LoadProfile reads the profile at path and checks it: no unknown keys,
// every dataset of model.Datasets has every Article 15(1)-(2) item (from
// its section or from defaults), the controller, DPO, rights and complaint
// details are present, and no template placeholder is left. A failure is
// a *ProfileError naming the file and the line of every problem.
func LoadProfile(path string) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	return parseProfile(path, data)
}

// ParseProfile is LoadProfile on data already read; path names it in errors.
func ParseProfile(path string, data []byte) (*Profile, error) { return parseProfile(path, data) }

var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)
var yamlUnknown = regexp.MustCompile(`^field (\S+) not found in type .*$`)
var yamlType = regexp.MustCompile("^cannot unmarshal !!(\\w+) (?:`[^`]*` )?into (.*)$")

func parseProfile(path string, data []byte) (*Profile, error) {
	perr := &ProfileError{Path: path}
	var p Profile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		var te *yaml.TypeError
		switch {
		case errors.As(err, &te):
			for _, s := range te.Errors {
				perr.Problems = append(perr.Problems, yamlProblem(s))
			}
		case errors.Is(err, io.EOF):
			perr.Problems = append(perr.Problems, Problem{Msg: "the file is empty"})
		default:
			perr.Problems = append(perr.Problems, yamlProblem(strings.TrimPrefix(err.Error(), "yaml: ")))
		}
		return nil, perr
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("profile %q: %w", path, err)
	}
	p.Path = path
	p.check(&root, perr)
	if len(perr.Problems) > 0 {
		return nil, perr
	}
	return &p, nil
}

// yamlProblem turns one of yaml's messages into a Problem in our words.
func yamlProblem(s string) Problem {
	var pr Problem
	if m := yamlLine.FindStringSubmatch(s); m != nil {
		pr.Line, _ = strconv.Atoi(m[1])
		s = m[2]
	}
	switch m := yamlUnknown.FindStringSubmatch(s); {
	case m != nil:
		pr.Msg = fmt.Sprintf("unknown key %q", m[1])
	default:
		if m := yamlType.FindStringSubmatch(s); m != nil {
			found := map[string]string{"seq": "a list", "map": "a mapping", "str": "text", "int": "a number", "bool": "true or false", "float": "a number"}[m[1]]
			if found == "" {
				found = m[1]
			}
			want := "text"
			switch {
			case strings.HasPrefix(m[2], "[]"):
				want = "a list"
			case strings.HasPrefix(m[2], "letter."):
				want = "a mapping"
			}
			pr.Msg = fmt.Sprintf("want %s, found %s", want, found)
		} else {
			pr.Msg = s
		}
	}
	return pr
}

// check validates p, using root (the same document as nodes) for lines.
func (p *Profile) check(root *yaml.Node, e *ProfileError) {
	add := func(line int, format string, a ...any) {
		e.Problems = append(e.Problems, Problem{Line: line, Msg: fmt.Sprintf(format, a...)})
	}
	// line returns the line of the key path's value, or of the nearest
	// ancestor that exists.
	line := func(path ...any) int { return lineOf(root, path...) }

	walkScalars(root, nil, func(n *yaml.Node, at string) {
		if strings.HasPrefix(strings.TrimSpace(n.Value), Placeholder) {
			add(n.Line, "%s still holds the template's placeholder (%q): replace it with your own text", at, Placeholder)
		}
	})

	req := func(v string, path ...any) {
		if strings.TrimSpace(v) == "" {
			add(line(path...), "%s is required", dotted(path))
		}
	}
	c := p.Controller
	req(c.Name, "controller", "name")
	if !nonEmpty(c.Address) {
		add(line("controller", "address"), "controller.address is required")
	}
	req(c.Email, "controller", "email")
	req(p.DPO.Email, "dpo", "email")
	if p.DPO.Name == "" {
		p.DPO.Name = "Data Protection Officer"
	}

	req(p.Rights.HowToExercise, "rights", "how_to_exercise")
	req(p.Rights.Rectification, "rights", "rectification")
	req(p.Rights.Erasure, "rights", "erasure")
	req(p.Rights.Restriction, "rights", "restriction")
	req(p.Rights.Objection, "rights", "objection")

	cc := p.Complaints.Controller
	if !nonEmpty(cc.Address) && strings.TrimSpace(cc.Email) == "" {
		add(line("complaints", "controller"), "complaints.controller needs an address or an email")
	}
	if p.Complaints.ICO.isZero() {
		p.Complaints.ICO = ICOContact
	} else {
		ico := p.Complaints.ICO
		req(ico.Name, "complaints", "ico", "name")
		if !nonEmpty(ico.Address) && ico.Phone == "" && ico.Web == "" && ico.Email == "" {
			add(line("complaints", "ico"), "complaints.ico needs an address, phone, email or web address (or leave ico out to use the ICO's published details)")
		}
	}

	// Datasets: known, in at most one section, and complete.
	names := make([]string, len(model.Datasets))
	for i, d := range model.Datasets {
		names[i] = d.Name
	}
	p.lines = map[int]int{}
	seen := map[string]int{} // dataset → line of its section
	for i, s := range p.Processing {
		sl := line("processing", i)
		p.lines[i] = sl
		if len(s.Datasets) == 0 {
			add(sl, "processing section %d lists no datasets (want some of %s)", i+1, strings.Join(names, ", "))
		}
		for j, name := range s.Datasets {
			dl := line("processing", i, "datasets", j)
			if !slices.Contains(names, name) {
				add(dl, "unknown dataset %q (want one of %s)", name, strings.Join(names, ", "))
				continue
			}
			if prev, ok := seen[name]; ok {
				add(dl, "dataset %q is already in the section at line %d", name, prev)
				continue
			}
			seen[name] = sl
		}
	}
	// Datasets missing the same items for the same reason are reported
	// together.
	type gap struct {
		line    int
		missing string
		where   string
	}
	var gaps []gap
	byGap := map[gap][]string{}
	for _, name := range names {
		eff := p.For(name)
		var missing []string
		for _, it := range items {
			if !it.get(&eff) {
				missing = append(missing, it.key)
			}
		}
		if len(missing) == 0 {
			continue
		}
		g := gap{line: line("defaults"), missing: joinAnd(missing), where: "add a processing section for it or set them under defaults"}
		if sl, ok := seen[name]; ok {
			g.line, g.where = sl, "set them in its section or under defaults"
		}
		if _, ok := byGap[g]; !ok {
			gaps = append(gaps, g)
		}
		byGap[g] = append(byGap[g], name)
	}
	for _, g := range gaps {
		ds := byGap[g]
		if len(ds) == 1 {
			add(g.line, "dataset %q has no %s: %s", ds[0], g.missing, g.where)
		} else {
			add(g.line, "datasets %s have no %s: %s", joinAnd(ds), g.missing, strings.ReplaceAll(strings.ReplaceAll(g.where, "for it", "for them"), "its section", "their section"))
		}
	}
}

func (c Contact) isZero() bool {
	return c.Name == "" && len(c.Address) == 0 && c.Email == "" && c.Phone == "" && c.Web == "" && c.Note == ""
}

// For returns the processing information for the named dataset: its
// section's items, with each empty item taken from Defaults.
func (p *Profile) For(dataset string) Processing {
	out := p.Defaults
	for _, s := range p.Processing {
		if !slices.Contains(s.Datasets, dataset) {
			continue
		}
		o := s.Processing
		if nonEmpty(o.Purposes) {
			out.Purposes = o.Purposes
		}
		if o.LawfulBasis != "" {
			out.LawfulBasis = o.LawfulBasis
		}
		if nonEmpty(o.Categories) {
			out.Categories = o.Categories
		}
		if nonEmpty(o.Recipients) {
			out.Recipients = o.Recipients
		}
		if o.Retention != "" {
			out.Retention = o.Retention
		}
		if o.Source != "" {
			out.Source = o.Source
		}
		if o.Transfers != "" {
			out.Transfers = o.Transfers
		}
		if o.Safeguards != "" {
			out.Safeguards = o.Safeguards
		}
		if o.AutomatedDecisions != "" {
			out.AutomatedDecisions = o.AutomatedDecisions
		}
		break
	}
	return out
}

// Group is the processing information shared by some datasets, as the
// cover letter presents it.
type Group struct {
	Title    string   // the section's title; empty when it has none
	Datasets []string // dataset names, in the order given
	Processing
}

// Groups returns the processing information for the named datasets,
// grouped as the profile's sections group them: one Group per section
// that holds any of them (in profile order), then one Group for each
// remaining dataset, whose items all come from Defaults (datasets with no
// section share that one Group).
func (p *Profile) Groups(datasets []string) []Group {
	var out []Group
	done := map[string]bool{}
	for _, s := range p.Processing {
		var ds []string
		for _, d := range datasets {
			if slices.Contains(s.Datasets, d) && !done[d] {
				ds = append(ds, d)
				done[d] = true
			}
		}
		if len(ds) > 0 {
			out = append(out, Group{Title: s.Title, Datasets: ds, Processing: p.For(ds[0])})
		}
	}
	var rest []string
	for _, d := range datasets {
		if !done[d] {
			rest = append(rest, d)
		}
	}
	if len(rest) > 0 {
		out = append(out, Group{Datasets: rest, Processing: p.Defaults})
	}
	return out
}

// lineOf follows path (string keys and int indexes) from the document
// root and returns the line of the deepest node it reaches.
func lineOf(root *yaml.Node, path ...any) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	l := n.Line
	for _, step := range path {
		var next *yaml.Node
		switch s := step.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == s {
						next = n.Content[i+1]
						l = n.Content[i].Line // the key's line, where the reader looks
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && s < len(n.Content) {
				next = n.Content[s]
			}
		}
		if next == nil {
			return l
		}
		if _, ok := step.(int); ok {
			l = next.Line
		}
		n = next
	}
	return l
}

// walkScalars calls f for every scalar value under n, with its dotted key
// path.
func walkScalars(n *yaml.Node, path []string, f func(n *yaml.Node, at string)) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			walkScalars(c, path, f)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			walkScalars(n.Content[i+1], append(path[:len(path):len(path)], n.Content[i].Value), f)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			walkScalars(c, append(path[:len(path):len(path)], fmt.Sprintf("[%d]", i)), f)
		}
	case yaml.ScalarNode:
		f(n, strings.ReplaceAll(strings.Join(path, "."), ".[", "["))
	}
}

func dotted(path []any) string {
	var b strings.Builder
	for _, s := range path {
		switch s := s.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		case int:
			fmt.Fprintf(&b, "[%d]", s)
		}
	}
	return b.String()
}

// joinAnd joins items as "a, b and c".
func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
