package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/events"
)

// asyncPublisher publishes encoded events the way the SDK does (subject of
// the kind, Nats-Msg-Id = the event's identity) but asynchronously, with at
// most the JetStream context's PublishAsyncMaxPending in flight. Every
// refusal (ErrTooManyStalledMsgs) and every failed ack is retried with the
// same Nats-Msg-Id, so nothing is lost and JetStream drops duplicates.
//
// The SDK's Publisher is synchronous on this branch; when it gains an async
// mode, this should call it instead.
type asyncPublisher struct {
	js      jetstream.JetStream
	acked   atomic.Int64
	pending chan pendingAck
	done    chan struct{}
	failed  []int // indexes whose ack failed, to republish; owned by the awaiter until done
}

type pendingAck struct {
	f jetstream.PubAckFuture
	i int
}

// newAsyncPublisher starts the goroutine that collects acks; call finish.
func newAsyncPublisher(ctx context.Context, js jetstream.JetStream) *asyncPublisher {
	p := &asyncPublisher{js: js, pending: make(chan pendingAck, 1<<14), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for a := range p.pending { // acks arrive about in publish order
			select {
			case <-a.f.Ok():
				p.acked.Add(1)
			case <-a.f.Err():
				p.failed = append(p.failed, a.i)
			case <-ctx.Done():
			}
		}
	}()
	return p
}

// publish sends event i of w without waiting for its ack.
func (p *asyncPublisher) publish(ctx context.Context, w *Workload, i int) error {
	ev := w.Events[i]
	for {
		msg := nats.NewMsg(events.SourceSubject(ev.Source, ev.Kind))
		msg.Data = w.Raw[i]
		msg.Header.Set(jetstream.MsgIDHeader, ev.Identity())
		f, err := p.js.PublishMsgAsync(msg)
		if err == nil {
			p.pending <- pendingAck{f, i}
			return nil
		}
		if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
			return fmt.Errorf("bench: publish %s: %w", ev.Identity(), err)
		}
		select { // the window is full: wait for acks, then retry
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// finish returns once every published event is acknowledged, republishing
// (synchronously, same Nats-Msg-Id) those whose async ack failed. publish
// must not be called after.
func (p *asyncPublisher) finish(ctx context.Context, w *Workload) error {
	close(p.pending)
	<-p.done
	retry := p.failed
	for attempt := 1; len(retry) > 0; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if attempt > 5 {
			return fmt.Errorf("bench: %d events still unacknowledged after %d attempts", len(retry), attempt)
		}
		var again []int
		for _, i := range retry {
			if err := events.PublishEncoded(ctx, p.js, w.Events[i], w.Raw[i]); err != nil {
				again = append(again, i)
				continue
			}
			p.acked.Add(1)
		}
		retry = again
	}
	return ctx.Err()
}

// publishAll publishes every event of w and waits for the acks. progress,
// if set, is called with the number acknowledged so far.
func publishAll(ctx context.Context, js jetstream.JetStream, w *Workload, progress func(int)) error {
	p := newAsyncPublisher(ctx, js)
	stop := every(progressEvery, func() { report(progress, int(p.acked.Load())) })
	defer stop()
	for i := range w.Events {
		if err := p.publish(ctx, w, i); err != nil {
			p.finish(ctx, w)
			return err
		}
	}
	return p.finish(ctx, w)
}

const progressEvery = 200 * time.Millisecond

func report(progress func(int), n int) {
	if progress != nil {
		progress(n)
	}
}

// every calls f every d until stop is called; stop calls f a last time.
func every(d time.Duration, f func()) (stop func()) {
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				f()
				return
			case <-t.C:
				f()
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); <-exited }) }
}
