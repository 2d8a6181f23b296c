package sdk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"
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
// Collected, Shared and Erased validate the event on the caller's goroutine
// and return as soon as it is queued: a *events.ValidationError comes back at
// once, delivery happens in the background. A background pump publishes
// the queue with jetstream.PublishMsgAsync; publishes that fail or are not
// acknowledged are retried with backoff under the same Nats-Msg-Id
// (events.Identity(source, id)), so JetStream drops the duplicates. What happens
// when the queue is full is the overflow policy (WithBlockOnFull, the
// default; WithSpillOnFull, the default with WithSpool; WithDropOnFull).
// With WithSpool, events that cannot be published are written to a file
// and published, in order, once NATS is back — also after a restart.
type Publisher struct {
	js        jetstream.JetStream
	source    string
	validator *events.Validator
	log       *slog.Logger

	queue        chan record
	policy       overflow
	blockTimeout time.Duration
	maxInFlight  int
	ackTimeout   time.Duration
	spoolDir     string
	spool        *spool
	aggWindow    time.Duration
	agg          *aggregator
	telemetry    telemetry

	// closing is closed when Close starts: blocked callers give up.
	closing chan struct{}
	mu      sync.RWMutex // held for reading while enqueueing, for writing to close
	closed  bool

	delivery
	valid validFlows
	stats counters
	drops dropLog
}

// record is a validated event waiting in the queue. It is a value, so
// queueing it costs no allocation; the pump encodes it.
type record struct {
	flow   flow
	count  int64
	id     uuid.UUID
	at     time.Time         // the event time
	sc     trace.SpanContext // the caller's span, for traceparent
	queued time.Time         // when it was accepted, for the latency metric
	ext    *external         // set for events built elsewhere (PublishEvent)
}

// external is what an event published with PublishEvent keeps of its own.
type external struct {
	id, source, traceParent, traceState string
}

// flow is everything that identifies what happened, except when and how
// many times: the aggregation key. It is comparable.
type flow struct {
	kind             events.Kind
	category         string
	dataSubject      string
	purpose          string
	legalBasis       string
	specialCondition string
	retention        string
	origin           string
	location         string
	activity         string
	reason           string
	recipient        events.Recipient
	hasRecipient     bool
}

func (f flow) event(id string, at time.Time, count int64) events.Event {
	ev := events.Event{ID: id, Kind: f.kind, Time: at, Data: events.Data{Category: f.category, DataSubject: f.dataSubject,
		Purpose: f.purpose, LegalBasis: f.legalBasis, SpecialCondition: f.specialCondition,
		Retention: f.retention, Origin: f.origin, Location: f.location, Activity: f.activity,
		Reason: f.reason, Count: count}}
	if f.hasRecipient {
		r := f.recipient
		ev.Data.Recipient = &r
	}
	return ev
}

// NewPublisher returns a Publisher that publishes through js and starts
// its background delivery. Options are applied in order, then checked
// together; the first problem is returned. With WithSpool, events left in
// the spool by an earlier run are published first.
func NewPublisher(js jetstream.JetStream, opts ...Option) (*Publisher, error) {
	if js == nil {
		return nil, errors.New("sdk.NewPublisher: nil JetStream context; create one with jetstream.New(nc)")
	}
	p := &Publisher{js: js, policy: overflowDefault, maxInFlight: 1024, ackTimeout: 10 * time.Second,
		closing: make(chan struct{})}
	bufferSize := DefaultBuffer
	p.queue = nil
	cfg := &options{p: p, buffer: &bufferSize}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(cfg); err != nil {
			return nil, err
		}
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if p.validator == nil {
		p.validator = events.NewValidator(taxonomy.Default())
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	p.log = p.log.With("component", "datamap-publisher", "source", p.source)
	p.queue = make(chan record, bufferSize)
	if err := p.telemetry.init(p, cfg); err != nil {
		return nil, err
	}
	if p.spoolDir != "" {
		s, recovered, err := openSpool(p.spoolDir, p.log)
		if err != nil {
			p.telemetry.close()
			return nil, err
		}
		p.spool = s
		p.stats.pending.Add(int64(recovered))
		if recovered > 0 {
			p.log.Info("publishing events left in the spool by an earlier run", "events", recovered, "dir", p.spoolDir)
		}
	}
	p.startDelivery()
	if p.aggWindow > 0 {
		p.agg = newAggregator(p, p.aggWindow)
	}
	return p, nil
}

// Collected records that the service collected a category of personal data.
// It returns the event id once the event is validated and queued, or a
// *events.ValidationError naming every bad field. In aggregation mode the id is ""
// (the coalesced event gets its id when the window closes).
func (p *Publisher) Collected(ctx context.Context, c Collection) (string, error) {
	f := flow{kind: events.KindCollected, category: c.Category, dataSubject: c.DataSubject, purpose: c.Purpose,
		legalBasis: c.LegalBasis, specialCondition: c.SpecialCondition, retention: c.Retention,
		origin: c.Origin, location: c.Location, activity: c.Activity}
	return p.publish(ctx, &f, c.Count, c.Time)
}

// Shared records that the service disclosed a category of personal data to a
// recipient. Like Collected, it returns once the event is queued.
func (p *Publisher) Shared(ctx context.Context, s Share) (string, error) {
	f := flow{kind: events.KindShared, category: s.Category, dataSubject: s.DataSubject, purpose: s.Purpose,
		legalBasis: s.LegalBasis, specialCondition: s.SpecialCondition, activity: s.Activity,
		recipient: s.Recipient, hasRecipient: true}
	return p.publish(ctx, &f, s.Count, s.Time)
}

// Erased records that the service erased personal data. Like Collected, it
// returns once the event is queued.
func (p *Publisher) Erased(ctx context.Context, e Erasure) (string, error) {
	f := flow{kind: events.KindErased, category: e.Category, dataSubject: e.DataSubject, reason: e.Reason}
	return p.publish(ctx, &f, e.Count, e.Time)
}

func (p *Publisher) publish(ctx context.Context, f *flow, count int64, at time.Time) (string, error) {
	count = countOrOne(count)
	if at.IsZero() {
		at = time.Now()
	}
	sc := trace.SpanContextFromContext(ctx)
	if p.agg != nil {
		// A flow already in the window was validated when it started.
		if joined, err := p.agg.add(f, count, at, sc); joined || err != nil {
			return "", err
		}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("events: new event id: %w", err)
	}
	if err := p.validate(f, id, at, count); err != nil {
		return "", err
	}
	if p.agg != nil {
		return "", p.agg.start(f, count, at, sc)
	}
	r := record{flow: *f, count: count, id: id, at: at.UTC(), sc: sc}
	if err := p.enqueue(ctx, &r); err != nil {
		return "", err
	}
	return id.String(), nil
}

const validationID = "00000000-0000-7000-8000-000000000000"

// PublishEvent queues an event built elsewhere — decoded by the HTTP
// ingest, say — keeping its source, id, time and trace context, so that a
// client retrying the same event is deduplicated by JetStream like an SDK
// retry. It validates ev again (a *events.ValidationError), bypasses aggregation,
// and otherwise behaves like Collected: it returns once ev is queued.
func (p *Publisher) PublishEvent(ctx context.Context, ev *events.Event) error {
	if ev == nil {
		return errors.New("events: PublishEvent(nil)")
	}
	if err := p.validator.Validate(ev); err != nil {
		return err
	}
	d := &ev.Data
	r := record{flow: flow{kind: ev.Kind, category: d.Category, dataSubject: d.DataSubject, purpose: d.Purpose,
		legalBasis: d.LegalBasis, specialCondition: d.SpecialCondition, retention: d.Retention, origin: d.Origin,
		location: d.Location, activity: d.Activity, reason: d.Reason}, count: d.Count, at: ev.Time.UTC(),
		ext: &external{id: ev.ID, source: ev.Source, traceParent: ev.TraceParent, traceState: ev.TraceState}}
	if d.Recipient != nil {
		r.flow.recipient, r.flow.hasRecipient = *d.Recipient, true
	}
	return p.enqueue(ctx, &r)
}

func (p *Publisher) validate(f *flow, id uuid.UUID, at time.Time, count int64) error {
	if count >= 1 && p.valid.has(f) {
		return nil // this flow passed before; only the id, time and count vary, and they are fine
	}
	if count >= 1 && p.valid.has(f) {
		return nil // this flow passed before; only the id, time and count vary, and they are fine
	}
	// A v7 UUID always passes the id checks; its text is made only if
	// something else fails, to keep the good path allocation-free.
	ev := f.event(validationID, at, count)
	ev.Source = p.source
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

// validFlows remembers flows that passed validation. A service emits a
// handful of distinct flows, over and over: validating each once keeps the
// personal-value scan (regular expressions, microseconds) off the hot path.
// Its size is bounded; it starts over when full.
type validFlows struct {
	mu    sync.RWMutex
	flows map[flow]struct{}
}

const maxValidFlows = 4096

func (v *validFlows) has(f *flow) bool {
	v.mu.RLock()
	_, ok := v.flows[*f]
	v.mu.RUnlock()
	return ok
}

func (v *validFlows) add(f *flow) {
	v.mu.Lock()
	if v.flows == nil || len(v.flows) >= maxValidFlows {
		v.flows = make(map[flow]struct{}, 64)
	}
	v.flows[*f] = struct{}{}
	v.mu.Unlock()
}

// enqueue hands a validated record to the pump, applying the overflow
// policy when the queue is full.
func (p *Publisher) enqueue(ctx context.Context, r *record) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return ErrClosed
	}
	return p.offer(ctx, r, p.closing)
}

// offer queues r; the caller holds p.mu for reading, or is the aggregator,
// which passes a nil closing: its last window must get through Close.
func (p *Publisher) offer(ctx context.Context, r *record, closing <-chan struct{}) error {
	r.queued = time.Now()
	p.stats.pending.Add(1)
	select {
	case p.queue <- *r:
		p.stats.queued.Add(1)
		return nil
	default:
	}
	switch p.policy {
	case overflowSpill:
		o := p.encode(r)
		if err := p.spool.append(o); err != nil {
			p.stats.pending.Add(-1)
			return fmt.Errorf("%w, and the spool refused the event: %w", ErrQueueFull, err)
		}
		p.stats.queued.Add(1)
		p.stats.spooled.Add(1)
		p.kickPump()
		return nil
	case overflowDrop:
		p.stats.pending.Add(-1)
		p.stats.dropped.Add(1)
		p.drops.note(p.log, p.stats.dropped.Load())
		return nil
	}
	var timeout <-chan time.Time
	if p.blockTimeout > 0 {
		t := time.NewTimer(p.blockTimeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case p.queue <- *r:
		p.stats.queued.Add(1)
		return nil
	case <-ctx.Done():
		p.stats.pending.Add(-1)
		return fmt.Errorf("%w (%d events queued) and the caller's context ended: %w", ErrQueueFull, cap(p.queue), ctx.Err())
	case <-timeout:
		p.stats.pending.Add(-1)
		return fmt.Errorf("%w: no room for %s; is NATS reachable? Raise WithBuffer or WithBlockOnFull's timeout, or add WithSpool", ErrQueueFull, p.blockTimeout)
	case <-closing:
		p.stats.pending.Add(-1)
		return ErrClosed
	}
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
	return p.waitDelivered(ctx)
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
	if werr := p.waitDelivered(ctx); werr != nil {
		p.log.Warn("closing before every event was acknowledged", "pending", p.stats.pending.Load(), "err", werr)
	}
	return errors.Join(err, p.stopDelivery())
}

// Stats are the Publisher's counters since it was created. They are also
// exported as OpenTelemetry metrics.
type Stats struct {
	Queued    uint64 // accepted by Collected/Shared/Erased (and coalesced events in aggregation mode)
	Published uint64 // acknowledged by JetStream
	Retried   uint64 // publish attempts that failed or timed out and were retried
	Spooled   uint64 // written to the disk spool
	Dropped   uint64 // dropped by WithDropOnFull
	Pending   int64  // accepted and not yet acknowledged (queued, in flight or spooled)
}

// Stats returns the current counters.
func (p *Publisher) Stats() Stats {
	return Stats{Queued: p.stats.queued.Load(), Published: p.stats.published.Load(),
		Retried: p.stats.retried.Load(), Spooled: p.stats.spooled.Load(),
		Dropped: p.stats.dropped.Load(), Pending: p.stats.pending.Load()}
}

type counters struct {
	queued, published, retried, spooled, dropped atomic.Uint64
	pending                                      atomic.Int64
}

// dropLog logs dropped events at most once every 10 seconds.
type dropLog struct {
	last   atomic.Int64 // unix nanos of the last line
	logged atomic.Uint64
}

func (d *dropLog) note(log *slog.Logger, total uint64) {
	now := time.Now().UnixNano()
	last := d.last.Load()
	if now-last < int64(10*time.Second) || !d.last.CompareAndSwap(last, now) {
		return
	}
	since := total - d.logged.Swap(total)
	log.Warn("publisher queue full: events dropped (WithDropOnFull); is NATS reachable?", "dropped", since, "dropped_total", total)
}
