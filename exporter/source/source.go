// Package source defines the contract every connector implements, the
// subject matcher they share, and the one list of connector kinds.
package source

import (
	"context"
	"errors"
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
)

// Query says whose records a Fetch selects.
type Query struct {
	// Subjects whose records are wanted. A bulk run passes many; each
	// record is routed to every subject it matches.
	Subjects []model.Subject
	// Matcher is built from Subjects by the caller (NewMatcher) and shared
	// by every source of a run.
	Matcher *Matcher
}

// Sink receives what a source reads. Its methods are called on the
// goroutine that called Fetch, in source order.
type Sink interface {
	// Emit hands over one record of dataset d that belongs to subject.
	// The sink owns rec afterwards. A non-nil error stops the Fetch, which
	// returns it.
	Emit(subject string, d *model.Dataset, rec model.Record) error
	// Reject reports a row that could not be read. Rejections never carry
	// the row's content, only where it is and why.
	Reject(r model.Rejection)
}

// Stats counts what one Fetch did.
type Stats struct {
	Read     int64 `json:"rows_read"`     // rows (records) read from the source
	Selected int64 `json:"rows_selected"` // records emitted (one per subject matched)
	Rejected int64 `json:"rows_rejected"` // rows that could not be read
	// First and Last bound the times of all the rows read (not only the
	// selected ones), where the source can tell; zero otherwise. They
	// tell a DPO what period a source covers.
	First time.Time `json:"first_row_utc,omitzero"`
	Last  time.Time `json:"last_row_utc,omitzero"`
}

// Cover widens st's First/Last to include t.
func (st *Stats) Cover(t time.Time) {
	if t.IsZero() {
		return
	}
	if st.First.IsZero() || t.Before(st.First) {
		st.First = t
	}
	if t.After(st.Last) {
		st.Last = t
	}
}

// Source is a configured connector.
type Source interface {
	// Name is the configured name of the source (e.g. "pbx").
	Name() string
	// Kind is the connector kind (e.g. "asterisk-csv").
	Kind() string
	// Fetch reads the source once and emits every record that matches
	// one of q's subjects. Rows that cannot be read are passed to
	// sink.Reject and counted, and reading goes on; Fetch returns an
	// error only when the source as a whole cannot be read (a missing
	// file, an unreachable database) or when ctx is cancelled or the sink
	// fails. Errors name the source and never contain personal data.
	Fetch(ctx context.Context, q Query, sink Sink) (Stats, error)
}

// ErrNoFiles is wrapped by a file source whose globs match nothing.
var ErrNoFiles = errors.New("no files match")
