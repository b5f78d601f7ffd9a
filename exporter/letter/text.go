package letter

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// textWidth is the width README.txt is wrapped to.
const textWidth = 72

// nbsp stands for a space that must not break a line while wrapping.
const nbsp = '\x00'

type textWriter struct {
	w   *bufio.Writer
	err error
}

func (tw *textWriter) line(s string) {
	if tw.err != nil {
		return
	}
	s = strings.TrimRight(s, " ")
	if _, err := tw.w.WriteString(s + "\n"); err != nil {
		tw.err = err
	}
}

// renderText writes doc as plain UTF-8 text wrapped at textWidth columns,
// with "\n" line ends.
func renderText(w io.Writer, doc *document) error {
	tw := &textWriter{w: bufio.NewWriter(w)}
	rule := strings.Repeat("=", textWidth)
	tw.line(rule)
	for _, l := range wrap(doc.Title, textWidth) {
		tw.line(l)
	}
	if doc.Subtitle != "" {
		for _, l := range wrap(t(doc.Subtitle), textWidth) {
			tw.line(l)
		}
	}
	tw.line(rule)
	tw.line("")
	for _, b := range doc.Intro {
		tw.block(b)
	}
	tw.line("Contents")
	tw.line("--------")
	for i, s := range doc.Sections {
		for j, l := range wrap(t(s.Title), textWidth-6) {
			if j == 0 {
				tw.line(fmt.Sprintf("%4d. %s", i+1, l))
			} else {
				tw.line("      " + l)
			}
		}
	}
	tw.line("")
	for i, s := range doc.Sections {
		tw.line("")
		h := fmt.Sprintf("%d. %s", i+1, s.Title)
		tw.line(h)
		tw.line(strings.Repeat("=", min(utf8.RuneCountInString(h), textWidth)))
		tw.line("")
		for _, b := range s.Blocks {
			tw.block(b)
		}
	}
	if tw.err != nil {
		return tw.err
	}
	return tw.w.Flush()
}

func (tw *textWriter) indented(x text, first, rest string) {
	width := textWidth - utf8.RuneCountInString(rest)
	for i, l := range wrap(x, width) {
		if i == 0 {
			tw.line(first + l)
		} else {
			tw.line(rest + l)
		}
	}
}

func (tw *textWriter) block(b block) {
	switch b.Kind {
	case para:
		tw.indented(b.Text, "", "")
	case note:
		tw.indented(b.Text, "| ", "| ")
	case heading:
		s := plainText(b.Text)
		tw.line(s)
		tw.line(strings.Repeat("-", min(utf8.RuneCountInString(s), textWidth)))
	case list:
		for _, it := range b.Items {
			tw.indented(it, "  - ", "    ")
		}
	case defs:
		for i, d := range b.Defs {
			if b.Compact && d.Bullets {
				tw.indented(t(d.Term, ":"), "", "")
				for _, x := range d.Desc {
					tw.indented(x, "  - ", "    ")
				}
				continue
			}
			if b.Compact && len(d.Desc) > 0 {
				tw.indented(t(d.Term, ": ", d.Desc[0]), "", "    ")
				for _, x := range d.Desc[1:] {
					tw.indented(x, "    ", "    ")
				}
				continue
			}
			if i > 0 {
				tw.line("")
			}
			tw.indented(d.Term, "", "")
			for _, x := range d.Desc {
				if d.Bullets {
					tw.indented(x, "  - ", "    ")
				} else {
					tw.indented(x, "    ", "    ")
				}
			}
		}
	case pre:
		for _, l := range b.Lines {
			tw.line("    " + l)
		}
	}
	tw.line("")
}

// plainText is x without markup, with spaces as written.
func plainText(x text) string {
	var b strings.Builder
	for _, s := range x {
		if s.Kind == br {
			b.WriteByte(' ')
			continue
		}
		b.WriteString(s.Text)
	}
	return b.String()
}

// wrap breaks x into lines of at most width runes, at spaces. A hash span
// and a word longer than width are never broken; a br span always breaks.
func wrap(x text, width int) []string {
	var b strings.Builder
	for _, s := range x {
		switch s.Kind {
		case br:
			b.WriteByte('\n')
		case hash, nowrap, fingerprint:
			b.WriteString(strings.Map(func(r rune) rune {
				if r == ' ' {
					return nbsp
				}
				return r
			}, s.Text))
		case code:
			// A command or value with spaces is quoted, so that it reads
			// as one thing in plain text.
			if strings.Contains(s.Text, " ") {
				b.WriteString("'" + s.Text + "'")
			} else {
				b.WriteString(s.Text)
			}
		default:
			b.WriteString(s.Text)
		}
	}
	var out []string
	for _, para := range strings.Split(b.String(), "\n") {
		var cur strings.Builder
		n := 0
		for _, word := range strings.Fields(para) {
			wl := utf8.RuneCountInString(word)
			if n > 0 && n+1+wl > width {
				out = append(out, cur.String())
				cur.Reset()
				n = 0
			}
			if n > 0 {
				cur.WriteByte(' ')
				n++
			}
			cur.WriteString(word)
			n += wl
		}
		if n > 0 || len(out) == 0 {
			out = append(out, cur.String())
		}
	}
	for i, l := range out {
		out[i] = strings.ReplaceAll(l, string(nbsp), " ")
	}
	return out
}
