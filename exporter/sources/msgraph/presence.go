package msgraph

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
)

// The shapes read by msgraph-presence: a capture record (see the package
// documentation), or, to say why it cannot be used, a bare notification.
type (
	presenceCapture struct {
		Received     string        `json:"received"`
		Notification *notification `json:"notification"`
		Captured     string        `json:"captured"`
		Presence     *presenceObj  `json:"presence"`

		// Members of a bare change notification, saved without the
		// capture's receipt time.
		SubscriptionID string          `json:"subscriptionId"`
		ResourceData   json.RawMessage `json:"resourceData"`
	}
	// notification is one change notification as the subscription
	// delivers it, or the whole body of one delivery ({"value":[...]}).
	notification struct {
		ChangeType       string          `json:"changeType"`
		Resource         string          `json:"resource"`
		LifecycleEvent   string          `json:"lifecycleEvent"`
		ResourceData     *presenceObj    `json:"resourceData"`
		DecryptedContent *presenceObj    `json:"decryptedContent"`
		EncryptedContent json.RawMessage `json:"encryptedContent"`
		Value            []notification  `json:"value"`
	}
	// presenceObj is a microsoft.graph.presence.
	presenceObj struct {
		ODataID      string `json:"@odata.id"`
		ID           string `json:"id"`
		Availability string `json:"availability"`
		Activity     string `json:"activity"`
	}
)

// presenceState maps a Graph availability (compared case-insensitively) to
// the presence dataset's state.
func presenceState(availability string) string {
	switch strings.ToLower(strings.TrimSpace(availability)) {
	case "available", "availableidle":
		return "available"
	case "busy", "busyidle":
		return "busy"
	case "donotdisturb":
		return "do_not_disturb"
	case "away":
		return "away"
	case "berightback":
		return "be_right_back"
	case "offline":
		return "offline"
	}
	return "unknown" // PresenceUnknown, and any value Graph adds later
}

// presenceJob is the msgraph-presence job.
type presenceJob struct {
	r    *run
	seen map[string]bool // changes taken: user, time, availability, activity
}

func newPresenceJob(r *run) job { return &presenceJob{r: r, seen: map[string]bool{}} }

func (j *presenceJob) flush() error { return nil }

// change is one presence change read from a capture.
type change struct {
	at   time.Time
	user string
	obj  *presenceObj
}

func (j *presenceJob) record(raw []byte, at pos) (string, error) {
	var c presenceCapture
	if reason := decode(raw, &c); reason != "" {
		return reason, nil
	}
	switch {
	case c.Notification != nil:
		t, ok := parseTime(c.Received)
		if !ok {
			return "received is missing or not an RFC 3339 time", nil
		}
		j.r.st.Cover(t)
		items := []notification{*c.Notification}
		if len(c.Notification.Value) > 0 {
			items = c.Notification.Value
			j.r.st.Read += int64(len(items) - 1)
		}
		for i := range items {
			ch, reason := notificationChange(&items[i], t)
			if reason != "" {
				if len(items) > 1 {
					reason = "notification " + strconv.Itoa(i+1) + ": " + reason
				}
				j.r.reject(at, reason)
				continue
			}
			if ch.obj == nil {
				continue // a lifecycle notification, or not a presence change
			}
			if err := j.take(ch, at); err != nil {
				return "", err
			}
		}
		return "", nil
	case c.Presence != nil:
		t, ok := parseTime(c.Captured)
		if !ok {
			return "captured is missing or not an RFC 3339 time", nil
		}
		j.r.st.Cover(t)
		if strings.TrimSpace(c.Presence.ID) == "" {
			return "presence has no id", nil
		}
		if strings.TrimSpace(c.Presence.Availability) == "" {
			return "presence has no availability", nil
		}
		return "", j.take(change{at: t, user: strings.TrimSpace(c.Presence.ID), obj: c.Presence}, at)
	case c.SubscriptionID != "" || len(c.ResourceData) > 0:
		return "a change notification without its receipt time: save it as {\"received\": ..., \"notification\": ...}", nil
	}
	return "neither a notification capture {received, notification} nor a snapshot {captured, presence}", nil
}

// notificationChange reads one change notification received at t. It
// returns a change without obj for a notification that is not a presence
// change (a lifecycle event such as missed or reauthorizationRequired,
// or a deletion).
func notificationChange(n *notification, t time.Time) (change, string) {
	if n.LifecycleEvent != "" {
		return change{}, ""
	}
	if ct := strings.ToLower(n.ChangeType); ct != "" && ct != "updated" && ct != "created" {
		return change{}, ""
	}
	obj := n.DecryptedContent
	if obj == nil || strings.TrimSpace(obj.Availability) == "" {
		obj = n.ResourceData
	}
	if obj == nil || strings.TrimSpace(obj.Availability) == "" {
		if len(n.EncryptedContent) > 0 {
			return change{}, "encrypted content was not decrypted: the capture must store it as decryptedContent"
		}
		return change{}, "no availability (a basic notification: subscribe with includeResourceData)"
	}
	user := presenceUser(obj, n)
	if user == "" {
		return change{}, "no user id in resourceData or resource"
	}
	return change{at: t, user: user, obj: obj}, ""
}

// presenceUser is the user object id a notification is about: the
// presence's id, else the one in its @odata.id (users/{id}/presence) or
// in the resource (communications/presences/{id}, or ...('{id}')).
func presenceUser(obj *presenceObj, n *notification) string {
	if id := strings.TrimSpace(obj.ID); id != "" {
		return id
	}
	if n != nil && n.ResourceData != nil && strings.TrimSpace(n.ResourceData.ID) != "" {
		return strings.TrimSpace(n.ResourceData.ID)
	}
	for _, ref := range []string{obj.ODataID, n.Resource} {
		ref = strings.TrimSpace(ref)
		for _, pre := range []string{"users/", "communications/presences/", "users('", "communications/presences('"} {
			i := strings.Index(strings.ToLower(ref), strings.ToLower(pre))
			if i < 0 {
				continue
			}
			rest := ref[i+len(pre):]
			if k := strings.IndexAny(rest, "/')"); k >= 0 {
				rest = rest[:k]
			}
			if rest != "" {
				return rest
			}
		}
	}
	return ""
}

// take emits one change for every wanted subject whose Entra ID object
// id it is, unless the same change was taken before.
func (j *presenceJob) take(ch change, at pos) error {
	r := j.r
	hits := addHits(nil, r.lookup(model.KindEntraID, ch.user, ch.at))
	if len(hits) == 0 {
		return nil
	}
	key := strings.ToLower(ch.user) + "\x00" + strconv.FormatInt(ch.at.Unix(), 10) + "\x00" + ch.obj.Availability + "\x00" + ch.obj.Activity
	if j.seen[key] {
		r.dups++
		return nil
	}
	j.seen[key] = true
	for _, h := range hits {
		rec := record(model.Presence, map[string]any{
			"source":             r.src.name,
			"source_ref":         r.ref(at),
			"at_utc":             ch.at,
			"state":              presenceState(ch.obj.Availability),
			"activity":           strings.TrimSpace(ch.obj.Activity),
			"subject_identifier": h.value,
			"state_raw":          ch.obj.Availability,
		})
		if err := r.emit(h.subject, model.Presence, rec); err != nil {
			return err
		}
	}
	return nil
}
