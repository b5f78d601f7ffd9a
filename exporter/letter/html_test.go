package letter

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// voidElements have no end tag.
var voidElements = []string{"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

// forbiddenElements load or run something, or send something elsewhere.
var forbiddenElements = []string{"script", "link", "img", "iframe", "frame", "object", "embed", "base", "form", "audio", "video", "source", "picture", "svg", "math", "template", "noscript", "portal"}

// forbiddenAttrs can make a browser fetch something or run code.
var forbiddenAttrs = []string{"src", "srcset", "action", "formaction", "background", "poster", "data", "ping", "manifest", "style", "xmlns"}

// checkSelfContained reports every way page is not a well-formed,
// self-contained page: unbalanced tags, elements or attributes that load or
// run something, links other than to the page's own ids, and style sheets
// that import or fetch.
func checkSelfContained(page string) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	if _, err := html.Parse(strings.NewReader(page)); err != nil {
		bad("html.Parse: %v", err)
	}
	if !strings.HasPrefix(page, "<!DOCTYPE html>\n") {
		bad("no <!DOCTYPE html> at the start")
	}
	z := html.NewTokenizer(strings.NewReader(page))
	var stack []string
	ids := map[string]int{}
	var hrefs []string
	inStyle := false
	sawViewport, sawStyle, sawCharset := false, false, false
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() != io.EOF {
				bad("tokenizer: %v", z.Err())
			}
			break
		}
		tok := z.Token()
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			name := tok.Data
			if slices.Contains(forbiddenElements, name) {
				bad("element <%s>", name)
			}
			if name == "style" {
				sawStyle = true
				inStyle = true
			}
			for _, a := range tok.Attr {
				k := strings.ToLower(a.Key)
				switch {
				case slices.Contains(forbiddenAttrs, k) || strings.HasPrefix(k, "on"):
					bad("<%s %s=%q>", name, k, a.Val)
				case k == "href":
					if !strings.HasPrefix(a.Val, "#") {
						bad("<%s href=%q> leaves the page", name, a.Val)
					}
					hrefs = append(hrefs, strings.TrimPrefix(a.Val, "#"))
				case k == "id":
					ids[a.Val]++
				case k == "http-equiv":
					bad("<meta http-equiv=%q>", a.Val)
				case k == "name" && a.Val == "viewport":
					sawViewport = true
				case k == "charset":
					sawCharset = true
				}
			}
			if tt == html.StartTagToken && !slices.Contains(voidElements, name) {
				stack = append(stack, name)
			}
		case html.EndTagToken:
			if len(stack) == 0 || stack[len(stack)-1] != tok.Data {
				bad("</%s> does not close the open element (open: %v)", tok.Data, stack)
				continue
			}
			stack = stack[:len(stack)-1]
			if tok.Data == "style" {
				inStyle = false
			}
		case html.TextToken:
			if inStyle {
				css := strings.ToLower(tok.Data)
				for _, s := range []string{"url(", "@import", "@font-face", "http:", "https:", "//"} {
					if strings.Contains(css, s) {
						bad("style sheet holds %q", s)
					}
				}
			}
		}
	}
	if len(stack) > 0 {
		bad("elements left open: %v", stack)
	}
	for id, n := range ids {
		if n > 1 {
			bad("id %q used %d times", id, n)
		}
	}
	for _, h := range hrefs {
		if ids[h] == 0 {
			bad("link to #%s, which is not on the page", h)
		}
	}
	if !sawViewport || !sawStyle || !sawCharset {
		bad("viewport meta %v, style %v, charset %v: want all", sawViewport, sawStyle, sawCharset)
	}
	if !strings.Contains(page, "@media print") {
		bad("no print style sheet")
	}
	return problems
}

// htmlText is the text a reader sees: the page's text with one space at
// each block boundary, whitespace folded, without the <head>.
func htmlText(t *testing.T, page string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	block := map[atom.Atom]bool{atom.P: true, atom.Li: true, atom.Dt: true, atom.Dd: true, atom.H1: true, atom.H2: true, atom.H3: true,
		atom.Br: true, atom.Pre: true, atom.Ul: true, atom.Ol: true, atom.Dl: true, atom.Section: true, atom.Nav: true, atom.Header: true}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (n.DataAtom == atom.Head || n.DataAtom == atom.Style) {
			return
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		if n.Type == html.ElementNode && block[n.DataAtom] {
			b.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
		if n.Type == html.ElementNode && block[n.DataAtom] {
			b.WriteByte(' ')
		}
	}
	walk(doc)
	return fold(b.String())
}

func fold(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestHTMLSelfContained: the sample page is well formed and references
// nothing outside itself.
func TestHTMLSelfContained(t *testing.T) {
	_, page := render(t, sampleLetter(t))
	for _, p := range checkSelfContained(page) {
		t.Error(p)
	}
}

// TestHTMLCheckerCatches: the checker itself finds what it must.
func TestHTMLCheckerCatches(t *testing.T) {
	_, page := render(t, sampleLetter(t))
	for _, tc := range []struct{ inject, want string }{
		{`<script>alert(1)</script>`, "element <script>"},
		{`<img src="https://example.org/x.png">`, "element <img>"},
		{`<a href="https://ico.org.uk">ICO</a>`, "leaves the page"},
		{`<a href="#nowhere">x</a>`, "not on the page"},
		{`<p style="background:url(x)">x</p>`, `style=`},
		{`<div>`, "does not close"},
	} {
		bad := strings.Replace(page, "<main>", "<main>"+tc.inject, 1)
		got := strings.Join(checkSelfContained(bad), "\n")
		if !strings.Contains(got, tc.want) {
			t.Errorf("injecting %s: problems %q, want one containing %q", tc.inject, got, tc.want)
		}
	}
	css := strings.Replace(page, "<style>", "<style>@import 'x.css';", 1)
	if got := strings.Join(checkSelfContained(css), "\n"); !strings.Contains(got, "@import") {
		t.Errorf("an @import was not caught: %q", got)
	}
}

// TestHTMLEscapes: text from the profile and the request cannot become
// markup.
func TestHTMLEscapes(t *testing.T) {
	l := sampleLetter(t)
	l.Subject.Name = `Alex "><img src=x onerror=alert(1)>`
	pr := *l.Profile
	pr.Controller.Name = "Evil <script>alert(1)</script> & Co"
	pr.Defaults.Retention = `<a href="https://evil.example">click</a>`
	l.Profile = &pr
	var buf bytes.Buffer
	if err := WriteHTML(&buf, l); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, p := range checkSelfContained(page) {
		t.Error(p)
	}
	text := htmlText(t, page)
	for _, want := range []string{l.Subject.Name, pr.Controller.Name, pr.Defaults.Retention} {
		if !strings.Contains(text, want) {
			t.Errorf("the page does not show %q as text", want)
		}
	}
}
