package sourcetest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dsar-tool/dsar/exporter/config"
	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
)

// The helpers below serve a connector's own tests, beside Run.

// Emitted is one record a Recorder was handed.
type Emitted struct {
	Subject string
	Dataset *model.Dataset
	Record  model.Record
}

// ErrSinkFull is what a Recorder's Emit fails with (see Recorder.FailOn).
var ErrSinkFull = errors.New("sink full")

// Recorder is a Sink that keeps what a Fetch hands over: the records, in
// the order they came, and the rejections. It checks every record against
// its dataset (Dataset.Check) and fails T on a bad one.
type Recorder struct {
	T testing.TB // required: bad records are reported to it
	// Dataset, if set, is the only dataset records may be of.
	Dataset *model.Dataset
	// FailOn makes Emit fail with ErrSinkFull on that call (1-based),
	// after keeping the record; 0 never.
	FailOn int

	Records []Emitted
	Rejects []model.Rejection
}

var _ source.Sink = (*Recorder)(nil)

// Emit checks and keeps one record.
func (r *Recorder) Emit(subject string, d *model.Dataset, rec model.Record) error {
	if r.Dataset != nil && d != r.Dataset {
		r.T.Errorf("emitted to dataset %s", d.Name)
	}
	if err := d.Check(rec); err != nil {
		r.T.Errorf("bad %s record: %v", d.Name, err)
	}
	r.Records = append(r.Records, Emitted{subject, d, rec})
	if r.FailOn > 0 && len(r.Records) == r.FailOn {
		return ErrSinkFull
	}
	return nil
}

// Reject keeps one rejection.
func (r *Recorder) Reject(rej model.Rejection) { r.Rejects = append(r.Rejects, rej) }

// BySubject returns the records emitted for subject, in order.
func (r *Recorder) BySubject(subject string) []model.Record {
	var out []model.Record
	for _, e := range r.Records {
		if e.Subject == subject {
			out = append(out, e.Record)
		}
	}
	return out
}

// ByRef returns subject's record whose source_ref is ref; none fails T.
func (r *Recorder) ByRef(subject, ref string) model.Record {
	r.T.Helper()
	for _, e := range r.Records {
		if e.Subject == subject && e.Record[e.Dataset.Index("source_ref")] == ref {
			return e.Record
		}
	}
	r.T.Fatalf("no record of %s from %s", subject, ref)
	return nil
}

// Col returns the named column of a record of d. It panics when d has no
// such column.
func Col(d *model.Dataset, rec model.Record, name string) any {
	i := d.Index(name)
	if i < 0 {
		panic("no column " + name)
	}
	return rec[i]
}

// London is the Europe/London zone, the zone of the samples.
func London(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// Query returns the query a run makes for subjects, with the matcher of
// the samples' site: region GB, zone Europe/London.
func Query(t testing.TB, subjects []model.Subject) source.Query {
	t.Helper()
	return Case{}.query(t, subjects)
}

// ID is an identifier valid from one day to another, both written
// YYYY-MM-DD, "" for no bound. A bad date panics.
func ID(kind, value, from, to string) model.Identifier {
	date := func(s string) time.Time {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	i := model.Identifier{Kind: kind, Value: value}
	if from != "" {
		i.From = date(from)
	}
	if to != "" {
		i.To = date(to)
	}
	return i
}

// LoadSubjects reads a subject directory as dsar does (config.LoadSubjects).
func LoadSubjects(t testing.TB, path string) []model.Subject {
	t.Helper()
	subjects, err := config.LoadSubjects(path)
	if err != nil {
		t.Fatal(err)
	}
	return subjects
}

// WriteFile writes content to a file called name in a new temporary
// folder and returns its path.
func WriteFile(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
