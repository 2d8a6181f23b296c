package demo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/events"
)

// Stats summarize a run. Counts are of acknowledged events.
type Stats struct {
	Published, Collected, Shared, Erased int
	Records                              int64          // sum of the events' record counts
	PerService                           map[string]int // events per source
	Elapsed                              time.Duration
}

func (s *Stats) add(ev *events.Event) {
	s.Published++
	s.Records += ev.Data.Count
	s.PerService[ev.Source]++
	switch ev.Kind {
	case events.KindCollected:
		s.Collected++
	case events.KindShared:
		s.Shared++
	case events.KindErased:
		s.Erased++
	}
}

func (s *Stats) merge(o Stats) {
	s.Published += o.Published
	s.Collected += o.Collected
	s.Shared += o.Shared
	s.Erased += o.Erased
	s.Records += o.Records
	for k, v := range o.PerService {
		s.PerService[k] += v
	}
}

func newStats() Stats { return Stats{PerService: map[string]int{}} }

// Tuning of Run.
const (
	// publishersPerService bounds each service's in-flight publishes:
	// PublishEncoded waits for the ack, so this many goroutines per service
	// keep JetStream busy without flooding it.
	publishersPerService = 4
	// publishAttempts: a publish that times out may still have been stored,
	// so it is retried with the same Nats-Msg-Id and JetStream drops the
	// duplicate.
	publishAttempts = 4
	retryBackoff    = 200 * time.Millisecond
	progressEvery   = 250 * time.Millisecond
)

// Run publishes the events of Generate(o) through js, every service
// concurrently, and returns once JetStream has acknowledged every event. The
// stream events.StreamName must exist. On error it stops the other
// publishers and returns what was acknowledged so far with the first error.
//
// Services publish with events.PublishEncoded rather than an
// events.Publisher, because a Publisher stamps the current time and the
// demo spreads its events over simulated months.
func Run(ctx context.Context, js jetstream.JetStream, o Options) (Stats, error) {
	started := time.Now()
	if js == nil {
		return Stats{}, errors.New("demo.Run: nil JetStream context; create one with jetstream.New(nc)")
	}
	evs, err := Generate(o)
	if err != nil {
		return Stats{}, err
	}
	bySource := map[string][]*events.Event{}
	for _, ev := range evs {
		bySource[ev.Source] = append(bySource[ev.Source], ev)
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		acked  atomic.Int64
		mu     sync.Mutex
		total  = newStats()
		failed error
		wg     sync.WaitGroup
	)
	for _, queue := range bySource {
		// Each publisher takes every publishersPerService-th event, so
		// each still publishes in time order.
		for w := range publishersPerService {
			wg.Go(func() {
				mine := newStats()
				for i := w; i < len(queue) && ctx.Err() == nil; i += publishersPerService {
					if err := publish(ctx, js, queue[i]); err != nil {
						mu.Lock()
						if failed == nil {
							failed = err
						}
						mu.Unlock()
						cancel(err)
						break
					}
					mine.add(queue[i])
					acked.Add(1)
				}
				mu.Lock()
				total.merge(mine)
				mu.Unlock()
			})
		}
	}
	stopProgress := reportProgress(o.Progress, &acked)
	wg.Wait()
	stopProgress()

	total.Elapsed = time.Since(started)
	if failed == nil && ctx.Err() != nil {
		failed = context.Cause(ctx) // the caller's context ended
	}
	if failed != nil {
		return total, fmt.Errorf("demo: %d of %d events published: %w", total.Published, len(evs), failed)
	}
	return total, nil
}

// publish sends one event and waits for its ack, retrying transient
// failures.
func publish(ctx context.Context, js jetstream.JetStream, ev *events.Event) error {
	raw, err := events.Encode(ev)
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		err = events.PublishEncoded(ctx, js, ev, raw)
		if err == nil || attempt == publishAttempts || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt) * retryBackoff):
		}
	}
}

// reportProgress calls progress every progressEvery until the returned
// stop is called, which makes a last call with the final count and returns
// once no call is running.
func reportProgress(progress func(int), acked *atomic.Int64) (stop func()) {
	if progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		tick := time.NewTicker(progressEvery)
		defer tick.Stop()
		for {
			select {
			case <-done:
				progress(int(acked.Load()))
				return
			case <-tick.C:
				progress(int(acked.Load()))
			}
		}
	}()
	return func() {
		close(done)
		<-exited
	}
}
