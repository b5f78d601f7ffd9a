package letter

import (
	"bufio"
	"html/template"
	"io"
)

// The page is self-contained: styles are inline, there are no scripts, and
// nothing is loaded from elsewhere. Addresses outside the page (web sites,
// email) are plain text rather than links, so that opening the letter
// never contacts anyone and a printed copy reads the same; the only links
// are to anchors within the page.
const pageCSS = `
:root{color-scheme:light dark;--fg:#1a1a1a;--muted:#555;--bg:#fff;--rule:#ccd3db;--accent:#0a4c86;--code:#f1f3f5;--note:#eef5fb}
@media (prefers-color-scheme:dark){:root{--fg:#e6e6e6;--muted:#a8a8a8;--bg:#16181b;--rule:#3b4148;--accent:#8ec5ff;--code:#25292e;--note:#1d2a36}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:1.0625rem/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;overflow-wrap:break-word}
main{max-width:46rem;margin:0 auto;padding:1rem 1rem 3rem}
header{border-bottom:3px solid var(--accent);padding-bottom:.5rem;margin-bottom:1rem}
h1{font-size:1.55rem;line-height:1.25;margin:.5rem 0 .25rem}
header p{margin:0;color:var(--muted)}
h2{font-size:1.3rem;line-height:1.3;margin:2.25rem 0 .6rem;padding-top:.75rem;border-top:1px solid var(--rule)}
h3{font-size:1.08rem;line-height:1.3;margin:1.5rem 0 .4rem}
p,ul,ol,dl,pre{margin:.6rem 0}
ul,ol{padding-left:1.4rem}
li{margin:.2rem 0}
a{color:var(--accent)}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:.88em;background:var(--code);padding:.05em .3em;border-radius:3px}
.nw{white-space:nowrap}
.muted{color:var(--muted);font-weight:normal;font-size:.92em}
code.fp{display:inline-block;font-size:1.05em;line-height:1.6;padding:.3em .5em;word-spacing:.15em}
code.hash{font-size:.8em;word-break:break-all;overflow-wrap:anywhere}
pre{background:var(--code);padding:.65rem .8rem;border-radius:6px;white-space:pre-wrap;overflow-wrap:anywhere;font-size:.85rem;line-height:1.45}
pre code{background:none;padding:0;font-size:1em}
.note{background:var(--note);border-left:4px solid var(--accent);padding:.6rem .8rem;border-radius:0 6px 6px 0}
nav{background:var(--code);border-radius:6px;padding:.5rem .9rem}
nav h2{border:0;margin:.25rem 0;padding:0;font-size:1.05rem}
nav ol{margin:.25rem 0}
dl{margin:.6rem 0}
dt{font-weight:600;margin-top:.7rem}
dd{margin:.15rem 0 0 1rem}
dd p{margin:.2rem 0}
dd>ul{margin:.2rem 0}
@media (min-width:40rem){
 dl.kv{display:grid;grid-template-columns:minmax(9rem,max-content) 1fr;column-gap:1rem}
 dl.kv dt{margin-top:.45rem}
 dl.kv dd{margin:.45rem 0 0}
 dl.kv dd>ul{margin:0}
}
@media print{
 :root{--fg:#000;--muted:#333;--bg:#fff;--code:#fff;--note:#fff;--accent:#000}
 body{font-size:10.5pt}
 main{max-width:none;padding:0}
 a{text-decoration:none}
 nav{border:1px solid #999}
 h2,h3,dt{break-after:avoid;page-break-after:avoid}
 pre,.note,li,dd{break-inside:avoid;page-break-inside:avoid}
 pre,code{border:1px solid #bbb}
 pre code{border:0}
}
`

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.PlainTitle}}</title>
<style>{{.CSS}}</style>
</head>
<body>
<main>
<header>
<h1>{{template "text" .Title}}</h1>
{{if .Subtitle}}<p>{{.Subtitle}}</p>
{{end}}</header>
{{range .Intro}}{{template "block" .}}{{end}}<nav aria-label="Contents">
<h2>Contents</h2>
<ol>
{{range .Sections}}<li><a href="#{{.ID}}">{{.Title}}</a></li>
{{end}}</ol>
</nav>
{{range .Sections}}<section id="{{.ID}}">
<h2>{{.Title}}</h2>
{{range .Blocks}}{{template "block" .}}{{end}}</section>
{{end}}</main>
</body>
</html>
{{define "text"}}{{range .}}{{if .IsCode}}<code{{if .IsWord}} class="nw"{{end}}>{{.Text}}</code>{{else if .IsMuted}}<span class="muted">{{.Text}}</span>{{else if .IsFingerprint}}<code class="fp">{{.Text}}</code>{{else if .IsHash}}<code class="hash">{{.Text}}</code>{{else if .IsStrong}}<strong>{{.Text}}</strong>{{else if .IsBreak}}<br>{{else if .IsNowrap}}<span class="nw">{{.Text}}</span>{{else}}{{.Text}}{{end}}{{end}}{{end}}
{{define "block"}}{{if .IsPara}}<p>{{template "text" .Text}}</p>
{{else if .IsNote}}<p class="note">{{template "text" .Text}}</p>
{{else if .IsHeading}}<h3 id="{{.ID}}">{{template "text" .Text}}</h3>
{{else if .IsList}}<ul>
{{range .Items}}<li>{{template "text" .}}</li>
{{end}}</ul>
{{else if .IsDefs}}<dl{{if .Compact}} class="kv"{{end}}>
{{range .Defs}}<dt>{{template "text" .Term}}</dt>
<dd>{{if .Bullets}}<ul>{{range .Desc}}<li>{{template "text" .}}</li>{{end}}</ul>{{else if eq (len .Desc) 1}}{{template "text" (index .Desc 0)}}{{else}}{{range .Desc}}<p>{{template "text" .}}</p>{{end}}{{end}}</dd>
{{end}}</dl>
{{else if .IsPre}}<pre><code>{{range $i, $l := .Lines}}{{if $i}}
{{end}}{{$l}}{{end}}</code></pre>
{{end}}{{end}}`))

type page struct {
	*document
	CSS template.CSS
}

// renderHTML writes doc as one self-contained HTML page.
func renderHTML(w io.Writer, doc *document) error {
	bw := bufio.NewWriter(w)
	if err := pageTemplate.Execute(bw, page{document: doc, CSS: template.CSS(pageCSS)}); err != nil {
		return err
	}
	return bw.Flush()
}
