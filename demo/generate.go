package demo

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
)

// Defaults of Options.
const (
	DefaultEvents = 20000
	DefaultPeriod = 90 * 24 * time.Hour // simulated history before End
)

// Options configure a demo run.
type Options struct {
	// SpoolDir, when set, gives each service's publisher a disk spool in
	// a directory of its own under it (sdk.WithSpool).
	SpoolDir string
	// Events is the total number of events across all services; 0 means
	// DefaultEvents.
	Events int
	// Start is the simulated time of the earliest event; zero means
	// DefaultPeriod before End. Events are spread over [Start, End].
	Start time.Time
	// End is the simulated time of the latest event; zero means now.
	End time.Time
	// Seed makes the run reproducible: the same seed and period give the
	// same events (kinds, categories, recipients, times, record counts),
	// except for their ids, which are fresh UUIDv7s so that a second run is
	// new data, not a duplicate of the first.
	Seed int64
	// Progress, if set, is called now and then with the number of events
	// acknowledged so far, from one goroutine at a time, and a last time
	// with the total before Run returns.
	Progress func(published int)
}

// resolve fills in the defaults and checks the values.
func (o Options) resolve() (Options, error) {
	if o.Events < 0 {
		return o, fmt.Errorf("demo: Events is %d; pass a positive number, or 0 for %d", o.Events, DefaultEvents)
	}
	if o.Events == 0 {
		o.Events = DefaultEvents
	}
	if o.End.IsZero() {
		o.End = time.Now()
	}
	if o.Start.IsZero() {
		o.Start = o.End.Add(-DefaultPeriod)
	}
	if !o.Start.Before(o.End) {
		return o, fmt.Errorf("demo: Start %s is not before End %s", o.Start.Format(time.RFC3339), o.End.Format(time.RFC3339))
	}
	return o, nil
}

// Generate builds the events a demo run publishes, validated against the
// default taxonomy and sorted by time; it needs no NATS. Run publishes
// exactly these.
func Generate(o Options) ([]*events.Event, error) {
	o, err := o.resolve()
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 0xda7a_3a9))
	flows := allFlows()
	picks := pickFlows(rng, flows, o.Events)

	validator := events.NewValidator(taxonomy.Default())
	span := o.End.Sub(o.Start)
	out := make([]*events.Event, 0, len(picks))
	for _, f := range picks {
		ev := &events.Event{
			Source: f.source,
			Kind:   f.kind,
			Time:   o.Start.Add(time.Duration(rng.Int64N(int64(span) + 1))).UTC(),
			Data:   f.instance(rng),
		}
		// A failure here is a bug in the scenario (or a taxonomy key that
		// changed under it), never bad luck: every flow is checked.
		if err := assignID(validator, ev); err != nil {
			return nil, fmt.Errorf("demo: scenario event of %s is invalid: %w", f.source, err)
		}
		out = append(out, ev)
	}
	slices.SortStableFunc(out, func(a, b *events.Event) int { return a.Time.Compare(b.Time) })
	return out, nil
}

// idAttempts bounds assignID's draws.
const idAttempts = 8

// assignID gives ev a fresh UUIDv7 and validates it. The SDK's card-number
// detector mistakes about 0.2% of UUIDs for card numbers (a run of 13+
// digits across the dashes that passes the Luhn check); such an id is
// redrawn rather than failing the demo.
func assignID(v *events.Validator, ev *events.Event) error {
	var err error
	for range idAttempts {
		id, idErr := uuid.NewV7()
		if idErr != nil {
			return fmt.Errorf("new event id: %w", idErr)
		}
		ev.ID = id.String()
		err = v.Validate(ev)
		var invalid *events.ValidationError
		if err == nil || !errors.As(err, &invalid) || invalid.Field("id") == "" {
			return err
		}
	}
	return err
}

// sourcedFlow is a flow with the service that publishes it.
type sourcedFlow struct {
	source string
	flow
}

func allFlows() []sourcedFlow {
	var out []sourcedFlow
	for _, s := range scenario {
		for _, f := range s.flows {
			out = append(out, sourcedFlow{s.Name, f})
		}
	}
	return out
}

// pickFlows chooses the flow of each of n events. When n allows, every
// flow appears once, so even a small demo shows the whole map; the rest are
// drawn by weight.
func pickFlows(rng *rand.Rand, flows []sourcedFlow, n int) []sourcedFlow {
	picks := make([]sourcedFlow, 0, n)
	if n >= len(flows) {
		picks = append(picks, flows...)
	}
	cumulative := make([]int, len(flows))
	total := 0
	for i, f := range flows {
		total += f.weight
		cumulative[i] = total
	}
	for len(picks) < n {
		r := rng.IntN(total)
		picks = append(picks, flows[sort.SearchInts(cumulative, r+1)])
	}
	return picks
}

// instance is one event's payload: the flow's template with a record count.
func (f flow) instance(rng *rand.Rand) events.Data {
	d := f.data
	if d.Recipient != nil {
		r := *d.Recipient // events must not share mutable parts
		d.Recipient = &r
	}
	d.Count = f.records.min
	if f.records.max > f.records.min {
		d.Count += rng.Int64N(f.records.max - f.records.min + 1)
	}
	return d
}
