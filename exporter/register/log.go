package register

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
)

// LogDataset is the register as a table, for `dsar register export` (the
// record-keeping and audit view; not part of any subject's bundle).
var LogDataset = &model.Dataset{
	Name:        "register",
	Title:       "Register",
	Description: "Every rights request in the register with its dates, decisions and derived deadlines.",
	Columns: []model.Column{
		{Name: "id", Type: model.String, Description: "Request reference."},
		{Name: "subject", Type: model.String, Description: "Subject id in the subject directory."},
		{Name: "types", Type: model.String, Description: "Rights exercised, comma-separated."},
		{Name: "status", Type: model.String, Enum: Statuses, Description: "Current status."},
		{Name: "received", Type: model.Date, Description: "Date received."},
		{Name: "channel", Type: model.String, Description: "How it arrived."},
		{Name: "lawful_basis", Type: model.String, Description: "Lawful basis of the processing concerned."},
		{Name: "id_requested", Type: model.Bool, Description: "Whether proof of identity was asked for."},
		{Name: "id_received", Type: model.Date, Nullable: true, Description: "Date the proof of identity arrived."},
		{Name: "verified", Type: model.Date, Nullable: true, Description: "Date identity was verified."},
		{Name: "verification_method", Type: model.String, Description: "How identity was verified."},
		{Name: "clarification_days", Type: model.Int, Unit: "days", Description: "Days the clock was paused for clarification."},
		{Name: "clock_paused", Type: model.Bool, Description: "Whether a clarification is outstanding."},
		{Name: "fee_gbp", Type: model.String, Description: "Fee asked for, in pounds (empty: none)."},
		{Name: "fee_reason", Type: model.String, Description: "Why a fee was charged."},
		{Name: "fee_paid", Type: model.Date, Nullable: true, Description: "Date the fee was paid."},
		{Name: "unfounded_reason", Type: model.String, Description: "Why it was judged manifestly unfounded or excessive, if it was."},
		{Name: "clock_start", Type: model.Date, Nullable: true, Description: "Day one of the time limit."},
		{Name: "due", Type: model.Date, Nullable: true, Description: "Deadline (one month)."},
		{Name: "extended_due", Type: model.Date, Nullable: true, Description: "Extended deadline (three months), if extended."},
		{Name: "extension_reason", Type: model.String, Description: "Why it was extended."},
		{Name: "extension_notified", Type: model.Date, Nullable: true, Description: "Date the subject was told of the extension."},
		{Name: "refusal_reason", Type: model.String, Description: "Why it was refused."},
		{Name: "closed", Type: model.Date, Nullable: true, Description: "Date completed, refused or withdrawn."},
		{Name: "repeat_of", Type: model.String, Description: "An earlier request this may repeat."},
		{Name: "days_left", Type: model.Int, Nullable: true, Unit: "days", Description: "Days until the current deadline (negative: overdue), for open requests."},
	},
}

// LogEventsDataset is every timeline event, for `dsar register export`.
var LogEventsDataset = &model.Dataset{
	Name:        "register_events",
	Title:       "Events",
	Description: "Every step recorded for every request.",
	Columns: []model.Column{
		{Name: "request_id", Type: model.String, Description: "The request."},
		{Name: "seq", Type: model.Int, Description: "Order within the request."},
		{Name: "at_utc", Type: model.Timestamp, Unit: "UTC", Description: "When it was recorded."},
		{Name: "event", Type: model.String, Description: "What happened."},
		{Name: "actor", Type: model.String, Description: "Who recorded it."},
		{Name: "note", Type: model.String, Description: "Details."},
		{Name: "bundle_file", Type: model.String, Description: "The bundle written, for exports."},
		{Name: "bundle_sha256", Type: model.String, Description: "The bundle's SHA-256, for exports."},
	},
}

func dateVal(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// LogRows returns the whole register as LogDataset and LogEventsDataset
// records.
func (s *Store) LogRows(ctx context.Context) (reqs, events []model.Record, err error) {
	rs, err := s.List(ctx, "")
	if err != nil {
		return nil, nil, err
	}
	if err := s.WithEvents(ctx, rs); err != nil {
		return nil, nil, err
	}
	today := s.today()
	for _, r := range rs {
		fee := ""
		if r.FeeAmountPence > 0 {
			fee = formatPence(r.FeeAmountPence)
		}
		var left any
		if d := r.CurrentDue(); !d.IsZero() && r.IsOpen() {
			left = int64(d.Sub(today).Hours() / 24)
		}
		reqs = append(reqs, model.Record{
			r.ID, r.Subject, strings.Join(r.Types, ","), r.Status, r.Received, r.Channel, r.LawfulBasis, r.IDRequested,
			dateVal(r.IDReceived), dateVal(r.Verified), r.VerificationMethod, int64(r.PauseDays), r.Paused,
			fee, r.FeeReason, dateVal(r.FeePaid), r.UnfoundedReason, dateVal(r.ClockStart), dateVal(r.Due), dateVal(r.ExtendedDue),
			r.ExtensionReason, dateVal(r.ExtensionNotified), r.RefusalReason, dateVal(r.Closed), r.RepeatOf, left,
		})
		for _, e := range r.Events {
			events = append(events, model.Record{r.ID, int64(e.Seq), e.At.UTC(), e.Type, e.Actor, e.Note, e.BundleFile, e.BundleSHA256})
		}
	}
	return reqs, events, nil
}

func formatPence(p int64) string { return fmt.Sprintf("%d.%02d", p/100, p%100) }
