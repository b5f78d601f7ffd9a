// Package register is the rights-request register: every request, its
// status, the dates the statutory clock depends on, and a timeline of
// events. The embedded default store is one SQLite file (a pure-Go driver,
// nothing to install).
//
// Every date the clock depends on (received, identity asked for and
// received, verified, fee asked for and paid, clarification asked and
// answered, extension notified) is stored separately as YYYY-MM-DD. The
// clock start and the due dates are derived from them on every read and
// never stored, so a change of policy or of the bank-holiday calendar is
// reflected at once and nothing is overwritten. Event times are instants in
// UTC.
package register

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Types are the rights a request may exercise.
var Types = []string{"access", "rectification", "erasure", "restriction", "portability", "objection", "automated-decision"}

// Channels a request may arrive by.
var Channels = []string{"email", "letter", "form", "phone", "in-person"}

// Statuses.
const (
	StatusReceived              = "received"
	StatusAwaitingID            = "awaiting-id"
	StatusAwaitingClarification = "awaiting-clarification"
	StatusAwaitingFee           = "awaiting-fee"
	StatusInProgress            = "in-progress"
	StatusExtended              = "extended"
	StatusCompleted             = "completed"
	StatusRefused               = "refused"
	StatusWithdrawn             = "withdrawn"
)

// Statuses lists every status.
var Statuses = []string{StatusReceived, StatusAwaitingID, StatusAwaitingClarification, StatusAwaitingFee, StatusInProgress, StatusExtended, StatusCompleted, StatusRefused, StatusWithdrawn}

// Event types recorded in a request's timeline.
const (
	EventCreated            = "created"
	EventRepeatFlagged      = "repeat-flagged"
	EventIDReceived         = "id-received"
	EventVerified           = "verified"
	EventClarifyAsked       = "clarification-asked"
	EventClarifyAnswered    = "clarification-answered"
	EventExtended           = "extended"
	EventFeeRequested       = "fee-requested"
	EventFeePaid            = "fee-paid"
	EventManifestlyUnfunded = "manifestly-unfounded-or-excessive"
	EventRefused            = "refused"
	EventWithdrawn          = "withdrawn"
	EventCompleted          = "completed"
	EventExported           = "exported"
	EventImported           = "imported"
)

// Clock-start policies (config clock.start).
const (
	ClockReceipt      = "receipt"      // ICO: day of receipt, of the ID asked for, or of the fee
	ClockVerification = "verification" // the day identity is verified (some controllers' own promise)
)

var (
	// ErrNotFound is wrapped when a request id is unknown.
	ErrNotFound = errors.New("no such request")
	// ErrTransition is wrapped when a change is not allowed in the
	// request's current status.
	ErrTransition = errors.New("not allowed in this status")
	// ErrInvalid is wrapped when a change is refused for its arguments
	// (a date before receipt, a missing reason, ...).
	ErrInvalid = errors.New("invalid")
)

// Pause is one clarification: asked on one date, answered on another
// (zero while unanswered).
type Pause struct {
	Asked, Answered time.Time
}

// Request is one rights request with its timeline.
type Request struct {
	ID                 string
	Subject            string
	Types              []string
	Status             string
	Received           time.Time // date
	Channel            string
	LawfulBasis        string
	IDRequested        bool
	IDReceived         time.Time // date; zero until the proof of identity arrives
	Verified           time.Time // date; zero if not verified
	VerificationMethod string
	Pauses             []Pause
	FeeAmountPence     int64 // 0: no fee
	FeeReason          string
	FeeRequested       time.Time
	FeePaid            time.Time
	UnfoundedReason    string // manifestly unfounded or excessive, and why
	ExtensionReason    string
	ExtensionNotified  time.Time
	RefusalReason      string
	Closed             time.Time // date completed, refused or withdrawn
	RepeatOf           string    // an earlier request this one may repeat
	CreatedAt          time.Time
	Events             []Event

	statusBefore string // the status to return to after a clarification

	// Derived on read from the dates above, the Store's calendar and policy.
	ClockStart  time.Time // zero while the clock has not started
	PauseDays   int       // clarification days added to the deadline
	Paused      bool      // a clarification is outstanding: the clock is stopped
	Due         time.Time // zero while the clock is not running
	ExtendedDue time.Time // zero unless extended
	DueErr      error     // why the due date could not be computed, if it could not
}

// Event is one step in a request's timeline.
type Event struct {
	Seq          int
	At           time.Time
	Type         string
	Actor        string
	Note         string
	BundleFile   string
	BundleSHA256 string
}

// IsVerified reports whether the requester's identity has been verified
// (or was never asked for).
func (r *Request) IsVerified() bool { return !r.IDRequested || !r.Verified.IsZero() }

// IsOpen reports whether the request still needs work.
func (r *Request) IsOpen() bool {
	switch r.Status {
	case StatusCompleted, StatusRefused, StatusWithdrawn:
		return false
	}
	return true
}

// CurrentDue is the date the request must be answered by: the extended
// deadline if extended, else the deadline; zero while the clock is not
// running.
func (r *Request) CurrentDue() time.Time {
	if !r.ExtendedDue.IsZero() {
		return r.ExtendedDue
	}
	return r.Due
}

// Store is a register on a SQL database.
type Store struct {
	db     *sql.DB
	pg     bool
	cal    *Calendar
	policy string
	repeat int
	// Now is the clock used for event times and "today"; tests pin it.
	Now func() time.Time
}

// Options configure a Store.
type Options struct {
	Calendar     *Calendar
	ClockStart   string // ClockReceipt (default) or ClockVerification
	RepeatWindow int    // days within which a same-type request is flagged as a repeat (default 90)
}

// OpenSQLite opens (creating if needed) the register in the SQLite file at
// path and brings its schema up to date.
func OpenSQLite(ctx context.Context, path string, opt Options) (*Store, error) {
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("register: open %q: %w", path, err)
	}
	return open(ctx, db, false, path, opt)
}

// OpenPostgres opens the register in a PostgreSQL database, so that several
// dsar processes on several machines share it, and brings its schema up to
// date (once, safely, when several start together). name is how errors
// refer to the database (never the DSN, which may hold a password).
func OpenPostgres(ctx context.Context, dsn, name string, opt Options) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("register: open %s: %w", name, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("register: cannot reach %s: %w", name, redactDSN(err, dsn))
	}
	return open(ctx, db, true, name, opt)
}

func open(ctx context.Context, db *sql.DB, pg bool, path string, opt Options) (*Store, error) {
	s := &Store{db: db, pg: pg, cal: opt.Calendar, policy: opt.ClockStart, repeat: opt.RepeatWindow, Now: time.Now}
	if s.policy == "" {
		s.policy = ClockReceipt
	}
	if s.repeat == 0 {
		s.repeat = 90
	}
	if s.policy != ClockReceipt && s.policy != ClockVerification {
		db.Close()
		return nil, fmt.Errorf("register: clock.start %q: want %q or %q", s.policy, ClockReceipt, ClockVerification)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("register: %q: %w", path, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

var migrations = []string{
	`CREATE TABLE requests (
		id TEXT PRIMARY KEY,
		subject TEXT NOT NULL,
		types TEXT NOT NULL,
		status TEXT NOT NULL,
		status_before TEXT NOT NULL DEFAULT '',
		received TEXT NOT NULL,
		channel TEXT NOT NULL DEFAULT '',
		lawful_basis TEXT NOT NULL DEFAULT '',
		id_requested BOOLEAN NOT NULL,
		id_received TEXT,
		verified TEXT,
		verification_method TEXT NOT NULL DEFAULT '',
		fee_pence BIGINT NOT NULL DEFAULT 0,
		fee_reason TEXT NOT NULL DEFAULT '',
		fee_requested TEXT,
		fee_paid TEXT,
		unfounded_reason TEXT NOT NULL DEFAULT '',
		extension_reason TEXT NOT NULL DEFAULT '',
		extension_notified TEXT,
		refusal_reason TEXT NOT NULL DEFAULT '',
		closed TEXT,
		repeat_of TEXT NOT NULL DEFAULT '',
		created_at TEXT NOT NULL
	);
	CREATE INDEX requests_subject ON requests(subject);
	CREATE TABLE pauses (
		request_id TEXT NOT NULL REFERENCES requests(id),
		asked TEXT NOT NULL,
		answered TEXT,
		PRIMARY KEY (request_id, asked)
	);
	CREATE TABLE events (
		request_id TEXT NOT NULL REFERENCES requests(id),
		seq INTEGER NOT NULL,
		at TEXT NOT NULL,
		event TEXT NOT NULL,
		actor TEXT NOT NULL,
		note TEXT NOT NULL DEFAULT '',
		bundle_file TEXT NOT NULL DEFAULT '',
		bundle_sha256 TEXT NOT NULL DEFAULT '',
		PRIMARY KEY (request_id, seq)
	);`,
	`CREATE TABLE audit (
		seq BIGINT PRIMARY KEY,
		at TEXT NOT NULL,
		operator TEXT NOT NULL,
		action TEXT NOT NULL,
		request_id TEXT NOT NULL DEFAULT '',
		detail TEXT NOT NULL DEFAULT '',
		bundle_sha256 TEXT NOT NULL DEFAULT '',
		prev_hash TEXT NOT NULL,
		hash TEXT NOT NULL
	);
	CREATE INDEX audit_request ON audit(request_id);
	CREATE TABLE audit_head (
		id INTEGER PRIMARY KEY,
		hash TEXT NOT NULL,
		seq BIGINT NOT NULL
	);`,
	`ALTER TABLE requests ADD COLUMN recipients TEXT NOT NULL DEFAULT '';
	ALTER TABLE requests ADD COLUMN passphrase_generate BOOLEAN NOT NULL DEFAULT FALSE;
	ALTER TABLE requests ADD COLUMN destination TEXT NOT NULL DEFAULT '';
	ALTER TABLE requests ADD COLUMN passphrase_sealed TEXT NOT NULL DEFAULT '';
	ALTER TABLE requests ADD COLUMN bundle_file TEXT NOT NULL DEFAULT '';
	ALTER TABLE requests ADD COLUMN bundle_sha256 TEXT NOT NULL DEFAULT '';
	ALTER TABLE requests ADD COLUMN exported_at TEXT;
	ALTER TABLE requests ADD COLUMN delivered_to TEXT NOT NULL DEFAULT '';
	ALTER TABLE requests ADD COLUMN delivered_at TEXT;
	ALTER TABLE requests ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
	ALTER TABLE requests ADD COLUMN lease_until TEXT;
	ALTER TABLE requests ADD COLUMN last_error TEXT NOT NULL DEFAULT '';`,
}

// migrate brings the schema up to date in one transaction. On PostgreSQL
// an advisory lock makes concurrent starts wait for the first to finish.
func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.begin(ctx, false)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var v int
	if s.pg {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(lockMigrate)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS dsar_schema (version INTEGER NOT NULL)`); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `SELECT version FROM dsar_schema`).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			if _, err := tx.ExecContext(ctx, `INSERT INTO dsar_schema (version) VALUES (0)`); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
	} else if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this dsar understands (%d): upgrade dsar", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		for _, stmt := range strings.Split(migrations[i], ";\n") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
		}
	}
	if s.pg {
		_, err = tx.ExecContext(ctx, `UPDATE dsar_schema SET version = ?`, len(migrations))
	} else {
		_, err = tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, len(migrations)))
	}
	if err != nil {
		return err
	}
	return tx.Commit()
}

// redactDSN removes the DSN (and so any password in it) from an error.
func redactDSN(err error, dsn string) error {
	if dsn == "" || !strings.Contains(err.Error(), dsn) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), dsn, "<dsn>"))
}

func (s *Store) today() time.Time {
	y, m, d := s.Now().UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// NewRequest is what logging a request needs.
type NewRequest struct {
	Subject     string
	Types       []string
	Received    time.Time // date
	Channel     string
	LawfulBasis string
	IDRequested bool
	Actor       string
	Note        string
	ID          string // only for imports: keep the id of an existing log
	Status      string // only for imports
}

// Created is what Create returns: the request, and an earlier request of
// the same subject and type within the repeat window, if any (flagged for
// the DPO's decision; never refused automatically).
type Created struct {
	*Request
	RepeatOf *Request
}

// Create logs a request and returns it with its new id, R-<year>-<nnnn>,
// numbered within the year of receipt.
func (s *Store) Create(ctx context.Context, n NewRequest) (*Created, error) {
	tx, err := s.begin(ctx, true)
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	defer tx.Rollback()
	id, repeat, err := s.create(ctx, tx, n)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	r, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	c := &Created{Request: r}
	if repeat != "" {
		c.RepeatOf, err = s.Get(ctx, repeat)
	}
	return c, err
}

func (s *Store) create(ctx context.Context, tx *txn, n NewRequest) (id, repeat string, err error) {
	if strings.TrimSpace(n.Subject) == "" {
		return "", "", fmt.Errorf("register: subject is required: %w", ErrInvalid)
	}
	if len(n.Types) == 0 {
		return "", "", fmt.Errorf("register: at least one request type is required: %w", ErrInvalid)
	}
	for _, t := range n.Types {
		if !slices.Contains(Types, t) {
			return "", "", fmt.Errorf("register: unknown request type %q (want one of %s): %w", t, strings.Join(Types, ", "), ErrInvalid)
		}
	}
	if n.Channel != "" && !slices.Contains(Channels, n.Channel) {
		return "", "", fmt.Errorf("register: unknown channel %q (want one of %s): %w", n.Channel, strings.Join(Channels, ", "), ErrInvalid)
	}
	if n.Received.IsZero() {
		return "", "", fmt.Errorf("register: the date received is required: %w", ErrInvalid)
	}
	if n.Received.After(s.today()) {
		return "", "", fmt.Errorf("register: date received %s is in the future: %w", n.Received.Format(time.DateOnly), ErrInvalid)
	}
	now := s.Now().UTC()
	id = n.ID
	if id == "" {
		prefix := fmt.Sprintf("R-%d-", n.Received.Year())
		var last sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT MAX(id) FROM requests WHERE id LIKE ? AND length(id) = ?`, prefix+"%", len(prefix)+4).Scan(&last); err != nil {
			return "", "", fmt.Errorf("register: %w", err)
		}
		seq := 1
		if last.Valid {
			fmt.Sscanf(strings.TrimPrefix(last.String, prefix), "%d", &seq)
			seq++
		}
		id = fmt.Sprintf("%s%04d", prefix, seq)
	} else {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM requests WHERE id = ?`, id).Scan(&n); err != nil {
			return "", "", fmt.Errorf("register: %w", err)
		}
		if n > 0 {
			return "", "", fmt.Errorf("register: request %q already exists: %w", id, ErrInvalid)
		}
	}
	status := n.Status
	if status == "" {
		status = StatusReceived
		if n.IDRequested {
			status = StatusAwaitingID
		}
	} else if !slices.Contains(Statuses, status) {
		return "", "", fmt.Errorf("register: unknown status %q (want one of %s): %w", status, strings.Join(Statuses, ", "), ErrInvalid)
	}
	// A repeat: same subject, a shared type, received within the window.
	from := n.Received.AddDate(0, 0, -s.repeat).Format(time.DateOnly)
	rows, err := tx.QueryContext(ctx, `SELECT id, types FROM requests WHERE subject = ? AND received >= ? AND received <= ? ORDER BY received DESC, id DESC`,
		n.Subject, from, n.Received.Format(time.DateOnly))
	if err != nil {
		return "", "", fmt.Errorf("register: %w", err)
	}
	for rows.Next() && repeat == "" {
		var rid, types string
		if err := rows.Scan(&rid, &types); err != nil {
			rows.Close()
			return "", "", fmt.Errorf("register: %w", err)
		}
		for _, t := range strings.Split(types, ",") {
			if slices.Contains(n.Types, t) {
				repeat = rid
			}
		}
	}
	rows.Close()
	_, err = tx.ExecContext(ctx, `INSERT INTO requests (id, subject, types, status, received, channel, lawful_basis, id_requested, repeat_of, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, n.Subject, strings.Join(n.Types, ","), status, n.Received.Format(time.DateOnly), n.Channel, n.LawfulBasis, n.IDRequested, repeat, now.Format(time.RFC3339))
	if err != nil {
		return "", "", fmt.Errorf("register: %w", err)
	}
	ev := EventCreated
	if n.ID != "" {
		ev = EventImported
	}
	if err := addEvent(ctx, tx, id, Event{At: now, Type: ev, Actor: n.Actor, Note: n.Note}); err != nil {
		return "", "", err
	}
	if repeat != "" {
		note := fmt.Sprintf("same subject and type as %s, received within %d days: the DPO decides whether it is manifestly unfounded or excessive", repeat, s.repeat)
		if err := addEvent(ctx, tx, id, Event{At: now, Type: EventRepeatFlagged, Actor: "dsar", Note: note}); err != nil {
			return "", "", err
		}
	}
	return id, repeat, nil
}

// change is one step the DPO takes on a request: apply checks it against
// the request's status and dates and says what to set; update records it
// with an event and an audit entry, in one transaction.
type change struct {
	event string
	note  string
	apply func(r *Request) (sets map[string]any, status string, err error)
	after func(ctx context.Context, tx *txn, r *Request) error // optional, in the same transaction
}

// update runs c on request id in one transaction.
func (s *Store) update(ctx context.Context, id, actor string, c change) (*Request, error) {
	tx, err := s.begin(ctx, true)
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	defer tx.Rollback()
	r, err := s.load(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	sets, status, err := c.apply(r)
	if err != nil {
		return nil, err
	}
	if status != "" && status != r.Status {
		if sets == nil {
			sets = map[string]any{}
		}
		sets["status"] = status
	}
	if len(sets) > 0 {
		var cols []string
		var args []any
		for _, k := range sortedKeys(sets) {
			cols = append(cols, k+" = ?")
			args = append(args, sets[k])
		}
		args = append(args, id)
		if _, err := tx.ExecContext(ctx, `UPDATE requests SET `+strings.Join(cols, ", ")+` WHERE id = ?`, args...); err != nil {
			return nil, fmt.Errorf("register: %w", err)
		}
	}
	if c.after != nil {
		if err := c.after(ctx, tx, r); err != nil {
			return nil, fmt.Errorf("register: %s: %w", id, err)
		}
	}
	if err := addEvent(ctx, tx, id, Event{At: s.Now().UTC(), Type: c.event, Actor: actor, Note: c.note}); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	return s.Get(ctx, id)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func ds(t time.Time) string { return t.Format(time.DateOnly) }

func (s *Store) checkDate(r *Request, what string, d time.Time) error {
	if d.Before(r.Received) {
		return fmt.Errorf("register: %s: %s date %s is before the date received %s: %w", r.ID, what, ds(d), ds(r.Received), ErrInvalid)
	}
	if d.After(s.today()) {
		return fmt.Errorf("register: %s: %s date %s is in the future: %w", r.ID, what, ds(d), ErrInvalid)
	}
	return nil
}

func closed(r *Request) error {
	if !r.IsOpen() {
		return fmt.Errorf("register: %s is %s: %w", r.ID, r.Status, ErrTransition)
	}
	return nil
}

func (s *Store) dateOrToday(d time.Time) time.Time {
	if d.IsZero() {
		return s.today()
	}
	return d
}

// settled returns the status a request returns to once nothing is awaited.
func settled(r *Request) string {
	switch {
	case r.ExtensionReason != "":
		return StatusExtended
	case r.IDRequested && r.Verified.IsZero():
		return StatusAwaitingID
	case r.FeeAmountPence > 0 && r.FeePaid.IsZero():
		return StatusAwaitingFee
	}
	return StatusInProgress
}

// IDReceived records the day the proof of identity asked for arrived (under
// the receipt policy, the clock starts then).
func (s *Store) IDReceived(ctx context.Context, id string, at time.Time, actor string) (*Request, error) {
	at = s.dateOrToday(at)
	return s.update(ctx, id, actor, change{event: EventIDReceived, note: "proof of identity received on " + ds(at), apply: func(r *Request) (map[string]any, string, error) {
		if err := closed(r); err != nil {
			return nil, "", err
		}
		if !r.IDRequested {
			return nil, "", fmt.Errorf("register: %s: no proof of identity was asked for: %w", r.ID, ErrTransition)
		}
		if !r.IDReceived.IsZero() {
			return nil, "", fmt.Errorf("register: %s: proof of identity already recorded as received on %s: %w", r.ID, ds(r.IDReceived), ErrTransition)
		}
		if err := s.checkDate(r, "identity", at); err != nil {
			return nil, "", err
		}
		return map[string]any{"id_received": ds(at)}, "", nil
	}})
}

// Verify records that the requester's identity was verified on date at by
// method (today if at is zero).
func (s *Store) Verify(ctx context.Context, id, method string, at time.Time, actor string) (*Request, error) {
	if strings.TrimSpace(method) == "" {
		return nil, fmt.Errorf("register: the verification method is required (e.g. --method \"staff card seen in person\"): %w", ErrInvalid)
	}
	at = s.dateOrToday(at)
	return s.update(ctx, id, actor, change{event: EventVerified, note: "identity verified on " + ds(at) + ": " + method, apply: func(r *Request) (map[string]any, string, error) {
		if err := closed(r); err != nil {
			return nil, "", err
		}
		if !r.Verified.IsZero() {
			return nil, "", fmt.Errorf("register: %s was already verified on %s: %w", r.ID, ds(r.Verified), ErrTransition)
		}
		if err := s.checkDate(r, "verification", at); err != nil {
			return nil, "", err
		}
		if !r.IDReceived.IsZero() && at.Before(r.IDReceived) {
			return nil, "", fmt.Errorf("register: %s: verification date %s is before the proof of identity arrived (%s): %w", r.ID, ds(at), ds(r.IDReceived), ErrInvalid)
		}
		sets := map[string]any{"verified": ds(at), "verification_method": method}
		r.Verified = at
		status := settled(r)
		if r.Status == StatusAwaitingClarification {
			status = ""
			sets["status_before"] = settled(r)
		}
		return sets, status, nil
	}})
}

// ClarifyAsked records that the subject was asked, on date at, to clarify
// the request. The clock stops until the answer.
func (s *Store) ClarifyAsked(ctx context.Context, id string, at time.Time, actor string) (*Request, error) {
	at = s.dateOrToday(at)
	return s.update(ctx, id, actor, change{event: EventClarifyAsked, note: "clarification asked for on " + ds(at) + "; the clock is paused", apply: func(r *Request) (map[string]any, string, error) {
		if err := closed(r); err != nil {
			return nil, "", err
		}
		if r.Paused || r.Status == StatusAwaitingClarification {
			return nil, "", fmt.Errorf("register: %s is already awaiting clarification: %w", r.ID, ErrTransition)
		}
		if err := s.checkDate(r, "clarification", at); err != nil {
			return nil, "", err
		}
		for _, p := range r.Pauses {
			if !at.After(p.Answered) {
				return nil, "", fmt.Errorf("register: %s: clarification date %s is not after the last answer (%s): %w", r.ID, ds(at), ds(p.Answered), ErrInvalid)
			}
		}
		return map[string]any{"status_before": r.Status}, StatusAwaitingClarification, nil
	}, after: func(ctx context.Context, tx *txn, r *Request) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO pauses (request_id, asked) VALUES (?, ?)`, r.ID, ds(at))
		return err
	}})
}

// ClarifyAnswered records the subject's answer; the days since asking are
// added to the deadline.
func (s *Store) ClarifyAnswered(ctx context.Context, id string, at time.Time, actor string) (*Request, error) {
	at = s.dateOrToday(at)
	return s.update(ctx, id, actor, change{event: EventClarifyAnswered, note: "clarification received on " + ds(at) + "; the clock runs again", apply: func(r *Request) (map[string]any, string, error) {
		if err := closed(r); err != nil {
			return nil, "", err
		}
		if !r.Paused {
			return nil, "", fmt.Errorf("register: %s is not awaiting clarification: %w", r.ID, ErrTransition)
		}
		last := r.Pauses[len(r.Pauses)-1]
		if at.Before(last.Asked) {
			return nil, "", fmt.Errorf("register: %s: answer date %s is before the question (%s): %w", r.ID, ds(at), ds(last.Asked), ErrInvalid)
		}
		if at.After(s.today()) {
			return nil, "", fmt.Errorf("register: %s: answer date %s is in the future: %w", r.ID, ds(at), ErrInvalid)
		}
		back := r.statusBefore
		if back == "" || back == StatusAwaitingClarification {
			back = settled(r)
		}
		return map[string]any{"status_before": ""}, back, nil
	}, after: func(ctx context.Context, tx *txn, r *Request) error {
		_, err := tx.ExecContext(ctx, `UPDATE pauses SET answered = ? WHERE request_id = ? AND answered IS NULL`, ds(at), r.ID)
		return err
	}})
}

// Extend extends the deadline by two further months (three from the clock
// start) for a complex or numerous request. The subject must have been told
// (on notified) within the first month; a later notification is refused
// unless force is given with a reason.
func (s *Store) Extend(ctx context.Context, id, reason string, notified time.Time, force string, actor string) (*Request, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, fmt.Errorf("register: a reason is required to extend (the subject must be told why): %w", ErrInvalid)
	}
	note := "extended by two months: " + reason + "; subject told on " + ds(notified)
	if force != "" {
		note += "; notified after the original deadline, forced: " + force
	}
	return s.update(ctx, id, actor, change{event: EventExtended, note: note, apply: func(r *Request) (map[string]any, string, error) {
		if err := closed(r); err != nil {
			return nil, "", err
		}
		if r.ExtensionReason != "" {
			return nil, "", fmt.Errorf("register: %s was already extended (the law allows one extension, to three months in all): %w", r.ID, ErrTransition)
		}
		if notified.IsZero() {
			return nil, "", fmt.Errorf("register: %s: the date the subject was told (--notified) is required: %w", r.ID, ErrInvalid)
		}
		if err := s.checkDate(r, "notification", notified); err != nil {
			return nil, "", err
		}
		if r.Due.IsZero() {
			return nil, "", fmt.Errorf("register: %s: the clock has not started, so there is no deadline to extend: %w", r.ID, ErrTransition)
		}
		if notified.After(r.Due) && force == "" {
			return nil, "", fmt.Errorf("register: %s: the subject was told on %s, after the original deadline %s; the law requires telling them within the first month (use --force REASON to record it anyway): %w", r.ID, ds(notified), ds(r.Due), ErrInvalid)
		}
		status := StatusExtended
		if r.Status == StatusAwaitingClarification || r.Status == StatusAwaitingFee || r.Status == StatusAwaitingID {
			status = ""
		}
		return map[string]any{"extension_reason": reason, "extension_notified": ds(notified)}, status, nil
	}})
}

// MarkUnfounded records the DPO's decision that a request is manifestly
// unfounded or excessive, and why. The DPO then refuses it or charges a fee.
func (s *Store) MarkUnfounded(ctx context.Context, id, reason, actor string) (*Request, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, fmt.Errorf("register: a reason is required: %w", ErrInvalid)
	}
	return s.update(ctx, id, actor, change{event: EventManifestlyUnfunded, note: reason, apply: func(r *Request) (map[string]any, string, error) {
		if err := closed(r); err != nil {
			return nil, "", err
		}
		return map[string]any{"unfounded_reason": reason}, "", nil
	}})
}

// RequestFee asks for a reasonable fee (in pence) with a reason: for a
// request marked manifestly unfounded or excessive, or for further copies of
// data already provided. The clock waits for payment.
func (s *Store) RequestFee(ctx context.Context, id string, pence int64, reason string, at time.Time, actor string) (*Request, error) {
	if pence <= 0 {
		return nil, fmt.Errorf("register: the fee must be a positive amount: %w", ErrInvalid)
	}
	if strings.TrimSpace(reason) == "" {
		return nil, fmt.Errorf("register: a reason is required for a fee: %w", ErrInvalid)
	}
	at = s.dateOrToday(at)
	return s.update(ctx, id, actor, change{event: EventFeeRequested, note: fmt.Sprintf("fee of £%d.%02d asked for on %s: %s", pence/100, pence%100, ds(at), reason), apply: func(r *Request) (map[string]any, string, error) {
		if r.Status == StatusRefused || r.Status == StatusWithdrawn {
			return nil, "", fmt.Errorf("register: %s is %s: %w", r.ID, r.Status, ErrTransition)
		}
		if r.FeeAmountPence > 0 {
			return nil, "", fmt.Errorf("register: %s already has a fee: %w", r.ID, ErrTransition)
		}
		if r.UnfoundedReason == "" && r.Status != StatusCompleted {
			return nil, "", fmt.Errorf("register: %s: requests are free; a fee may be charged only for a request marked manifestly unfounded or excessive (dsar request unfounded %s --reason ...) or for further copies of a completed request: %w", r.ID, r.ID, ErrTransition)
		}
		if err := s.checkDate(r, "fee", at); err != nil {
			return nil, "", err
		}
		return map[string]any{"fee_pence": pence, "fee_reason": reason, "fee_requested": ds(at), "closed": nil}, StatusAwaitingFee, nil
	}})
}

// FeePaid records payment of the fee; under the receipt policy the clock
// starts (again) that day.
func (s *Store) FeePaid(ctx context.Context, id string, at time.Time, actor string) (*Request, error) {
	at = s.dateOrToday(at)
	return s.update(ctx, id, actor, change{event: EventFeePaid, note: "fee paid on " + ds(at), apply: func(r *Request) (map[string]any, string, error) {
		if err := closed(r); err != nil {
			return nil, "", err
		}
		if r.FeeAmountPence == 0 || !r.FeePaid.IsZero() {
			return nil, "", fmt.Errorf("register: %s has no unpaid fee: %w", r.ID, ErrTransition)
		}
		if at.Before(r.FeeRequested) {
			return nil, "", fmt.Errorf("register: %s: payment date %s is before the fee was asked for (%s): %w", r.ID, ds(at), ds(r.FeeRequested), ErrInvalid)
		}
		if err := s.checkDate(r, "payment", at); err != nil {
			return nil, "", err
		}
		r.FeePaid = at
		status := settled(r)
		if r.Status == StatusAwaitingClarification {
			status = ""
		}
		return map[string]any{"fee_paid": ds(at)}, status, nil
	}})
}

// Refuse refuses the request, with the reason recorded (and given to the
// subject, with their right to complain).
func (s *Store) Refuse(ctx context.Context, id, reason, actor string) (*Request, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, fmt.Errorf("register: a reason is required to refuse a request: %w", ErrInvalid)
	}
	return s.update(ctx, id, actor, change{event: EventRefused, note: reason, apply: func(r *Request) (map[string]any, string, error) {
		if err := closed(r); err != nil {
			return nil, "", err
		}
		return map[string]any{"refusal_reason": reason, "closed": ds(s.today())}, StatusRefused, nil
	}})
}

// Withdraw records that the subject withdrew the request.
func (s *Store) Withdraw(ctx context.Context, id, note, actor string) (*Request, error) {
	return s.update(ctx, id, actor, change{event: EventWithdrawn, note: note, apply: func(r *Request) (map[string]any, string, error) {
		if err := closed(r); err != nil {
			return nil, "", err
		}
		return map[string]any{"closed": ds(s.today())}, StatusWithdrawn, nil
	}})
}

// Complete records that the request has been answered.
func (s *Store) Complete(ctx context.Context, id, note, actor string) (*Request, error) {
	return s.update(ctx, id, actor, change{event: EventCompleted, note: note, apply: func(r *Request) (map[string]any, string, error) {
		if err := closed(r); err != nil {
			return nil, "", err
		}
		switch r.Status {
		case StatusAwaitingID, StatusAwaitingFee, StatusAwaitingClarification:
			return nil, "", fmt.Errorf("register: %s is %s; record that first, or refuse or withdraw it: %w", r.ID, r.Status, ErrTransition)
		}
		return map[string]any{"closed": ds(s.today())}, StatusCompleted, nil
	}})
}

// AddEvent appends an event to a request's timeline.
func (s *Store) AddEvent(ctx context.Context, id string, e Event) error {
	tx, err := s.begin(ctx, true)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	defer tx.Rollback()
	if _, err := s.load(ctx, tx, id); err != nil {
		return err
	}
	if e.At.IsZero() {
		e.At = s.Now()
	}
	if err := addEvent(ctx, tx, id, e); err != nil {
		return err
	}
	return tx.Commit()
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func addEvent(ctx context.Context, q querier, id string, e Event) error {
	if e.Actor == "" {
		e.Actor = "dsar"
	}
	if t, ok := q.(*txn); ok && t.audit != nil {
		if err := t.audit(ctx, t, AuditEntry{At: e.At, Operator: e.Actor, Action: "request " + e.Type, RequestID: id, Detail: e.Note, BundleSHA256: e.BundleSHA256}); err != nil {
			return err
		}
	}
	_, err := q.ExecContext(ctx, `INSERT INTO events (request_id, seq, at, event, actor, note, bundle_file, bundle_sha256)
		VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE request_id = ?), ?, ?, ?, ?, ?, ?)`,
		id, id, e.At.UTC().Format(time.RFC3339), e.Type, e.Actor, e.Note, e.BundleFile, e.BundleSHA256)
	if err != nil {
		return fmt.Errorf("register: %s: record event: %w", id, err)
	}
	return nil
}

const requestCols = `id, subject, types, status, status_before, received, channel, lawful_basis, id_requested, id_received, verified, verification_method,
	fee_pence, fee_reason, fee_requested, fee_paid, unfounded_reason, extension_reason, extension_notified, refusal_reason, closed, repeat_of, created_at`

type scanner interface{ Scan(...any) error }

func scanRequest(sc scanner) (*Request, error) {
	var r Request
	var types, received, created string
	var idRec, verified, feeReq, feePaid, extNot, closedAt sql.NullString
	if err := sc.Scan(&r.ID, &r.Subject, &types, &r.Status, &r.statusBefore, &received, &r.Channel, &r.LawfulBasis, &r.IDRequested, &idRec, &verified, &r.VerificationMethod,
		&r.FeeAmountPence, &r.FeeReason, &feeReq, &feePaid, &r.UnfoundedReason, &r.ExtensionReason, &extNot, &r.RefusalReason, &closedAt, &r.RepeatOf, &created); err != nil {
		return nil, err
	}
	r.Types = strings.Split(types, ",")
	r.Received, _ = time.Parse(time.DateOnly, received)
	for _, d := range []struct {
		s   sql.NullString
		dst *time.Time
	}{{idRec, &r.IDReceived}, {verified, &r.Verified}, {feeReq, &r.FeeRequested}, {feePaid, &r.FeePaid}, {extNot, &r.ExtensionNotified}, {closedAt, &r.Closed}} {
		if d.s.Valid {
			*d.dst, _ = time.Parse(time.DateOnly, d.s.String)
		}
	}
	r.CreatedAt, _ = time.Parse(time.RFC3339, created)
	return &r, nil
}

// load reads a request with its pauses and derived dates (no events).
func (s *Store) load(ctx context.Context, q querier, id string) (*Request, error) {
	r, err := scanRequest(q.QueryRowContext(ctx, `SELECT `+requestCols+` FROM requests WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("register: %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	if err := s.loadPauses(ctx, q, []*Request{r}); err != nil {
		return nil, err
	}
	s.derive(r)
	return r, nil
}

func (s *Store) loadPauses(ctx context.Context, q querier, rs []*Request) error {
	if len(rs) == 0 {
		return nil
	}
	byID := map[string]*Request{}
	for _, r := range rs {
		byID[r.ID] = r
	}
	rows, err := q.QueryContext(ctx, `SELECT request_id, asked, answered FROM pauses ORDER BY request_id, asked`)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, asked string
		var answered sql.NullString
		if err := rows.Scan(&id, &asked, &answered); err != nil {
			return fmt.Errorf("register: %w", err)
		}
		r := byID[id]
		if r == nil {
			continue
		}
		var p Pause
		p.Asked, _ = time.Parse(time.DateOnly, asked)
		if answered.Valid {
			p.Answered, _ = time.Parse(time.DateOnly, answered.String)
		}
		r.Pauses = append(r.Pauses, p)
	}
	return rows.Err()
}

func (s *Store) events(ctx context.Context, id string) ([]Event, error) {
	rows, err := s.c().QueryContext(ctx, `SELECT seq, at, event, actor, note, bundle_file, bundle_sha256 FROM events WHERE request_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at string
		if err := rows.Scan(&e.Seq, &at, &e.Type, &e.Actor, &e.Note, &e.BundleFile, &e.BundleSHA256); err != nil {
			return nil, fmt.Errorf("register: %w", err)
		}
		e.At, _ = time.Parse(time.RFC3339, at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Get returns one request with its timeline and derived dates.
func (s *Store) Get(ctx context.Context, id string) (*Request, error) {
	r, err := s.load(ctx, s.c(), id)
	if err != nil {
		return nil, err
	}
	if r.Events, err = s.events(ctx, id); err != nil {
		return nil, err
	}
	return r, nil
}

// List returns every request (without timelines), in order of receipt.
// With a non-empty subject, only that subject's.
func (s *Store) List(ctx context.Context, subject string) ([]*Request, error) {
	q := `SELECT ` + requestCols + ` FROM requests`
	var args []any
	if subject != "" {
		q += ` WHERE subject = ?`
		args = append(args, subject)
	}
	rows, err := s.c().QueryContext(ctx, q+` ORDER BY received, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	var out []*Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("register: %w", err)
		}
		out = append(out, r)
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

// WithEvents fills in the timelines of rs.
func (s *Store) WithEvents(ctx context.Context, rs []*Request) error {
	for _, r := range rs {
		var err error
		if r.Events, err = s.events(ctx, r.ID); err != nil {
			return err
		}
	}
	return nil
}

// Today is the store's current date.
func (s *Store) Today() time.Time { return s.today() }

// derive computes the clock start and due dates under the store's policy:
//
//   - receipt: the day of receipt; where ID was asked for, the day it
//     arrived (or, if its arrival was not recorded, the day it was
//     verified); where a fee was asked for, the day it was paid.
//   - verification: the day identity was verified (or of receipt, where ID
//     was not asked for); where a fee was asked for, the later of that and
//     the day it was paid.
//
// The deadline is one month from the start plus the clarification days,
// moved to the next working day; the extended deadline three months.
func (s *Store) derive(r *Request) {
	r.ClockStart, r.Due, r.ExtendedDue, r.DueErr, r.PauseDays, r.Paused = time.Time{}, time.Time{}, time.Time{}, nil, 0, false
	start := r.Received
	switch {
	case s.policy == ClockVerification && r.IDRequested:
		start = r.Verified
	case r.IDRequested && !r.IDReceived.IsZero():
		start = r.IDReceived
	case r.IDRequested:
		start = r.Verified
	}
	if r.FeeAmountPence > 0 && r.Status != StatusCompleted && r.Closed.IsZero() {
		if r.FeePaid.IsZero() {
			start = time.Time{}
		} else if r.FeePaid.After(start) && !start.IsZero() {
			start = r.FeePaid
		}
	}
	for _, p := range r.Pauses {
		if p.Answered.IsZero() {
			r.Paused = true
			continue
		}
		r.PauseDays += int(p.Answered.Sub(p.Asked).Hours() / 24)
	}
	r.ClockStart = start
	if start.IsZero() || r.Paused || s.cal == nil {
		return // not running: no deadline can be stated yet
	}
	r.Due, r.DueErr = s.cal.Deadline(start, 1, r.PauseDays)
	if r.DueErr == nil && r.ExtensionReason != "" {
		r.ExtendedDue, r.DueErr = s.cal.Deadline(start, 3, r.PauseDays)
	}
}
