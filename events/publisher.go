package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/uuid"
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

// Publisher publishes events from one system (its source) to JetStream.
// Create one per service and share it; it is safe for concurrent use.
type Publisher struct {
	js        jetstream.JetStream
	source    string
	validator *Validator
	now       func() time.Time
}

// Option configures a Publisher. Options return errors, so a bad value fails
// NewPublisher instead of the first event.
type Option func(*Publisher) error

// WithSource names the system that emits the events, e.g. "billing-api".
// Required.
func WithSource(name string) Option {
	return func(p *Publisher) error {
		var ps problems
		checkText(&ps, "source", name, true)
		if len(ps) > 0 {
			return fmt.Errorf("WithSource(%q): %s", name, ps[0].Message)
		}
		p.source = name
		return nil
	}
}

// WithTaxonomy validates events against a custom taxonomy instead of the
// default one. Use the taxonomy the consumer uses, or events the SDK accepts
// will be dead-lettered by the consumer.
func WithTaxonomy(t *Taxonomy) Option {
	return func(p *Publisher) error {
		if t == nil {
			return errors.New("WithTaxonomy(nil): pass a taxonomy from LoadTaxonomy or DefaultTaxonomy")
		}
		p.validator = NewValidator(t)
		return nil
	}
}

// NewPublisher returns a Publisher that publishes through js.
func NewPublisher(js jetstream.JetStream, opts ...Option) (*Publisher, error) {
	if js == nil {
		return nil, errors.New("events.NewPublisher: nil JetStream context; create one with jetstream.New(nc)")
	}
	p := &Publisher{js: js, now: time.Now}
	for _, opt := range opts {
		if err := opt(p); err != nil {
			return nil, err
		}
	}
	if p.source == "" {
		return nil, errors.New("events.NewPublisher: no source; add WithSource(\"your-service\")")
	}
	if p.validator == nil {
		p.validator = NewValidator(nil)
	}
	return p, nil
}

// Collected records that the service collected a category of personal data.
// It returns the event id, or a *ValidationError naming every bad field.
func (p *Publisher) Collected(ctx context.Context, c Collection) (string, error) {
	return p.publish(ctx, KindCollected, c.data())
}

// Shared records that the service disclosed a category of personal data to a
// recipient.
func (p *Publisher) Shared(ctx context.Context, s Share) (string, error) {
	return p.publish(ctx, KindShared, s.data())
}

// Erased records that the service erased personal data.
func (p *Publisher) Erased(ctx context.Context, e Erasure) (string, error) {
	return p.publish(ctx, KindErased, e.data())
}

func (p *Publisher) publish(ctx context.Context, kind Kind, data Data) (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("events: new event id: %w", err)
	}
	ev := &Event{ID: id.String(), Source: p.source, Kind: kind, Time: p.now().UTC(), Data: data}
	if err := p.validator.Validate(ev); err != nil {
		return "", err
	}
	raw, err := Encode(ev)
	if err != nil {
		return "", err
	}
	return ev.ID, PublishEncoded(ctx, p.js, ev, raw)
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
