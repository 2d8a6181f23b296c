package alerts

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/uuid"

	"github.com/back-trace/datamap/events/personal"
	"github.com/back-trace/datamap/report"
)

// The two announcements made about a finding.
const (
	Opened   = "opened"
	Resolved = "resolved"
)

// Event attributes of the announcements. The type is versioned like the
// events services publish; the subject on NATS is SubjectPrefix + "." +
// the finding's kind.
const (
	TypeOpened    = "com.back-trace.datamap.finding.opened.v1"
	TypeResolved  = "com.back-trace.datamap.finding.resolved.v1"
	EventSource   = "datamap"
	SubjectPrefix = "datamap.findings"
	StreamName    = "DATAMAP_FINDINGS"
)

// withheld replaces a text that looks like a personal value or a subject
// reference: an announcement leaves datamap for chat rooms and pagers, so
// it carries systems, recipients and counts, never a person.
const withheld = "[withheld: it looked like a personal value]"

// idNamespace makes event ids from announcements: the same announcement of
// the same episode always gets the same id, so a receiver can drop a
// repeat (after a crash between delivering and recording it) by id.
var idNamespace = uuid.MustParse("6c1f3f0e-5a43-4d55-9a55-8f1b6a1e2c07")

// Announcement is the data of a finding's CloudEvent: the finding as drift
// states it, which announcement this is, and when the finding was opened
// (and resolved).
type Announcement struct {
	// Key is the finding's identity: its kind, activity and what it is
	// about, never its message or counts.
	Key        string                  `json:"key"`
	Status     string                  `json:"status"` // opened or resolved
	Kind       string                  `json:"kind"`
	Severity   string                  `json:"severity"`
	Activity   string                  `json:"activity,omitempty"`
	About      string                  `json:"about"`
	Message    string                  `json:"message"`
	Action     string                  `json:"action"`
	OpenedAt   time.Time               `json:"opened_at"`
	ResolvedAt *time.Time              `json:"resolved_at,omitempty"`
	Evidence   *report.FindingEvidence `json:"evidence,omitempty"`
}

// announce states a finding as an opened announcement, with every text
// checked for personal values.
func announce(f report.Finding, openedAt time.Time) Announcement {
	a := Announcement{Status: Opened, Kind: f.Kind, Severity: f.Severity.String(),
		Activity: safe(f.Activity), About: safe(f.About), Message: safe(f.Message), Action: safe(f.Action),
		OpenedAt: openedAt.UTC()}
	a.Key = Key(f)
	if f.Evidence != nil {
		e := *f.Evidence
		e.Systems = safeAll(e.Systems)
		e.Categories = safeAll(e.Categories)
		a.Evidence = &e
	}
	return a
}

// Key is a finding's identity across checks: kind, activity and what it
// is about. A part that looks personal is replaced by its hash, so the
// key stays stable and names no one.
func Key(f report.Finding) string {
	part := func(s string) string {
		if safe(s) != s {
			sum := sha256.Sum256([]byte(s))
			return "#" + hex.EncodeToString(sum[:8])
		}
		return s
	}
	return f.Kind + "|" + part(f.Activity) + "|" + part(f.About)
}

// resolve is a's resolved announcement at t.
func (a Announcement) resolve(t time.Time) Announcement {
	t = t.UTC()
	a.Status = Resolved
	a.ResolvedAt = &t
	return a
}

// safe returns s, or withheld when s holds a subject reference or looks
// like a personal value.
func safe(s string) string {
	if strings.Contains(s, "sr1:") || personal.Find(s) != "" {
		return withheld
	}
	return s
}

func safeAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = safe(s)
	}
	return out
}

// Subject is the NATS subject of an announcement about a finding of kind:
// datamap.findings.<kind>, so a subscriber picks the kinds it routes.
func Subject(kind string) string {
	token := strings.Map(func(r rune) rune {
		if r == '.' || r == '*' || r == '>' || r <= ' ' {
			return '_'
		}
		return r
	}, kind)
	return SubjectPrefix + "." + token
}

// Message is one announcement ready for a target: the CloudEvent in
// structured JSON, and the announcement it carries for targets that
// format their own text.
type Message struct {
	ID           string
	Event        []byte // application/cloudevents+json
	Announcement Announcement
}

// message builds the CloudEvent of a, with cloudevents sdk-go.
func message(a Announcement) (Message, error) {
	ev := cloudevents.NewEvent()
	at := a.OpenedAt
	typ := TypeOpened
	if a.Status == Resolved {
		at, typ = *a.ResolvedAt, TypeResolved
	}
	id := uuid.NewSHA1(idNamespace, []byte(a.Key+"\x00"+a.OpenedAt.Format(time.RFC3339Nano)+"\x00"+a.Status)).String()
	ev.SetID(id)
	ev.SetSource(EventSource)
	ev.SetType(typ)
	ev.SetSubject(a.Kind)
	ev.SetTime(at)
	if err := ev.SetData(cloudevents.ApplicationJSON, a); err != nil {
		return Message{}, fmt.Errorf("alerts: encode finding %s: %w", a.Key, err)
	}
	if err := ev.Validate(); err != nil {
		return Message{}, fmt.Errorf("alerts: finding %s: %w", a.Key, err)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return Message{}, fmt.Errorf("alerts: encode finding %s: %w", a.Key, err)
	}
	return Message{ID: id, Event: b, Announcement: a}, nil
}

// decodeMessage reads back a stored event.
func decodeMessage(b []byte) (Message, error) {
	ev := cloudevents.NewEvent()
	if err := json.Unmarshal(b, &ev); err != nil {
		return Message{}, fmt.Errorf("alerts: stored announcement: %w", err)
	}
	var a Announcement
	if err := ev.DataAs(&a); err != nil {
		return Message{}, fmt.Errorf("alerts: stored announcement %s: %w", ev.ID(), err)
	}
	return Message{ID: ev.ID(), Event: b, Announcement: a}, nil
}
