package model

// Enumerations shared by the datasets.
var (
	Directions = []string{"inbound", "outbound", "internal"}
	Outcomes   = []string{"answered", "no_answer", "busy", "failed", "congestion", "cancelled", "unknown"}
	Roles      = []string{"caller", "callee"}
)

// Calls holds one row per call leg (a source record) in which the subject
// took part.
var Calls = &Dataset{
	Name:        "calls",
	Title:       "Calls",
	Description: "Calls you made or received, one row per call leg as the telephone system recorded it.",
	Columns: []Column{
		{Name: "call_id", Type: String, Description: "Identifier that groups the legs of one call; rows with the same call_id are parts of the same call."},
		{Name: "leg", Type: Int, Description: "Position of this leg within the call, starting at 1, in order of start time."},
		{Name: "source", Type: String, Description: "Name of the system the record came from."},
		{Name: "source_ref", Type: String, Description: "Where the record is in the source: file name and line number, or table and key."},
		{Name: "start_utc", Type: Timestamp, Unit: "UTC", Description: "When the call leg started (UTC)."},
		{Name: "answer_utc", Type: Timestamp, Unit: "UTC", Nullable: true, Description: "When the call leg was answered (UTC); empty if it was not answered."},
		{Name: "end_utc", Type: Timestamp, Unit: "UTC", Description: "When the call leg ended (UTC)."},
		{Name: "duration_s", Type: Int, Unit: "seconds", Description: "Total length of the call leg from start to end, including ringing."},
		{Name: "talk_s", Type: Int, Unit: "seconds", Description: "Time connected, from answer to end (0 if not answered)."},
		{Name: "direction", Type: String, Enum: Directions, Description: "inbound: you received the call from outside; outbound: you called outside; internal: both parties are internal extensions."},
		{Name: "outcome", Type: String, Enum: Outcomes, Description: "How the call leg ended: answered, no_answer, busy, failed, congestion, cancelled or unknown."},
		{Name: "outcome_raw", Type: String, Description: "The outcome exactly as the source system wrote it."},
		{Name: "subject_role", Type: String, Enum: Roles, Description: "Whether you were the caller or the callee on this leg."},
		{Name: "subject_number", Type: String, Description: "Your number, extension or endpoint that this record was matched on (phone numbers in E.164 form)."},
		{Name: "subject_name_shown", Type: String, Description: "The caller-ID name shown to the other party, when you were the caller."},
		{Name: "other_number", Type: String, Description: "The other party's number or extension (phone numbers in E.164 form where recognised)."},
		{Name: "other_name", Type: String, Description: "The other party's caller-ID name, when they were the caller."},
		{Name: "channel", Type: String, Description: "The caller's channel (technology/endpoint-id) on the telephone system."},
		{Name: "dst_channel", Type: String, Description: "The callee's channel on the telephone system; empty if no one was reached."},
		{Name: "application", Type: String, Description: "The last telephone-system application run for the leg (e.g. Dial, VoiceMail)."},
		{Name: "application_data", Type: String, Description: "The arguments of that application (e.g. the dial string)."},
		{Name: "account_code", Type: String, Description: "Account code attached to the call, if any."},
		{Name: "user_field", Type: String, Description: "Free-text user field attached to the call, if any."},
		{Name: "unique_id", Type: String, Description: "The telephone system's unique identifier of the calling channel."},
		{Name: "ama_flags", Type: String, Description: "How the telephone system classed the call for its accounting records (Asterisk's AMA flags: DOCUMENTATION, BILLING or OMIT); empty where the system records none."},
	},
}

// Login and presence enumerations.
var (
	LoginEvents    = []string{"login", "logout", "sign_in"}
	LoginResults   = []string{"success", "failure", "unknown"}
	PresenceStates = []string{"available", "busy", "do_not_disturb", "away", "be_right_back", "offline", "paused", "unknown"}
)

// Logins holds sign-ins to and sign-outs from the telephony systems: phone
// and queue logins, and identity-provider sign-ins to the telephony apps.
var Logins = &Dataset{
	Name:        "logins",
	Title:       "Logins",
	Description: "Times you logged in to or out of the telephone systems (phones, call queues, Teams), with the outcome and the device or app used.",
	Columns: []Column{
		{Name: "source", Type: String, Description: "Name of the system the record came from."},
		{Name: "source_ref", Type: String, Description: "Where the record is in the source: file name and line number, or an identifier."},
		{Name: "at_utc", Type: Timestamp, Unit: "UTC", Description: "When it happened (UTC)."},
		{Name: "event", Type: String, Enum: LoginEvents, Description: "login or logout (phones and call queues), or sign_in (an identity-provider sign-in)."},
		{Name: "result", Type: String, Enum: LoginResults, Description: "Whether it succeeded: success, failure or unknown."},
		{Name: "error_code", Type: String, Description: "The system's error code for a failure; empty on success."},
		{Name: "error_reason", Type: String, Description: "The system's explanation of a failure."},
		{Name: "subject_identifier", Type: String, Description: "Your identifier the record was matched on (agent, account, user principal name, ...)."},
		{Name: "application", Type: String, Description: "The application or service signed in to (for example Microsoft Teams), or the call queue."},
		{Name: "client", Type: String, Description: "The client software used (browser, desktop or mobile app, phone)."},
		{Name: "ip_address", Type: String, Description: "The network address the login came from, where recorded."},
		{Name: "device", Type: String, Description: "The device used, where recorded (name, operating system)."},
		{Name: "location", Type: String, Description: "The approximate location the system derived from the network address, where recorded."},
		{Name: "event_raw", Type: String, Description: "The event exactly as the source system wrote it."},
	},
}

// Presence holds changes of the subject's status (available, busy, paused
// in a queue, ...).
var Presence = &Dataset{
	Name:        "presence",
	Title:       "Presence",
	Description: "Changes of your status in the telephone systems: available, busy, away, do not disturb, or paused in a call queue, with any reason given.",
	Columns: []Column{
		{Name: "source", Type: String, Description: "Name of the system the record came from."},
		{Name: "source_ref", Type: String, Description: "Where the record is in the source: file name and line number, or an identifier."},
		{Name: "at_utc", Type: Timestamp, Unit: "UTC", Description: "When the status changed (UTC)."},
		{Name: "state", Type: String, Enum: PresenceStates, Description: "The status from then on: available, busy, do_not_disturb, away, be_right_back, offline, paused or unknown."},
		{Name: "activity", Type: String, Description: "What the system said you were doing (for example InACall, InAMeeting), where recorded."},
		{Name: "reason", Type: String, Description: "The reason given (for example a queue pause reason), where recorded."},
		{Name: "context", Type: String, Description: "Where the status applies (for example a call queue's name); empty for your overall status."},
		{Name: "subject_identifier", Type: String, Description: "Your identifier the record was matched on."},
		{Name: "state_raw", Type: String, Description: "The status exactly as the source system wrote it."},
	},
}

// RightsRequests holds the subject's own rights requests from the register.
var RightsRequests = &Dataset{
	Name:        "rights_requests",
	Title:       "Rights requests",
	Description: "The data-protection rights requests you have made to us, as recorded in our register.",
	Columns: []Column{
		{Name: "request_id", Type: String, Description: "Our reference for the request."},
		{Name: "types", Type: String, Description: "The rights exercised, comma-separated (access, rectification, erasure, restriction, portability, objection, automated-decision)."},
		{Name: "status", Type: String, Description: "Where the request stands."},
		{Name: "received", Type: Date, Description: "The date we received the request."},
		{Name: "channel", Type: String, Description: "How the request reached us (email, letter, form, phone, in-person)."},
		{Name: "id_requested", Type: Bool, Description: "Whether we asked for proof of identity."},
		{Name: "verified", Type: Date, Nullable: true, Description: "The date your identity was verified; empty if not yet."},
		{Name: "verification_method", Type: String, Description: "How your identity was verified."},
		{Name: "clock_start", Type: Date, Nullable: true, Description: "The date from which the one-month time limit is counted."},
		{Name: "due", Type: Date, Nullable: true, Description: "The date by which we must respond."},
		{Name: "extended_due", Type: Date, Nullable: true, Description: "The later date we told you we needed, for a complex or numerous request; empty if not extended."},
		{Name: "closed", Type: Date, Nullable: true, Description: "The date the request was completed, refused or withdrawn; empty while open."},
	},
}

// RequestEvents holds the timeline of the subject's rights requests.
var RequestEvents = &Dataset{
	Name:        "request_events",
	Title:       "Request events",
	Description: "Each step we recorded while handling your requests.",
	Columns: []Column{
		{Name: "request_id", Type: String, Description: "The request this step belongs to."},
		{Name: "seq", Type: Int, Description: "Order of the step within the request, starting at 1."},
		{Name: "at_utc", Type: Timestamp, Unit: "UTC", Description: "When the step was recorded (UTC)."},
		{Name: "event", Type: String, Description: "What happened (created, verified, exported, ...)."},
		{Name: "actor", Type: String, Description: "Who recorded the step (an operator account, or dsar itself)."},
		{Name: "note", Type: String, Description: "Details of the step."},
	},
}

// Datasets lists every dataset in bundle order.
var Datasets = []*Dataset{Calls, Logins, Presence, RightsRequests, RequestEvents}

// DatasetByName returns the named dataset, or nil.
func DatasetByName(name string) *Dataset {
	for _, d := range Datasets {
		if d.Name == name {
			return d
		}
	}
	return nil
}
