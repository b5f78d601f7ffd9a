package msgraph

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source/sourcetest"
)

func TestOutcome(t *testing.T) {
	tests := []struct {
		f       *failureInfo
		outcome string
		raw     string
	}{
		{nil, "answered", ""},
		{&failureInfo{}, "answered", ""},
		{&failureInfo{Stage: "callSetup", Reason: "CallDeclined"}, "busy", "callSetup: CallDeclined"},
		{&failureInfo{Stage: "callSetup", Reason: "UserBusy"}, "busy", "callSetup: UserBusy"},
		{&failureInfo{Stage: "callSetup", Reason: "Call rejected"}, "busy", "callSetup: Call rejected"},
		{&failureInfo{Stage: "callSetup", Reason: "NoAnswer"}, "no_answer", "callSetup: NoAnswer"},
		{&failureInfo{Stage: "callSetup", Reason: "Not answered"}, "no_answer", "callSetup: Not answered"},
		{&failureInfo{Stage: "callSetup", Reason: "RingTimeout"}, "no_answer", "callSetup: RingTimeout"},
		{&failureInfo{Stage: "callSetup", Reason: "CallCancelled"}, "cancelled", "callSetup: CallCancelled"},
		{&failureInfo{Stage: "callSetup", Reason: "NetworkCongestion"}, "congestion", "callSetup: NetworkCongestion"},
		{&failureInfo{Stage: "midcall", Reason: "NetworkError"}, "failed", "midcall: NetworkError"},
		{&failureInfo{Stage: "unknown", Reason: "Unexpected"}, "failed", "unknown: Unexpected"},
		{&failureInfo{Reason: "MediaFailure"}, "failed", "MediaFailure"},
		{&failureInfo{Stage: "callSetup"}, "failed", "callSetup"},
	}
	for _, tc := range tests {
		o, raw := outcome(tc.f)
		if o != tc.outcome || raw != tc.raw {
			t.Errorf("outcome(%+v) = %q, %q; want %q, %q", tc.f, o, raw, tc.outcome, tc.raw)
		}
	}
}

func TestPresenceState(t *testing.T) {
	tests := map[string]string{
		"Available": "available", "AvailableIdle": "available", "availableIdle": "available",
		"Busy": "busy", "BusyIdle": "busy", "busy": "busy",
		"DoNotDisturb": "do_not_disturb", "doNotDisturb": "do_not_disturb",
		"Away": "away", "BeRightBack": "be_right_back", "beRightBack": "be_right_back",
		"Offline": "offline", "OFFLINE": "offline",
		"PresenceUnknown": "unknown", "presenceUnknown": "unknown",
		"": "unknown", "OutOfOffice": "unknown", " Away ": "away",
	}
	for in, want := range tests {
		if got := presenceState(in); got != want {
			t.Errorf("presenceState(%q) = %q, want %q", in, got, want)
		}
		if !contains(model.PresenceStates, presenceState(in)) {
			t.Errorf("%q is not a presence state", presenceState(in))
		}
	}
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

func TestPSTNDirection(t *testing.T) {
	tests := map[string]string{
		"user_in": "inbound", "user_out": "outbound", "USER_OUT": "outbound",
		"ucap_in": "inbound", "ucap_out": "outbound", "conf_in": "inbound", "conf_out": "outbound",
		"user_out_transfer": "outbound", "user_out_forwarding": "outbound", "emergency_out": "outbound",
		"user_in_transfer": "inbound",
		// Neither, or both:
		"": "", "user": "", "inbound_outbound": "", "user_inx": "", "user_in_out": "",
	}
	for in, want := range tests {
		if got := pstnDirection(in); got != want {
			t.Errorf("pstnDirection(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDirection(t *testing.T) {
	user := party{kind: partyUser, id: "u", tenant: tenantID}
	colleague := party{kind: partyUser, id: "c", tenant: strings.ToUpper(tenantID)}
	noTenant := party{kind: partyUser, id: "n"}
	otherTenant := party{kind: partyUser, id: "x", tenant: "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"}
	phone := party{kind: partyPhone, id: "+441632960999"}
	guest := party{kind: partyExternal, name: "Guest"}
	app := party{kind: partyApp, name: "IT Helpdesk"}
	service := party{kind: partyService}
	tests := []struct {
		name        string
		me, other   party
		caller      bool
		outside     bool
		want        string
		wantCallee  string
		description string
	}{
		{name: "colleague", me: user, other: colleague, want: "internal", wantCallee: "internal"},
		{name: "tenant unknown", me: user, other: noTenant, want: "internal", wantCallee: "internal"},
		{name: "other tenant", me: user, other: otherTenant, want: "outbound", wantCallee: "inbound"},
		{name: "phone", me: user, other: phone, want: "outbound", wantCallee: "inbound"},
		{name: "guest", me: user, other: guest, want: "outbound", wantCallee: "inbound"},
		{name: "call queue", me: user, other: app, want: "internal", wantCallee: "internal"},
		{name: "meeting service", me: user, other: service, want: "internal", wantCallee: "internal"},
		{name: "nobody known", me: user, other: party{}, want: "internal", wantCallee: "internal"},
		{name: "subject is the phone", me: phone, other: user, want: "outbound", wantCallee: "inbound"},
		{name: "segment of a session with a phone", me: user, other: app, outside: true, want: "outbound", wantCallee: "inbound"},
	}
	for _, tc := range tests {
		if got := direction(tc.me, tc.other, true, tc.outside); got != tc.want {
			t.Errorf("%s, caller: %q, want %q", tc.name, got, tc.want)
		}
		if got := direction(tc.me, tc.other, false, tc.outside); got != tc.wantCallee {
			t.Errorf("%s, callee: %q, want %q", tc.name, got, tc.wantCallee)
		}
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC 3339 in UTC, "" for not accepted
	}{
		{"2025-01-06T09:15:02Z", "2025-01-06T09:15:02Z"},
		{"2025-01-06T09:15:02.1234567Z", "2025-01-06T09:15:02Z"},
		{"2025-01-06T09:15:02.9999999Z", "2025-01-06T09:15:02Z"},
		{"2020-02-25T18:52:21.2169889Z", "2020-02-25T18:52:21Z"},
		{"2025-01-06T10:15:02+01:00", "2025-01-06T09:15:02Z"},
		{"2025-01-06T09:15:02.1234567+00:00", "2025-01-06T09:15:02Z"},
		{" 2025-01-06T09:15:02Z ", "2025-01-06T09:15:02Z"},
		{"/Date(1736154902123)/", "2025-01-06T09:15:02Z"},
		{"/Date(1736154902123+0100)/", "2025-01-06T09:15:02Z"},
		{"/Date(1736154902123-0500)/", "2025-01-06T09:15:02Z"},
		{"0001-01-01T00:00:00Z", ""},
		{"1970-01-01T00:00:00Z", ""},
		{"/Date(-62135596800000)/", ""},
		{"/Date(x)/", ""},
		{"/Date(1736154902123", ""},
		{"2025-01-06T09:15:02", ""},
		{"2025-01-06 09:15:02Z", ""},
		{"06/01/2025 09:15:02", ""},
		{"2025-01-06", ""},
		{"", ""},
	}
	for _, tc := range tests {
		got, ok := parseTime(tc.in)
		s := ""
		if ok {
			s = got.Format(time.RFC3339)
			if got.Location() != time.UTC {
				t.Errorf("parseTime(%q) in %v", tc.in, got.Location())
			}
		}
		if s != tc.want {
			t.Errorf("parseTime(%q) = %q, want %q", tc.in, s, tc.want)
		}
	}
}

func TestParties(t *testing.T) {
	tests := []struct {
		name string
		got  party
		want party
	}{
		{"identitySet user", fromSet(&identitySet{User: &identity{ID: " u1 ", DisplayName: "A", TenantID: "t"}}), party{kind: partyUser, id: "u1", name: "A", tenant: "t"}},
		{"user wins over phone", fromSet(&identitySet{User: &identity{ID: "u1"}, Phone: &identity{ID: "+44"}}), party{kind: partyUser, id: "u1"}},
		{"empty user object, phone", fromSet(&identitySet{User: &identity{}, Phone: &identity{ID: "+441632960999"}}), party{kind: partyPhone, id: "+441632960999"}},
		{"guest", fromSet(&identitySet{Guest: &identity{ID: "g", DisplayName: "Guest"}}), party{kind: partyExternal, id: "g", name: "Guest"}},
		{"acs user", fromSet(&identitySet{AcsUser: &identity{ID: "8:acs:x"}}), party{kind: partyExternal, id: "8:acs:x"}},
		{"application instance", fromSet(&identitySet{ApplicationInstance: &identity{ID: "q", DisplayName: "Queue"}}), party{kind: partyApp, id: "q", name: "Queue"}},
		{"on-premises user", fromSet(&identitySet{OnPremises: &identity{ID: "op"}}), party{kind: partyUser, id: "op"}},
		{"nil set", fromSet(nil), party{}},
		{"associatedIdentity user", fromIdentity(&identity{ID: "u", UPN: "a@b"}), party{kind: partyUser, id: "u", upn: "a@b"}},
		{"associatedIdentity phone by type", fromIdentity(&identity{ODataType: "#microsoft.graph.communicationsPhoneIdentity", ID: "01632960999"}), party{kind: partyPhone, id: "01632960999"}},
		{"associatedIdentity phone by form", fromIdentity(&identity{ID: "+441632960999"}), party{kind: partyPhone, id: "+441632960999"}},
		{"associatedIdentity guest", fromIdentity(&identity{ODataType: "#microsoft.graph.communicationsGuestIdentity", ID: "g"}), party{kind: partyExternal, id: "g"}},
		{"associatedIdentity app", fromIdentity(&identity{ODataType: "#microsoft.graph.communicationsApplicationInstanceIdentity", ID: "q"}), party{kind: partyApp, id: "q"}},
		{"associatedIdentity empty", fromIdentity(&identity{}), party{}},
		{"v2 identity", fromV2(&participantV2{ID: "x", Identity: &identitySet{User: &identity{ID: "u"}}}), party{kind: partyUser, id: "u"}},
		{"v2 id only (user)", fromV2(&participantV2{ID: "u"}), party{kind: partyUser, id: "u"}},
		{"v2 id only (phone)", fromV2(&participantV2{ID: "+441632960999"}), party{kind: partyPhone, id: "+441632960999"}},
		{"endpoint: associatedIdentity wins", fromEndpoint(&endpoint{AssociatedIdentity: &identity{ID: "a"}, Identity: &identitySet{User: &identity{ID: "b"}}, UserAgent: &userAgent{ProductFamily: "teams", Platform: "windows"}}), party{kind: partyUser, id: "a", channel: "teams/windows"}},
		{"endpoint: deprecated identity", fromEndpoint(&endpoint{Identity: &identitySet{Phone: &identity{ID: "+44"}}, UserAgent: &userAgent{ProductFamily: "unknown", Platform: "unknown"}}), party{kind: partyPhone, id: "+44"}},
		{"service endpoint", fromEndpoint(&endpoint{ODataType: "#microsoft.graph.callRecords.serviceEndpoint", UserAgent: &userAgent{ODataType: "#microsoft.graph.callRecords.serviceUserAgent", Role: "voicemail"}}), party{kind: partyService, channel: "service/voicemail"}},
		{"service endpoint without agent", fromEndpoint(&endpoint{ODataType: "#microsoft.graph.callRecords.serviceEndpoint"}), party{kind: partyService, channel: "service"}},
		{"nil endpoint", fromEndpoint(nil), party{}},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, tc.got, tc.want)
		}
	}
}

// callRecordJSON wraps sessions (and more members) in a call record.
func callRecordJSON(id string, version int, extra string) string {
	return `{"id":"` + id + `","version":` + strconv.Itoa(version) + `,"type":"peerToPeer","modalities":["audio"],"startDateTime":"2025-01-06T10:00:00Z","endDateTime":"2025-01-06T10:10:00Z"` + extra + `}`
}

func ai(id, upn, tenant string) string {
	return `{"@odata.type":"#microsoft.graph.callRecords.participantEndpoint","associatedIdentity":{"id":"` + id + `","displayName":"N","tenantId":"` + tenant + `","userPrincipalName":"` + upn + `"}}`
}

func TestCallRecordRows(t *testing.T) {
	phone := `{"@odata.type":"#microsoft.graph.callRecords.participantEndpoint","identity":{"phone":{"id":"+447700900123"}}}`
	svc := `{"@odata.type":"#microsoft.graph.callRecords.serviceEndpoint","userAgent":{"@odata.type":"#microsoft.graph.callRecords.serviceUserAgent","role":"conferencing"}}`
	session := func(id, caller, callee, extra string) string {
		return `{"id":"` + id + `","caller":` + caller + `,"callee":` + callee + extra + `}`
	}
	tests := []struct {
		name string
		data string
		want []string // subject|unique_id|role|direction|outcome|other_number|start
	}{
		{
			name: "matched by UPN alone, whatever its case",
			data: callRecordJSON("c1", 1, `,"sessions":[`+session("s1", ai("", "ALEX@uni.example.ac.uk", tenantID), ai("x", "x@uni.example.ac.uk", tenantID), "")+`]`),
			want: []string{"S-1001|s1|caller|internal|answered|x@uni.example.ac.uk|10:00:00"},
		},
		{
			name: "the near-miss UPN and id match nobody",
			data: callRecordJSON("c1", 1, `,"sessions":[`+session("s1", ai(alexBID, "alex.b@uni.example.ac.uk", tenantID), ai("x", "alex@uni.example.ac.uk.evil", tenantID), "")+`]`),
		},
		{
			name: "a subject's mobile as the callee (Matcher.Number)",
			data: callRecordJSON("c1", 1, `,"sessions":[`+session("s1", ai(alexID, "", tenantID), phone, "")+`]`),
			want: []string{
				"S-1001|s1|caller|outbound|answered|+447700900123|10:00:00",
				"S-1006|s1|callee|inbound|answered||10:00:00",
			},
		},
		{
			name: "another tenant's user",
			data: callRecordJSON("c1", 1, `,"sessions":[`+session("s1", ai("e", "j@hs.example", "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"), ai(sioID, "", tenantID), "")+`]`),
			want: []string{"S-1002|s1|callee|inbound|answered|j@hs.example|10:00:00"},
		},
		{
			name: "segments name the subject when the session's endpoints do not",
			data: callRecordJSON("c1", 1, `,"sessions":[`+session("s1", svc, svc, `,"startDateTime":"2025-01-06T10:01:00Z","segments":[`+
				session("g1", svc, ai(chenID, "", tenantID), `,"startDateTime":"2025-01-06T10:02:00Z","failureInfo":{"stage":"callSetup","reason":"NoAnswer"}`)+","+
				session("g2", svc, ai(chenID, "", tenantID), `,"startDateTime":"2025-01-06T10:03:00Z"`)+`]`)+`]`),
			want: []string{
				"S-1006|g1|callee|internal|no_answer||10:02:00",
				"S-1006|g2|callee|internal|answered||10:03:00",
			},
		},
		{
			name: "a session's failure may sit on a segment only",
			data: callRecordJSON("c1", 1, `,"sessions":[`+session("s1", ai(alexID, "", tenantID), ai(sioID, "", tenantID), `,"segments":[`+
				session("g1", ai(alexID, "", tenantID), ai(sioID, "", tenantID), `,"failureInfo":{"stage":"callSetup","reason":"CallDeclined"}`)+`]`)+`]`),
			want: []string{
				"S-1001|s1|caller|internal|busy||10:00:00",
				"S-1002|s1|callee|internal|busy||10:00:00",
			},
		},
		{
			name: "a group call without sessions: the participant's other party is the organizer",
			data: `{"id":"c1","type":"groupCall","startDateTime":"2025-01-06T10:00:00Z","endDateTime":"2025-01-06T11:00:00Z",` +
				`"organizer_v2":{"id":"` + sioID + `","identity":{"user":{"id":"` + sioID + `","displayName":"Siobhán"}}},` +
				`"participants_v2":[{"id":"` + sioID + `"},{"id":"` + alexID + `","identity":{"user":{"id":"` + alexID + `","userPrincipalName":"alex@uni.example.ac.uk"}}},{"id":"x"},{"id":"+447700900123"}]}`,
			want: []string{
				"S-1001|c1|callee|internal|unknown||10:00:00",
				"S-1002|c1|caller|internal|unknown||10:00:00",
				"S-1006|c1|callee|inbound|unknown||10:00:00",
			},
		},
		{
			name: "a participant no session names (sessions on a further page) gets the whole call",
			data: callRecordJSON("c1", 1, `,"participants_v2":[{"id":"`+alexID+`"},{"id":"`+chenID+`"}],"sessions":[`+
				session("s1", ai(alexID, "", tenantID), svc, "")+`],"sessions@odata.nextLink":"https://graph.microsoft.com/x"`),
			want: []string{
				"S-1001|s1|caller|internal|answered||10:00:00",
				"S-1006|c1|callee|internal|unknown||10:00:00",
			},
		},
		{
			name: "a newer version replaces an older one, in either order",
			data: "[" + callRecordJSON("c1", 1, `,"sessions":[`+session("old", ai(alexID, "", tenantID), svc, "")+`]`) + "," +
				callRecordJSON("C1", 3, `,"sessions":[`+session("new", ai(alexID, "", tenantID), svc, "")+`]`) + "," +
				callRecordJSON("c1", 2, `,"sessions":[`+session("mid", ai(alexID, "", tenantID), svc, "")+`]`) + "]",
			want: []string{"S-1001|new|caller|internal|answered||10:00:00"},
		},
		{
			name: "at the same version the copy with sessions wins over a list copy",
			data: "[" + callRecordJSON("c1", 1, `,"organizer_v2":{"id":"`+alexID+`"}`) + "," +
				callRecordJSON("c1", 1, `,"sessions":[`+session("s1", ai(alexID, "", tenantID), svc, "")+`]`) + "]",
			want: []string{"S-1001|s1|caller|internal|answered||10:00:00"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink, st, err := readBytes(t, KindCallRecords, []byte(tc.data), "c.json")
			if err != nil {
				t.Fatal(err)
			}
			if st.Rejected != 0 {
				t.Fatalf("rejections %+v", sink.Rejects)
			}
			got := rows(sink, "unique_id", "subject_role", "direction", "outcome", "other_number", "start_utc")
			for i := range got {
				got[i] = strings.Replace(got[i], "01-06T", "", 1)
			}
			diff(t, got, tc.want)
		})
	}
}

func TestCallRecordRejections(t *testing.T) {
	good := func(extra string) string { return callRecordJSON("c1", 1, extra) }
	tests := []struct{ data, reason string }{
		{`{"version":1}`, "no id"},
		{strings.Replace(good(""), "2025-01-06T10:10:00Z", "2025-01-06T09:00:00Z", 1), "endDateTime is before startDateTime"},
		{strings.Replace(good(""), `"endDateTime":"2025-01-06T10:10:00Z"`, `"endDateTime":null`, 1), "endDateTime is missing or not an RFC 3339 time"},
		{good(`,"sessions":[{"id":"s","startDateTime":"x"}]`), "session 1: startDateTime is not an RFC 3339 time"},
		{good(`,"sessions":[{"id":"s"},{"id":"s2","segments":[{"id":"g","endDateTime":"2025-01-06T09:00:00Z"}]}]`), "session 2 segment 1: endDateTime is before startDateTime"},
		{good(`,"sessions":{"id":"s"}`), "field sessions is not an array"},
		{good(`,"sessions":[{"caller":{"associatedIdentity":{"id":5}}}]`), "field sessions.caller.associatedIdentity.id is not a string"},
		{good(`,"version":"2"`), "field version is not a whole number"},
	}
	for _, tc := range tests {
		sink, _, err := readBytes(t, KindCallRecords, []byte(tc.data), "c.json")
		if err != nil {
			t.Fatal(err)
		}
		if len(sink.Rejects) != 1 || sink.Rejects[0].Reason != "record 1: "+tc.reason {
			t.Errorf("%s: rejections %+v, want %q", tc.data, sink.Rejects, tc.reason)
		}
	}
}

func TestPresenceRecords(t *testing.T) {
	note := func(resource, data string) string {
		return `{"subscriptionId":"s","changeType":"updated","resource":"` + resource + `","resourceData":` + data + `}`
	}
	tests := []struct {
		name   string
		data   string
		want   []string // subject|state|activity|at
		reason string
	}{
		{name: "id from the resource", data: `{"received":"2025-01-06T09:00:00Z","notification":` + note("communications/presences/"+alexID, `{"availability":"Busy","activity":"InAMeeting"}`) + `}`,
			want: []string{"S-1001|busy|InAMeeting|09:00:00"}},
		{name: "id from a filtered resource", data: `{"received":"2025-01-06T09:00:00Z","notification":` + note("communications/presences('"+strings.ToUpper(chenID)+"')", `{"availability":"Away","activity":"Away"}`) + `}`,
			want: []string{"S-1006|away|Away|09:00:00"}},
		{name: "id from @odata.id", data: `{"received":"2025-01-06T09:00:00Z","notification":` + note("", `{"@odata.id":"users('`+sioID+`')/presence","availability":"Offline","activity":"OffWork"}`) + `}`,
			want: []string{"S-1002|offline|OffWork|09:00:00"}},
		{name: "a notification about someone else", data: `{"received":"2025-01-06T09:00:00Z","notification":` + note("communications/presences/"+alexBID, `{"id":"`+alexBID+`","availability":"Busy"}`) + `}`},
		{name: "a created notification counts; a deleted one is no change", data: `{"received":"2025-01-06T09:00:00Z","notification":{"value":[` +
			strings.Replace(note("", `{"id":"`+alexID+`","availability":"Busy"}`), "updated", "created", 1) + "," +
			strings.Replace(note("", `{"id":"`+alexID+`","availability":"Away"}`), "updated", "deleted", 1) + `]}}`,
			want: []string{"S-1001|busy||09:00:00"}},
		{name: "a snapshot", data: `{"captured":"/Date(1736154000000)/","presence":{"id":"` + alexID + `","availability":"BusyIdle","activity":"InACall"}}`,
			want: []string{"S-1001|busy|InACall|09:00:00"}},
		{name: "a bare notification", data: note("communications/presences/"+alexID, `{"id":"`+alexID+`","availability":"Busy"}`),
			reason: `a change notification without its receipt time: save it as {"received": ..., "notification": ...}`},
		{name: "a raw delivery body", data: `{"value":[` + note("communications/presences/"+alexID, `{"id":"`+alexID+`","availability":"Busy"}`) + `]}`,
			reason: `a change notification without its receipt time: save it as {"received": ..., "notification": ...}`},
		{name: "a basic notification", data: `{"received":"2025-01-06T09:00:00Z","notification":` + note("communications/presences/"+alexID, `{"id":"`+alexID+`"}`) + `}`,
			reason: "no availability (a basic notification: subscribe with includeResourceData)"},
		{name: "no user", data: `{"received":"2025-01-06T09:00:00Z","notification":` + note("communications/presences", `{"availability":"Busy"}`) + `}`,
			reason: "no user id in resourceData or resource"},
		{name: "no receipt time", data: `{"notification":` + note("", `{"id":"`+alexID+`","availability":"Busy"}`) + `}`,
			reason: "received is missing or not an RFC 3339 time"},
		{name: "a snapshot without id", data: `{"captured":"2025-01-06T09:00:00Z","presence":{"availability":"Busy"}}`,
			reason: "presence has no id"},
		{name: "a snapshot without availability", data: `{"captured":"2025-01-06T09:00:00Z","presence":{"id":"` + alexID + `"}}`,
			reason: "presence has no availability"},
		{name: "something else", data: `{"id":"x"}`,
			reason: "neither a notification capture {received, notification} nor a snapshot {captured, presence}"},
		{name: "one bad notification of two", data: `{"received":"2025-01-06T09:00:00Z","notification":{"value":[` +
			note("", `{"id":"`+alexID+`","availability":"Busy"}`) + "," + note("", `{"id":"`+alexID+`"}`) + `]}}`,
			want:   []string{"S-1001|busy||09:00:00"},
			reason: "notification 2: no availability (a basic notification: subscribe with includeResourceData)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink, st, err := readBytes(t, KindPresence, []byte(tc.data), "p.jsonl")
			if err != nil {
				t.Fatal(err)
			}
			var reasons []string
			for _, r := range sink.Rejects {
				reasons = append(reasons, strings.TrimPrefix(r.Reason, "record 1: "))
			}
			if strings.Join(reasons, "|") != tc.reason {
				t.Errorf("rejections %q, want %q", reasons, tc.reason)
			}
			if st.Read < st.Rejected {
				t.Errorf("stats %+v", st)
			}
			got := rows(sink, "state", "activity", "at_utc")
			for i := range got {
				got[i] = strings.Replace(got[i], "01-06T", "", 1)
			}
			diff(t, got, tc.want)
		})
	}
}

func TestSignInRecords(t *testing.T) {
	base := `{"id":"i1","createdDateTime":"2025-01-06T09:00:00Z","userId":"` + alexID + `","appId":"1fec8e78-bce4-4aaf-ab1b-5451cc387264","appDisplayName":"Microsoft Teams"`
	tests := []struct {
		name, data string
		apps       []string
		want       string // result|error_code|error_reason|application|client|device|location|event_raw, "" for none
	}{
		{name: "no status", data: base + `}`, want: "unknown|||Microsoft Teams||||signIn"},
		{name: "status without a code", data: base + `,"status":{"errorCode":null}}`, want: "unknown|||Microsoft Teams||||signIn"},
		{name: "success ignores details", data: base + `,"status":{"errorCode":0,"additionalDetails":"MFA requirement satisfied by claim in the token"}}`, want: "success|||Microsoft Teams||||signIn"},
		{name: "failure, details the same as the reason", data: base + `,"status":{"errorCode":50140,"failureReason":"KMSI interrupt","additionalDetails":"KMSI interrupt"}}`, want: "failure|50140|KMSI interrupt|Microsoft Teams||||signIn"},
		{name: "code as a string", data: base + `,"status":{"errorCode":"50126"}}`, want: "failure|50126||Microsoft Teams||||signIn"},
		{name: "no app name", data: `{"id":"i1","createdDateTime":"2025-01-06T09:00:00Z","userId":"` + alexID + `","appId":"a-b","clientAppUsed":"Exchange ActiveSync","isInteractive":false,"deviceDetail":{"operatingSystem":"Android"},"location":{"countryOrRegion":"GB"}}`,
			want: "unknown|||a-b|Exchange ActiveSync|Android|GB|signIn (non-interactive)"},
		{name: "kept by app id", apps: []string{"1FEC8E78-BCE4-4AAF-AB1B-5451CC387264"}, data: base + `}`, want: "unknown|||Microsoft Teams||||signIn"},
		{name: "dropped by the app filter", apps: []string{"Microsoft Teams Web Client"}, data: base + `}`},
		{name: "near-miss UPN", data: `{"id":"i1","createdDateTime":"2025-01-06T09:00:00Z","userPrincipalName":"alex.b@uni.example.ac.uk"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSignIns("graph", SignInsConfig{Config: Config{Paths: []string{sourcetest.WriteFile(t, "s.json", tc.data)}}, Apps: tc.apps})
			if err != nil {
				t.Fatal(err)
			}
			sink, _ := fetch(t, s, sampleSubjects(t))
			got := rows(sink, "result", "error_code", "error_reason", "application", "client", "device", "location", "event_raw")
			want := []string{}
			if tc.want != "" {
				want = []string{"S-1001|" + tc.want}
			}
			diff(t, got, want)
		})
	}
}

func TestPSTNRecords(t *testing.T) {
	row := func(extra string) string {
		return `{"id":"p1","callId":"c1","userId":"` + alexID + `","startDateTime":"2025-01-06T10:00:00Z","endDateTime":"2025-01-06T10:01:00Z","calleeNumber":"+442079460999","callerNumber":"+441632960555"` + extra + `}`
	}
	tests := []struct {
		name, data string
		want       []string // subject|role|direction|outcome|answer|talk|subject_number|other_number
		reason     string
	}{
		{name: "outbound", data: row(`,"callType":"user_out","duration":30`),
			want: []string{"S-1001|caller|outbound|answered|01-06T10:00:30|30|+441632960555|+442079460999"}},
		{name: "a duration longer than the call (the operator's)", data: row(`,"callType":"user_out_transfer","duration":75`),
			want: []string{"S-1001|caller|outbound|answered|01-06T10:00:00|75|+441632960555|+442079460999"}},
		{name: "no duration", data: row(`,"callType":"user_out"`),
			want: []string{"S-1001|caller|outbound|no_answer|-|0|+441632960555|+442079460999"}},
		{name: "matched by UPN, no number of the user's", data: `{"id":"p1","userPrincipalName":"ALEX@uni.example.ac.uk","startDateTime":"2025-01-06T10:00:00Z","endDateTime":"2025-01-06T10:01:00Z","callType":"user_in","callerNumber":"02079460999","duration":1}`,
			want: []string{"S-1001|callee|inbound|answered|01-06T10:00:59|1|alex@uni.example.ac.uk|+442079460999"}},
		{name: "a colleague's number on a bot row", data: `{"id":"p1","startDateTime":"2025-01-06T10:00:00Z","endDateTime":"2025-01-06T10:01:00Z","callType":"ucap_out","calleeNumber":"07700 900123","callerNumber":"+442079460100","duration":5}`,
			want: []string{"S-1006|callee|inbound|answered|01-06T10:00:55|5|+447700900123|+442079460100"}},
		{name: "a callType that says neither", data: row(`,"callType":"user"`), reason: "callType is neither inbound (…_in) nor outbound (…_out)"},
		{name: "a negative duration", data: row(`,"callType":"user_in","duration":-1`), reason: "duration is not a whole number of seconds"},
		{name: "a fractional duration", data: row(`,"callType":"user_in","duration":1.5`), reason: "duration is not a whole number of seconds"},
		{name: "a duration of the wrong type", data: row(`,"callType":"user_in","duration":true`), reason: "field duration is not a number"},
		{name: "no start", data: strings.Replace(row(`,"callType":"user_in"`), `"startDateTime":"2025-01-06T10:00:00Z",`, "", 1), reason: "startDateTime is missing or not an RFC 3339 time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink, _, err := readBytes(t, KindPSTN, []byte(tc.data), "p.json")
			if err != nil {
				t.Fatal(err)
			}
			var reasons []string
			for _, r := range sink.Rejects {
				reasons = append(reasons, strings.TrimPrefix(r.Reason, "record 1: "))
			}
			if strings.Join(reasons, "|") != tc.reason {
				t.Errorf("rejections %q, want %q", reasons, tc.reason)
			}
			diff(t, rows(sink, "subject_role", "direction", "outcome", "answer_utc", "talk_s", "subject_number", "other_number"), tc.want)
		})
	}
}
