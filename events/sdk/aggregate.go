package sdk

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/trace"
)

// aggregator coalesces identical flows inside a window into one event
// whose count is the sum (WithAggregation). Joining a flow already in the
// window is a map lookup under a mutex: no validation, no allocation.
type aggregator struct {
	out    recordSink
	log    *slog.Logger
	window time.Duration

	mu     sync.Mutex
	flows  map[flow]*aggregate
	closed bool

	flushMu sync.Mutex // one flush at a time, so windows are published in order
	stop_   chan struct{}
	done    chan struct{}
}

// recordSink takes a validated record for delivery, applying the overflow
// policy; closing, when not nil, cuts a blocked offer short.
type recordSink interface {
	offer(ctx context.Context, r *record, closing <-chan struct{}) error
}

var _ recordSink = (*delivery)(nil)

type aggregate struct {
	count int64
	at    time.Time
	sc    trace.SpanContext
}

// newAggregator starts the window; each flush offers out one record per
// flow of the window.
func newAggregator(out recordSink, window time.Duration, log *slog.Logger) *aggregator {
	a := &aggregator{out: out, log: log, window: window, flows: map[flow]*aggregate{},
		stop_: make(chan struct{}), done: make(chan struct{})}
	go a.run()
	return a
}

// add joins f to the window when it is already there.
func (a *aggregator) add(f *flow, count int64, at time.Time, sc trace.SpanContext) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return false, ErrClosed
	}
	g, ok := a.flows[*f]
	if !ok || g.count > math.MaxInt64-count {
		return false, nil
	}
	g.count += count
	if at.Before(g.at) {
		g.at = at
	}
	return true, nil
}

// start adds a validated flow to the window.
func (a *aggregator) start(f *flow, count int64, at time.Time, sc trace.SpanContext) error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return ErrClosed
	}
	g, ok := a.flows[*f]
	if ok && g.count <= math.MaxInt64-count {
		g.count += count
		if at.Before(g.at) {
			g.at = at
		}
		a.mu.Unlock()
		return nil
	}
	var full map[flow]*aggregate
	if ok { // the count would overflow: publish this window now
		full = a.flows
		a.flows = map[flow]*aggregate{}
	}
	a.flows[*f] = &aggregate{count: count, at: at, sc: sc}
	a.mu.Unlock()
	if full != nil {
		return a.publish(context.Background(), full)
	}
	return nil
}

func (a *aggregator) run() {
	defer close(a.done)
	tick := time.NewTicker(a.window)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			if err := a.flush(context.Background()); err != nil {
				a.log.Error("publishing an aggregation window failed", "err", err)
			}
		case <-a.stop_:
			return
		}
	}
}

// flush publishes the current window.
func (a *aggregator) flush(ctx context.Context) error {
	a.mu.Lock()
	window := a.flows
	a.flows = make(map[flow]*aggregate, len(window))
	a.mu.Unlock()
	return a.publish(ctx, window)
}

func (a *aggregator) publish(ctx context.Context, window map[flow]*aggregate) error {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	for f, g := range window {
		id, err := uuid.NewV7()
		if err != nil {
			return err
		}
		r := record{flow: f, count: g.count, id: id, at: g.at.UTC(), sc: g.sc}
		if err := a.out.offer(ctx, &r, nil); err != nil {
			return err
		}
	}
	return nil
}

// stop closes the window for good and publishes it.
func (a *aggregator) stop(ctx context.Context) error {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	close(a.stop_)
	<-a.done
	return a.flush(ctx)
}
