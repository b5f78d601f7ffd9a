package letter

import "strings"

// The cover letter is built once as a small document tree (sections of
// blocks of spans) and rendered twice, as text and as HTML, so the two
// cannot say different things.

// spanKind says how a run of text is shown.
type spanKind int

const (
	plain       spanKind = iota
	code                 // a command, file name or value, shown as written
	strong               // emphasised
	hash                 // a checksum or fingerprint: monospace, may break anywhere
	br                   // a line break inside the block
	nowrap               // a reference such as a request id: never broken across lines
	muted                // secondary detail, shown lighter
	fingerprint          // a key fingerprint in groups of four: breaks only between groups
)

type span struct {
	Kind spanKind
	Text string
}

// Kind names for the HTML template.
func (s span) IsCode() bool   { return s.Kind == code }
func (s span) IsStrong() bool { return s.Kind == strong }
func (s span) IsHash() bool   { return s.Kind == hash }
func (s span) IsBreak() bool  { return s.Kind == br }
func (s span) IsNowrap() bool { return s.Kind == nowrap }
func (s span) IsMuted() bool  { return s.Kind == muted }
func (s span) IsFingerprint() bool {
	return s.Kind == fingerprint
}

// IsWord reports whether a code span has no spaces (a file name, an
// option): it is then kept on one line.
func (s span) IsWord() bool { return !strings.Contains(s.Text, " ") }

// text is a sequence of spans.
type text []span

// blockKind is the kind of a block.
type blockKind int

const (
	para    blockKind = iota // a paragraph
	heading                  // a sub-heading (h3)
	list                     // a bulleted list
	defs                     // a list of terms and their descriptions
	pre                      // commands, shown as written, not wrapped
	note                     // a paragraph set apart (a warning or a summary)
)

type def struct {
	Term    text
	Desc    []text // one paragraph each, or one bullet each
	Bullets bool
}

type block struct {
	Kind  blockKind
	ID    string // heading anchor
	Text  text   // para, heading, note
	Items []text // list
	Defs  []def  // defs
	Lines []string
	// Compact defs put each term and its description on one line where
	// there is room (short terms such as "Email").
	Compact bool
}

func (b block) IsPara() bool    { return b.Kind == para }
func (b block) IsHeading() bool { return b.Kind == heading }
func (b block) IsList() bool    { return b.Kind == list }
func (b block) IsDefs() bool    { return b.Kind == defs }
func (b block) IsPre() bool     { return b.Kind == pre }
func (b block) IsNote() bool    { return b.Kind == note }

type section struct {
	ID     string
	Title  string
	Blocks []block
}

type document struct {
	Title    text
	Subtitle string
	Lang     string
	Intro    []block // before the contents
	Sections []section
}

// t builds a text from parts: a string is plain text, a span is itself,
// a text is spliced in.
func t(parts ...any) text {
	var out text
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			if p != "" {
				out = append(out, span{Kind: plain, Text: p})
			}
		case span:
			out = append(out, p)
		case text:
			out = append(out, p...)
		}
	}
	return out
}

func c(s string) span   { return span{Kind: code, Text: s} }
func em(s string) span  { return span{Kind: strong, Text: s} }
func hx(s string) span  { return span{Kind: hash, Text: s} }
func nw(s string) span  { return span{Kind: nowrap, Text: s} }
func mu(s string) span  { return span{Kind: muted, Text: s} }
func fpr(s string) span { return span{Kind: fingerprint, Text: s} }

// PlainTitle is the title without markup, for the page's <title>.
func (d *document) PlainTitle() string { return plainText(d.Title) }

var lineBreak = span{Kind: br}

func p(parts ...any) block     { return block{Kind: para, Text: t(parts...)} }
func noteb(parts ...any) block { return block{Kind: note, Text: t(parts...)} }
func h3(id, title string) block {
	return block{Kind: heading, ID: id, Text: t(title)}
}
func ul(items ...text) block     { return block{Kind: list, Items: items} }
func dl(ds ...def) block         { return block{Kind: defs, Defs: ds} }
func kv(ds ...def) block         { return block{Kind: defs, Defs: ds, Compact: true} }
func cmds(lines ...string) block { return block{Kind: pre, Lines: lines} }
func d(term any, desc ...text) def {
	return def{Term: t(term), Desc: desc}
}

// bullets is a def whose description is a bulleted list.
func bullets(term any, items ...text) def {
	return def{Term: t(term), Desc: items, Bullets: true}
}
