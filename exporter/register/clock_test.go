package register

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// step is one DPO action in a scenario.
type step struct {
	op   string // idrec, verify, ask, answer, extend, extendforce, unfounded, fee, paid, refuse, withdraw, complete
	date string
	arg  string
}

func apply(t *testing.T, s *Store, id string, st step) (*Request, error) {
	t.Helper()
	ctx := context.Background()
	var d time.Time
	if st.date != "" {
		d = date(st.date)
	}
	switch st.op {
	case "idrec":
		return s.IDReceived(ctx, id, d, "dpo")
	case "verify":
		return s.Verify(ctx, id, "passport", d, "dpo")
	case "ask":
		return s.ClarifyAsked(ctx, id, d, "dpo")
	case "answer":
		return s.ClarifyAnswered(ctx, id, d, "dpo")
	case "extend":
		return s.Extend(ctx, id, "numerous records across three systems", d, "", "dpo")
	case "extendforce":
		return s.Extend(ctx, id, "numerous records", d, "told late by mistake; agreed with the subject", "dpo")
	case "unfounded":
		return s.MarkUnfounded(ctx, id, "fifth identical request this month", "dpo")
	case "fee":
		return s.RequestFee(ctx, id, 1000, "administrative cost", d, "dpo")
	case "paid":
		return s.FeePaid(ctx, id, d, "dpo")
	case "refuse":
		return s.Refuse(ctx, id, "manifestly excessive", "dpo")
	case "withdraw":
		return s.Withdraw(ctx, id, "", "dpo")
	case "complete":
		return s.Complete(ctx, id, "", "dpo")
	}
	t.Fatalf("unknown op %q", st.op)
	return nil, nil
}

// TestClockScenarios checks every due date against a hand calculation
// (England and Wales bank holidays).
func TestClockScenarios(t *testing.T) {
	for _, tc := range []struct {
		name        string
		policy      string
		received    string
		idRequested bool
		steps       []step
		status      string
		start       string // "" for not started
		due         string
		extended    string
		paused      bool
	}{
		{name: "no ID asked: the clock starts on receipt (ICO example)", received: "2024-11-25", status: StatusReceived, start: "2024-11-25", due: "2024-12-27"},
		{name: "ID asked, not yet received: not running", received: "2025-03-03", idRequested: true, status: StatusAwaitingID},
		{name: "ID asked: the clock starts when it arrives (receipt policy)", received: "2025-03-03", idRequested: true,
			steps: []step{{op: "idrec", date: "2025-03-10"}, {op: "verify", date: "2025-03-12"}}, status: StatusInProgress, start: "2025-03-10", due: "2025-04-10"},
		{name: "ID asked, verified without a recorded arrival: starts on verification", received: "2025-03-03", idRequested: true,
			steps: []step{{op: "verify", date: "2025-03-12"}}, status: StatusInProgress, start: "2025-03-12", due: "2025-04-14"},
		{name: "verification policy: starts when identity is verified", policy: ClockVerification, received: "2025-03-03", idRequested: true,
			steps: []step{{op: "idrec", date: "2025-03-10"}, {op: "verify", date: "2025-03-12"}}, status: StatusInProgress, start: "2025-03-12", due: "2025-04-14"},
		{name: "verification policy without ID asked: starts on receipt", policy: ClockVerification, received: "2025-03-03", status: StatusReceived, start: "2025-03-03", due: "2025-04-03"},
		{name: "deadline on a weekend moves to Monday", received: "2025-07-05", status: StatusReceived, start: "2025-07-05", due: "2025-08-05"},
		{name: "deadline on the summer bank holiday moves to Tuesday", received: "2025-07-25", status: StatusReceived, start: "2025-07-25", due: "2025-08-26"},
		{name: "deadline in the Christmas run of holidays and weekend", received: "2025-11-25", status: StatusReceived, start: "2025-11-25", due: "2025-12-29"},
		{name: "across the year end", received: "2025-12-29", status: StatusReceived, start: "2025-12-29", due: "2026-01-29"},
		{name: "clarification pauses the clock", received: "2025-03-03",
			steps: []step{{op: "ask", date: "2025-03-05"}}, status: StatusAwaitingClarification, start: "2025-03-03", paused: true},
		{name: "clarification answered: the days are added", received: "2025-03-03",
			steps: []step{{op: "ask", date: "2025-03-05"}, {op: "answer", date: "2025-03-12"}}, status: StatusReceived, start: "2025-03-03", due: "2025-04-10"},
		{name: "two clarifications add up", received: "2025-03-03",
			steps:  []step{{op: "ask", date: "2025-03-05"}, {op: "answer", date: "2025-03-07"}, {op: "ask", date: "2025-03-10"}, {op: "answer", date: "2025-03-13"}},
			status: StatusReceived, start: "2025-03-03", due: "2025-04-08"},
		{name: "extension: three months from the start", received: "2025-03-03",
			steps: []step{{op: "extend", date: "2025-03-20"}}, status: StatusExtended, start: "2025-03-03", due: "2025-04-03", extended: "2025-06-03"},
		{name: "extension landing on a bank holiday moves on", received: "2025-02-26",
			steps: []step{{op: "extend", date: "2025-03-20"}}, status: StatusExtended, start: "2025-02-26", due: "2025-03-26", extended: "2025-05-27"},
		{name: "extension with a clarification pause", received: "2025-03-03",
			steps:  []step{{op: "ask", date: "2025-03-05"}, {op: "answer", date: "2025-03-12"}, {op: "extend", date: "2025-03-20"}},
			status: StatusExtended, start: "2025-03-03", due: "2025-04-10", extended: "2025-06-10"},
		{name: "extension notified late but forced", received: "2025-03-03",
			steps: []step{{op: "extendforce", date: "2025-04-07"}}, status: StatusExtended, start: "2025-03-03", due: "2025-04-03", extended: "2025-06-03"},
		{name: "fee asked: the clock waits for payment", received: "2025-03-03",
			steps: []step{{op: "unfounded"}, {op: "fee", date: "2025-03-04"}}, status: StatusAwaitingFee},
		{name: "fee paid: the clock starts on payment", received: "2025-03-03",
			steps: []step{{op: "unfounded"}, {op: "fee", date: "2025-03-04"}, {op: "paid", date: "2025-03-14"}}, status: StatusInProgress, start: "2025-03-14", due: "2025-04-14"},
		{name: "ID and fee: the later date starts the clock", received: "2025-03-03", idRequested: true,
			steps:  []step{{op: "idrec", date: "2025-03-06"}, {op: "verify", date: "2025-03-06"}, {op: "unfounded"}, {op: "fee", date: "2025-03-07"}, {op: "paid", date: "2025-03-17"}},
			status: StatusInProgress, start: "2025-03-17", due: "2025-04-17"},
		{name: "received on a bank holiday counts that day", received: "2025-05-26", status: StatusReceived, start: "2025-05-26", due: "2025-06-26"},
		{name: "31 January to the end of February (leap year)", received: "2024-01-31", status: StatusReceived, start: "2024-01-31", due: "2024-02-29"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, tc.policy)
			c, err := s.Create(context.Background(), NewRequest{Subject: "S-1", Types: []string{"access"}, Received: date(tc.received), IDRequested: tc.idRequested})
			if err != nil {
				t.Fatal(err)
			}
			r := c.Request
			for _, st := range tc.steps {
				if r, err = apply(t, s, r.ID, st); err != nil {
					t.Fatalf("%s %s: %v", st.op, st.date, err)
				}
			}
			fmtd := func(d time.Time) string {
				if d.IsZero() {
					return ""
				}
				return d.Format(time.DateOnly)
			}
			if r.Status != tc.status || fmtd(r.ClockStart) != tc.start || fmtd(r.Due) != tc.due || fmtd(r.ExtendedDue) != tc.extended || r.Paused != tc.paused {
				t.Errorf("got status %s start %q due %q extended %q paused %v; want %s %q %q %q %v",
					r.Status, fmtd(r.ClockStart), fmtd(r.Due), fmtd(r.ExtendedDue), r.Paused, tc.status, tc.start, tc.due, tc.extended, tc.paused)
			}
			if r.DueErr != nil {
				t.Errorf("DueErr: %v", r.DueErr)
			}
		})
	}
}

// TestImpossibleTransitions checks that each refused change leaves the
// register as it was.
func TestImpossibleTransitions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		id     bool
		before []step
		bad    step
		want   error
	}{
		{"verify a withdrawn request", true, []step{{op: "withdraw"}}, step{op: "verify", date: "2026-01-20"}, ErrTransition},
		{"verify twice", true, []step{{op: "verify", date: "2026-01-13"}}, step{op: "verify", date: "2026-01-14"}, ErrTransition},
		{"verify before receipt", true, nil, step{op: "verify", date: "2026-01-01"}, ErrInvalid},
		{"verify in the future", true, nil, step{op: "verify", date: "2026-03-01"}, ErrInvalid},
		{"extend twice", false, []step{{op: "extend", date: "2026-01-20"}}, step{op: "extend", date: "2026-01-21"}, ErrTransition},
		{"extend notified after the deadline", false, []step{}, step{op: "extend", date: "2026-02-01"}, nil},
		{"extend before the clock starts", true, nil, step{op: "extend", date: "2026-01-20"}, ErrTransition},
		{"answer with no question", false, nil, step{op: "answer", date: "2026-01-20"}, ErrTransition},
		{"ask twice", false, []step{{op: "ask", date: "2026-01-13"}}, step{op: "ask", date: "2026-01-14"}, ErrTransition},
		{"a fee on an ordinary request", false, nil, step{op: "fee", date: "2026-01-14"}, ErrTransition},
		{"paid without a fee", false, nil, step{op: "paid", date: "2026-01-14"}, ErrTransition},
		{"complete while awaiting ID", true, nil, step{op: "complete"}, ErrTransition},
		{"refuse a completed request", false, []step{{op: "complete"}}, step{op: "refuse"}, ErrTransition},
		{"withdraw twice", false, []step{{op: "withdraw"}}, step{op: "withdraw"}, ErrTransition},
		{"id received when not asked for", false, nil, step{op: "idrec", date: "2026-01-13"}, ErrTransition},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, "")
			// Received 2025-12-20: due 2026-01-20, so a notification on 2026-02-01 is late.
			rec := "2026-01-12"
			if strings.HasPrefix(tc.name, "extend notified") {
				rec = "2025-12-20"
			}
			c, err := s.Create(context.Background(), NewRequest{Subject: "S-1", Types: []string{"access"}, Received: date(rec), IDRequested: tc.id})
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range tc.before {
				if _, err := apply(t, s, c.ID, st); err != nil {
					t.Fatalf("setup %s: %v", st.op, err)
				}
			}
			before, _ := s.Get(context.Background(), c.ID)
			_, err = apply(t, s, c.ID, tc.bad)
			if err == nil {
				t.Fatalf("%s succeeded", tc.bad.op)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			after, _ := s.Get(context.Background(), c.ID)
			if after.Status != before.Status || len(after.Events) != len(before.Events) || fmtDate(after.CurrentDue()) != fmtDate(before.CurrentDue()) {
				t.Errorf("a refused change altered the register: %s/%d events → %s/%d events", before.Status, len(before.Events), after.Status, len(after.Events))
			}
		})
	}
}

func fmtDate(t time.Time) string { return t.Format(time.DateOnly) }

func TestRepeatFlagged(t *testing.T) {
	s := openStore(t, "")
	ctx := context.Background()
	first, err := s.Create(ctx, NewRequest{Subject: "S-1", Types: []string{"access"}, Received: date("2025-11-20")})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Create(ctx, NewRequest{Subject: "S-1", Types: []string{"access", "erasure"}, Received: date("2026-01-12")})
	if err != nil {
		t.Fatal(err)
	}
	if c.RepeatOf == nil || c.RepeatOf.ID != first.ID || c.Status != StatusReceived {
		t.Fatalf("repeat within 90 days: RepeatOf=%v status=%s", c.RepeatOf, c.Status)
	}
	if c.Events[len(c.Events)-1].Type != EventRepeatFlagged {
		t.Fatalf("no repeat-flagged event: %+v", c.Events)
	}
	other, err := s.Create(ctx, NewRequest{Subject: "S-1", Types: []string{"rectification"}, Received: date("2026-01-12")})
	if err != nil || other.RepeatOf != nil {
		t.Fatalf("a different type is not a repeat: %v %v", other.RepeatOf, err)
	}
	late, err := s.Create(ctx, NewRequest{Subject: "S-2", Types: []string{"access"}, Received: date("2026-01-12")})
	if err != nil || late.RepeatOf != nil {
		t.Fatalf("another subject is not a repeat: %v %v", late.RepeatOf, err)
	}
}

func TestImportAllOrNothing(t *testing.T) {
	s := openStore(t, "")
	ctx := context.Background()
	rows := []ImportRow{
		{Line: 2, ID: "OLD-1", Subject: "S-1", Types: []string{"access"}, Received: date("2025-06-02"), Closed: date("2025-06-20")},
		{Line: 3, ID: "OLD-2", Subject: "S-2", Types: []string{"gossip"}, Received: date("2025-06-03")},
		{Line: 4, ID: "OLD-1", Subject: "S-3", Types: []string{"access"}, Received: date("2025-06-04")},
	}
	_, err := s.Import(ctx, "log.csv", rows, "dpo")
	var ie *ImportError
	if !errors.As(err, &ie) || len(ie.Rows) != 2 || ie.Rows[0].Line != 3 || ie.Rows[1].Line != 4 {
		t.Fatalf("err = %v", err)
	}
	if rs, _ := s.List(ctx, ""); len(rs) != 0 {
		t.Fatalf("a failed import left %d requests", len(rs))
	}
	n, err := s.Import(ctx, "log.csv", rows[:1], "dpo")
	if err != nil || n != 1 {
		t.Fatal(n, err)
	}
	r, err := s.Get(ctx, "OLD-1")
	if err != nil || r.Status != StatusCompleted || r.Events[0].Type != EventImported {
		t.Fatalf("imported = %+v, %v", r, err)
	}
}
