// Package msgraph holds the Microsoft Teams and Entra ID connectors: they
// read Microsoft Graph data as admins save it to files and emit the
// records of the wanted subjects.
//
//   - msgraph-callrecords: call records (/communications/callRecords) → calls
//   - msgraph-pstn: the PSTN call log (callRecords/getPstnCalls) → calls
//   - msgraph-presence: captured presence changes → presence
//   - entra-signins: sign-in logs (/auditLogs/signIns) → logins
//
// Each kind is configured with paths (file globs) and strict; entra-signins
// also takes apps. samples/msgraph/README.md says how to save the files.
//
// # Files
//
// Every kind accepts, file by file, any of these shapes (UTF-8, with or
// without a byte order mark, or UTF-16 with one, as Windows PowerShell
// writes):
//
//   - a Graph response, {"@odata.context": ..., "value": [...],
//     "@odata.nextLink": ...}: the records are the elements of value and
//     the other members are ignored. Save each page of a paged response
//     as its own file and list them all (a glob such as page-*.json);
//   - a JSON array of records;
//   - a single record (a GET of one item, e.g. .../callRecords/{id});
//   - JSON Lines: one response, array or record per line;
//   - several of these one after another.
//
// Documents are streamed one array element at a time, so a file never sits
// in memory whole, only one record. Property names match case-insensitively
// and unknown properties are ignored. Times are RFC 3339 with a "Z" or an
// offset and up to seven fractional digits, or "/Date(ms)/" (a DateTime
// through Windows PowerShell's ConvertTo-Json); they are read as UTC to the
// second. Graph's 0001-01-01T00:00:00Z for an unset time is not a time.
//
// # Bad input
//
// A record that cannot be read (a wrong type, a missing or malformed id or
// time, invalid UTF-8) is rejected with its file, its number in the file
// (counting from 1) and the line it starts on; the reason is fixed text
// with at most a property name, never the record's content. Broken JSON
// ends the reading of a document there (one rejection: "malformed JSON;
// the rest of the file was not read", or "the file ends inside the record
// (truncated)"); in JSON Lines it costs only its line. With strict: true a
// Fetch with any rejection fails.
//
// # Matching
//
// A record belongs to a subject through an identifier that was theirs on
// the record's (start) date, compared whole: a user's Entra ID object id
// (identifier kind entra_id) and user principal name (upn), both
// case-insensitively, and telephone numbers (phone, in E.164, or
// extension) through source.Matcher.Number. alex@uni.example never matches
// alex.b@uni.example. Email addresses are not UPNs and are not looked up.
//
// # Duplicates
//
// A record seen twice (pages saved twice, overlapping date ranges) is taken
// once: by id for sign-ins and PSTN rows; for call records by id, keeping
// the highest version (Graph adds data to a call record and raises its
// version) and, at the same version, the copy with sessions expanded over
// a list copy without; for presence by user, time, availability and
// activity. Only records of the wanted subjects are remembered, so memory
// grows with their data, not the files'. Source.Duplicates reports how
// many were dropped.
//
// # msgraph-callrecords
//
// One calls row per session the subject took part in, as its caller or
// callee (sessions are expanded with
// $expand=sessions($expand=segments)); for a session whose own endpoints do
// not name them, one per segment that does (a call-queue or transfer leg);
// and, for a subject whom the organizer or participants name but no session
// does (the record was saved from the list, which has no sessions, or the
// sessions continue on a further page), one row for the call as a whole,
// with outcome unknown. Endpoints are read from associatedIdentity, else
// the deprecated identity; participants from participants_v2 and
// organizer_v2, and the deprecated participants and organizer. In an
// identity set a user wins over onPremises, phone, guest, ACS users,
// application instances (call queues, auto attendants) and applications.
//
//   - call_id: the call record's id; unique_id: the session's (segment's) id
//   - start_utc, end_utc: the session's (segment's) times, else the call's
//   - outcome: answered without failureInfo (the session's, else its first
//     segment's); with one, by its reason: busy, declined or rejected →
//     busy; no answer, not answered or timeout → no_answer; cancel →
//     cancelled; congestion → congestion; anything else → failed.
//     outcome_raw is "stage: reason". answer_utc is the start and talk_s
//     the duration when answered or dropped mid-call (stage midcall).
//   - direction: internal when both sides are in the organisation (users
//     of the same tenant, call queues, Teams services); otherwise, when a
//     side is a phone, a guest or another tenant's user (or, for a
//     segment, its session has such a side), outbound if the subject was
//     the caller and inbound if the callee
//   - subject_number: the identifier matched (UPN, object id or E.164)
//   - subject_name_shown: the subject's display name when the caller
//   - other_number: the other side's phone number (E.164) or UPN;
//     other_name its display name
//   - channel, dst_channel: the caller's and callee's client
//     (productFamily/platform, e.g. teams/windows) or service/role for a
//     Teams service (service/conferencing)
//   - application: the call type (peerToPeer, groupCall, unknown);
//     application_data: the modalities (audio,video,...)
//
// The meeting join URL is not exported: it can let its holder join.
//
// # msgraph-pstn
//
// A row's user (userId, userPrincipalName, or their own number) was the
// caller of an outbound call (callType user_out, user_out_transfer,
// conf_out, ucap_out, emergency_out, ... ) and the callee of an inbound
// one (user_in, conf_in, ucap_in, ...); a callType that says neither is
// rejected. The other number is looked up too, as every calls source does,
// so a subject whose number a colleague rang (a mobile, a desk number
// calling a call queue) gets the row, seen from their side: role and
// direction reversed, the user's number and display name as the other
// party.
//
//   - call_id: callId (the same for the legs of a call), else id; unique_id: id
//   - answer_utc: endDateTime − duration; talk_s: duration; outcome:
//     answered when duration > 0, else no_answer (the log records no
//     failure reason: outcome_raw is empty)
//   - subject_number: the subject's number on the call, else the identifier matched
//   - application: callType; application_data: destination, context,
//     charge and connection charge with currency, licence, number type,
//     operator and duration source
//
// # msgraph-presence
//
// Graph keeps no presence history and a presence has no timestamp, so the
// connector reads what a capture recorded as it happened, one JSON object
// per line (JSON Lines; arrays and responses of these work too):
//
// A change notification, wrapped with the time the capture received it:
//
//	{"received": "2025-01-06T09:15:02.417Z",
//	 "notification": {"subscriptionId": "...", "changeType": "updated",
//	   "resource": "communications/presences/{user-id}",
//	   "resourceData": {"@odata.type": "#Microsoft.Graph.presence",
//	     "id": "{user-id}", "availability": "Busy", "activity": "InACall"}}}
//
// notification may also be the whole body of one delivery,
// {"value": [notification, ...]}, all received at that time. Since 2024
// basic notifications carry no availability: subscribe with
// includeResourceData and have the capture decrypt encryptedContent and
// store the result beside it as "decryptedContent" (the decrypted
// presence object), or in place of resourceData. The user is
// resourceData.id, else the id in @odata.id (users/{id}/presence) or in
// resource (communications/presences/{id} or ...('{id}')). Lifecycle
// notifications (missed, reauthorizationRequired, subscriptionRemoved) and
// changeType deleted are no presence change and are skipped; a
// notification saved without its receipt time is rejected.
//
// A polled snapshot, the time the capture read it and the presence it got
// (GET /users/{id}/presence or /communications/presences/{id}):
//
//	{"captured": "2025-01-06T12:00:00Z",
//	 "presence": {"id": "{user-id}", "availability": "Away", "activity": "Away"}}
//
// Rows are matched by the user's Entra ID object id. state maps
// availability (any case): Available, AvailableIdle → available; Busy,
// BusyIdle → busy; DoNotDisturb → do_not_disturb; Away → away;
// BeRightBack → be_right_back; Offline → offline; PresenceUnknown and
// anything else → unknown. state_raw keeps availability and activity is
// kept as written. A snapshot records the state when polled, not when it
// changed.
//
// # entra-signins
//
// One logins row per sign-in of the subject (userId or
// userPrincipalName): event sign_in; result success (status.errorCode 0)
// or failure with error_code (the AADSTS number) and error_reason
// (failureReason, with additionalDetails in brackets), unknown without a
// status; application (appDisplayName, else appId); client
// (clientAppUsed; browser); ip_address; device (displayName, operating
// system); location (city, state, countryOrRegion); event_raw "signIn",
// marked interactive or non-interactive where Graph says.
//
// apps keeps only the sign-ins to the listed applications (appDisplayName
// in any case, or appId). By default every sign-in is kept: Teams signs in
// under several application names (Microsoft Teams, Microsoft Teams Web
// Client, Teams admin centre, Skype for Business Online, ...) that a fixed
// list would miss, and a subject access request covers all of the
// subject's sign-ins; narrow it where the controller's notice limits the
// logins dataset to the telephony apps.
package msgraph
