package demo

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
)

// fixedPeriod makes Generate independent of the clock.
var fixedPeriod = Options{
	Start: time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC),
	End:   time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
}

func TestGeneratedEventsValidate(t *testing.T) {
	o := fixedPeriod
	o.Seed = 7
	evs, err := Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != DefaultEvents {
		t.Fatalf("generated %d events, want the default %d", len(evs), DefaultEvents)
	}
	v := events.NewValidator(taxonomy.Default())
	for _, ev := range evs {
		if err := v.Validate(ev); err != nil {
			t.Fatalf("event of %s: %v", ev.Source, err)
		}
		if _, err := events.Encode(ev); err != nil {
			t.Fatalf("encode event of %s: %v", ev.Source, err)
		}
		if ev.Time.Before(o.Start) || ev.Time.After(o.End) {
			t.Fatalf("event time %s outside [%s, %s]", ev.Time, o.Start, o.End)
		}
	}
}

// TestEveryFlowValidates checks each scenario line once, so a taxonomy key
// that changes names the flow that uses it.
func TestEveryFlowValidates(t *testing.T) {
	v := events.NewValidator(taxonomy.Default())
	for _, f := range allFlows() {
		ev := &events.Event{ID: "0193", Source: f.source, Kind: f.kind, Time: fixedPeriod.Start, Data: f.data}
		ev.Data.Count = f.records.min
		if err := v.Validate(ev); err != nil {
			t.Errorf("%s %s %s: %v", f.source, f.kind, f.data.Category, err)
		}
	}
}

func TestMixIsRealistic(t *testing.T) {
	evs, err := Generate(fixedPeriod)
	if err != nil {
		t.Fatal(err)
	}
	s := newStats()
	sources := map[string]map[string]bool{} // recipient → sources
	for _, ev := range evs {
		s.add(ev)
		if r := ev.Data.Recipient; r != nil {
			if sources[r.Name] == nil {
				sources[r.Name] = map[string]bool{}
			}
			sources[r.Name][ev.Source] = true
		}
	}
	share := func(n int) float64 { return float64(n) / float64(s.Published) }
	t.Logf("collected %.1f%%, shared %.1f%%, erased %.1f%%, %d records, per service %v",
		100*share(s.Collected), 100*share(s.Shared), 100*share(s.Erased), s.Records, s.PerService)
	if c := share(s.Collected); c < 0.55 || c > 0.75 {
		t.Errorf("collections are %.0f%% of events, want most of them", 100*c)
	}
	if sh := share(s.Shared); sh < 0.25 || sh > 0.35 {
		t.Errorf("disclosures are %.0f%% of events, want about 30%%", 100*sh)
	}
	if e := share(s.Erased); e < 0.03 || e > 0.07 {
		t.Errorf("erasures are %.0f%% of events, want about 5%%", 100*e)
	}
	if s.Records <= int64(s.Published) {
		t.Errorf("%d records in %d events: batch jobs should report more than one record", s.Records, s.Published)
	}
	if len(s.PerService) != len(Services()) {
		t.Errorf("%d services published, want all %d", len(s.PerService), len(Services()))
	}

	var multiSource bool
	for _, srcs := range sources {
		multiSource = multiSource || len(srcs) > 1
	}
	if !multiSource {
		t.Error("no recipient receives data from two systems")
	}
	// Three hops: a BackTrace system → the ticketing vendor → its sub-processor.
	if !sources[TicketingVendor]["support-desk"] {
		t.Errorf("support-desk shares nothing with %s", TicketingVendor)
	}
	subProcessors := 0
	for _, ev := range evs {
		if ev.Source == TicketingVendor && ev.Data.Recipient != nil && ev.Data.Recipient.Role == events.RoleSubProcessor {
			subProcessors++
		}
	}
	if subProcessors == 0 {
		t.Errorf("%s passes nothing to a sub-processor", TicketingVendor)
	}
}

func TestSmallDemoShowsEveryFlow(t *testing.T) {
	n := len(allFlows())
	o := fixedPeriod
	o.Events = n
	evs, err := Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ev := range evs {
		seen[ev.Source] = true
	}
	if len(evs) != n || len(seen) != len(Services()) {
		t.Errorf("%d events from %d services, want %d from all %d", len(evs), len(seen), n, len(Services()))
	}
}

func TestSameSeedSameEvents(t *testing.T) {
	o := fixedPeriod
	o.Events, o.Seed = 500, 42
	a, err := Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate(o)
	o.Seed = 43
	c, _ := Generate(o)
	differs := false
	for i := range a {
		if a[i].ID == b[i].ID {
			t.Fatalf("event %d: the same id %s twice; each run must publish new events", i, a[i].ID)
		}
		if !sameEvent(a[i], b[i]) {
			t.Fatalf("event %d differs with the same seed:\n%+v\n%+v", i, a[i], b[i])
		}
		differs = differs || !sameEvent(a[i], c[i])
	}
	if !differs {
		t.Error("another seed gave the same events")
	}
}

func sameEvent(a, b *events.Event) bool {
	da, db := a.Data, b.Data
	da.Recipient, db.Recipient = nil, nil
	return a.Source == b.Source && a.Kind == b.Kind && a.Time.Equal(b.Time) && da == db &&
		(a.Data.Recipient == nil) == (b.Data.Recipient == nil) &&
		(a.Data.Recipient == nil || *a.Data.Recipient == *b.Data.Recipient)
}

func TestBadOptions(t *testing.T) {
	if _, err := Generate(Options{Events: -1}); err == nil {
		t.Error("negative Events accepted")
	}
	if _, err := Generate(Options{Start: fixedPeriod.End, End: fixedPeriod.Start}); err == nil {
		t.Error("Start after End accepted")
	}
}

func TestRunPublishesEveryEvent(t *testing.T) {
	js := startJetStream(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	const n = 1000
	var lastProgress atomic.Int64
	st, err := Run(ctx, js, Options{Events: n, Seed: 1, Progress: func(p int) { lastProgress.Store(int64(p)) }})
	if err != nil {
		t.Fatal(err)
	}
	// The people's stories come on top of the n generated events.
	people := PeopleEvents(time.Now())
	aboutData := 0
	for _, ev := range people {
		if ev.Kind.AboutData() {
			aboutData++
		}
	}
	if st.Published != n+len(people) || st.Collected+st.Shared+st.Erased != n+aboutData {
		t.Errorf("stats %+v, want %d published", st, n+len(people))
	}
	perService := 0
	for _, c := range st.PerService {
		perService += c
	}
	if perService != n+len(people) {
		t.Errorf("per-service counts add up to %d, want %d", perService, n+len(people))
	}
	if lastProgress.Load() != int64(n+len(people)) {
		t.Errorf("last progress report %d, want %d", lastProgress.Load(), n+len(people))
	}

	stream, err := js.Stream(ctx, events.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != uint64(n+len(people)) {
		t.Errorf("stream holds %d messages, want %d", info.State.Msgs, n+len(people))
	}
	t.Logf("published %d events in %s", n, st.Elapsed)
}

func TestRunStopsWithContext(t *testing.T) {
	js := startJetStream(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	st, err := Run(ctx, js, Options{Events: 100})
	if err == nil {
		t.Fatalf("Run with a cancelled context returned no error (stats %+v)", st)
	}
}

// startJetStream runs an in-process NATS server with JetStream and the
// events stream, and returns a JetStream context connected to it.
func startJetStream(t *testing.T) jetstream.JetStream {
	t.Helper()
	ns, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: server.RANDOM_PORT, NoSigs: true, NoLog: true,
		JetStream: true, StoreDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server not ready")
	}
	t.Cleanup(ns.Shutdown)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: events.StreamName, Subjects: []string{events.SubjectPrefix + ".>"},
	}); err != nil {
		t.Fatal(err)
	}
	return js
}
