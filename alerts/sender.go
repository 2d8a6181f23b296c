package alerts

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// attemptTimeout bounds one delivery attempt.
const attemptTimeout = 15 * time.Second

// stopGrace is how long an attempt in flight may still finish once the
// alerter stops: a target that accepted an announcement must have its
// answer read and recorded, or the next start announces it again.
const stopGrace = 5 * time.Second

// queued is an announcement waiting for one target.
type queued struct {
	rec Record
	msg Message
}

// sender delivers to one target, in order, one announcement at a time:
// a target that is down holds up only its own queue.
type sender struct {
	target Target
	store  *store
	retry  Retry
	log    *slog.Logger

	mu    sync.Mutex
	queue []queued
	wake  chan struct{} // capacity 1: "the queue grew"
}

// add queues announcements; it never blocks.
func (s *sender) add(q ...queued) {
	s.mu.Lock()
	s.queue = append(s.queue, q...)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *sender) next() (queued, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		return queued{}, false
	}
	q := s.queue[0]
	s.queue = s.queue[1:]
	return q, true
}

// run delivers until ctx ends; what is left stays pending in the catalog.
func (s *sender) run(ctx context.Context) {
	for {
		q, ok := s.next()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
				continue
			}
		}
		s.deliver(ctx, q)
		if ctx.Err() != nil {
			return
		}
	}
}

// deliver tries q until the target accepts or refuses it for good, or ctx
// ends, recording each failed attempt and the outcome.
func (s *sender) deliver(ctx context.Context, q queued) {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = s.retry.Initial, s.retry.Max
	r := q.rec
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		attempt, cancel := context.WithTimeout(context.WithoutCancel(ctx), attemptTimeout)
		defer cancel()
		defer context.AfterFunc(ctx, func() { time.AfterFunc(stopGrace, cancel) })()
		r.Attempts++
		err := s.target.Deliver(attempt, q.msg)
		if err != nil && ctx.Err() == nil {
			r.Status, r.LastError = Pending, err.Error()
			s.log.Warn("alerts: delivery failed; retrying", "target", r.Target, "kind", r.Kind, "attempt", r.Attempts, "err", err)
			s.record(ctx, r)
		}
		return struct{}{}, err
	}, backoff.WithBackOff(b), backoff.WithMaxElapsedTime(0))
	switch {
	case err == nil:
		r.Status, r.LastError = Delivered, ""
	case ctx.Err() != nil:
		return // still pending: the next start delivers it
	default:
		r.Status, r.LastError = Failed, err.Error()
		s.log.Error("alerts: delivery refused; retried at the next start", "target", r.Target, "kind", r.Kind, "err", err)
	}
	s.record(ctx, r)
}

// record saves r even while stopping: a delivery that happened must not
// be repeated for want of its record.
func (s *sender) record(ctx context.Context, r Record) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.store.save(ctx, r); err != nil {
		s.log.Error("alerts: delivery outcome not recorded", "target", r.Target, "kind", r.Kind, "err", err)
	}
}
