package asterisk

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/source/sourcetest"
)

const (
	sampleCSV      = "../../../samples/cdr-csv/Master.csv"
	sampleSubjYAML = "../../../samples/subjects.yaml"
)

// TestSampleSubjectsMirrorYAML checks that sampleSubjects() is exactly
// samples/subjects.yaml.
func TestSampleSubjectsMirrorYAML(t *testing.T) {
	// The file also serves the other sample sources; compare the kinds
	// asterisk-csv matches on.
	got := sourcetest.LoadSubjects(t, sampleSubjYAML)
	for i := range got {
		var ids []model.Identifier
		for _, id := range got[i].Identifiers {
			if id.Kind == model.KindExtension || id.Kind == model.KindSIP || id.Kind == model.KindPhone {
				ids = append(ids, id)
			}
		}
		got[i].Identifiers = ids
	}
	if want := sampleSubjects(); !reflect.DeepEqual(got, want) {
		t.Errorf("samples/subjects.yaml:\n%+v\nsampleSubjects():\n%+v", got, want)
	}
}

// sampleExpect is what samples/cdr-csv/Master.csv holds for each subject
// of samples/subjects.yaml: the lines of their records with their role
// (c caller, e callee), and lines that look like theirs but are not, each
// with the text that makes it a near miss.
var sampleExpect = []struct {
	subject string
	lines   string
	absent  map[int]string
}{
	{
		subject: "S-1001", // 4321 from 2024-09-01, sip 4321 from 2024-09-01, 01632 960555
		lines:   "3c 4c 5e 8e 9e 11c 14c 16e 17c 19e 20e 21c 23c 25e 27c 29e 32e 33e 34c 36c 37e 40c 43c",
		absent: map[int]string{
			1:  `"4321"`,               // before the extension was Alex's
			2:  `"4321"`,               // same
			6:  `"4321","4312"`,        // account code
			12: `"01632960556"`,        // the neighbouring number
			13: `01632 960555 re 4321`, // userfield
			15: `"PJSIP/4321&`,         // dial string
			18: `Local/4321@`,          // a Local channel
			31: `IAX2/branch-office-4321`,
			39: `transfer to 4321`, // userfield
			7:  `"43210"`,
			38: `"43210"`,
			48: `"14320"`,
		},
	},
	{
		subject: "S-1002", // 4312, sip siobhan-desk, 020 7946 0312
		lines:   "4e 6c 10e 15e 20c 26e 30c 32c 40e 46e",
		absent: map[int]string{
			47: `PJSIP/siobhan-desk2-`, // another endpoint; and 02079460313, a neighbouring number
			1:  `"4321","4399"`,
		},
	},
	{
		subject: "S-1003", // 43210
		lines:   "7c 11e 35e 37c 38e",
		absent: map[int]string{
			43: `"43210","4321"`, // account code
			49: `1432 and 43210`, // userfield
			3:  `"4321"`,
		},
	},
	{
		subject: "S-1004", // 1432
		lines:   "8c 9c 22c 35c 36e 46c",
		absent: map[int]string{
			48: `"1432","01432","14320"`, // account code, 01432 and 14320 as numbers and endpoints
			49: `"1763143200.147"`,       // inside the uniqueid (and the userfield)
			50: `Local/1432@`,
		},
	},
	{
		subject: "S-1005", // 4400 until 2025-06-30
		lines:   "13c 24c 26c 27e",
		absent:  map[int]string{28: `"4400"`, 29: `"4400"`, 30: `"4400"`, 41: `"4400"`},
	},
	{
		subject: "S-1006", // 4400 from 2025-07-01
		lines:   "28e 29c 30e 41c",
		absent:  map[int]string{13: `"4400"`, 24: `"4400"`, 26: `"4400"`, 27: `"4400"`},
	},
}

// TestSample reads samples/cdr-csv/Master.csv for the subjects of
// samples/subjects.yaml.
func TestSample(t *testing.T) {
	data, err := os.ReadFile(sampleCSV)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	subjects := sourcetest.LoadSubjects(t, sampleSubjYAML)
	c := newCSV(t, Config{Paths: []string{sampleCSV}, Timezone: "Europe/London", ExtraColumns: []string{"uniqueid", "userfield"}})
	sink := newSink(t) // checks every record with model.Calls.Check
	st, err := c.Fetch(context.Background(), sourcetest.Query(t, subjects), sink)
	if err != nil {
		t.Fatal(err)
	}
	if st.Read != int64(len(lines)) || st.Rejected != 0 || len(sink.Rejects) != 0 || st.Selected != int64(len(sink.Records)) {
		t.Errorf("stats %+v for %d lines, rejects %+v", st, len(lines), sink.Rejects)
	}
	total := 0
	for _, ex := range sampleExpect {
		want := strings.Fields(ex.lines)
		total += len(want)
		var got []string
		recs := sink.BySubject(ex.subject)
		for _, r := range recs {
			if err := model.Calls.Check(r); err != nil {
				t.Errorf("%s: %v", ex.subject, err)
			}
			ref := get(r, "source_ref").(string)
			n, err := strconv.Atoi(strings.TrimPrefix(ref, "Master.csv:"))
			if err != nil {
				t.Fatalf("source_ref %q", ref)
			}
			role := map[any]string{"caller": "c", "callee": "e"}[get(r, "subject_role")]
			got = append(got, fmt.Sprintf("%d%s", n, role))
			if _, bad := ex.absent[n]; bad {
				t.Errorf("%s: near-miss line %d matched", ex.subject, n)
			}
		}
		if len(recs) != len(want) {
			t.Errorf("%s: %d records, want %d", ex.subject, len(recs), len(want))
		}
		if strings.Join(got, " ") != ex.lines {
			t.Errorf("%s: lines %s\nwant       %s", ex.subject, strings.Join(got, " "), ex.lines)
		}
		// The near misses really are near: the line holds the look-alike.
		for n, text := range ex.absent {
			if !strings.Contains(lines[n-1], text) {
				t.Errorf("%s: line %d does not hold %q: fix the test", ex.subject, n, text)
			}
		}
	}
	if total != len(sink.Records) {
		t.Errorf("%d records in all, want %d", len(sink.Records), total)
	}
	subjectsSeen := map[string]bool{}
	for _, e := range sink.Records {
		subjectsSeen[e.Subject] = true
	}
	var ids []string
	for id := range subjectsSeen {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if strings.Join(ids, " ") != "S-1001 S-1002 S-1003 S-1004 S-1005 S-1006" {
		t.Errorf("subjects %v", ids)
	}

	// The clock-change rows.
	times := map[string][2]string{ // source_ref -> start, end (UTC)
		"Master.csv:24": {"2025-03-30T00:55:00Z", "2025-03-30T01:05:00Z"}, // across the spring change
		"Master.csv:25": {"2025-03-30T01:30:00Z", "2025-03-30T01:32:55Z"},
		"Master.csv:32": {"2025-10-26T00:50:00Z", "2025-10-26T01:10:00Z"}, // starts BST, ends GMT, in the repeated hour
		"Master.csv:33": {"2025-10-25T23:45:00Z", "2025-10-26T01:15:00Z"}, // ends in the second 01:15
		"Master.csv:34": {"2025-10-26T01:20:00Z", "2025-10-26T01:25:00Z"}, // wholly in the second 01:xx (file order)
		"Master.csv:27": {"2025-06-30T22:30:00Z", "2025-06-30T22:30:50Z"},
	}
	for _, e := range sink.Records {
		ref := get(e.Record, "source_ref").(string)
		if want, ok := times[ref]; ok {
			if get(e.Record, "start_utc") != utc(want[0]) || get(e.Record, "end_utc") != utc(want[1]) {
				t.Errorf("%s: %v - %v, want %s - %s", ref, get(e.Record, "start_utc"), get(e.Record, "end_utc"), want[0], want[1])
			}
		}
	}

	// Names from the clid, unescaped.
	for _, e := range sink.Records {
		if get(e.Record, "source_ref") == "Master.csv:5" && get(e.Record, "other_name") != `Prof "Jim" O'Brien, Jr.` {
			t.Errorf("line 5 other_name %q", get(e.Record, "other_name"))
		}
		if get(e.Record, "source_ref") == "Master.csv:10" && get(e.Record, "other_name") != `=HYPERLINK("http://x")` {
			t.Errorf("line 10 other_name %q", get(e.Record, "other_name"))
		}
	}
}

// TestSampleOneSubjectAtATime checks that asking for one subject gives
// exactly that subject's share of the full run.
func TestSampleOneSubjectAtATime(t *testing.T) {
	c := newCSV(t, Config{Paths: []string{sampleCSV}, ExtraColumns: []string{"uniqueid", "userfield"}})
	for i, s := range sampleSubjects() {
		sink := newSink(t)
		st, err := c.Fetch(context.Background(), sourcetest.Query(t, []model.Subject{s}), sink)
		if err != nil {
			t.Fatal(err)
		}
		want := len(strings.Fields(sampleExpect[i].lines))
		if sampleExpect[i].subject != s.ID || len(sink.Records) != want || st.Selected != int64(want) {
			t.Errorf("%s alone: %d records, want %d", s.ID, len(sink.Records), want)
		}
	}
}

// TestConformance runs the shared Source contract suite over the sample.
func TestConformance(t *testing.T) {
	want := map[string]map[string]int{}
	for _, ex := range sampleExpect {
		want[ex.subject] = map[string]int{"calls": len(strings.Fields(ex.lines))}
	}
	sourcetest.Run(t, sourcetest.Case{
		New: func(t testing.TB) source.Source {
			return newCSV(t, Config{Paths: []string{sampleCSV}, Timezone: "Europe/London", ExtraColumns: []string{"uniqueid", "userfield"}})
		},
		Subjects: sampleSubjects(),
		Want:     want,
	})
}
