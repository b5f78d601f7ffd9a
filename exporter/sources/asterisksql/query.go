package asterisksql

import (
	"sort"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
)

// Limits of the pushed-down filter. Beyond them (a bulk run over
// thousands of subjects) the query selects on the time range only and
// Go does all the matching: still one query, reading more rows.
const (
	// maxParams bounds the bind parameters of one statement on MySQL
	// (protocol limit 65,535) and SQLite (SQLITE_MAX_VARIABLE_NUMBER,
	// 32,766 by default). PostgreSQL takes the numbers as one array.
	maxParams = 30000
	// maxPatterns bounds the LIKE terms (three per endpoint), each its
	// own index probe.
	maxPatterns = 3000
)

// endpointTechs are the channel technologies whose channel names carry
// an endpoint (PJSIP/<endpoint>-<seq>), as the asterisk-csv connector
// reads them.
var endpointTechs = []string{"PJSIP", "SIP", "IAX2"}

// likeEscape is the LIKE escape character: '!' rather than '\', which
// MySQL string and LIKE rules treat differently by sql_mode.
const likeEscape = '!'

// filter is what one Fetch asks the database for. It is a superset of
// what matches: Go then matches each row whole, at the row's time, with
// the query's Matcher.
type filter struct {
	// all: the query names no subjects, so every row is read (this checks
	// the whole table and counts its rows) and none is emitted.
	all bool
	// numbers are compared whole with src and dst: the subjects'
	// extensions, and their phone numbers in every form a PBX writes
	// (E.164, with 00, without +, national, national significant, each
	// behind the site's outside-line prefixes).
	numbers []string
	// patterns are LIKE patterns for channel and dstchannel, one per
	// endpoint and technology: 'PJSIP/<endpoint>-%' with % _ ! escaped.
	patterns []string
	// from and to bound the start time ('YYYY-MM-DD 00:00:00', to
	// exclusive) when every identifier is bounded on that side; "" is open.
	// They are two days wider than the identifiers' dates, which are
	// read in the site's zone while the table may be in another.
	from, to string
}

// newFilter builds the filter for q's subjects.
func newFilter(q source.Query) filter {
	if len(q.Subjects) == 0 {
		return filter{all: true}
	}
	region := "GB"
	var outside []string
	if q.Matcher != nil {
		region = q.Matcher.Region()
		outside = q.Matcher.OutsidePrefixes
	}
	nums, eps := map[string]bool{}, map[string]bool{}
	var from, to time.Time
	openFrom, openTo, seen := false, false, false
	for _, s := range q.Subjects {
		for _, id := range s.Identifiers {
			v := strings.TrimSpace(id.Value)
			switch id.Kind {
			case model.KindExtension:
				nums[v] = true
			case model.KindPhone:
				for _, f := range phoneForms(v, region, outside) {
					nums[f] = true
				}
			case model.KindSIP:
				eps[v] = true
			default:
				continue
			}
			if v == "" {
				continue
			}
			seen = true
			if id.From.IsZero() {
				openFrom = true
			} else if from.IsZero() || id.From.Before(from) {
				from = id.From
			}
			if id.To.IsZero() {
				openTo = true
			} else if id.To.After(to) {
				to = id.To
			}
		}
	}
	delete(nums, "")
	delete(eps, "")
	f := filter{numbers: sortedKeys(nums)}
	for _, ep := range sortedKeys(eps) {
		for _, tech := range endpointTechs {
			f.patterns = append(f.patterns, tech+"/"+escapeLike(ep)+"-%")
		}
	}
	if seen && !openFrom {
		f.from = from.AddDate(0, 0, -2).Format(time.DateOnly) + " 00:00:00"
	}
	if seen && !openTo {
		f.to = to.AddDate(0, 0, 3).Format(time.DateOnly) + " 00:00:00"
	}
	return f
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// escapeLike escapes the LIKE wildcards of s with likeEscape.
func escapeLike(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '%' || r == '_' || r == likeEscape {
			b.WriteRune(likeEscape)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// phoneForms returns the ways a PBX may have written the phone number v
// in src or dst: +441632960555, 441632960555, 00441632960555,
// 01632960555 (national), 1632960555 (national significant), and the
// national and 00 forms behind each outside-line prefix. The Matcher
// accepts each of these; forms it would also accept with spaces or
// punctuation are not searched for (Asterisk writes digits).
func phoneForms(v, region string, outside []string) []string {
	e164, ok := source.NormalisePhone(v, region)
	if !ok {
		return nil
	}
	num, err := phonenumbers.Parse(e164, region)
	if err != nil {
		return nil
	}
	intl := e164[1:]
	national := digitsOnly(phonenumbers.Format(num, phonenumbers.NATIONAL))
	nsn := phonenumbers.GetNationalSignificantNumber(num)
	forms := []string{e164, intl, "00" + intl, national, nsn}
	for _, p := range outside {
		if p = strings.TrimSpace(p); p != "" {
			forms = append(forms, p+national, p+"00"+intl)
		}
	}
	return forms
}

func digitsOnly(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Logical columns: the Asterisk cdr column names this connector reads.
const (
	colCalldate    = "calldate"
	colStart       = "start"
	colAnswer      = "answer"
	colEnd         = "end"
	colCLID        = "clid"
	colSrc         = "src"
	colDst         = "dst"
	colChannel     = "channel"
	colDstChannel  = "dstchannel"
	colLastApp     = "lastapp"
	colLastData    = "lastdata"
	colDuration    = "duration"
	colBillsec     = "billsec"
	colDisposition = "disposition"
	colAMAFlags    = "amaflags"
	colAccountCode = "accountcode"
	colUniqueID    = "uniqueid"
	colUserField   = "userfield"
	colLinkedID    = "linkedid"
)

// readColumns are the columns read when the table has them, in select
// order. dcontext has no place in the calls dataset and is not read.
var readColumns = []string{colCalldate, colStart, colAnswer, colEnd, colCLID, colSrc, colDst,
	colChannel, colDstChannel, colLastApp, colLastData, colDuration, colBillsec, colDisposition,
	colAMAFlags, colAccountCode, colUniqueID, colUserField, colLinkedID}

// requiredColumns must exist; so must start or calldate.
var requiredColumns = []string{colSrc, colDst, colChannel, colDstChannel}

// table is the cdr table as discovered at Fetch.
type table struct {
	quoted  string            // the quoted (schema-qualified) name
	cols    map[string]column // logical name -> column, for the columns present
	timeCol string            // start (Alembic) or calldate (classic)
	key     string            // the logical name of the row key ("" if none)
}

// query is one statement and its arguments.
type query struct {
	sql  string
	args []any
	cols []string // logical column names, in select order
	// pushed reports whether the subjects' identifiers were pushed into
	// the WHERE clause (false past the limits).
	pushed bool
}

// buildQuery builds the one statement of a Fetch. Every value comes from
// the subjects as a bind parameter; the statement text holds only quoted
// column names, placeholders and the escape character.
func buildQuery(d dialect, t table, f filter) query {
	var q query
	var sel []string
	for _, c := range readColumns {
		if _, ok := t.cols[c]; ok {
			q.cols = append(q.cols, c)
			sel = append(sel, d.quote(t.cols[c].name))
		}
	}
	if t.key != "" && !contains(q.cols, t.key) {
		q.cols = append(q.cols, t.key)
		sel = append(sel, d.quote(t.cols[t.key].name))
	}
	col := func(logical string) string { return d.quote(t.cols[logical].name) }
	param := func(v any) string {
		q.args = append(q.args, v)
		return d.placeholder(len(q.args))
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	b.WriteString(strings.Join(sel, ", "))
	b.WriteString(" FROM ")
	b.WriteString(t.quoted)
	if f.all {
		q.sql = b.String()
		return q
	}
	var where []string
	params := 2*len(f.numbers) + 2*len(f.patterns)
	if d == postgres {
		params = 1 + len(f.patterns)
	}
	if params <= maxParams && len(f.patterns) <= maxPatterns {
		q.pushed = true
		var or []string
		if len(f.numbers) > 0 {
			if d == postgres {
				p := param(f.numbers)
				or = append(or, col(colSrc)+" = ANY("+p+")", col(colDst)+" = ANY("+p+")")
			} else {
				or = append(or, col(colSrc)+" IN ("+params1(param, f.numbers)+")",
					col(colDst)+" IN ("+params1(param, f.numbers)+")")
			}
		}
		esc := " ESCAPE '" + string(likeEscape) + "'"
		for _, pat := range f.patterns {
			if d == postgres {
				p := param(pat)
				or = append(or, col(colChannel)+" LIKE "+p+esc, col(colDstChannel)+" LIKE "+p+esc)
			} else {
				or = append(or, col(colChannel)+" LIKE "+param(pat)+esc, col(colDstChannel)+" LIKE "+param(pat)+esc)
			}
		}
		if len(or) == 0 {
			or = []string{"1 = 0"} // no identifier this table can hold
		}
		where = append(where, "("+strings.Join(or, "\n   OR ")+")")
	}
	tc := t.cols[t.timeCol]
	bound := func(op, v string) {
		switch {
		case v == "":
		case d == sqlite:
			// SQLite compares text with text; a time stored as a number
			// (epoch) is let through for Go to judge.
			where = append(where, "(typeof("+col(t.timeCol)+") <> 'text' OR "+col(t.timeCol)+" "+op+" "+param(v)+")")
		case tc.isDateTime():
			where = append(where, col(t.timeCol)+" "+op+" "+param(v))
		}
	}
	bound(">=", f.from)
	bound("<", f.to)
	if len(where) > 0 {
		b.WriteString("\nWHERE ")
		b.WriteString(strings.Join(where, "\n  AND "))
	}
	// A stable order, so that two Fetches emit the same records in the
	// same order.
	var order []string
	for _, c := range []string{t.timeCol, colUniqueID, t.key, colChannel, colDstChannel, colSrc, colDst, colEnd} {
		if _, ok := t.cols[c]; ok && c != "" && !contains(order, c) {
			order = append(order, c)
		}
	}
	for i, c := range order {
		order[i] = col(c)
	}
	b.WriteString("\nORDER BY ")
	b.WriteString(strings.Join(order, ", "))
	q.sql = b.String()
	return q
}

// params1 adds one parameter per value and returns their placeholders.
func params1(param func(any) string, vs []string) string {
	ps := make([]string, len(vs))
	for i, v := range vs {
		ps[i] = param(v)
	}
	return strings.Join(ps, ", ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// splitTable splits a configured table name into its parts: "cdr" or
// "schema.cdr". Names are used as stored (quoted), so case matters.
func splitTable(name string) ([]string, bool) {
	parts := strings.Split(name, ".")
	if len(parts) > 2 {
		return nil, false
	}
	for _, p := range parts {
		if p == "" || strings.ContainsRune(p, 0) || strings.TrimSpace(p) != p {
			return nil, false
		}
	}
	return parts, true
}
