// Package consumer builds the catalog: a durable JetStream pull consumer
// that validates each event, writes the valid ones to a Sink in batches and
// dead-letters the rest, acknowledging a message only once its row (or its
// dead letter) is durable. The ports it needs — Sink, Pinger, DeadLetterer —
// are declared here; sinks/clickhouse and catalog/deadletter implement them.
// It also defines the streams and the durable consumer it reads, and its
// OpenTelemetry metrics.
package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/events"
)

// Sink stores valid events durably.
//
// Write returns nil only when every event of the batch is durably stored.
// Calling Write again with the same batch, or with an overlapping one, must
// not make any event count twice. Write is called from one goroutine.
type Sink interface {
	Write(ctx context.Context, batch []*events.Event) error
}

// Pinger tells a sink that is down from a batch the sink refuses. A Sink
// that also implements it lets the consumer isolate poison events: when
// writes keep failing while Ping succeeds, the batch is split until the
// event that fails is found and dead-lettered.
type Pinger interface {
	Ping(ctx context.Context) error
}

// DeadLetterer keeps a message that will never be stored, with the reason,
// so that it can be inspected and replayed. It returns nil only once the
// dead letter is durable; only then is the original acknowledged.
type DeadLetterer interface {
	DeadLetter(ctx context.Context, msg jetstream.Msg, reason string) error
}

// Consumer reads the event stream in batches, validates each event, writes
// the valid ones to a Sink and dead-letters the rest. A message is
// acknowledged only after its row (or its dead letter) is durable, so a
// crash at any point leads to redelivery, never to loss; the Sink's
// deduplication makes redelivery harmless.
//
// While the Sink is down the consumer stops fetching and retries the batch
// it holds with backoff, keeping its messages in progress: the backlog
// stays in the stream and memory stays bounded by one batch.
type Consumer struct {
	stream    jetstream.Consumer
	sink      Sink
	dead      DeadLetterer
	validator *events.Validator
	log       *slog.Logger
	metrics   *consumerMetrics
	batchSize int
	maxWait   time.Duration
	// maxDeliver is the stream consumer's MaxDeliver: a message delivered
	// that often is dead-lettered instead of retried forever.
	maxDeliver int
	// poisonAfter is how many failed writes, with the sink reachable, make
	// the consumer look for a poison event.
	poisonAfter int

	provenance provenance

	held   heldMessages
	ready  atomic.Bool
	stored atomic.Uint64
}

// Options tune a Consumer.
type Options struct {
	BatchSize  int           // events per INSERT; default 5000
	MaxWait    time.Duration // longest wait to fill a batch; default 200ms
	MaxDeliver int           // deliveries before dead-lettering; default DefaultSettings.MaxDeliver
	Logger     *slog.Logger
	Metrics    *Metrics // nil records nothing
	// RefuseLegacySubjects dead-letters events that arrive on the old
	// shared subjects (events.LegacySubject), on which any publisher can
	// speak for any source. When false they are stored, under the
	// credential "nats:legacy", and a warning is logged.
	RefuseLegacySubjects bool
}

// New wires a consumer. Run starts it.
func New(stream jetstream.Consumer, sink Sink, dead DeadLetterer, v *events.Validator, o Options) *Consumer {
	if o.BatchSize <= 0 {
		o.BatchSize = 5000
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 200 * time.Millisecond
	}
	if o.MaxDeliver <= 0 {
		o.MaxDeliver = DefaultSettings.MaxDeliver
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Consumer{stream: stream, sink: sink, dead: dead, validator: v, log: o.Logger,
		metrics: o.Metrics.forConsumer(), batchSize: o.BatchSize, maxWait: o.MaxWait,
		maxDeliver: o.MaxDeliver, poisonAfter: 3,
		provenance: provenance{refuseLegacy: o.RefuseLegacySubjects, log: o.Logger}}
}

// Ready reports whether the last fetch and write succeeded.
func (c *Consumer) Ready() bool { return c.ready.Load() }

// Stored counts events written since start (redeliveries included).
func (c *Consumer) Stored() uint64 { return c.stored.Load() }

// Backlog is how many messages the catalog has not stored yet: not yet
// delivered, plus delivered and not acknowledged.
func (c *Consumer) Backlog(ctx context.Context) (uint64, error) {
	info, err := c.stream.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.NumPending + uint64(info.NumAckPending), nil
}

// Run consumes until ctx is cancelled. A batch that is not durable by then
// is handed back to the stream (nak) and redelivered, to this process or
// another one; it still counts once.
//
// Fetching and decoding the next batch overlaps with writing the current
// one: a fetcher goroutine hands decoded batches to the writer through a
// channel of one. So at most three batches are held — one being written,
// one waiting, one being fetched — and every held message is kept in
// progress while a write is retried, so an outage longer than AckWait does
// not turn into redeliveries.
func (c *Consumer) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	decoded := make(chan []pending, 1)
	go func() {
		defer close(decoded)
		c.fetch(ctx, decoded)
	}()
	for batch := range decoded {
		if err := c.handle(ctx, batch); err != nil {
			break
		}
		c.ready.Store(true)
	}
	cancel()
	c.held.abandon(c.log) // whatever was fetched and not stored
	for range decoded {
	}
	return nil
}

// fetch pulls batches from the stream and decodes them until ctx ends.
func (c *Consumer) fetch(ctx context.Context, out chan<- []pending) {
	retry := newBackoff()
	for ctx.Err() == nil {
		batch, err := c.stream.Fetch(c.batchSize, jetstream.FetchMaxWait(c.maxWait))
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			c.ready.Store(false)
			c.log.Warn("fetch from JetStream failed; retrying", "err", err)
			retry.wait(ctx)
			continue
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) {
			c.log.Warn("fetch ended early", "err", err, "messages", len(msgs))
			if len(msgs) == 0 {
				// E.g. no responders while the consumer's leader is being
				// elected on a cluster: the request fails at once, so
				// back off instead of asking again in a tight loop.
				c.ready.Store(false)
				retry.wait(ctx)
				continue
			}
		}
		retry.reset()
		if len(msgs) == 0 {
			c.ready.Store(true) // NATS answers; nothing to do
			continue
		}
		c.held.add(msgs)
		items := make([]pending, len(msgs))
		for i, m := range msgs {
			items[i].msg = m
			items[i].event, items[i].invalid = c.validator.Decode(m.Data())
			if ev := items[i].event; ev != nil {
				if ev.Credential, items[i].invalid = c.provenance.credential(m, ev); items[i].invalid != nil {
					items[i].event = nil
				}
			}
		}
		select {
		case out <- items:
		case <-ctx.Done():
			return
		}
	}
}

// pending is a fetched message and what decoding it gave.
type pending struct {
	msg     jetstream.Msg
	event   *events.Event
	invalid error // why the message can never be stored
}

// handle stores one decoded batch: invalid events and events delivered too
// often are dead-lettered, the rest written. It returns an error only when
// ctx ends before the batch is durable.
func (c *Consumer) handle(ctx context.Context, items []pending) error {
	batch := make([]pending, 0, len(items))
	for _, p := range items {
		meta, _ := p.msg.Metadata()
		if meta != nil && meta.NumDelivered > 1 {
			c.metrics.redelivered(ctx, 1)
		}
		if p.invalid != nil {
			if err := c.deadLetter(ctx, p.msg, DeadLetterInvalid, p.invalid.Error()); err != nil {
				return err
			}
			continue
		}
		if meta != nil && c.maxDeliver > 0 && int(meta.NumDelivered) >= c.maxDeliver {
			reason := fmt.Sprintf("not stored after %d deliveries (MaxDeliver); the catalog refused it or its consumer kept crashing", meta.NumDelivered)
			if err := c.deadLetter(ctx, p.msg, DeadLetterMaxDeliveries, reason); err != nil {
				return err
			}
			continue
		}
		batch = append(batch, p)
	}
	c.metrics.batch(ctx, len(items))
	return c.store(ctx, batch)
}

// store writes a batch, retrying while the sink is down. When writes keep
// failing although the sink answers pings, the batch holds an event the
// sink refuses: store splits it and dead-letters that event alone, so the
// events behind it are not blocked.
func (c *Consumer) store(ctx context.Context, batch []pending) error {
	if len(batch) == 0 {
		return nil
	}
	evs := make([]*events.Event, len(batch))
	for i, p := range batch {
		evs[i] = p.event
	}
	retry := newBackoff()
	for failures := 1; ; failures++ {
		started := time.Now()
		err := c.sink.Write(ctx, evs)
		if err == nil {
			c.metrics.inserted(ctx, len(evs), time.Since(started))
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.ready.Store(false)
		if failures >= c.poisonAfter && c.sinkReachable(ctx) {
			return c.isolatePoison(ctx, batch, err)
		}
		c.log.Warn("writing to the catalog failed; retrying", "events", len(evs), "attempt", failures, "err", err)
		c.held.keepInProgress() // ours while we retry, not redelivered elsewhere
		if !retry.wait(ctx) {
			return ctx.Err()
		}
	}
	for _, p := range batch {
		if err := p.msg.Ack(); err != nil {
			// Not fatal: the message is redelivered and deduplicated.
			c.log.Debug("ack failed", "err", err)
		}
		c.held.done(p.msg)
	}
	c.stored.Add(uint64(len(batch)))
	return nil
}

func (c *Consumer) sinkReachable(ctx context.Context) bool {
	p, ok := c.sink.(Pinger)
	if !ok {
		return false
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return p.Ping(pingCtx) == nil
}

// isolatePoison stores the halves of a refused batch separately; a single
// refused event is dead-lettered with the sink's error.
func (c *Consumer) isolatePoison(ctx context.Context, batch []pending, cause error) error {
	if len(batch) == 1 {
		return c.deadLetter(ctx, batch[0].msg, DeadLetterRefused, "the catalog refused this event: "+cause.Error())
	}
	c.log.Warn("the catalog refuses a batch while reachable; splitting it to find the event it refuses", "events", len(batch), "err", events.RedactText(cause.Error()))
	half := len(batch) / 2
	if err := c.store(ctx, batch[:half]); err != nil {
		return err
	}
	return c.store(ctx, batch[half:])
}

// Classes of dead letters, the error.type of the dead-letter metric.
const (
	DeadLetterInvalid       = "invalid"        // the event fails validation (or is not an event)
	DeadLetterMaxDeliveries = "max_deliveries" // delivered MaxDeliver times without being stored
	DeadLetterRefused       = "refused"        // the catalog refuses to store it
)

func (c *Consumer) deadLetter(ctx context.Context, m jetstream.Msg, class, reason string) error {
	retry := newBackoff()
	for {
		err := c.dead.DeadLetter(ctx, m, reason)
		if err == nil {
			break
		}
		c.log.Warn("dead-lettering failed; retrying", "err", err)
		if !retry.wait(ctx) {
			return ctx.Err()
		}
	}
	// The subject and the reason may quote what the event held; a log
	// line keeps no personal value.
	c.log.Info("event dead-lettered", "subject", events.RedactText(m.Subject()), "reason", events.RedactText(reason))
	c.metrics.deadLettered(ctx, class)
	c.held.done(m)
	return m.Term()
}

// backoff doubles a delay from 100ms up to 5s.
type backoff struct{ next time.Duration }

func newBackoff() *backoff { return &backoff{next: 100 * time.Millisecond} }

func (b *backoff) reset() { b.next = 100 * time.Millisecond }

// wait sleeps for the next delay; false means ctx ended first.
func (b *backoff) wait(ctx context.Context) bool {
	t := time.NewTimer(b.next)
	defer t.Stop()
	b.next = min(2*b.next, 5*time.Second)
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// heldMessages are the messages fetched and neither acked nor termed yet.
type heldMessages struct {
	mu   sync.Mutex
	msgs map[jetstream.Msg]struct{}
}

func (h *heldMessages) add(msgs []jetstream.Msg) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.msgs == nil {
		h.msgs = map[jetstream.Msg]struct{}{}
	}
	for _, m := range msgs {
		h.msgs[m] = struct{}{}
	}
}

func (h *heldMessages) done(m jetstream.Msg) {
	h.mu.Lock()
	delete(h.msgs, m)
	h.mu.Unlock()
}

// keepInProgress resets the AckWait of every held message.
func (h *heldMessages) keepInProgress() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for m := range h.msgs {
		_ = m.InProgress()
	}
}

// abandon hands every held message back for prompt redelivery.
func (h *heldMessages) abandon(log *slog.Logger) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for m := range h.msgs {
		_ = m.Nak()
	}
	if len(h.msgs) > 0 {
		log.Info("shutting down: unfinished messages handed back; they will be redelivered and counted once", "messages", len(h.msgs))
	}
	h.msgs = nil
}
