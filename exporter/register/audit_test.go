package register

import (
	"context"
	"errors"
	"testing"
)

func auditedStore(t *testing.T) *Store {
	t.Helper()
	s := openStore(t, "")
	ctx := context.Background()
	c, err := s.Create(ctx, NewRequest{Subject: "S-1", Types: []string{"access"}, Received: date("2026-01-12"), IDRequested: true, Actor: "dpo"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(ctx, c.ID, "staff card", date("2026-01-13"), "dpo"); err != nil {
		t.Fatal(err)
	}
	if err := s.Audit(ctx, AuditEntry{Operator: "dpo", Action: "export", RequestID: c.ID, BundleSHA256: "ab12"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Complete(ctx, c.ID, "", "dpo"); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAuditChain(t *testing.T) {
	ctx := context.Background()
	s := auditedStore(t)
	n, head, err := s.VerifyAudit(ctx)
	if err != nil || n != 4 || len(head) != 64 {
		t.Fatalf("VerifyAudit = %d, %q, %v", n, head, err)
	}
	log, err := s.AuditLog(ctx, "R-2026-0001")
	if err != nil || len(log) != 4 || log[2].Action != "export" || log[2].BundleSHA256 != "ab12" || log[0].Operator != "dpo" {
		t.Fatalf("AuditLog = %+v, %v", log, err)
	}
	// A refused change is not audited.
	if _, err := s.Verify(ctx, "R-2026-0001", "again", date("2026-01-14"), "dpo"); err == nil {
		t.Fatal("verify of a completed request succeeded")
	}
	if n, _, _ := s.VerifyAudit(ctx); n != 4 {
		t.Fatalf("a refused change was audited: %d entries", n)
	}
}

func TestAuditTampering(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sql   []string
		first int64
	}{
		{"edited detail", []string{`UPDATE audit SET detail = 'nothing to see' WHERE seq = 2`}, 2},
		{"edited operator", []string{`UPDATE audit SET operator = 'someone else' WHERE seq = 3`}, 3},
		{"deleted in the middle", []string{`DELETE FROM audit WHERE seq = 2`}, 2},
		{"deleted at the end", []string{`DELETE FROM audit WHERE seq = 4`}, 4},
		{"reordered", []string{`UPDATE audit SET seq = 100 WHERE seq = 2`, `UPDATE audit SET seq = 2 WHERE seq = 3`, `UPDATE audit SET seq = 3 WHERE seq = 100`}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := auditedStore(t)
			for _, q := range tc.sql {
				if _, err := s.db.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			_, _, err := s.VerifyAudit(context.Background())
			var ae *AuditError
			if !errors.As(err, &ae) {
				t.Fatalf("VerifyAudit after tampering: %v", err)
			}
			if ae.Seq != tc.first {
				t.Errorf("first bad entry %d (%s), want %d", ae.Seq, ae.Reason, tc.first)
			}
		})
	}
}
