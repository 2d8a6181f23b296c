package demo

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/sdk"
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

// progressEvery is how often Run reports progress.
const progressEvery = 250 * time.Millisecond

// Run publishes the events of Generate(o) through js, every service
// concurrently, each through its own sdk.Publisher — the SDK a real
// service would use, with a disk spool when o.SpoolDir is set — and returns
// once JetStream has acknowledged every event. The stream events.StreamName
// must exist.
func Run(ctx context.Context, js jetstream.JetStream, o Options) (Stats, error) {
	started := time.Now()
	if js == nil {
		return Stats{}, errors.New("demo.Run: nil JetStream context; create one with jetstream.New(nc)")
	}
	o, err := o.resolve()
	if err != nil {
		return Stats{}, err
	}
	evs, err := Generate(o)
	if err != nil {
		return Stats{}, err
	}
	evs = append(evs, PeopleEvents(o.End)...)
	bySource := map[string][]*events.Event{}
	for _, ev := range evs {
		bySource[ev.Source] = append(bySource[ev.Source], ev)
	}
	var (
		mu         sync.Mutex
		publishers []*sdk.Publisher
		total      = newStats()
		errs       []error
		wg         sync.WaitGroup
	)
	for source, queue := range bySource {
		opts := []sdk.Option{sdk.WithSource(source)}
		if o.SpoolDir != "" {
			opts = append(opts, sdk.WithSpool(filepath.Join(o.SpoolDir, source)))
		}
		pub, err := sdk.NewPublisher(js, opts...)
		if err != nil {
			return Stats{}, err
		}
		publishers = append(publishers, pub)
		wg.Go(func() {
			mine := newStats()
			for _, ev := range queue {
				if err := publish(ctx, pub, ev); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("%s: %w", source, err))
					mu.Unlock()
					break
				}
				mine.add(ev)
			}
			// Close waits until JetStream acknowledged what was queued.
			if err := pub.Close(ctx); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", source, err))
				mu.Unlock()
			}
			mu.Lock()
			total.merge(mine)
			mu.Unlock()
		})
	}
	stopProgress := reportProgress(o.Progress, func() int {
		n := 0
		for _, p := range publishers {
			n += int(p.Stats().Published)
		}
		return n
	})
	wg.Wait()
	stopProgress()
	total.Elapsed = time.Since(started)
	if err := errors.Join(errs...); err != nil {
		return total, fmt.Errorf("demo: %w", err)
	}
	return total, nil
}

// publish hands one simulated event to the service's publisher, with the
// typed call a real service would make.
func publish(ctx context.Context, pub *sdk.Publisher, ev *events.Event) error {
	d := ev.Data
	var err error
	switch ev.Kind {
	case events.KindCollected:
		_, err = pub.Collected(ctx, sdk.Collection{Category: d.Category, DataSubject: d.DataSubject,
			Purpose: d.Purpose, LegalBasis: d.LegalBasis, SpecialCondition: d.SpecialCondition,
			Retention: d.Retention, Origin: d.Origin, Location: d.Location, Activity: d.Activity,
			SubjectRef: d.SubjectRef, Count: d.Count, Time: ev.Time})
	case events.KindShared:
		_, err = pub.Shared(ctx, sdk.Share{Category: d.Category, DataSubject: d.DataSubject,
			Purpose: d.Purpose, LegalBasis: d.LegalBasis, SpecialCondition: d.SpecialCondition,
			Activity: d.Activity, Recipient: *d.Recipient, SubjectRef: d.SubjectRef, Count: d.Count, Time: ev.Time})
	case events.KindErased:
		_, err = pub.Erased(ctx, sdk.Erasure{Category: d.Category, DataSubject: d.DataSubject,
			Reason: d.Reason, SubjectRef: d.SubjectRef, Count: d.Count, Time: ev.Time})
	case events.KindConsentGiven, events.KindConsentWithdrawn:
		c := sdk.Consent{SubjectRef: d.SubjectRef, DataSubject: d.DataSubject, Purpose: d.Purpose, Channel: d.Channel, Time: ev.Time}
		if ev.Kind == events.KindConsentGiven {
			_, err = pub.ConsentGiven(ctx, c)
		} else {
			_, err = pub.ConsentWithdrawn(ctx, c)
		}
	case events.KindRequestReceived:
		_, err = pub.RequestReceived(ctx, sdk.Request{SubjectRef: d.SubjectRef, DataSubject: d.DataSubject, Right: d.Right, Channel: d.Channel, Time: ev.Time})
	case events.KindRequestCompleted:
		_, err = pub.RequestCompleted(ctx, sdk.Request{SubjectRef: d.SubjectRef, DataSubject: d.DataSubject, Right: d.Right, Time: ev.Time})
	case events.KindRequestRefused:
		_, err = pub.RequestRefused(ctx, sdk.Request{SubjectRef: d.SubjectRef, DataSubject: d.DataSubject, Right: d.Right, Grounds: d.Grounds, Time: ev.Time})
	}
	return err
}

// reportProgress calls progress every progressEvery until the returned
// stop is called, which makes a last call with the final count and returns
// once no call is running.
func reportProgress(progress func(int), acked func() int) (stop func()) {
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
				progress(acked())
				return
			case <-tick.C:
				progress(acked())
			}
		}
	}()
	return func() {
		close(done)
		<-exited
	}
}
