package events

import (
	"context"
	"encoding/json"
	"fmt"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Transport names shared by publishers and the consumer.
const (
	// StreamName is the JetStream stream that holds every event.
	StreamName = "DATAMAP_EVENTS"
	// SubjectPrefix is followed by the kind: datamap.events.collected, …
	SubjectPrefix = "datamap.events"
)

// Subject is the NATS subject events of a kind are published on.
func Subject(k Kind) string { return SubjectPrefix + "." + string(k) }

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
	if err := ce.SetData(cloudevents.ApplicationJSON, ev.Data); err != nil {
		return nil, fmt.Errorf("events: encode data: %w", err)
	}
	return json.Marshal(ce)
}

// PublishEncoded publishes an already validated and encoded event and waits
// for JetStream's acknowledgement. The Nats-Msg-Id header is the event's
// identity, so JetStream drops a retried publish inside its dedup window.
func PublishEncoded(ctx context.Context, js jetstream.JetStream, ev *Event, raw []byte) error {
	msg := nats.NewMsg(Subject(ev.Kind))
	msg.Data = raw
	msg.Header.Set(jetstream.MsgIDHeader, ev.Identity())
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("events: publish %s: %w", ev.Identity(), err)
	}
	return nil
}
