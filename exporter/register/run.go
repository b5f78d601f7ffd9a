package register

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Delivery is how an unattended run seals and delivers a request's bundle.
type Delivery struct {
	Recipients         []string // fingerprints of keyring keys
	GeneratePassphrase bool     // the run makes a passphrase, kept only encrypted to the archive key
	Destination        string   // a destination name from the config; empty: the outbox
}

// RunState is where a request stands in unattended runs.
type RunState struct {
	Delivery
	PassphraseSealed string    // the generated passphrase, encrypted to the archive key (armoured)
	BundleFile       string    // the current bundle, once exported
	BundleSHA256     string    //
	ExportedAt       time.Time //
	DeliveredTo      string    // where it was delivered, once delivered
	DeliveredAt      time.Time //
	LeaseOwner       string    // the worker holding the request now
	LeaseUntil       time.Time //
	LastError        string    // why the last attempt failed
}

// SetDelivery records how a request's bundle is sealed and delivered in
// unattended runs.
func (s *Store) SetDelivery(ctx context.Context, id string, d Delivery, actor string) (*Request, error) {
	if len(d.Recipients) == 0 && !d.GeneratePassphrase {
		return nil, fmt.Errorf("register: %s: a delivery needs a recipient key or a generated passphrase: %w", id, ErrInvalid)
	}
	note := fmt.Sprintf("delivery set: %d recipient key(s)", len(d.Recipients))
	if len(d.Recipients) > 0 {
		note += " (" + strings.Join(d.Recipients, ", ") + ")"
	}
	if d.GeneratePassphrase {
		note += ", generated passphrase"
	}
	if d.Destination != "" {
		note += ", to " + d.Destination
	}
	return s.update(ctx, id, actor, change{event: "delivery-set", note: note, apply: func(r *Request) (map[string]any, string, error) {
		if err := closed(r); err != nil {
			return nil, "", err
		}
		return map[string]any{"recipients": strings.Join(d.Recipients, ","), "passphrase_generate": d.GeneratePassphrase, "destination": d.Destination}, "", nil
	}})
}

// State returns a request's run state.
func (s *Store) State(ctx context.Context, id string) (*RunState, error) {
	var st RunState
	var recips, exported, delivered, lease sql.NullString
	err := s.c().QueryRowContext(ctx, `SELECT recipients, passphrase_generate, destination, passphrase_sealed, bundle_file, bundle_sha256, exported_at, delivered_to, delivered_at, lease_owner, lease_until, last_error FROM requests WHERE id = ?`, id).
		Scan(&recips, &st.GeneratePassphrase, &st.Destination, &st.PassphraseSealed, &st.BundleFile, &st.BundleSHA256, &exported, &st.DeliveredTo, &delivered, &st.LeaseOwner, &lease, &st.LastError)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("register: %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	if recips.String != "" {
		st.Recipients = strings.Split(recips.String, ",")
	}
	st.ExportedAt, _ = time.Parse(time.RFC3339, exported.String)
	st.DeliveredAt, _ = time.Parse(time.RFC3339, delivered.String)
	st.LeaseUntil, _ = time.Parse(time.RFC3339Nano, lease.String)
	return &st, nil
}

// readyWhere selects requests an unattended run should export: identity
// verified (or not asked for), not refused, withdrawn, completed or
// awaiting a fee, and with no current bundle.
const readyWhere = `status NOT IN ('refused', 'withdrawn', 'completed', 'awaiting-fee', 'awaiting-id')
	AND (id_requested = ? OR verified IS NOT NULL) AND bundle_sha256 = ''`

// Ready lists the requests an unattended run would export, in order of
// receipt; with ids, only those of them.
func (s *Store) Ready(ctx context.Context, ids []string) ([]*Request, error) {
	rows, err := s.c().QueryContext(ctx, `SELECT `+requestCols+` FROM requests WHERE `+readyWhere+` ORDER BY received, id`, false)
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var out []*Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("register: %w", err)
		}
		if len(ids) == 0 || want[r.ID] {
			out = append(out, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := s.loadPauses(ctx, s.c(), out); err != nil {
		return nil, err
	}
	for _, r := range out {
		s.derive(r)
	}
	return out, nil
}

// ErrLeased is returned by Claim when another worker holds the request.
var ErrLeased = errors.New("claimed by another worker")

// Claim takes the lease on a ready request for owner until now+lease. A
// request whose lease has expired (its worker died) can be claimed again.
// On PostgreSQL the row is locked with FOR UPDATE SKIP LOCKED, so workers
// on several machines never wait for each other.
func (s *Store) Claim(ctx context.Context, id, owner string, lease time.Duration) error {
	tx, err := s.begin(ctx, false)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	defer tx.Rollback()
	q := `SELECT lease_owner, lease_until FROM requests WHERE id = ? AND ` + readyWhere
	if s.pg {
		q += ` FOR UPDATE SKIP LOCKED`
	}
	var cur, until sql.NullString
	err = tx.QueryRowContext(ctx, q, id, false).Scan(&cur, &until)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("register: %s: %w (or no longer ready)", id, ErrLeased)
	}
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	// Leases run on the wall clock of the machines (never the pinned
	// clock tests give the register's dates).
	now := time.Now().UTC()
	if t, _ := time.Parse(time.RFC3339Nano, until.String); cur.String != "" && cur.String != owner && t.After(now) {
		return fmt.Errorf("register: %s: %w until %s", id, ErrLeased, t.Format(time.RFC3339))
	}
	if _, err := tx.ExecContext(ctx, `UPDATE requests SET lease_owner = ?, lease_until = ? WHERE id = ?`, owner, now.Add(lease).Format(time.RFC3339Nano), id); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	return tx.Commit()
}

// Release gives up owner's lease, recording why the attempt failed (empty
// if it did not).
func (s *Store) Release(ctx context.Context, id, owner, failure string) error {
	_, err := s.c().ExecContext(ctx, `UPDATE requests SET lease_owner = '', lease_until = NULL, last_error = ? WHERE id = ? AND lease_owner = ?`, failure, id, owner)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	return nil
}

// MarkExported records the request's current bundle, in the same
// transaction as its timeline event and audit entry, and releases the
// lease. It fails if owner no longer holds the lease (it expired and
// another worker took the request): that worker's bundle wins.
func (s *Store) MarkExported(ctx context.Context, id, owner string, e Event, passphraseSealed string) error {
	tx, err := s.begin(ctx, true)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE requests SET bundle_file = ?, bundle_sha256 = ?, exported_at = ?, passphrase_sealed = ?, lease_owner = '', lease_until = NULL, last_error = '' WHERE id = ? AND (lease_owner = ? OR ? = '')`,
		e.BundleFile, e.BundleSHA256, s.Now().UTC().Format(time.RFC3339), passphraseSealed, id, owner, owner)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("register: %s: %w: the lease expired before the export finished", id, ErrLeased)
	}
	if e.At.IsZero() {
		e.At = s.Now()
	}
	if err := addEvent(ctx, tx, id, e); err != nil {
		return err
	}
	return tx.Commit()
}

// MarkDelivered records a delivery of the current bundle.
func (s *Store) MarkDelivered(ctx context.Context, id, destination, sha string, actor string) error {
	tx, err := s.begin(ctx, true)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE requests SET delivered_to = ?, delivered_at = ? WHERE id = ?`, destination, s.Now().UTC().Format(time.RFC3339), id); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	if err := addEvent(ctx, tx, id, Event{At: s.Now(), Type: "delivered", Actor: actor, Note: "delivered to " + destination, BundleSHA256: sha}); err != nil {
		return err
	}
	return tx.Commit()
}

// Delivered lists requests whose bundles were delivered before t, for
// purging.
func (s *Store) Delivered(ctx context.Context, before time.Time) ([]*RunStateOf, error) {
	rows, err := s.c().QueryContext(ctx, `SELECT id, bundle_file, delivered_at FROM requests WHERE delivered_at IS NOT NULL AND delivered_at < ? AND bundle_file <> ''`, before.UTC().Format(time.RFC3339))
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	defer rows.Close()
	var out []*RunStateOf
	for rows.Next() {
		var r RunStateOf
		var at string
		if err := rows.Scan(&r.ID, &r.BundleFile, &at); err != nil {
			return nil, fmt.Errorf("register: %w", err)
		}
		r.DeliveredAt, _ = time.Parse(time.RFC3339, at)
		out = append(out, &r)
	}
	return out, rows.Err()
}

// RunStateOf names a request's bundle for purging.
type RunStateOf struct {
	ID          string
	BundleFile  string
	DeliveredAt time.Time
}

// Purged records that a request's delivered bundle was deleted.
func (s *Store) Purged(ctx context.Context, id, actor string) error {
	tx, err := s.begin(ctx, true)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	defer tx.Rollback()
	var file string
	if err := tx.QueryRowContext(ctx, `SELECT bundle_file FROM requests WHERE id = ?`, id).Scan(&file); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE requests SET bundle_file = '' WHERE id = ?`, id); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	if err := addEvent(ctx, tx, id, Event{At: s.Now(), Type: "purged", Actor: actor, Note: "delivered bundle deleted under the retention setting: " + file}); err != nil {
		return err
	}
	return tx.Commit()
}
