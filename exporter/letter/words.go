package letter

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the letter states local times; the same on every machine

	"github.com/dsar-tool/dsar/exporter/model"
)

// Plain-language wording shared by the text and HTML letters.

// requestTypeWords says what a request type asks for.
var requestTypeWords = map[string]string{
	"access":             "a copy of your personal data (the right of access, often called a subject access request)",
	"rectification":      "to have inaccurate data about you corrected (the right to rectification)",
	"erasure":            "to have your data deleted (the right to erasure)",
	"restriction":        "to limit how we use your data (the right to restriction)",
	"portability":        "your data in a machine-readable form, to keep or to pass to another organisation (the right to data portability)",
	"objection":          "to object to how we use your data (the right to object)",
	"automated-decision": "not to be subject to decisions made only by computer (rights about automated decision-making)",
}

func requestTypeText(typ string) string {
	if w, ok := requestTypeWords[typ]; ok {
		return w
	}
	return typ
}

// actionWords says what a redaction action did, for someone who has not
// seen the policy.
var actionWords = map[string]string{
	"keep": "shown in full",
	"mask": "partly hidden: the first few characters are kept and the rest are replaced, so you can see roughly what it was (for example, the area code of a phone number) but not the whole value",
	"hash": "replaced by a code: the same value always gets the same code in this bundle, so you can see which rows involve the same person or number, but the code cannot be turned back into the value",
	"drop": "removed: the column is left empty",
}

func actionText(action string) string {
	if w, ok := actionWords[action]; ok {
		return w
	}
	return action
}

// typeText describes a column's type in words: "whole number, in
// seconds", "date and time, UTC; may be empty".
func typeText(col model.Column) string {
	var s string
	switch col.Type {
	case model.String:
		s = "text"
	case model.Int:
		s = "whole number"
	case model.Timestamp:
		s = "date and time"
	case model.Date:
		s = "date"
	case model.Bool:
		s = "yes or no (true or false)"
	default:
		s = col.Type.String()
	}
	if col.Unit != "" {
		if col.Type == model.Int {
			s += ", in " + col.Unit
		} else {
			s += ", " + col.Unit
		}
	}
	if col.Nullable {
		s += "; may be empty"
	}
	if len(col.Enum) > 0 {
		s += "; one of " + joinOr(col.Enum)
	}
	return s
}

func joinOr(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// longDate formats a date held as midnight UTC: "Monday 12 January 2026".
func longDate(d time.Time) string { return d.UTC().Format("Monday 2 January 2006") }

// shortDate formats an instant's UTC date: "12 January 2026".
func shortDate(t time.Time) string { return t.UTC().Format("2 January 2006") }

// utcTime formats an instant: "12 January 2026 at 09:30 UTC".
func utcTime(t time.Time) string { return t.UTC().Format("2 January 2006 at 15:04") + " UTC" }

// count formats n with thousands separators: 12,345.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// rows says "1 row" or "12 rows".
func rows(n int64) string {
	if n == 1 {
		return "1 row"
	}
	return count(n) + " rows"
}

// plural says "1 record", "2 records".
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return count(n) + " " + many
}

// zone describes DisplayZone for the letter.
type zone struct {
	name string
	loc  *time.Location // nil when unknown or UTC
}

func newZone(name string) zone {
	if name == "" || name == "UTC" || name == "Etc/UTC" {
		return zone{}
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return zone{name: name}
	}
	return zone{name: name, loc: loc}
}

func (z zone) uk() bool { return z.name == "Europe/London" }

// label is how local times are marked: "UK time" or "Europe/Paris time".
func (z zone) label() string {
	if z.uk() {
		return "UK time"
	}
	return z.name + " time"
}

// local is the " (10:30 UK time)" suffix for an instant, or "".
func (z zone) local(t time.Time) string {
	if z.loc == nil {
		return ""
	}
	lt := t.In(z.loc)
	s := lt.Format("15:04")
	if y, m, d := lt.Date(); y != t.UTC().Year() || m != t.UTC().Month() || d != t.UTC().Day() {
		s = lt.Format("2 January 15:04")
	}
	return " (" + s + " " + z.label() + ")"
}

// sentence explains how to turn the files' UTC times into local time, or
// returns "" when there is nothing to say.
func (z zone) sentence(year int) string {
	switch {
	case z.name == "":
		return ""
	case z.uk():
		return "UK time is the same as UTC in winter, and one hour ahead of UTC during British Summer Time (from the last Sunday in March to the last Sunday in October). For example, 09:30 UTC on 1 July is 10:30 UK time."
	case z.loc == nil:
		return "To turn them into local time, add your time zone's difference from UTC."
	}
	_, w := time.Date(year, 1, 15, 12, 0, 0, 0, time.UTC).In(z.loc).Zone()
	_, s := time.Date(year, 7, 15, 12, 0, 0, 0, time.UTC).In(z.loc).Zone()
	if w == s {
		return fmt.Sprintf("Local time in %s is %s all year.", z.name, offset(w))
	}
	return fmt.Sprintf("Local time in %s is %s for part of the year and %s for the rest (daylight saving time).", z.name, offset(min(w, s)), offset(max(w, s)))
}

func offset(sec int) string {
	sign := "+"
	if sec < 0 {
		sign, sec = "-", -sec
	}
	h, m := sec/3600, sec%3600/60
	if m == 0 {
		return fmt.Sprintf("UTC%s%d", sign, h)
	}
	return fmt.Sprintf("UTC%s%d:%02d", sign, h, m)
}

// fingerprintGroups writes a fingerprint in groups of four, as GnuPG
// shows it ("ABCD 1234 ...", with two spaces in the middle of a v4 one).
func fingerprintGroups(fp string) string {
	fp = strings.ToUpper(strings.ReplaceAll(fp, " ", ""))
	var b strings.Builder
	for i := 0; i < len(fp); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
			if len(fp) == 40 && i == 20 {
				b.WriteByte(' ')
			}
		}
		b.WriteString(fp[i:min(i+4, len(fp))])
	}
	return b.String()
}

// paragraphs splits a profile text into paragraphs at blank lines, with
// the lines of each paragraph joined by single spaces.
func paragraphs(s string) []text {
	var out []text
	for _, para := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		if f := strings.Join(strings.Fields(para), " "); f != "" {
			out = append(out, t(f))
		}
	}
	return out
}

// lineTexts is one text per non-empty item of l, whitespace folded.
func lineTexts(l Lines) []text {
	var out []text
	for _, s := range l {
		if f := strings.Join(strings.Fields(s), " "); f != "" {
			out = append(out, t(f))
		}
	}
	return out
}

// fileText says what a bundle file holds.
func fileText(f File, titles map[string]string) string {
	ext := path.Ext(f.Path)
	dir := path.Dir(f.Path)
	base := strings.TrimSuffix(path.Base(f.Path), ext)
	title := titles[f.Dataset]
	if title == "" {
		title = titles[base]
	}
	switch {
	case f.Path == "schema/dictionary.csv":
		return "The data dictionary: every column of every table, with its type and meaning (CSV)"
	case f.Path == "schema/manifest.schema.json":
		return "The JSON Schema of manifest.json"
	case dir == "schema" && strings.HasSuffix(f.Path, ".schema.json"):
		d := strings.TrimSuffix(path.Base(f.Path), ".schema.json")
		return "The JSON Schema of json/" + d + ".json"
	case ext == ".xlsx":
		return "A spreadsheet with every table (one sheet each) and an About sheet"
	case title != "" && ext == ".json":
		return "The " + title + " table as JSON"
	case title != "" && ext == ".csv":
		return "The " + title + " table as CSV"
	case title != "" && ext == ".parquet":
		return "The " + title + " table as Parquet"
	case title != "":
		return "The " + title + " table"
	}
	if i := strings.IndexByte(f.MediaType, ';'); i >= 0 {
		return strings.TrimSpace(f.MediaType[:i])
	}
	return f.MediaType
}

// bytesText is "4,312 bytes".
func bytesText(n int64) string { return plural(n, "byte", "bytes") }
