package asterisksql

import (
	"testing"

	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/source/sourcetest"
)

// TestConformance loads the sample rows into each schema on each
// database and runs the shared conformance suite with exact counts.
func TestConformance(t *testing.T) {
	backends := []struct {
		name string
		open func(*testing.T) *backend
		// extra are bad rows only this database can hold.
		extra []cdrRow
	}{
		{"postgres", pgBackend, nil},
		{"mysql", mysqlBackend, []cdrRow{mysqlZeroDate()}},
		{"sqlite", sqliteBackend, []cdrRow{sqliteBadDuration()}},
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			b := be.open(t)
			for _, s := range []schema{classic, classicInt, alembic} {
				t.Run(s.String(), func(t *testing.T) {
					name := b.table(t, s)
					rows := append(sampleRows(t), be.extra...)
					b.load(t, name, s, rows)
					sourcetest.Run(t, sourcetest.Case{
						New: func(t testing.TB) source.Source {
							return b.newSource(t, name, nil)
						},
						Subjects: sampleSubjects(),
						Location: sourcetest.London(t),
						Want:     wantCalls,
						// the spring-gap row, and the database's own bad row
						Rejected: int64(1 + len(be.extra)),
					})
				})
			}
		})
	}
}
