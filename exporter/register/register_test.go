package register

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/dsar-tool/dsar/samples"
)

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func calendar(t *testing.T) *Calendar {
	t.Helper()
	c, err := ParseCalendar(samples.BankHolidays, "england-and-wales")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDeadline(t *testing.T) {
	c := calendar(t)
	for _, tc := range []struct {
		name, start, due string
	}{
		{"ICO example: Monday 25 Nov 2024 is due Friday 27 Dec 2024 (25 and 26 Dec are bank holidays)", "2024-11-25", "2024-12-27"},
		{"31 January is due on the last day of February", "2025-01-31", "2025-02-28"},
		{"31 January in a leap year is due on 29 February (a Thursday)", "2024-01-31", "2024-02-29"},
		{"received on a bank holiday still counts that day", "2025-05-05", "2025-06-05"},
		{"deadline on a Saturday moves to Monday", "2025-09-06", "2025-10-06"},
		{"deadline on a Sunday moves to Monday", "2025-09-07", "2025-10-07"},
		{"deadline on Good Friday runs over Easter Monday to Tuesday", "2025-03-18", "2025-04-22"},
		{"across the year end", "2025-12-15", "2026-01-15"},
		{"30 November is due 30 December (a working day)", "2026-11-30", "2026-12-30"},
		{"31 March is due 30 April", "2026-03-31", "2026-04-30"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Deadline(date(tc.start), 1, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got.Format(time.DateOnly) != tc.due {
				t.Errorf("Deadline(%s) = %s (%s), want %s", tc.start, got.Format(time.DateOnly), got.Weekday(), tc.due)
			}
		})
	}
}

func TestDeadlineOutsideCalendar(t *testing.T) {
	c := calendar(t)
	_, err := c.Deadline(date("2027-12-20"), 1, 0)
	if !errors.Is(err, ErrOutsideCalendar) {
		t.Fatalf("err = %v, want ErrOutsideCalendar", err)
	}
}

func TestAddMonths(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2025-01-31", "2025-02-28"}, {"2024-01-31", "2024-02-29"}, {"2025-03-31", "2025-04-30"},
		{"2025-12-31", "2026-01-31"}, {"2025-01-15", "2025-02-15"},
	} {
		if got := AddMonths(date(tc.in), 1).Format(time.DateOnly); got != tc.want {
			t.Errorf("AddMonths(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// openStore opens an empty register; TestPostgres points it at PostgreSQL
// and runs the other tests again.
var openStore = openSQLiteStore

func openSQLiteStore(t *testing.T, policy string) *Store {
	t.Helper()
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "register.db"), Options{Calendar: calendar(t), ClockStart: policy})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Now = func() time.Time { return time.Date(2026, 2, 2, 10, 0, 0, 0, time.UTC) }
	return s
}

func TestStoreLifecycle(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, ClockReceipt)
	r, err := s.Create(ctx, NewRequest{Subject: "S-1", Types: []string{"access"}, Received: date("2026-01-12"), IDRequested: true, Actor: "dpo"})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "R-2026-0001" || r.Status != StatusAwaitingID || r.IsVerified() || !r.Due.IsZero() {
		t.Fatalf("new request = %+v", r)
	}
	r2, err := s.Create(ctx, NewRequest{Subject: "S-2", Types: []string{"access", "portability"}, Received: date("2026-01-20")})
	if err != nil {
		t.Fatal(err)
	}
	if r2.ID != "R-2026-0002" || r2.Status != StatusReceived || r2.Due.Format(time.DateOnly) != "2026-02-20" {
		t.Fatalf("second request = %+v", r2)
	}
	if _, err := s.Verify(ctx, r.ID, "", time.Time{}, "dpo"); err == nil {
		t.Fatal("verify without a method succeeded")
	}
	if _, err := s.Verify(ctx, r.ID, "card", date("2026-01-10"), "dpo"); err == nil {
		t.Fatal("verification before receipt succeeded")
	}
	v, err := s.Verify(ctx, r.ID, "staff card", date("2026-01-13"), "dpo")
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != StatusInProgress || v.ClockStart.Format(time.DateOnly) != "2026-01-13" || v.Due.Format(time.DateOnly) != "2026-02-13" {
		t.Fatalf("verified = %+v", v)
	}
	if _, err := s.Verify(ctx, r.ID, "again", date("2026-01-14"), "dpo"); !errors.Is(err, ErrTransition) {
		t.Fatalf("second verify: %v, want ErrTransition", err)
	}
	if err := s.AddEvent(ctx, r.ID, Event{Type: EventExported, Actor: "dpo", BundleFile: "x.zip.pgp", BundleSHA256: "ab"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Events) != 3 || got.Events[2].Type != EventExported || got.Events[2].Seq != 3 || got.Events[2].BundleSHA256 != "ab" {
		t.Fatalf("events = %+v", got.Events)
	}
	if _, err := s.Get(ctx, "R-2026-0099"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	list, err := s.List(ctx, "S-2")
	if err != nil || len(list) != 1 || list[0].ID != r2.ID {
		t.Fatalf("List(S-2) = %v, %v", list, err)
	}
}

func TestClockStartPolicy(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, ClockVerification)
	c, err := s.Create(ctx, NewRequest{Subject: "S-1", Types: []string{"access"}, Received: date("2026-01-05"), IDRequested: true})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Request
	if !r.Due.IsZero() {
		t.Fatalf("verification policy: due before verification = %s", r.Due)
	}
	r, err = s.Verify(ctx, r.ID, "email from staff account", date("2026-01-09"), "dpo")
	if err != nil {
		t.Fatal(err)
	}
	if r.Due.Format(time.DateOnly) != "2026-02-09" {
		t.Fatalf("due = %s, want 2026-02-09", r.Due.Format(time.DateOnly))
	}
}

func TestCreateRejectsBadInput(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, "")
	for _, n := range []NewRequest{
		{Subject: "", Types: []string{"access"}, Received: date("2026-01-05")},
		{Subject: "S-1", Types: []string{"gossip"}, Received: date("2026-01-05")},
		{Subject: "S-1", Types: []string{"access"}},
		{Subject: "S-1", Types: []string{"access"}, Received: date("2026-03-05")},
		{Subject: "S-1", Types: []string{"access"}, Received: date("2026-01-05"), Channel: "pigeon"},
	} {
		if _, err := s.Create(ctx, n); err == nil {
			t.Errorf("Create(%+v) succeeded", n)
		}
	}
	if rs, _ := s.List(ctx, ""); len(rs) != 0 {
		t.Fatalf("bad input changed the register: %d requests", len(rs))
	}
}
