package stack_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/back-trace/datamap/config"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/sdk"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/testkit/history"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/server"
	"github.com/back-trace/datamap/stack"
)

// The NATS cluster scenarios run `datamap serve`'s own wiring (stack.Start
// from DATAMAP_* variables, server.NewConsumer) against three NATS nodes
// with 3-replica streams, publish through the SDK while a node is SIGKILLed
// and restarted, and judge the catalog with the history checker: nothing
// lost, nothing counted twice. The figures they log (publish stall, ack
// latency, consumer resume time and throughput) are reported in
// docs/clustering.md; no assertion is made on time.

// victimOf picks the node to kill in a scenario.
type victimOf func(t *testing.T, c *testservers.NATSCluster, js jetstream.JetStream, s *stack.Stack) *testservers.NATSNode

func TestNATSClusterNodeLoss(t *testing.T) {
	testservers.RequireCluster(t)
	testservers.SkipWithoutEngine(t)
	scenarios := []struct {
		name   string
		victim victimOf
	}{
		{"stream leader killed and restarted", func(t *testing.T, c *testservers.NATSCluster, js jetstream.JetStream, _ *stack.Stack) *testservers.NATSNode {
			n, err := c.StreamLeader(context.Background(), js, events.StreamName)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}},
		{"follower killed", func(t *testing.T, c *testservers.NATSCluster, js jetstream.JetStream, s *stack.Stack) *testservers.NATSNode {
			leader, err := c.StreamLeader(context.Background(), js, events.StreamName)
			if err != nil {
				t.Fatal(err)
			}
			// A follower, and not the one the consumer talks to if there is
			// a choice, so that only the replica is lost.
			var pick *testservers.NATSNode
			for _, n := range c.Nodes {
				if n != leader && (pick == nil || n.Name != s.NATS.ConnectedServerName()) {
					pick = n
				}
			}
			return pick
		}},
		{"consumer's node killed", func(t *testing.T, c *testservers.NATSCluster, _ jetstream.JetStream, s *stack.Stack) *testservers.NATSNode {
			n := c.Node(s.NATS.ConnectedServerName())
			if n == nil {
				t.Fatalf("consumer connected to %q, not a node of the cluster", s.NATS.ConnectedServerName())
			}
			return n
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { runNodeLoss(t, sc.victim) })
	}
}

// sample is the state of the pipeline at one instant.
type sample struct {
	at                time.Duration
	published, stored uint64
	pending           int64
}

func runNodeLoss(t *testing.T, pickVictim victimOf) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cluster := testservers.StartNATSCluster(t)
	db := testservers.NewDatabase(t)

	// The configuration of `datamap serve` on a 3-node cluster.
	for k, v := range map[string]string{
		"DATAMAP_NATS_URL":        cluster.URL(),
		"DATAMAP_NATS_TOKEN":      cluster.Token,
		"DATAMAP_STREAM_REPLICAS": "3",
		"DATAMAP_CLICKHOUSE_DSN":  fmt.Sprintf("clickhouse://%s:%s@%s/%s", "datamap", db.Password, db.Addr, db.Name),
		"DATAMAP_DATA_DIR":        t.TempDir(),
		"DATAMAP_BATCH_SIZE":      "500",
		"DATAMAP_BATCH_WAIT":      "50ms",
	} {
		t.Setenv(k, v)
	}
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := stack.Start(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	stream, err := s.JS.Stream(ctx, events.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	if r := stream.CachedInfo().Config.Replicas; r != 3 {
		t.Fatalf("stream %s has %d replicas, want 3 (DATAMAP_STREAM_REPLICAS)", events.StreamName, r)
	}
	consumer, err := server.NewConsumer(ctx, s, taxonomy.Default(), nil)
	if err != nil {
		t.Fatal(err)
	}
	consumed := make(chan struct{})
	go func() { defer close(consumed); consumer.Run(ctx) }()
	defer func() { cancel(); <-consumed }()

	// The publisher has a connection of its own, as a service would.
	pubJS := cluster.Connect(t)
	reader := sdkmetric.NewManualReader(sdkmetric.WithTemporalitySelector(
		func(sdkmetric.InstrumentKind) metricdata.Temporality { return metricdata.DeltaTemporality }))
	meters := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithView(sdkmetric.NewView(
		sdkmetric.Instrument{Name: sdk.MetricLatency},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{
			Boundaries: []float64{.001, .002, .005, .01, .02, .05, .1, .2, .5, 1, 2, 5, 10, 20, 30, 60}}})))
	pub, err := sdk.NewPublisher(pubJS, sdk.WithSource("billing-api"), sdk.WithMeterProvider(meters),
		sdk.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	h := history.New()

	// Load: about 1000 events/s, in bursts of 20 every 20 ms.
	start := time.Now()
	stopLoad := make(chan struct{})
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stopLoad:
				return
			case <-tick.C:
			}
			for j := 0; j < 20; j++ {
				count := int64(j%5 + 1)
				id, err := pub.Collected(ctx, sdk.Collection{Category: "billing.invoice", DataSubject: "customer",
					Purpose: "invoicing", LegalBasis: events.LegalBasisLegalObligation, Retention: "P7Y", Count: count})
				if err != nil {
					t.Errorf("publish: %v", err)
					return
				}
				h.Expect(events.Identity("billing-api", id), uint64(count))
			}
		}
	}()
	var mu sync.Mutex
	var samples []sample
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(25 * time.Millisecond)
		defer tick.Stop()
		for {
			st := pub.Stats()
			mu.Lock()
			samples = append(samples, sample{at: time.Since(start), published: st.Published, stored: consumer.Stored(), pending: st.Pending})
			mu.Unlock()
			select {
			case <-stopSampling:
				return
			case <-tick.C:
			}
		}
	}()
	latest := func() sample {
		mu.Lock()
		defer mu.Unlock()
		if len(samples) == 0 {
			return sample{}
		}
		return samples[len(samples)-1]
	}

	// Steady state first, then the fault.
	waitFor(t, 60*time.Second, "steady ingestion before the fault", func() bool {
		l := latest()
		return l.stored >= 2000 && l.published >= 2000
	}, func() string { return fmt.Sprint(latest()) })
	before := latencyWindow(t, reader)
	victim := pickVictim(t, cluster, s.JS, s)
	leader, _ := cluster.StreamLeader(ctx, s.JS, events.StreamName)
	role := "follower"
	if victim == leader {
		role = "stream leader"
	}
	consumerNode := s.NATS.ConnectedServerName()
	atKill := latest()
	victim.Kill()
	killedAt := time.Since(start)
	t.Logf("killed %s (%s; consumer connected to %s) at %s", victim.Name, role, consumerNode, killedAt.Round(time.Millisecond))

	// The scenario: with the node dead, the cluster still takes events
	// and the consumer still stores them.
	waitFor(t, 120*time.Second, "publishing and consuming with the node dead", func() bool {
		l := latest()
		return l.published >= atKill.published+2000 && l.stored >= atKill.stored+2000
	}, func() string {
		l := latest()
		leader, err := cluster.StreamLeader(ctx, s.JS, events.StreamName)
		lname := ""
		if leader != nil {
			lname = leader.Name
		}
		return fmt.Sprintf("since the kill: %d published, %d stored, %d pending; stream leader %s (%v); consumer on %s; logs in %s",
			l.published-atKill.published, l.stored-atKill.stored, l.pending, lname, err, s.NATS.ConnectedServerName(), cluster.Nodes[0].LogPath)
	})
	if victim.Name == consumerNode && s.NATS.ConnectedServerName() == victim.Name {
		t.Errorf("the consumer's connection is still on the dead node %s", victim.Name)
	}
	during := latencyWindow(t, reader)
	victim.Restart(t)
	restartedAt := time.Since(start)
	cluster.WaitStreamHealthy(t, s.JS, events.StreamName, 60*time.Second)
	healthyAt := time.Since(start)
	time.Sleep(5 * time.Second) // after: the same load on a healthy cluster
	close(stopLoad)
	<-loadDone
	flushCtx, cancelFlush := context.WithTimeout(ctx, 60*time.Second)
	if err := pub.Flush(flushCtx); err != nil {
		t.Fatalf("publisher did not deliver everything: %v", err)
	}
	cancelFlush()
	after := latencyWindow(t, reader)
	close(stopSampling)
	<-sampled
	if err := pub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	h.WaitExact(t, db.Conn, 180*time.Second)
	t.Logf("catalog exact: %d events, none lost, none counted twice", h.Len())

	mu.Lock()
	defer mu.Unlock()
	pubFrom, pubStall := longestStall(samples, killedAt, func(s sample) uint64 { return s.published }, true)
	conFrom, conStall := longestStall(samples, killedAt, func(s sample) uint64 { return s.stored }, false)
	ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	t.Logf("publish: longest stall %s (acks resumed %s after the kill); ack latency before %s; kill→node back %s; after recovery %s",
		ms(pubStall), ms(pubFrom+pubStall-killedAt), before, during, after)
	t.Logf("consumer: longest pause %s (storing resumed %s after the kill); throughput %.0f/s in the 10 s after the kill, %.0f/s in the 5 s after recovery (load ~1000/s)",
		ms(conStall), ms(conFrom+conStall-killedAt),
		rate(samples, killedAt, killedAt+10*time.Second, func(s sample) uint64 { return s.stored }),
		rate(samples, healthyAt, healthyAt+5*time.Second, func(s sample) uint64 { return s.stored }))
	t.Logf("timeline: killed %s, restarted %s, stream healthy %s", killedAt.Round(time.Millisecond),
		restartedAt.Round(time.Millisecond), healthyAt.Round(time.Millisecond))
}

func waitFor(t *testing.T, within time.Duration, what string, ok func() bool, state func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %s: %s", what, within, state())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// longestStall is the longest time after from during which the counter did
// not move, and when it began; with whilePending only while events were
// waiting for an ack.
func longestStall(samples []sample, from time.Duration, counter func(sample) uint64, whilePending bool) (began, longest time.Duration) {
	var since time.Duration = -1
	for i := 1; i < len(samples); i++ {
		s, prev := samples[i], samples[i-1]
		if s.at < from {
			continue
		}
		stuck := counter(s) == counter(prev) && (!whilePending || s.pending > 0)
		switch {
		case stuck && since < 0:
			since = prev.at
		case !stuck && since >= 0:
			if s.at-since > longest {
				began, longest = since, s.at-since
			}
			since = -1
		}
	}
	return began, longest
}

// rate is the counter's average increase per second in [from, to).
func rate(samples []sample, from, to time.Duration, counter func(sample) uint64) float64 {
	var first, last *sample
	for i := range samples {
		s := &samples[i]
		if s.at < from || s.at >= to {
			continue
		}
		if first == nil {
			first = s
		}
		last = s
	}
	if first == nil || last == first {
		return math.NaN()
	}
	return float64(counter(*last)-counter(*first)) / (last.at - first.at).Seconds()
}

// latencySummary is the SDK's publish latency (accepted → acked) over one
// window of the run, read from its OpenTelemetry histogram.
type latencySummary struct {
	count         uint64
	p50, p99, max float64
}

func (l latencySummary) String() string {
	return fmt.Sprintf("p50≤%s p99≤%s max %s (n=%d)", seconds(l.p50), seconds(l.p99), seconds(l.max), l.count)
}

func seconds(s float64) string {
	if math.IsInf(s, 1) {
		return "60s+"
	}
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond).String()
}

// latencyWindow collects the histogram since the last collection (delta
// temporality) and summarises it; percentiles are bucket upper bounds.
func latencyWindow(t *testing.T, reader *sdkmetric.ManualReader) latencySummary {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var out latencySummary
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			hist, ok := m.Data.(metricdata.Histogram[float64])
			if m.Name != sdk.MetricLatency || !ok {
				continue
			}
			for _, dp := range hist.DataPoints {
				out.count += dp.Count
				if v, ok := dp.Max.Value(); ok {
					out.max = max(out.max, v)
				}
				quantile := func(q float64) float64 {
					target := uint64(math.Ceil(q * float64(dp.Count)))
					var seen uint64
					for i, n := range dp.BucketCounts {
						seen += n
						if seen >= target {
							if i < len(dp.Bounds) {
								return dp.Bounds[i]
							}
							return math.Inf(1)
						}
					}
					return math.Inf(1)
				}
				if dp.Count > 0 {
					out.p50, out.p99 = quantile(.5), quantile(.99)
				}
			}
		}
	}
	return out
}
