package register

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The audit log is append-only and hash-chained: each entry's hash covers
// its fields and the previous entry's hash, and the register keeps the
// hash and number of the last entry. Editing, deleting or reordering an
// entry breaks the chain, and VerifyAudit names the first bad entry.
// It is tamper-evident, not tamper-proof: someone who can write to the
// database and recompute every later hash could rewrite history, so keep
// the head hash VerifyAudit prints somewhere else (a ticket, an email) to
// compare later.

// AuditEntry is one audited action.
type AuditEntry struct {
	Seq          int64     `json:"seq"`
	At           time.Time `json:"at"`
	Operator     string    `json:"operator"`
	Action       string    `json:"action"`
	RequestID    string    `json:"request_id,omitempty"`
	Detail       string    `json:"detail,omitempty"`
	BundleSHA256 string    `json:"bundle_sha256,omitempty"`
	Prev         string    `json:"prev_hash"`
	Hash         string    `json:"hash"`
}

func (e *AuditEntry) digest() string {
	b, _ := json.Marshal([]any{e.Prev, e.Seq, e.At.UTC().Format(time.RFC3339Nano), e.Operator, e.Action, e.RequestID, e.Detail, e.BundleSHA256})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// AuditError says where the chain breaks.
type AuditError struct {
	Seq    int64
	Reason string
}

func (e *AuditError) Error() string {
	return fmt.Sprintf("audit log: entry %d: %s", e.Seq, e.Reason)
}

// appendAudit adds an entry in tx, which must hold the register's write
// lock (begin with serial set).
func (s *Store) appendAudit(ctx context.Context, tx *txn, e AuditEntry) error {
	var head sql.NullString
	var seq sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT hash, seq FROM audit_head WHERE id = 1`).Scan(&head, &seq)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("register: audit: %w", err)
	}
	e.Prev, e.Seq = head.String, seq.Int64+1
	if e.At.IsZero() {
		e.At = s.Now()
	}
	e.At = e.At.UTC()
	if e.Operator == "" {
		e.Operator = "dsar"
	}
	e.Hash = e.digest()
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit (seq, at, operator, action, request_id, detail, bundle_sha256, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.At.Format(time.RFC3339Nano), e.Operator, e.Action, e.RequestID, e.Detail, e.BundleSHA256, e.Prev, e.Hash); err != nil {
		return fmt.Errorf("register: audit: %w", err)
	}
	if errors.Is(err, sql.ErrNoRows) {
		_, err = tx.ExecContext(ctx, `INSERT INTO audit_head (id, hash, seq) VALUES (1, ?, ?)`, e.Hash, e.Seq)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE audit_head SET hash = ?, seq = ? WHERE id = 1`, e.Hash, e.Seq)
	}
	if err != nil {
		return fmt.Errorf("register: audit: %w", err)
	}
	return nil
}

// Audit appends an entry for an action that reads or changes personal data
// or the register outside the register's own changes (which audit
// themselves): an export, a delivery, a view of a passphrase, an export of
// the register.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	tx, err := s.begin(ctx, true)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	defer tx.Rollback()
	if err := s.appendAudit(ctx, tx, e); err != nil {
		return err
	}
	return tx.Commit()
}

// AuditLog returns the audit entries, oldest first; with a request id, only
// that request's.
func (s *Store) AuditLog(ctx context.Context, requestID string) ([]AuditEntry, error) {
	q := `SELECT seq, at, operator, action, request_id, detail, bundle_sha256, prev_hash, hash FROM audit`
	var args []any
	if requestID != "" {
		q += ` WHERE request_id = ?`
		args = append(args, requestID)
	}
	rows, err := s.c().QueryContext(ctx, q+` ORDER BY seq`, args...)
	if err != nil {
		return nil, fmt.Errorf("register: audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at string
		if err := rows.Scan(&e.Seq, &at, &e.Operator, &e.Action, &e.RequestID, &e.Detail, &e.BundleSHA256, &e.Prev, &e.Hash); err != nil {
			return nil, fmt.Errorf("register: audit: %w", err)
		}
		e.At, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// VerifyAudit checks the whole chain and returns the number of entries and
// the head hash. An edited, deleted or reordered entry gives an
// *AuditError naming the first bad entry.
func (s *Store) VerifyAudit(ctx context.Context) (n int64, head string, err error) {
	// Read in physical order as well as by number, so that swapped
	// numbers are caught too.
	all, err := s.AuditLog(ctx, "")
	if err != nil {
		return 0, "", err
	}
	prev := ""
	for i := range all {
		e := &all[i]
		want := int64(i + 1)
		switch {
		case e.Seq != want:
			return 0, "", &AuditError{Seq: want, Reason: fmt.Sprintf("missing: the next entry is numbered %d (an entry was deleted)", e.Seq)}
		case e.Prev != prev:
			return 0, "", &AuditError{Seq: e.Seq, Reason: "does not follow the entry before it (entries were deleted, inserted or reordered)"}
		case e.digest() != e.Hash:
			return 0, "", &AuditError{Seq: e.Seq, Reason: "its contents do not match its hash (the entry was edited)"}
		}
		prev = e.Hash
	}
	var headHash sql.NullString
	var headSeq sql.NullInt64
	err = s.c().QueryRowContext(ctx, `SELECT hash, seq FROM audit_head WHERE id = 1`).Scan(&headHash, &headSeq)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, "", fmt.Errorf("register: audit: %w", err)
	}
	if headSeq.Int64 != int64(len(all)) || headHash.String != prev {
		return 0, "", &AuditError{Seq: int64(len(all)) + 1, Reason: fmt.Sprintf("the log ends at entry %d but the register recorded %d entries (entries at the end were deleted)", len(all), headSeq.Int64)}
	}
	return int64(len(all)), prev, nil
}
