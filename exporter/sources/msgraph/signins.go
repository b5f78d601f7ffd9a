package msgraph

import (
	"encoding/json"
	"strings"

	"github.com/dsar-tool/dsar/exporter/model"
)

// signIn is a microsoft.graph.signIn from /auditLogs/signIns.
type signIn struct {
	ID                string `json:"id"`
	CreatedDateTime   string `json:"createdDateTime"`
	UserID            string `json:"userId"`
	UserPrincipalName string `json:"userPrincipalName"`
	AppDisplayName    string `json:"appDisplayName"`
	AppID             string `json:"appId"`
	ClientAppUsed     string `json:"clientAppUsed"`
	IPAddress         string `json:"ipAddress"`
	IsInteractive     *bool  `json:"isInteractive"`
	Status            *struct {
		ErrorCode         json.Number `json:"errorCode"`
		FailureReason     string      `json:"failureReason"`
		AdditionalDetails string      `json:"additionalDetails"`
	} `json:"status"`
	DeviceDetail *struct {
		DisplayName     string `json:"displayName"`
		OperatingSystem string `json:"operatingSystem"`
		Browser         string `json:"browser"`
	} `json:"deviceDetail"`
	Location *struct {
		City            string `json:"city"`
		State           string `json:"state"`
		CountryOrRegion string `json:"countryOrRegion"`
	} `json:"location"`
}

// signInJob is the entra-signins job.
type signInJob struct {
	r    *run
	seen map[string]bool // ids of sign-ins taken
}

func newSignInJob(r *run) job { return &signInJob{r: r, seen: map[string]bool{}} }

func (j *signInJob) flush() error { return nil }

// record makes the logins record of one sign-in, for every wanted subject
// whose UPN or Entra ID object id it is.
func (j *signInJob) record(raw []byte, at pos) (string, error) {
	var s signIn
	if reason := decode(raw, &s); reason != "" {
		return reason, nil
	}
	id := strings.TrimSpace(s.ID)
	if id == "" {
		return "no id", nil
	}
	t, ok := parseTime(s.CreatedDateTime)
	if !ok {
		return "createdDateTime is missing or not an RFC 3339 time", nil
	}
	j.r.st.Cover(t)
	r := j.r
	if apps := r.src.apps; apps != nil &&
		!apps[strings.ToLower(strings.TrimSpace(s.AppDisplayName))] && !apps[strings.ToLower(strings.TrimSpace(s.AppID))] {
		return "", nil
	}
	hits := r.userHits(nil, s.UserID, s.UserPrincipalName, t)
	if len(hits) == 0 {
		return "", nil
	}
	result, code, reason := "unknown", "", ""
	if st := s.Status; st != nil && st.ErrorCode != "" {
		code = string(st.ErrorCode)
		if code == "0" {
			result, code = "success", ""
		} else {
			result = "failure"
			reason = strings.TrimSpace(st.FailureReason)
			if d := strings.TrimSpace(st.AdditionalDetails); d != "" && d != reason {
				reason = join(" ", reason, "("+d+")")
			}
		}
	}
	key := strings.ToLower(id)
	if j.seen[key] {
		r.dups++
		return "", nil
	}
	j.seen[key] = true
	var device, browser, location string
	if d := s.DeviceDetail; d != nil {
		device = join(", ", d.DisplayName, d.OperatingSystem)
		browser = d.Browser
	}
	if l := s.Location; l != nil {
		location = join(", ", l.City, l.State, l.CountryOrRegion)
	}
	event := "signIn"
	if s.IsInteractive != nil {
		if *s.IsInteractive {
			event = "signIn (interactive)"
		} else {
			event = "signIn (non-interactive)"
		}
	}
	app := strings.TrimSpace(s.AppDisplayName)
	if app == "" {
		app = strings.TrimSpace(s.AppID)
	}
	for _, h := range hits {
		rec := record(model.Logins, map[string]any{
			"source":             r.src.name,
			"source_ref":         r.ref(at),
			"at_utc":             t,
			"event":              "sign_in",
			"result":             result,
			"error_code":         code,
			"error_reason":       reason,
			"subject_identifier": h.value,
			"application":        app,
			"client":             join("; ", s.ClientAppUsed, browser),
			"ip_address":         strings.TrimSpace(s.IPAddress),
			"device":             device,
			"location":           location,
			"event_raw":          event,
		})
		if err := r.emit(h.subject, model.Logins, rec); err != nil {
			return "", err
		}
	}
	return "", nil
}
