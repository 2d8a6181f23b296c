package alerts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Target is where announcements go. Deliver returns nil once the target
// has accepted the message; an error wrapped by backoff.Permanent means
// retrying now is pointless (the next start tries again). Deliver is
// called by one goroutine per target, one message at a time, in the
// order the announcements were decided, so a resolved announcement never
// overtakes its opened one.
type Target interface {
	// Name identifies the target in the catalog across restarts; it
	// holds no secret.
	Name() string
	Deliver(ctx context.Context, m Message) error
}

// NATS announces on the JetStream stream DATAMAP_FINDINGS, subjects
// datamap.findings.<kind>. A stream rather than a plain publish: the
// publish is acknowledged once stored, so "delivered" means kept; a router
// that was down reads what it missed; and the event id as Nats-Msg-Id
// lets JetStream drop a repeat. Core NATS subscribers to
// datamap.findings.> receive every announcement too.
type NATS struct{ js jetstream.JetStream }

var _ Target = (*NATS)(nil)

// NewNATS creates or updates the findings stream (replicas as the events
// stream has) and returns the target.
func NewNATS(ctx context.Context, js jetstream.JetStream, replicas int) (*NATS, error) {
	if replicas < 1 {
		replicas = 1
	}
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamName,
		Description: "datamap findings, announced when they open and when they are resolved",
		Subjects:    []string{SubjectPrefix + ".>"},
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		MaxAge:      90 * 24 * time.Hour,
	})
	if err != nil {
		return nil, fmt.Errorf("jetstream: create stream %s: %w", StreamName, err)
	}
	return &NATS{js: js}, nil
}

// Name is "nats".
func (*NATS) Name() string { return "nats" }

// Deliver publishes m and waits for the stream's acknowledgement.
func (n *NATS) Deliver(ctx context.Context, m Message) error {
	msg := nats.NewMsg(Subject(m.Announcement.Kind))
	msg.Data = m.Event
	msg.Header.Set("Content-Type", "application/cloudevents+json")
	if _, err := n.js.PublishMsg(ctx, msg, jetstream.WithMsgID(EventSource+"/"+m.ID)); err != nil {
		return fmt.Errorf("publish on %s: %w", msg.Subject, err)
	}
	return nil
}

// The webhook formats.
const (
	// FormatJSON posts the CloudEvent itself (structured mode,
	// application/cloudevents+json).
	FormatJSON = "json"
	// FormatSlack posts a Slack incoming-webhook message: {"text": …}.
	FormatSlack = "slack"
	// FormatAlertmanager posts a one-alert array to Alertmanager's
	// POST /api/v2/alerts.
	FormatAlertmanager = "alertmanager"
)

// Formats are the webhook formats, in the order the docs list them.
var Formats = []string{FormatJSON, FormatSlack, FormatAlertmanager}

// Webhook posts announcements to a URL in one of the Formats.
type Webhook struct {
	format string
	url    string
	name   string
	client *http.Client
}

var _ Target = (*Webhook)(nil)

// NewWebhook returns the webhook target for format and rawURL (http or
// https).
func NewWebhook(format, rawURL string) (*Webhook, error) {
	switch format {
	case FormatJSON, FormatSlack, FormatAlertmanager:
	default:
		return nil, fmt.Errorf("alerts: webhook format %q: use json, slack or alertmanager", format)
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("alerts: %s webhook: not an http or https URL", format)
	}
	sum := sha256.Sum256([]byte(rawURL))
	return &Webhook{format: format, url: rawURL,
		// The URL's path is often the secret (Slack's is): the name keeps
		// the host and a hash that tells two URLs apart.
		name:   format + ":" + u.Host + "#" + hex.EncodeToString(sum[:4]),
		client: &http.Client{Timeout: 10 * time.Second}}, nil
}

// Name is format:host#hash of the URL.
func (w *Webhook) Name() string { return w.name }

// Deliver posts m in the webhook's format. A 2xx answer is delivered;
// 408, 429 and 5xx are retried (after Retry-After when given); other
// answers are permanent failures.
func (w *Webhook) Deliver(ctx context.Context, m Message) error {
	body, contentType, err := w.payload(m)
	if err != nil {
		return backoff.Permanent(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return backoff.Permanent(fmt.Errorf("POST %s: %w", w.name, err))
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := w.client.Do(req)
	if err != nil {
		// *url.Error repeats the URL, which may hold a secret.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("POST %s: %w", w.name, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		err := fmt.Errorf("POST %s: %s", w.name, resp.Status)
		if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s > 0 && s <= 3600 {
			return errors.Join(err, backoff.RetryAfter(s))
		}
		return err
	case code == http.StatusRequestTimeout || code >= 500:
		return fmt.Errorf("POST %s: %s", w.name, resp.Status)
	default:
		return backoff.Permanent(fmt.Errorf("POST %s: %s (check the URL and the receiver; retried at the next start)", w.name, resp.Status))
	}
}

func (w *Webhook) payload(m Message) ([]byte, string, error) {
	switch w.format {
	case FormatSlack:
		b, err := json.Marshal(slackMessage(m.Announcement))
		return b, "application/json", err
	case FormatAlertmanager:
		b, err := json.Marshal([]alertmanagerAlert{alertmanagerAlertOf(m.Announcement)})
		return b, "application/json", err
	default:
		return m.Event, "application/cloudevents+json", nil
	}
}

// slackText is the body of a Slack incoming webhook
// (https://api.slack.com/messaging/webhooks): text alone, which Slack
// renders with its mrkdwn and shows in notifications.
type slackText struct {
	Text string `json:"text"`
}

func slackMessage(a Announcement) slackText {
	mark := map[string]string{"high": ":red_circle:", "medium": ":large_orange_circle:", "low": ":white_circle:"}[a.Severity]
	if a.Status == Resolved {
		return slackText{Text: fmt.Sprintf(":white_check_mark: *Resolved* %s finding `%s`: %s\n_open since %s_",
			a.Severity, a.Kind, a.About, a.OpenedAt.Format(time.RFC3339))}
	}
	text := fmt.Sprintf("%s *%s* finding `%s`: %s\n%s", mark, a.Severity, a.Kind, a.About, a.Message)
	if a.Action != "" {
		text += "\n*What to do:* " + a.Action
	}
	return slackText{Text: text}
}

// alertmanagerHold is how long an opened finding stays firing in
// Alertmanager without being sent again. Alertmanager resolves an alert
// whose endsAt passed; datamap announces once, so it sets endsAt itself:
// far ahead when opened, the resolution time when resolved.
const alertmanagerHold = 365 * 24 * time.Hour

// alertmanagerAlert is one element of Alertmanager's POST /api/v2/alerts
// body (postableAlert in its OpenAPI document).
type alertmanagerAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
}

func alertmanagerAlertOf(a Announcement) alertmanagerAlert {
	labels := map[string]string{"alertname": "DatamapFinding", "kind": a.Kind, "severity": a.Severity,
		"about": a.About, "source": EventSource}
	if a.Activity != "" {
		labels["activity"] = a.Activity
	}
	out := alertmanagerAlert{Labels: labels,
		Annotations: map[string]string{"summary": a.Kind + ": " + a.About, "description": a.Message, "action": a.Action},
		StartsAt:    a.OpenedAt, EndsAt: a.OpenedAt.Add(alertmanagerHold)}
	if a.ResolvedAt != nil {
		out.EndsAt = *a.ResolvedAt
	}
	return out
}
