package sdk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/subjectref"
)

// Errors of the Publisher; match them with errors.Is.
var (
	// ErrQueueFull: the event was not accepted because the in-memory queue
	// stayed full for the whole block timeout (or the caller's context
	// ended first). Nothing was queued: retry, raise WithBuffer, or add
	// WithSpool so that a full queue spills to disk instead.
	ErrQueueFull = errors.New("events: publisher queue is full")
	// ErrClosed: the Publisher was closed; create a new one.
	ErrClosed = errors.New("events: publisher is closed")
	// ErrUndelivered: Close gave up (its context ended) with events neither
	// acknowledged by JetStream nor written to a spool. The error says how
	// many; give Close more time, or add WithSpool.
	ErrUndelivered = errors.New("events: events left undelivered")
)

// Publisher publishes the events of one system (its source) to JetStream.
// Create one per service with NewPublisher, share it, and Close it on
// shutdown; it is safe for concurrent use.
//
// Collected, Shared and Erased validate the event on the caller's
// goroutine and return as soon as it is queued: a *events.ValidationError
// comes back at once, delivery happens in the background. A background
// pump publishes the queue with jetstream.PublishMsgAsync; publishes that
// fail or are not acknowledged are retried with backoff under the same
// Nats-Msg-Id (events.Identity(source, id)), so JetStream drops the
// duplicates. What happens when the queue is full is the overflow policy
// (WithBlockOnFull, the default; WithSpillOnFull, the default with
// WithSpool; WithDropOnFull).
// With WithSpool, events that cannot be published are written to a file
// and published, in order, once NATS is back — also after a restart.
type Publisher struct {
	source    string
	validator *events.Validator
	log       *slog.Logger
	valid     validFlows

	// The parts, each behind the narrow interface the others use:
	// delivery queues, publishes, retries and spools what it is offered;
	// the aggregator (WithAggregation) offers it one event per flow and
	// window; telemetry reads the counters and observes every ack.
	out   *delivery
	agg   *aggregator // nil without WithAggregation
	tel   *telemetry
	stats *counters

	// closing is closed when Close starts: blocked callers give up.
	closing chan struct{}
	mu      sync.RWMutex // held for reading while enqueueing, for writing to close
	closed  bool

	conn *nats.Conn // the connection Connect opened, closed by Close; nil with NewPublisher
}

// NewPublisher returns a Publisher that publishes through js and starts
// its background delivery. Options are applied in order, then checked
// together; the first problem is returned. With WithSpool, events left in
// the spool by an earlier run are published first.
func NewPublisher(js jetstream.JetStream, opts ...Option) (*Publisher, error) {
	if js == nil {
		return nil, errors.New("sdk.NewPublisher: nil JetStream context; create one with jetstream.New(nc)")
	}
	o := &options{policy: overflowDefault, buffer: DefaultBuffer, maxInFlight: 1024, ackTimeout: 10 * time.Second}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	p := &Publisher{source: o.source, validator: o.validator, log: o.log, stats: new(counters),
		closing: make(chan struct{})}
	var err error
	if p.tel, err = newTelemetry(o, p.stats); err != nil {
		return nil, err
	}
	if p.out, err = startDelivery(js, o, p.stats, p.tel); err != nil {
		p.tel.close()
		return nil, err
	}
	if o.aggWindow > 0 {
		p.agg = newAggregator(p.out, o.aggWindow, p.log)
	}
	return p, nil
}

// Collected records that the service collected a category of personal data.
// It returns the event id once the event is validated and queued, or a
// *events.ValidationError naming every bad field. In aggregation mode the
// id is "" (the coalesced event gets its id when the window closes).
func (p *Publisher) Collected(ctx context.Context, c Collection) (string, error) {
	f := flow{kind: events.KindCollected, data: events.Data{Category: c.Category, DataSubject: c.DataSubject,
		Purpose: c.Purpose, LegalBasis: c.LegalBasis, SpecialCondition: c.SpecialCondition,
		Retention: c.Retention, Origin: c.Origin, Location: c.Location, Activity: c.Activity}}
	return p.publish(ctx, &f, c.SubjectRef, c.Count, c.Time)
}

// Shared records that the service disclosed a category of personal data to a
// recipient. Like Collected, it returns once the event is queued.
func (p *Publisher) Shared(ctx context.Context, s Share) (string, error) {
	f := flow{kind: events.KindShared, data: events.Data{Category: s.Category, DataSubject: s.DataSubject,
		Purpose: s.Purpose, LegalBasis: s.LegalBasis, SpecialCondition: s.SpecialCondition,
		Activity: s.Activity}, recipient: s.Recipient, hasRecipient: true}
	return p.publish(ctx, &f, s.SubjectRef, s.Count, s.Time)
}

// Erased records that the service erased personal data. Like Collected, it
// returns once the event is queued.
func (p *Publisher) Erased(ctx context.Context, e Erasure) (string, error) {
	f := flow{kind: events.KindErased, data: events.Data{Category: e.Category, DataSubject: e.DataSubject,
		Reason: e.Reason}}
	return p.publish(ctx, &f, e.SubjectRef, e.Count, e.Time)
}

// ConsentGiven records that a person gave consent to a purpose. Like
// Collected, it returns once the event is queued; events about a person
// are never aggregated.
func (p *Publisher) ConsentGiven(ctx context.Context, c Consent) (string, error) {
	f := flow{kind: events.KindConsentGiven, data: events.Data{DataSubject: c.DataSubject, Purpose: c.Purpose, Channel: c.Channel}}
	return p.publish(ctx, &f, c.SubjectRef, 1, c.Time)
}

// ConsentWithdrawn records that a person withdrew their consent to a
// purpose — a STOP reply, an unsubscribe link. From then on, collecting or
// disclosing their data for that purpose is a finding.
func (p *Publisher) ConsentWithdrawn(ctx context.Context, c Consent) (string, error) {
	f := flow{kind: events.KindConsentWithdrawn, data: events.Data{DataSubject: c.DataSubject, Purpose: c.Purpose, Channel: c.Channel}}
	return p.publish(ctx, &f, c.SubjectRef, 1, c.Time)
}

// RequestReceived records that a data-subject request arrived; its
// one-month deadline (GDPR Art. 12(3)) runs from Time.
func (p *Publisher) RequestReceived(ctx context.Context, r Request) (string, error) {
	f := flow{kind: events.KindRequestReceived, data: events.Data{DataSubject: r.DataSubject, Right: r.Right, Channel: r.Channel}}
	return p.publish(ctx, &f, r.SubjectRef, 1, r.Time)
}

// RequestCompleted records that this service (the event's source) carried
// out a request. For an erasure, each system holding the data publishes
// its own Erased event (ReasonSubjectRequest, with the SubjectRef) as
// evidence.
func (p *Publisher) RequestCompleted(ctx context.Context, r Request) (string, error) {
	f := flow{kind: events.KindRequestCompleted, data: events.Data{DataSubject: r.DataSubject, Right: r.Right}}
	return p.publish(ctx, &f, r.SubjectRef, 1, r.Time)
}

// RequestRefused records that a request was refused, on r.Grounds.
func (p *Publisher) RequestRefused(ctx context.Context, r Request) (string, error) {
	f := flow{kind: events.KindRequestRefused, data: events.Data{DataSubject: r.DataSubject, Right: r.Right, Grounds: r.Grounds}}
	return p.publish(ctx, &f, r.SubjectRef, 1, r.Time)
}

func (p *Publisher) publish(ctx context.Context, f *flow, ref string, count int64, at time.Time) (string, error) {
	count = countOrOne(count)
	if at.IsZero() {
		at = time.Now()
	}
	sc := trace.SpanContextFromContext(ctx)
	// A reference is checked on every event, without allocating: the flow
	// cache below knows flows, not people. An event about a person is
	// never aggregated: it is one person's, with a count of 1.
	if ref != "" {
		if err := checkRef(ref, count); err != nil {
			return "", err
		}
	}
	if p.agg != nil && ref == "" {
		// A flow already in the window was validated when it started.
		if joined, err := p.agg.add(f, count, at, sc); joined || err != nil {
			return "", err
		}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("events: new event id: %w", err)
	}
	if err := p.validate(f, ref, id, at, count); err != nil {
		return "", err
	}
	if p.agg != nil && ref == "" {
		return "", p.agg.start(f, count, at, sc)
	}
	r := record{flow: *f, ref: ref, count: count, id: id, at: at.UTC(), sc: sc}
	if err := p.enqueue(ctx, &r); err != nil {
		return "", err
	}
	return id.String(), nil
}

// PublishEvent queues an event built elsewhere — decoded by the HTTP
// ingest, say — keeping its source, id, time and trace context, so that a
// client retrying the same event is deduplicated by JetStream like an SDK
// retry. It validates ev again (a *events.ValidationError), bypasses
// aggregation, and otherwise behaves like Collected: it returns once ev is
// queued. It is published on ev's source's subject — or, when ev has a
// Credential, relayed on events.IngestSubject with that credential in the
// events.CredentialHeader, as the HTTP ingest does; NATS allows that to
// datamap's own identity only.
func (p *Publisher) PublishEvent(ctx context.Context, ev *events.Event) error {
	if ev == nil {
		return errors.New("events: PublishEvent(nil)")
	}
	if err := p.validator.Validate(ev); err != nil {
		return err
	}
	r := record{flow: flowOf(ev.Kind, &ev.Data), ref: ev.Data.SubjectRef, count: ev.Data.Count, at: ev.Time.UTC(),
		ext: &external{id: ev.ID, source: ev.Source, traceParent: ev.TraceParent, traceState: ev.TraceState,
			extensions: ev.Extensions, credential: ev.Credential}}
	return p.enqueue(ctx, &r)
}

func (p *Publisher) validate(f *flow, ref string, id uuid.UUID, at time.Time, count int64) error {
	if count >= 1 && p.valid.has(f) {
		return nil // this flow passed before; only the id, time and count vary, and they are fine
	}
	// A v7 UUID always passes the id checks; its text is made only if
	// something else fails, to keep the good path allocation-free.
	ev := f.event(validationID, at, count)
	ev.Source = p.source
	ev.Data.SubjectRef = ref
	if err := p.validator.Validate(&ev); err != nil {
		var ve *events.ValidationError
		if errors.As(err, &ve) {
			ve.ID = id.String()
		}
		return err
	}
	p.valid.add(f)
	return nil
}

// enqueue hands a validated record to delivery, unless the Publisher is
// closed.
func (p *Publisher) enqueue(ctx context.Context, r *record) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return ErrClosed
	}
	return p.out.offer(ctx, r, p.closing)
}

// Flush publishes the events coalesced so far (aggregation mode) and waits
// until every event accepted so far is acknowledged by JetStream, or ctx
// ends (then it returns ctx's error; the events stay queued or spooled).
func (p *Publisher) Flush(ctx context.Context) error {
	if p.agg != nil {
		if err := p.agg.flush(ctx); err != nil {
			return err
		}
	}
	return p.out.waitDelivered(ctx)
}

// Close stops accepting events (calls then return ErrClosed), flushes, and
// waits until every event is acknowledged or ctx ends. What is still
// unacknowledged then is written to the spool (WithSpool), to be published
// by the next Publisher on the same directory; without a spool it is lost,
// and Close returns an error matching ErrUndelivered that says how many.
// Close does not close the NATS connection, which the caller owns. Calling
// Close again returns nil.
func (p *Publisher) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	close(p.closing) // release callers blocked on a full queue
	p.closed = true
	p.mu.Unlock()
	var err error
	if p.agg != nil {
		err = p.agg.stop(ctx)
	}
	if werr := p.out.waitDelivered(ctx); werr != nil {
		p.log.Warn("closing before every event was acknowledged", "pending", p.stats.pending.Load(), "err", werr)
	}
	err = errors.Join(err, p.out.stop())
	p.tel.close()
	if p.conn != nil {
		p.conn.Close()
	}
	return err
}

// Stats returns the current counters.
func (p *Publisher) Stats() Stats { return p.stats.snapshot() }

// checkRef refuses a malformed subject reference, or one on an event of
// more than one record, as the Validator would.
func checkRef(ref string, count int64) error {
	if err := subjectref.Check(ref); err != nil {
		return &events.ValidationError{Problems: []events.Problem{{Field: "data.subject_ref", Message: err.Error()}}}
	}
	if count > 1 {
		return &events.ValidationError{Problems: []events.Problem{{Field: "data.subject_ref",
			Message: fmt.Sprintf("an event with a subject reference is about one person, but count is %d; publish one event per person", count)}}}
	}
	return nil
}
