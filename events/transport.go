package events

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Transport names shared by publishers and the consumer.
//
// A service publishes on its own subjects, datamap.events.<source>.<kind>,
// so that NATS itself can allow each service's user to publish for its own
// source and no other (docs/security.md). The HTTP ingest publishes what
// it received on datamap.ingest.<source>.<kind>, with the name of the
// token that brought each event in the CredentialHeader; only datamap's own
// NATS identity may publish there. The old shared subjects,
// datamap.events.<kind>, say nothing about who publishes; the consumer
// accepts them only while DATAMAP_LEGACY_SUBJECTS allows.
const (
	// StreamName is the JetStream stream that holds every event.
	StreamName = "DATAMAP_EVENTS"
	// SubjectPrefix is followed by the source and the kind:
	// datamap.events.billing-api.collected (or, on the legacy subjects,
	// by the kind alone).
	SubjectPrefix = "datamap.events"
	// IngestSubjectPrefix is followed by the source and the kind of an
	// event the HTTP ingest relays.
	IngestSubjectPrefix = "datamap.ingest"
	// CredentialHeader names the credential that brought a relayed event
	// (e.g. "http:billing-team"). The consumer believes it only on the
	// ingest's subjects, which no service may publish on.
	CredentialHeader = "Datamap-Credential"
)

// SourceSubject is the NATS subject a source publishes its events of a
// kind on: datamap.events.<SourceToken(source)>.<kind>.
func SourceSubject(source string, k Kind) string {
	return SubjectPrefix + "." + SourceToken(source) + "." + string(k)
}

// IngestSubject is the subject the HTTP ingest relays a source's events of
// a kind on: datamap.ingest.<SourceToken(source)>.<kind>.
func IngestSubject(source string, k Kind) string {
	return IngestSubjectPrefix + "." + SourceToken(source) + "." + string(k)
}

// LegacySubject is the old shared subject of a kind, datamap.events.<kind>,
// on which any publisher could speak for any source.
func LegacySubject(k Kind) string { return SubjectPrefix + "." + string(k) }

// Subject is the old shared subject of a kind.
//
// Deprecated: publish on SourceSubject, which NATS can authorize per
// service; Subject is LegacySubject.
func Subject(k Kind) string { return LegacySubject(k) }

// InboxPrefix is the reply-inbox prefix a service's NATS connection uses
// (nats.CustomInboxPrefix), so that its user may be allowed to receive the
// acknowledgements of its own publishes and nobody else's messages.
func InboxPrefix(source string) string { return "_INBOX_" + SourceToken(source) }

// SourceToken is a source's name as one NATS subject token. A token cannot
// hold '.', '*', '>' or white space, so those bytes — and '%', the escape,
// and every byte outside printable ASCII — are written %XX, as in a URL:
// "billing.api" is billing%2Eapi. Two sources never share a token.
func SourceToken(source string) string {
	var b strings.Builder
	for i := 0; i < len(source); i++ {
		c := source[i]
		if c <= ' ' || c >= 0x7f || c == '.' || c == '*' || c == '>' || c == '%' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Route is what an event's subject says about it.
type Route struct {
	// SourceToken is the source's subject token; "" on a legacy subject.
	SourceToken string
	Kind        Kind
	// Ingest: relayed by the HTTP ingest (IngestSubjectPrefix).
	Ingest bool
	// Legacy: an old shared subject, datamap.events.<kind>.
	Legacy bool
}

// ParseSubject reads a subject events are published on. It reports false
// for a subject that is none of SourceSubject, IngestSubject and
// LegacySubject of a known kind.
func ParseSubject(subject string) (Route, bool) {
	parts := strings.Split(subject, ".")
	kindOf := func(s string) (Kind, bool) {
		for _, k := range Kinds {
			if string(k) == s {
				return k, true
			}
		}
		return "", false
	}
	switch {
	case len(parts) == 3 && parts[0]+"."+parts[1] == SubjectPrefix:
		k, ok := kindOf(parts[2])
		return Route{Kind: k, Legacy: true}, ok
	case len(parts) == 4 && parts[2] != "" && (parts[0]+"."+parts[1] == SubjectPrefix || parts[0]+"."+parts[1] == IngestSubjectPrefix):
		k, ok := kindOf(parts[3])
		return Route{SourceToken: parts[2], Kind: k, Ingest: parts[0]+"."+parts[1] == IngestSubjectPrefix}, ok
	}
	return Route{}, false
}

// IsEventSubject reports whether subject is under one of the prefixes the
// events stream captures.
func IsEventSubject(subject string) bool {
	return strings.HasPrefix(subject, SubjectPrefix+".") || strings.HasPrefix(subject, IngestSubjectPrefix+".")
}

// Encode renders an event in the v1 wire format (CloudEvents structured-mode
// JSON), built with the CloudEvents SDK.
func Encode(ev *Event) ([]byte, error) {
	ce := cloudevents.NewEvent()
	ce.SetID(ev.ID)
	ce.SetSource(ev.Source)
	ce.SetType(ev.Kind.Type())
	ce.SetSubject(ev.Data.Category)
	ce.SetTime(ev.Time)
	if ev.TraceParent != "" {
		ce.SetExtension("traceparent", ev.TraceParent)
		if ev.TraceState != "" {
			ce.SetExtension("tracestate", ev.TraceState)
		}
	}
	for name, value := range ev.Extensions {
		ce.SetExtension(name, value)
	}
	if err := ce.SetData(cloudevents.ApplicationJSON, ev.Data); err != nil {
		return nil, fmt.Errorf("events: encode data: %w", err)
	}
	return json.Marshal(ce)
}

// PublishEncoded publishes an already validated and encoded event and waits
// for JetStream's acknowledgement. The Nats-Msg-Id header is the event's
// identity, so JetStream drops a retried publish inside its dedup window.
func PublishEncoded(ctx context.Context, js jetstream.JetStream, ev *Event, raw []byte) error {
	msg := nats.NewMsg(SourceSubject(ev.Source, ev.Kind))
	msg.Data = raw
	msg.Header.Set(jetstream.MsgIDHeader, ev.Identity())
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("events: publish %s: %w", ev.Identity(), err)
	}
	return nil
}
