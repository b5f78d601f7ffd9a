package asterisksql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/source/sourcetest"
	"github.com/dsar-tool/dsar/exporter/sources/asterisk"
)

// backends returns the three databases, each opened within t.
var allBackends = []struct {
	name string
	open func(*testing.T) *backend
}{
	{"postgres", pgBackend},
	{"mysql", mysqlBackend},
	{"sqlite", sqliteBackend},
}

// TestSameAsCSV checks that a row means the same to this connector as
// the same row in Master.csv means to the asterisk-csv connector: with
// the Alembic schema (start, answer and end stored) every record is
// equal, except where it is (source_ref).
func TestSameAsCSV(t *testing.T) {
	csvSrc, err := asterisk.New("pbx", asterisk.Config{
		Paths:        []string{filepath.Join("testdata", "Master.csv")},
		Timezone:     "Europe/London",
		ExtraColumns: []string{"uniqueid", "userfield"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := newSink(t)
	if _, err := csvSrc.Fetch(context.Background(), sourcetest.Query(t, sampleSubjects()), want); err != nil {
		t.Fatal(err)
	}
	for _, be := range allBackends {
		t.Run(be.name, func(t *testing.T) {
			b := be.open(t)
			name := b.table(t, alembic)
			b.load(t, name, alembic, sampleRows(t))
			got, _, err := fetch(t, b.newSource(t, name, nil), sampleSubjects())
			if err != nil {
				t.Fatal(err)
			}
			a, g := canonical(want.Records), canonical(got.Records)
			if len(a) != len(g) {
				t.Fatalf("%d records, asterisk-csv %d", len(g), len(a))
			}
			for i := range a {
				if a[i] != g[i] {
					t.Errorf("record differs:\n sql %s\n csv %s", g[i], a[i])
				}
			}
		})
	}
}

// canonical renders records without source_ref, sorted.
func canonical(es []sourcetest.Emitted) []string {
	ref := model.Calls.Index("source_ref")
	var out []string
	for _, e := range es {
		r := append(model.Record(nil), e.Record...)
		r[ref] = ""
		out = append(out, fmt.Sprintf("%s %v", e.Subject, r))
	}
	sort.Strings(out)
	return out
}

// TestQueryBindsValues checks that the subjects' numbers and endpoints
// reach the database only as bound parameters.
func TestQueryBindsValues(t *testing.T) {
	subjects := sampleSubjects()
	subjects = append(subjects, model.Subject{ID: "S-9", Identifiers: []model.Identifier{
		{Kind: model.KindSIP, Value: "o'brien_100%!"},
		{Kind: model.KindEmail, Value: "x@example.ac.uk"}, // no place in a cdr table
	}})
	q := sourcetest.Query(t, subjects)
	q.Matcher.OutsidePrefixes = []string{"9"}
	f := newFilter(q)
	tbl := table{timeCol: colStart, key: colUniqueID, cols: map[string]column{}}
	for _, c := range readColumns {
		if c != colCalldate {
			tbl.cols[c] = column{name: c, typ: "timestamp without time zone"}
		}
	}
	for _, d := range []dialect{postgres, mysqlDB, sqlite} {
		t.Run(d.String(), func(t *testing.T) {
			tbl.quoted = d.quoteTable([]string{"asterisk", "cdr"})
			qu := buildQuery(d, tbl, f)
			if !qu.pushed {
				t.Fatal("filter not pushed down")
			}
			for _, bad := range []string{"4321", "4312", "1432", "4400", "1632", "960555", "7946", "siobhan", "brien", "example"} {
				if strings.Contains(qu.sql, bad) {
					t.Errorf("statement holds the literal %q:\n%s", bad, qu.sql)
				}
			}
			var ph int
			if d == postgres {
				for _, m := range regexp.MustCompile(`\$(\d+)`).FindAllStringSubmatch(qu.sql, -1) {
					var n int
					fmt.Sscan(m[1], &n)
					ph = max(ph, n)
				}
			} else {
				ph = strings.Count(qu.sql, "?")
			}
			if ph != len(qu.args) {
				t.Errorf("%d placeholders, %d arguments", ph, len(qu.args))
			}
			args := fmt.Sprint(qu.args...)
			for _, want := range []string{"4321", "43210", "+441632960555", "441632960555", "00441632960555", "01632960555",
				"901632960555", "02079460312", "PJSIP/siobhan-desk-%", "SIP/4321-%", "IAX2/1432-%", "PJSIP/o'brien!_100!%!!-%"} {
				if !strings.Contains(args, want) {
					t.Errorf("arguments lack %q: %s", want, args)
				}
			}
			if !strings.Contains(qu.sql, d.quote("end")) {
				t.Errorf("end is not quoted:\n%s", qu.sql)
			}
			if strings.Contains(qu.sql, " end ") || strings.Contains(qu.sql, ", end") {
				t.Errorf("end is not quoted:\n%s", qu.sql)
			}
		})
	}
}

func TestFilter(t *testing.T) {
	t.Run("bounded", func(t *testing.T) {
		// S-1005 and S-1006 share 4400, one until 2025-06-30, one from
		// 2025-07-01: neither side is open for S-1005 alone.
		f := newFilter(sourcetest.Query(t, sampleSubjects()[4:5]))
		if f.from != "" || f.to != "2025-07-03 00:00:00" {
			t.Errorf("from %q to %q", f.from, f.to)
		}
		f = newFilter(sourcetest.Query(t, sampleSubjects()[5:6]))
		if f.from != "2025-06-29 00:00:00" || f.to != "" {
			t.Errorf("from %q to %q", f.from, f.to)
		}
		if want := []string{"4400"}; !reflect.DeepEqual(f.numbers, want) {
			t.Errorf("numbers %q, want %q", f.numbers, want)
		}
	})
	t.Run("open", func(t *testing.T) {
		f := newFilter(sourcetest.Query(t, sampleSubjects()))
		if f.from != "" || f.to != "" || f.all {
			t.Errorf("from %q to %q all %v", f.from, f.to, f.all)
		}
	})
	t.Run("no subjects", func(t *testing.T) {
		if f := newFilter(sourcetest.Query(t, nil)); !f.all {
			t.Error("want all rows")
		}
	})
	t.Run("nothing to look for", func(t *testing.T) {
		f := newFilter(sourcetest.Query(t, []model.Subject{{ID: "S-9", Identifiers: []model.Identifier{{Kind: model.KindUPN, Value: "a@b.c"}}}}))
		qu := buildQuery(sqlite, table{quoted: `"cdr"`, timeCol: colStart, cols: map[string]column{colStart: {name: "start"}, colSrc: {name: "src"}}}, f)
		if !strings.Contains(qu.sql, "1 = 0") || len(qu.args) != 0 {
			t.Errorf("%s %v", qu.sql, qu.args)
		}
	})
	t.Run("too many", func(t *testing.T) {
		var subjects []model.Subject
		for i := 0; i < 1001; i++ {
			subjects = append(subjects, model.Subject{ID: fmt.Sprint("S-", i), Identifiers: []model.Identifier{{Kind: model.KindSIP, Value: fmt.Sprint("ep", i)}}})
		}
		qu := buildQuery(mysqlDB, table{quoted: "`cdr`", timeCol: colStart, cols: map[string]column{colStart: {name: "start"}, colSrc: {name: "src"}}}, newFilter(sourcetest.Query(t, subjects)))
		if qu.pushed || len(qu.args) != 0 || strings.Contains(qu.sql, "WHERE") {
			t.Errorf("1,001 endpoints pushed down: %.200s", qu.sql)
		}
	})
}

// TestPushedDown checks on each server that a Fetch for one subject
// reads only the rows the filter selects, and that dated identifiers
// bound the time range.
func TestPushedDown(t *testing.T) {
	for _, be := range allBackends {
		t.Run(be.name, func(t *testing.T) {
			b := be.open(t)
			name := b.table(t, alembic)
			rows := sampleRows(t)
			b.load(t, name, alembic, rows)
			src := b.newSource(t, name, nil)
			_, all, err := fetch(t, src, nil)
			if err != nil || all.Read != int64(len(rows)) {
				t.Fatalf("no subjects: read %d of %d rows, err %v", all.Read, len(rows), err)
			}
			// Zoë (1432): rows with 1432 as src or dst or as the channel's
			// endpoint, and not 01432, 14320 or 43210.
			sink, st, err := fetch(t, src, sampleSubjects()[3:4])
			if err != nil {
				t.Fatal(err)
			}
			if st.Read != 6 || st.Selected != 6 || len(sink.Records) != 6 {
				t.Errorf("Zoë: %+v, want 6 rows read and selected", st)
			}
			// Dana (4400 until 2025-06-30): the range (two days wider)
			// leaves out Chen's calls on 4400 from August before Go sees
			// them; Go leaves out those of 1 and 2 July.
			_, st, err = fetch(t, src, sampleSubjects()[4:5])
			if err != nil {
				t.Fatal(err)
			}
			if st.Read != 6 || st.Selected != 4 {
				t.Errorf("Dana: %+v, want 6 of the 8 rows with 4400 read and 4 selected", st)
			}
		})
	}
}

// TestLikeEscaped checks on each server that an endpoint's _ and % are
// not wildcards.
func TestLikeEscaped(t *testing.T) {
	for _, be := range allBackends {
		t.Run(be.name, func(t *testing.T) {
			b := be.open(t)
			name := b.table(t, alembic)
			var rows []cdrRow
			for i, ch := range []string{"PJSIP/a_b%!-00000001", "PJSIP/axb%!-00000002", "PJSIP/a_bx!-00000003", "PJSIP/a_b%x-00000004", "PJSIP/A_B%!-00000005"} {
				rows = append(rows, cdrRow{src: "999", dst: "4399", channel: ch, dstchannel: "PJSIP/4399-1", start: "2025-01-06 09:00:00",
					end: "2025-01-06 09:01:00", duration: "60", billsec: "0", disposition: "NO ANSWER", uniqueid: fmt.Sprint("1736154000.", i)})
			}
			b.load(t, name, alembic, rows)
			subj := []model.Subject{{ID: "S-9", Identifiers: []model.Identifier{{Kind: model.KindSIP, Value: "a_b%!"}}}}
			sink, st, err := fetch(t, b.newSource(t, name, nil), subj)
			if err != nil {
				t.Fatal(err)
			}
			// MySQL's default collation compares case-insensitively, so it
			// also returns the A_B%! row, which Go then leaves out.
			if st.Read < 1 || st.Read > 2 || len(sink.Records) != 1 || get(sink.Records[0].Record, "channel") != "PJSIP/a_b%!-00000001" {
				t.Errorf("%+v %v", st, sink.Records)
			}
		})
	}
}

// TestIntegerDisposition checks that integer dispositions (and integer
// amaflags) read as their names do.
func TestIntegerDisposition(t *testing.T) {
	for _, be := range allBackends {
		t.Run(be.name, func(t *testing.T) {
			b := be.open(t)
			text, ints := b.table(t, classic), b.table(t, classicInt)
			b.load(t, text, classic, sampleRows(t))
			b.load(t, ints, classicInt, sampleRows(t))
			a, _, err := fetch(t, b.newSource(t, text, nil), sampleSubjects())
			if err != nil {
				t.Fatal(err)
			}
			g, _, err := fetch(t, b.newSource(t, ints, nil), sampleSubjects())
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Records) != len(g.Records) {
				t.Fatalf("%d records with integer dispositions, %d with text", len(g.Records), len(a.Records))
			}
			outcomes := map[string]bool{}
			for i := range a.Records {
				ra, rg := a.Records[i].Record, g.Records[i].Record
				if get(ra, "outcome") != get(rg, "outcome") || get(ra, "answer_utc") != get(rg, "answer_utc") {
					t.Errorf("record %d: outcome %v/%v answer %v/%v", i, get(rg, "outcome"), get(ra, "outcome"), get(rg, "answer_utc"), get(ra, "answer_utc"))
				}
				code := fmt.Sprint(dispositionNames[get(ra, "outcome_raw").(string)])
				if get(rg, "outcome_raw") != code {
					t.Errorf("record %d: outcome_raw %v, want %s", i, get(rg, "outcome_raw"), code)
				}
				outcomes[get(rg, "outcome").(string)] = true
				if fa, fg := get(ra, "ama_flags"), get(rg, "ama_flags"); fa != fg || fa == "" {
					t.Errorf("record %d: ama_flags %q with text dispositions, %q with integer ones", i, fa, fg)
				}
			}
			for _, o := range []string{"answered", "no_answer", "busy", "failed", "congestion", "cancelled"} {
				if !outcomes[o] {
					t.Errorf("no %s call in the sample", o)
				}
			}
		})
	}
}

func TestDecodeAMAFlags(t *testing.T) {
	for _, c := range []struct {
		in   any
		want string
		ok   bool
	}{
		{"DOCUMENTATION", "DOCUMENTATION", true}, {" BILLING ", "BILLING", true}, {[]byte("OMIT"), "OMIT", true},
		{int64(3), "DOCUMENTATION", true}, {int64(2), "BILLING", true}, {int64(1), "OMIT", true}, {"0", "", true},
		{int64(7), "7", true}, {nil, "", true}, {"\xff", "", false},
	} {
		got, ok := decodeAMAFlags(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("decodeAMAFlags(%#v) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestDecodeDisposition(t *testing.T) {
	for _, c := range []struct {
		in        any
		name, raw string
	}{
		{"ANSWERED", "ANSWERED", "ANSWERED"},
		{[]byte("NO ANSWER"), "NO ANSWER", "NO ANSWER"},
		{int64(0), "NO ANSWER", "0"},
		{int64(1), "NO ANSWER", "1"},
		{int64(2), "FAILED", "2"},
		{int64(4), "BUSY", "4"},
		{[]byte("8"), "ANSWERED", "8"},
		{int64(16), "CONGESTION", "16"},
		{float64(32), "CANCEL", "32"},
		{int64(64), "", "64"},
		{nil, "", ""},
	} {
		name, raw, ok := decodeDisposition(c.in)
		if !ok || name != c.name || raw != c.raw {
			t.Errorf("%#v: %q %q %v, want %q %q", c.in, name, raw, ok, c.name, c.raw)
		}
	}
	if _, _, ok := decodeDisposition([]byte{0xff}); ok {
		t.Error("invalid UTF-8 accepted")
	}
}

func TestDecodeTime(t *testing.T) {
	l := func(s string) tval {
		tm, _ := time.Parse(time.DateTime, s)
		return tval{kind: tLocal, v: tm.Unix()}
	}
	for _, c := range []struct {
		in   any
		tz   bool
		want tval
		ok   bool
	}{
		{"2025-01-06 09:02:11", false, l("2025-01-06 09:02:11"), true},
		{[]byte("2025-01-06T09:02:11.250"), false, l("2025-01-06 09:02:11"), true},
		{"2025-01-06 09:02:11+01", false, tval{tInstant, 1736150531}, true},
		{time.Date(2025, 1, 6, 9, 2, 11, 0, time.FixedZone("x", 3600)), false, l("2025-01-06 09:02:11"), true},
		{time.Date(2025, 1, 6, 9, 2, 11, 0, time.FixedZone("x", 3600)), true, tval{tInstant, 1736150531}, true},
		{int64(1736154131), false, tval{tInstant, 1736154131}, true},
		{[]byte("1736154131.5"), false, tval{tInstant, 1736154131}, true},
		{nil, false, tval{}, true},
		{"", false, tval{}, true},
		{"0000-00-00 00:00:00", false, tval{}, true},
		{int64(0), false, tval{}, true},
		{"yesterday", false, tval{}, false},
		{"2025-02-30 10:00:00", false, tval{}, false},
		{int64(-5), false, tval{}, false},
	} {
		got, ok := decodeTime(c.in, c.tz)
		if ok != c.ok || ok && got != c.want {
			t.Errorf("%#v: %+v %v, want %+v %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// TestClassicAmbiguous checks a classic row (calldate only) in the
// repeated hour: uniqueid's creation time picks the reading.
func TestClassicAmbiguous(t *testing.T) {
	z := newZoneResolver(sourcetest.London(t))
	local := func(s string) tval {
		tm, _ := time.Parse(time.DateTime, s)
		return tval{kind: tLocal, v: tm.Unix()}
	}
	// 01:20 on 26 October 2025 happened twice: 00:20Z (BST) and 01:20Z.
	for _, c := range []struct {
		hint int64
		want string
	}{
		{1761441600, "2025-10-26T01:20:00Z"}, // uniqueid 1761441600.132
		{1761438000, "2025-10-26T00:20:00Z"},
		{0, "2025-10-26T00:20:00Z"}, // no hint: the earlier
	} {
		tm, _, ok := z.resolveTimes(rowTimes{start: local("2025-10-26 01:20:00"), dur: 300, hasDur: true, bill: 292, hasBill: true, deriveAnswer: true, hint: c.hint})
		if !ok || time.Unix(tm.start, 0).UTC().Format(time.RFC3339) != c.want || tm.end-tm.start != 300 || tm.end-tm.answer != 292 || !tm.answered {
			t.Errorf("hint %d: %+v, want start %s", c.hint, tm, c.want)
		}
	}
	if _, bad, ok := z.resolveTimes(rowTimes{start: local("2025-03-30 01:30:00")}); ok || bad != "start" {
		t.Errorf("a start in the spring gap: ok %v bad %q", ok, bad)
	}
}

// TestTimestamptz checks that PostgreSQL timestamptz values are taken as
// the instants they are, whatever the configured zone.
func TestTimestamptz(t *testing.T) {
	b := pgBackend(t)
	name := b.schema + ".cdr"
	b.exec(t, `CREATE TABLE `+b.quoted(name)+` (src text, dst text, channel text, dstchannel text, start timestamptz, answer timestamptz, "end" timestamptz, duration int, billsec int, disposition text, uniqueid text)`)
	b.exec(t, `INSERT INTO `+b.quoted(name)+` VALUES ('4321', '4399', 'PJSIP/4321-1', 'PJSIP/4399-2', '2025-10-26 00:50:00+00', '2025-10-26 00:50:12+00', '2025-10-26 01:10:00+00', 1200, 1188, 'ANSWERED', '1761439800.130')`)
	for _, tz := range []string{"Europe/London", "America/New_York"} {
		sink, _, err := fetch(t, b.newSource(t, name, func(c *Config) { c.Timezone = tz }), sampleSubjects()[:1])
		if err != nil {
			t.Fatal(err)
		}
		if len(sink.Records) != 1 {
			t.Fatalf("%s: %d records", tz, len(sink.Records))
		}
		r := sink.Records[0].Record
		if s := get(r, "start_utc").(time.Time).Format(time.RFC3339); s != "2025-10-26T00:50:00Z" {
			t.Errorf("%s: start %s", tz, s)
		}
		if e := get(r, "end_utc").(time.Time).Format(time.RFC3339); e != "2025-10-26T01:10:00Z" {
			t.Errorf("%s: end %s", tz, e)
		}
	}
}

// TestUnreachable checks that a database that cannot be reached fails
// the Fetch with the source's name and without the DSN's password.
func TestUnreachable(t *testing.T) {
	const secret = "Sup3r-s3cret"
	for _, c := range []struct {
		driver, dsn string
	}{
		{"postgres", "postgres://dsar:" + secret + "@127.0.0.1:1/asterisk?connect_timeout=2"},
		{"postgres", "host=127.0.0.1 port=1 user=dsar password=" + secret + " dbname=asterisk connect_timeout=2"},
		{"mysql", "dsar:" + secret + "@tcp(127.0.0.1:1)/asteriskcdrdb?timeout=2s"},
		{"postgres", "postgres://dsar:" + secret + "@[bad"},
		{"mysql", "dsar:" + secret + "@tcp(127.0.0.1:1"},
	} {
		s, err := New("pbx", Config{Driver: c.driver, DSN: c.dsn, Timezone: "UTC"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Fetch(context.Background(), sourcetest.Query(t, sampleSubjects()), newSink(t))
		if err == nil {
			t.Fatalf("%s: no error", c.driver)
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, `source "pbx": `) || strings.Contains(msg, secret) || strings.Contains(msg, "3cret") {
			t.Errorf("%s: %s", c.driver, msg)
		}
		t.Log(msg)
	}
	t.Run("sqlite file missing", func(t *testing.T) {
		s, err := New("pbx", Config{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "missing.db"), Timezone: "UTC"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Fetch(context.Background(), sourcetest.Query(t, nil), newSink(t))
		if err == nil || !strings.HasPrefix(err.Error(), `source "pbx": sqlite database: `) || !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("dsn_env unset", func(t *testing.T) {
		t.Setenv("DSAR_TEST_CDR_DSN", "")
		os.Unsetenv("DSAR_TEST_CDR_DSN")
		s, err := New("pbx", Config{Driver: "postgres", DSNEnv: "DSAR_TEST_CDR_DSN", Timezone: "UTC"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Fetch(context.Background(), sourcetest.Query(t, nil), newSink(t))
		if err == nil || err.Error() != `source "pbx": environment variable "DSAR_TEST_CDR_DSN" (dsn_env) is not set` {
			t.Errorf("err = %v", err)
		}
	})
}

func TestDSNEnv(t *testing.T) {
	b := sqliteBackend(t)
	name := b.table(t, alembic)
	b.load(t, name, alembic, sampleRows(t))
	t.Setenv("DSAR_TEST_CDR_DSN", b.dsn)
	s := b.newSource(t, name, func(c *Config) { c.DSN, c.DSNEnv = "", "DSAR_TEST_CDR_DSN" })
	sink, _, err := fetch(t, s, sampleSubjects())
	if err != nil || len(sink.Records) != 52 {
		t.Errorf("%d records, err %v", len(sink.Records), err)
	}
}

// TestStrict checks that strict mode fails a Fetch that rejected rows,
// after reporting them.
func TestStrict(t *testing.T) {
	b := sqliteBackend(t)
	name := b.table(t, alembic)
	b.load(t, name, alembic, append(sampleRows(t), sqliteBadDuration()))
	sink, st, err := fetch(t, b.newSource(t, name, func(c *Config) { c.Strict = true }), sampleSubjects())
	want := fmt.Sprintf(`source "pbx": 2 row(s) of table %q could not be read (strict mode)`, name)
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
	if st.Rejected != 2 || len(sink.Rejects) != 2 {
		t.Errorf("%+v, %d rejections", st, len(sink.Rejects))
	}
	for _, r := range sink.Rejects {
		t.Logf("%+v", r)
		if !strings.HasPrefix(r.File, name+":17") || r.Line != 0 {
			t.Errorf("rejection %+v: want the table and the row's uniqueid", r)
		}
	}
	want1 := []string{
		`a time that does not exist in zone Europe/London (clock change) in column start`,
		`not an integer in column duration`,
	}
	if got := []string{sink.Rejects[0].Reason, sink.Rejects[1].Reason}; !reflect.DeepEqual(got, want1) {
		t.Errorf("reasons %q, want %q", got, want1)
	}
	// Without strict the same table reads, with the same rejections.
	_, st, err = fetch(t, b.newSource(t, name, nil), sampleSubjects())
	if err != nil || st.Rejected != 2 || st.Selected != 52 {
		t.Errorf("%+v, err %v", st, err)
	}
}

// TestTableErrors checks the messages for a table that is not a cdr
// table or is not there.
func TestTableErrors(t *testing.T) {
	b := sqliteBackend(t)
	b.exec(t, `CREATE TABLE notcdr (src text, dst text, channel text, calldate text)`)
	b.exec(t, `CREATE TABLE nostart (src text, dst text, channel text, dstchannel text)`)
	for _, c := range []struct{ table, want string }{
		{"missing", `source "pbx": table "missing" not found in the sqlite database (names are case-sensitive; qualify it as schema.table if needed)`},
		{"notcdr", `source "pbx": table "notcdr" has no dstchannel column: an Asterisk cdr table has src, dst, channel, dstchannel and start or calldate`},
		{"nostart", `source "pbx": table "nostart" has neither a start nor a calldate column: an Asterisk cdr table has one`},
	} {
		_, _, err := fetch(t, b.newSource(t, c.table, nil), sampleSubjects())
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: err = %v\nwant %s", c.table, err, c.want)
		}
	}
	_, _, err := fetch(t, b.newSource(t, "notcdr", func(c *Config) { c.KeyColumn = "acctid" }), nil)
	if err == nil || !strings.Contains(err.Error(), "no dstchannel column") {
		t.Errorf("err = %v", err)
	}
}

// TestKeyColumn checks source_ref with an id column, found or named.
func TestKeyColumn(t *testing.T) {
	b := sqliteBackend(t)
	b.exec(t, `CREATE TABLE cdr (acctid integer primary key, calldate text, src text, dst text, channel text, dstchannel text, duration int, billsec int, disposition text, uniqueid text, rowname text)`)
	b.exec(t, `INSERT INTO cdr VALUES (41, '2025-01-06 09:02:11', '4321', '4312', 'PJSIP/4321-1', 'PJSIP/siobhan-desk-2', 316, 312, 'ANSWERED', '1736154131.104', 'r-a')`)
	for _, c := range []struct{ key, want string }{{"", "cdr:41"}, {"rowname", "cdr:r-a"}, {"uniqueid", "cdr:1736154131.104"}} {
		sink, _, err := fetch(t, b.newSource(t, "cdr", func(cf *Config) { cf.KeyColumn = c.key }), sampleSubjects()[:2])
		if err != nil || len(sink.Records) != 2 {
			t.Fatalf("key %q: %d records, err %v", c.key, len(sink.Records), err)
		}
		if ref := get(sink.Records[0].Record, "source_ref"); ref != c.want {
			t.Errorf("key %q: source_ref %v, want %s", c.key, ref, c.want)
		}
	}
}

// TestKind builds the source from its configuration entry.
func TestKind(t *testing.T) {
	build := func(doc string) (source.Source, error) {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
			t.Fatal(err)
		}
		return Kind.New("pbx", func(v any) error { return n.Content[0].Decode(v) }, func(p string) string {
			if filepath.IsAbs(p) {
				return p
			}
			return filepath.Join("/etc/dsar", p)
		})
	}
	s, err := build("driver: sqlite\ndsn: cdr.db\ntimezone: Europe/London\nstrict: true\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.(*SQL).cfg; got.DSN != "/etc/dsar/cdr.db" || got.Table != "cdr" || !got.Strict || s.Kind() != "asterisk-sql" {
		t.Errorf("%+v", got)
	}
	s, err = build("driver: postgres\ndsn: postgres://dsar@db/asterisk\ntable: asterisk.cdr\ntimezone: UTC\n")
	if err != nil || s.(*SQL).cfg.DSN != "postgres://dsar@db/asterisk" {
		t.Errorf("%v %+v", err, s)
	}
	for doc, want := range map[string]string{
		"driver: oracle\ndsn: x\ntimezone: UTC":              `source "pbx": driver "oracle" is not supported: want postgres, mysql (also for MariaDB) or sqlite`,
		"driver: mysql\ntimezone: UTC":                       `source "pbx": dsn or dsn_env is required`,
		"driver: mysql\ndsn: x\ndsn_env: Y\ntimezone: UTC":   `source "pbx": give dsn or dsn_env, not both`,
		"driver: mysql\ndsn: x":                              `source "pbx": timezone is required: the zone the PBX writes times in (cdr_pgsql.conf timezone=, else the PBX host's zone, e.g. Europe/London)`,
		"driver: mysql\ndsn: x\ntimezone: Mars/Base":         `source "pbx": timezone "Mars/Base": unknown time zone Mars/Base`,
		"driver: mysql\ndsn: x\ntimezone: UTC\ntable: a.b.c": `source "pbx": table "a.b.c": want a table name or schema.table`,
	} {
		if _, err := build(doc); err == nil || err.Error() != want {
			t.Errorf("%q: err = %v\nwant %s", doc, err, want)
		}
	}
	for _, k := range Kind.Keys {
		if k.Description == "" || strings.HasSuffix(k.Description, ".") {
			t.Errorf("key %s: description %q", k.Name, k.Description)
		}
	}
}

func TestRedactor(t *testing.T) {
	r := redactor{}
	for in, want := range map[string]string{
		`cannot parse "postgres://u:pw@h/db"`:    `cannot parse "postgres://u:xxxxx@h/db"`,
		`failed: host=h password=pw user=u`:      `failed: host=h password=xxxxx user=u`,
		`failed: password='p w' user=u`:          `failed: password=xxxxx user=u`,
		`bad dsn u:pw@tcp(h:3306)/db`:            `bad dsn u:xxxxx@tcp(h:3306)/db`,
		`dial tcp 127.0.0.1:1: connect: refused`: `dial tcp 127.0.0.1:1: connect: refused`,
	} {
		if got := r.text(in); got != want {
			t.Errorf("%q -> %q, want %q", in, got, want)
		}
	}
}

// TestTableNames checks schema-qualified and unqualified table names on
// each server.
func TestTableNames(t *testing.T) {
	t.Run("postgres search_path", func(t *testing.T) {
		b := pgBackend(t)
		name := b.table(t, alembic)
		b.load(t, name, alembic, sampleRows(t))
		schema, table, _ := strings.Cut(name, ".")
		b.dsn += "&search_path=" + schema
		sink, _, err := fetch(t, b.newSource(t, table, nil), sampleSubjects())
		if err != nil || len(sink.Records) != 52 {
			t.Errorf("%d records, err %v", len(sink.Records), err)
		}
	})
	t.Run("mysql database.table", func(t *testing.T) {
		b := mysqlBackend(t)
		name := b.table(t, classic)
		b.load(t, name, classic, sampleRows(t))
		b.dsn = "root@tcp(127.0.0.1:3306)/?timeout=5s" // no default database
		sink, _, err := fetch(t, b.newSource(t, "test."+name, nil), sampleSubjects())
		if err != nil || len(sink.Records) != 52 {
			t.Errorf("%d records, err %v", len(sink.Records), err)
		}
		_, _, err = fetch(t, b.newSource(t, name, nil), sampleSubjects())
		if err == nil || !strings.Contains(err.Error(), "not found in the mysql database") {
			t.Errorf("unqualified without a database: err = %v", err)
		}
	})
	t.Run("sqlite main.table", func(t *testing.T) {
		b := sqliteBackend(t)
		name := b.table(t, classic)
		b.load(t, name, classic, sampleRows(t))
		sink, _, err := fetch(t, b.newSource(t, "main."+name, nil), sampleSubjects())
		if err != nil || len(sink.Records) != 52 {
			t.Errorf("%d records, err %v", len(sink.Records), err)
		}
	})
}

// TestSQLitePath checks a database file whose name holds URI characters,
// and that the connector opens it read-only.
func TestSQLitePath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cdr #1?x=y%20")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	b := sqliteBackend(t)
	b.dsn = filepath.Join(dir, "asterisk.db")
	db, err := sql.Open("sqlite", (&url.URL{Scheme: "file", Path: b.dsn}).String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b.admin = db
	name := b.table(t, alembic)
	b.load(t, name, alembic, sampleRows(t))
	sink, _, err := fetch(t, b.newSource(t, name, nil), sampleSubjects())
	if err != nil || len(sink.Records) != 52 {
		t.Fatalf("%d records, err %v", len(sink.Records), err)
	}
	s := b.newSource(t, name, nil)
	dsn, _, err := s.dsn()
	if err != nil {
		t.Fatal(err)
	}
	ro, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Exec("DELETE FROM " + b.quoted(name)); err == nil {
		t.Error("the connector's connection can write")
	}
}

// TestIndexAdvice checks that the indexes the package documentation
// advises serve the query (PostgreSQL, with sequential scans discouraged
// since the sample is small; and SQLite).
func TestIndexAdvice(t *testing.T) {
	for _, c := range []struct {
		name    string
		open    func(*testing.T) *backend
		indexes []string
		prep    string
		explain string
		want    []string
		not     string
	}{
		{"postgres", pgBackend, []string{"(src)", "(dst)", "(channel text_pattern_ops)", "(dstchannel text_pattern_ops)"},
			"SET enable_seqscan = off", "EXPLAIN ", []string{"_src_idx", "_dst_idx", "_channel_idx", "_dstchannel_idx"}, "Seq Scan "},
		{"sqlite", sqliteBackend, []string{"(src)", "(dst)", "(channel)", "(dstchannel)"},
			"", "EXPLAIN QUERY PLAN ", []string{"_src_idx", "_dst_idx", "_channel_idx", "_dstchannel_idx"}, "SCAN "},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := c.open(t)
			name := b.table(t, alembic)
			b.load(t, name, alembic, sampleRows(t))
			_, table, _ := strings.Cut(name, ".")
			if table == "" {
				table = name
			}
			for i, col := range []string{"src", "dst", "channel", "dstchannel"} {
				b.exec(t, "CREATE INDEX "+table+"_"+col+"_idx ON "+b.quoted(name)+" "+c.indexes[i])
			}
			if b.d == postgres {
				b.exec(t, "ANALYZE "+b.quoted(name))
			}
			s := b.newSource(t, name, nil)
			ctx := context.Background()
			db, tbl, _, err := s.open(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			qu := buildQuery(b.d, tbl, newFilter(sourcetest.Query(t, sampleSubjects()[:2])))
			conn, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if c.prep != "" {
				if _, err := conn.ExecContext(ctx, c.prep); err != nil {
					t.Fatal(err)
				}
			}
			rows, err := conn.QueryContext(ctx, c.explain+qu.sql, qu.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			cols, _ := rows.Columns()
			var plan []string
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, fmt.Sprint(vals[len(vals)-1]))
			}
			text := strings.Join(plan, "\n")
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("plan does not use %s:\n%s", w, text)
				}
			}
			for _, l := range plan {
				if strings.HasPrefix(strings.TrimLeft(l, " ->"), c.not) {
					t.Errorf("plan scans the table:\n%s", text)
				}
			}
		})
	}
}
