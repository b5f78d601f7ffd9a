package redact

import (
	"strings"
	"testing"
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
)

var testKey = []byte("0123456789abcdef-test-key")

// call returns a calls record that passes model.Calls.Check, with the
// given columns set.
func call(t testing.TB, set map[string]string) model.Record {
	t.Helper()
	rec := make(model.Record, len(model.Calls.Columns))
	for i, c := range model.Calls.Columns {
		switch {
		case c.Nullable:
			rec[i] = nil
		case c.Type == model.Int:
			rec[i] = int64(1)
		case c.Type == model.Timestamp:
			rec[i] = time.Date(2025, 1, 6, 10, 15, 40, 0, time.UTC)
		case len(c.Enum) > 0:
			rec[i] = c.Enum[0]
		default:
			rec[i] = ""
		}
	}
	for k, v := range set {
		i := model.Calls.Index(k)
		if i < 0 {
			t.Fatalf("no column %q", k)
		}
		rec[i] = v
	}
	return rec
}

func col(rec model.Record, name string) any { return rec[model.Calls.Index(name)] }

func mustParse(t testing.TB, yml string) *Policy {
	t.Helper()
	p, err := Parse([]byte(yml), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustNew(t testing.TB, p *Policy, key []byte) *Redactor {
	t.Helper()
	r, err := New(p, key)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// oneRule is a policy of one calls rule: the given YAML lines (indented
// four spaces) after its name and dataset.
func oneRule(t testing.TB, lines ...string) *Policy {
	t.Helper()
	return mustParse(t, "rules:\n  - name: r\n    dataset: calls\n    "+strings.Join(lines, "\n    ")+"\n")
}
