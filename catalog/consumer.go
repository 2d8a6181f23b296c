// Package catalog builds and queries the ClickHouse catalog of personal
// data: the consumer that turns the event stream into rows, the data model
// and its migrations, and the inventory and flow queries.
package catalog

import (
	"context"
	"errors"
	"log/slog"
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
type Consumer struct {
	stream    jetstream.Consumer
	sink      Sink
	dead      DeadLetterer
	validator *events.Validator
	log       *slog.Logger
	batchSize int
	maxWait   time.Duration

	ready        atomic.Bool
	stored       atomic.Uint64
	deadLettered atomic.Uint64
}

// ConsumerOptions tune batching.
type ConsumerOptions struct {
	BatchSize int           // events per INSERT; default 5000
	MaxWait   time.Duration // longest wait to fill a batch; default 200ms
	Logger    *slog.Logger
}

// NewConsumer wires a consumer. Run starts it.
func NewConsumer(stream jetstream.Consumer, sink Sink, dead DeadLetterer, v *events.Validator, o ConsumerOptions) *Consumer {
	if o.BatchSize <= 0 {
		o.BatchSize = 5000
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 200 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Consumer{stream: stream, sink: sink, dead: dead, validator: v, log: o.Logger,
		batchSize: o.BatchSize, maxWait: o.MaxWait}
}

// Ready reports whether the last fetch and write succeeded.
func (c *Consumer) Ready() bool { return c.ready.Load() }

// Stored and DeadLettered count events handled since start.
func (c *Consumer) Stored() uint64       { return c.stored.Load() }
func (c *Consumer) DeadLettered() uint64 { return c.deadLettered.Load() }

// Run consumes until ctx is cancelled. An unfinished batch is left
// unacknowledged and will be redelivered.
func (c *Consumer) Run(ctx context.Context) error {
	retry := newBackoff()
	for ctx.Err() == nil {
		batch, err := c.stream.Fetch(c.batchSize, jetstream.FetchMaxWait(c.maxWait))
		if err != nil {
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
		}
		if err := c.handle(ctx, msgs); err != nil {
			return nil // ctx cancelled mid-batch: left for redelivery
		}
		c.ready.Store(true)
		retry.reset()
	}
	return nil
}

// handle stores one fetched batch. It returns an error only when ctx ends
// before the batch is durable.
func (c *Consumer) handle(ctx context.Context, msgs []jetstream.Msg) error {
	valid := make([]*events.Event, 0, len(msgs))
	validMsgs := make([]jetstream.Msg, 0, len(msgs))
	for _, m := range msgs {
		ev, err := c.validator.Decode(m.Data())
		if err != nil {
			if err := c.deadLetter(ctx, m, err.Error()); err != nil {
				return err
			}
			continue
		}
		valid = append(valid, ev)
		validMsgs = append(validMsgs, m)
	}
	if len(valid) == 0 {
		return nil
	}
	retry := newBackoff()
	for {
		err := c.sink.Write(ctx, valid)
		if err == nil {
			break
		}
		c.ready.Store(false)
		c.log.Warn("writing to the catalog failed; retrying", "events", len(valid), "err", err)
		for _, m := range validMsgs {
			_ = m.InProgress() // keep them ours while we retry
		}
		if !retry.wait(ctx) {
			return ctx.Err()
		}
	}
	for _, m := range validMsgs {
		if err := m.Ack(); err != nil {
			// Not fatal: the message is redelivered and deduplicated.
			c.log.Debug("ack failed", "err", err)
		}
	}
	c.stored.Add(uint64(len(valid)))
	return nil
}

func (c *Consumer) deadLetter(ctx context.Context, m jetstream.Msg, reason string) error {
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
	c.log.Info("event dead-lettered", "reason", reason)
	c.deadLettered.Add(1)
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
