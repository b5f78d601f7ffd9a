package register

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ImportRow is one request from an existing log (a DPO team's spreadsheet),
// after column mapping. Line is where it is in the file, for errors.
type ImportRow struct {
	Line               int
	ID                 string // kept if given, else a new id is assigned
	Subject            string
	Types              []string
	Received           time.Time
	Channel            string
	IDRequested        bool
	Verified           time.Time
	VerificationMethod string
	Status             string // empty: derived
	Closed             time.Time
	Note               string
}

// ImportError lists every bad row of an import; nothing was imported.
type ImportError struct {
	File string
	Rows []RowError
}

// RowError is one bad row.
type RowError struct {
	Line int
	Err  error
}

func (e *ImportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d bad rows; nothing was imported", e.File, len(e.Rows))
	for i, r := range e.Rows {
		if i == 20 {
			fmt.Fprintf(&b, "\n  ... and %d more", len(e.Rows)-20)
			break
		}
		fmt.Fprintf(&b, "\n  line %d: %v", r.Line, r.Err)
	}
	return b.String()
}

// Import adds rows to the register in one transaction: either every row is
// imported or none is. Each row is checked as Create and Verify check
// them; every bad row is reported, by line.
func (s *Store) Import(ctx context.Context, file string, rows []ImportRow, actor string) (int, error) {
	tx, err := s.begin(ctx, true)
	if err != nil {
		return 0, fmt.Errorf("register: %w", err)
	}
	defer tx.Rollback()
	ie := &ImportError{File: file}
	seen := map[string]int{}
	for _, r := range rows {
		bad := func(err error) { ie.Rows = append(ie.Rows, RowError{Line: r.Line, Err: err}) }
		if r.ID != "" {
			if prev, dup := seen[r.ID]; dup {
				bad(fmt.Errorf("request id %q already on line %d", r.ID, prev))
				continue
			}
			seen[r.ID] = r.Line
		}
		if !r.Verified.IsZero() && r.Verified.Before(r.Received) {
			bad(errors.New("verified date is before the date received"))
			continue
		}
		if !r.Closed.IsZero() && r.Closed.Before(r.Received) {
			bad(errors.New("closing date is before the date received"))
			continue
		}
		note := strings.TrimSpace("imported from " + file + ". " + r.Note)
		id, _, err := s.create(ctx, tx, NewRequest{Subject: r.Subject, Types: r.Types, Received: r.Received, Channel: r.Channel,
			IDRequested: r.IDRequested, Actor: actor, Note: note, ID: r.ID, Status: r.Status})
		if err != nil {
			bad(errors.New(strings.TrimPrefix(err.Error(), "register: ")))
			continue
		}
		sets := []string{}
		args := []any{}
		if !r.Verified.IsZero() {
			sets, args = append(sets, "verified = ?", "verification_method = ?"), append(args, ds(r.Verified), r.VerificationMethod)
		}
		if !r.Closed.IsZero() {
			sets, args = append(sets, "closed = ?"), append(args, ds(r.Closed))
		}
		if r.Status == "" {
			st := StatusReceived
			switch {
			case !r.Closed.IsZero():
				st = StatusCompleted
			case r.IDRequested && r.Verified.IsZero():
				st = StatusAwaitingID
			case !r.Verified.IsZero():
				st = StatusInProgress
			}
			sets, args = append(sets, "status = ?"), append(args, st)
		}
		if len(sets) > 0 {
			args = append(args, id)
			if _, err := tx.ExecContext(ctx, `UPDATE requests SET `+strings.Join(sets, ", ")+` WHERE id = ?`, args...); err != nil {
				return 0, fmt.Errorf("register: %w", err)
			}
		}
	}
	if len(ie.Rows) > 0 {
		return 0, ie
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("register: %w", err)
	}
	return len(rows), nil
}
