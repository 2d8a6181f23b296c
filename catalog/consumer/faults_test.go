package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/back-trace/datamap/catalog/consumer"
	"github.com/back-trace/datamap/catalog/deadletter"
	"github.com/back-trace/datamap/catalog/schema"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/testkit/history"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/sinks/clickhouse"
	"github.com/back-trace/datamap/stack/chembed"
)

// Environment of a consumer child process (see runChildConsumer).
const (
	envKillAt   = "DATAMAP_TEST_KILL_AT"
	envNATSURL  = "DATAMAP_TEST_NATS_URL"
	envCHAddr   = "DATAMAP_TEST_CH_ADDR"
	envCHPass   = "DATAMAP_TEST_CH_PASSWORD"
	envCHDB     = "DATAMAP_TEST_CH_DATABASE"
	childBatch  = 200
	testAckWait = 2 * time.Second
)

func TestMain(m *testing.M) {
	if point := os.Getenv(envKillAt); point != "" {
		runChildConsumer(point)
		return
	}
	testservers.Main(m)
}

// runChildConsumer is a consumer process that SIGKILLs itself at a given
// point of its first batches: the crash the parent test then recovers from.
func runChildConsumer(point string) {
	fail := func(err error) { fmt.Fprintln(os.Stderr, "child consumer:", err); os.Exit(3) }
	nc, err := nats.Connect(os.Getenv(envNATSURL))
	if err != nil {
		fail(err)
	}
	js, _ := jetstream.New(nc)
	conn, err := ch.Open(&ch.Options{Addr: []string{os.Getenv(envCHAddr)},
		Auth: ch.Auth{Database: os.Getenv(envCHDB), Username: chembed.User, Password: os.Getenv(envCHPass)}})
	if err != nil {
		fail(err)
	}
	ctx := context.Background()
	durable, err := consumer.EnsureDurable(ctx, js, consumer.Settings{AckWait: testAckWait, MaxDeliver: 20, MaxPending: 10000})
	if err != nil {
		fail(err)
	}
	sink := &killingSink{inner: clickhouse.NewWriter(conn), point: point}
	c := consumer.New(durable, sink, deadletter.NewSink(js, deadletter.SubjectPrefix),
		events.NewValidator(taxonomy.Default()), consumer.Options{BatchSize: childBatch, MaxWait: 50 * time.Millisecond})
	c.Run(ctx)
}

// killingSink kills its own process at one of four points.
type killingSink struct {
	inner  consumer.Sink
	point  string
	writes int
}

func die() { syscall.Kill(os.Getpid(), syscall.SIGKILL); select {} }

func (k *killingSink) Write(ctx context.Context, batch []*events.Event) error {
	k.writes++
	switch k.point {
	case "after-fetch": // fetched and decoded, nothing written
		die()
	case "during-insert": // the INSERT is on the wire
		go k.inner.Write(ctx, batch)
		time.Sleep(time.Duration(k.writes) * time.Millisecond)
		die()
	case "after-insert": // stored, not acked
		if err := k.inner.Write(ctx, batch); err != nil {
			return err
		}
		die()
	case "after-ack": // the first batches were stored and acked
		if k.writes == 3 {
			die()
		}
	}
	return k.inner.Write(ctx, batch)
}

func TestConsumerKilledAtEveryPointLosesNothingCountsNothingTwice(t *testing.T) {
	for _, point := range []string{"after-fetch", "during-insert", "after-insert", "after-ack"} {
		t.Run(point, func(t *testing.T) {
			ns, js := testservers.NATS(t)
			db := testservers.PrivateClickHouse(t) // a client killed mid-INSERT can crash chDB
			history.FoldDuring(t, db.Conn)
			h := history.New()
			h.Publish(t, js, "billing-api", 1000)

			child := exec.Command(os.Args[0], "-test.run=^$")
			child.Env = append(os.Environ(), envKillAt+"="+point, envNATSURL+"="+ns.ClientURL(),
				envCHAddr+"="+db.Addr, envCHPass+"="+db.Password, envCHDB+"="+db.Name)
			child.Stderr = os.Stderr
			err := child.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("child consumer did not die by SIGKILL: %v", err)
			}
			startConsumer(t, js, clickhouse.NewWriter(db.Conn))
			h.WaitExact(t, db.Conn, 60*time.Second)
		})
	}
}

func TestClickHouseKilledMidInsertAndRestarted(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	_, js := testservers.NATS(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "ch")
	srv, err := chembed.Start(ctx, chembed.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	proxy := testservers.NewFaultProxy(t, srv.Addr())
	conn := testservers.Connect(t, proxy.Addr(), srv.Password(), "default")
	if _, err := schema.Migrate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	history.FoldDuring(t, conn)
	h := history.New()
	h.Publish(t, js, "voip-platform", 3000)
	var writes atomic.Int64
	killed := make(chan struct{})
	sink := sinkFunc(func(ctx context.Context, batch []*events.Event) error {
		if writes.Add(1) == 3 { // kill the engine while this INSERT runs
			go func() { time.Sleep(2 * time.Millisecond); srv.Kill(); close(killed) }()
		}
		return clickhouse.NewWriter(conn).Write(ctx, batch)
	})
	startConsumer(t, js, sink)
	<-killed
	<-srv.Done()
	h.Publish(t, js, "voip-platform", 500) // traffic goes on during the outage
	srv, err = chembed.Start(ctx, chembed.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop(context.Background()) })
	proxy.SetTarget(srv.Addr())
	h.WaitExact(t, conn, 90*time.Second)
}

func TestNATSRestartedMidStream(t *testing.T) {
	dir := t.TempDir()
	ns := testservers.StartNATSServer(t, dir, -1)
	port := ns.Addr().(interface{ String() string }).String()
	_, portStr, _ := cutLast(port, ":")
	js := testservers.ConnectJetStream(t, ns.ClientURL())
	if err := consumer.EnsureStreams(context.Background(), js, consumer.DefaultStreamSettings); err != nil {
		t.Fatal(err)
	}
	db := testservers.NewDatabase(t)
	history.FoldDuring(t, db.Conn)
	h := history.New()
	h.Publish(t, js, "sms-gateway", 1500)
	startConsumer(t, js, clickhouse.NewWriter(db.Conn))
	time.Sleep(100 * time.Millisecond)
	ns.Shutdown()
	ns.WaitForShutdown()
	p, _ := strconv.Atoi(portStr)
	testservers.StartNATSServer(t, dir, p)
	h.Publish(t, js, "sms-gateway", 1500) // the client reconnects by itself
	h.WaitExact(t, db.Conn, 60*time.Second)
}

func TestPublisherRetryAfterLostPubAck(t *testing.T) {
	_, js := testservers.NATS(t)
	ctx := context.Background()
	// A short dedup window, so "outside the window" takes a second.
	if _, err := js.UpdateStream(ctx, jetstream.StreamConfig{Name: events.StreamName,
		Subjects: []string{events.SubjectPrefix + ".>"}, Storage: jetstream.FileStorage, Duplicates: 500 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	db := testservers.NewDatabase(t)
	history.FoldDuring(t, db.Conn)
	h := history.New()
	ev := h.NewEvent("billing-api", 3)
	raw, _ := events.Encode(ev)
	for i := 0; i < 2; i++ { // the retry inside the window: NATS drops it
		if err := events.PublishEncoded(ctx, js, ev, raw); err != nil {
			t.Fatal(err)
		}
	}
	stream, _ := js.Stream(ctx, events.StreamName)
	if info, _ := stream.Info(ctx); info.State.Msgs != 1 {
		t.Errorf("stream holds %d messages after a retry inside the dedup window, want 1", info.State.Msgs)
	}
	time.Sleep(time.Second) // the retry outside the window: NATS keeps it, the catalog must not count it
	if err := events.PublishEncoded(ctx, js, ev, raw); err != nil {
		t.Fatal(err)
	}
	if info, _ := stream.Info(ctx); info.State.Msgs != 2 {
		t.Errorf("stream holds %d messages after a retry outside the window, want 2", info.State.Msgs)
	}
	h.Publish(t, js, "billing-api", 100)
	startConsumer(t, js, clickhouse.NewWriter(db.Conn))
	h.WaitExact(t, db.Conn, 30*time.Second)
}

// A consumer that holds a batch longer than AckWait (a long GC pause, a
// stalled insert) gets it redelivered to another consumer meanwhile; when
// it resumes, both have written the batch, and it still counts once.
func TestConsumerPausedLongerThanAckWait(t *testing.T) {
	_, js := testservers.NATS(t)
	db := testservers.NewDatabase(t)
	history.FoldDuring(t, db.Conn)
	h := history.New()
	h.Publish(t, js, "support-desk", 300)
	reader := sdkmetric.NewManualReader()
	metrics, err := consumer.NewMetrics(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	if err != nil {
		t.Fatal(err)
	}
	const pause = 3 * time.Second // > AckWait (1s)
	var paused atomic.Bool
	pausing, resumed := make(chan struct{}), make(chan struct{})
	slow := sinkFunc(func(ctx context.Context, batch []*events.Event) error {
		if paused.CompareAndSwap(false, true) {
			close(pausing)
			time.Sleep(pause) // the batch is redelivered meanwhile
			defer close(resumed)
		}
		return clickhouse.NewWriter(db.Conn).Write(ctx, batch)
	})
	startMeasuredConsumer(t, js, slow, metrics)
	select {
	case <-pausing:
	case <-time.After(30 * time.Second):
		t.Fatal("the first consumer never wrote a batch, so it never paused")
	}
	// Started once the first one holds a batch: it receives the redelivery.
	startMeasuredConsumer(t, js, clickhouse.NewWriter(db.Conn), metrics)
	h.WaitExact(t, db.Conn, 30*time.Second)
	select {
	case <-resumed:
	case <-time.After(30 * time.Second):
		t.Fatal("the paused consumer never finished its write")
	}
	h.WaitExact(t, db.Conn, 10*time.Second) // the late write of the paused batch counted nothing twice
	if n := redeliveries(t, reader); n == 0 {
		t.Fatalf("no message was redelivered during a %s pause with AckWait 1s: the scenario did not happen", pause)
	} else {
		t.Logf("%d messages redelivered during the pause", n)
	}
}

// redeliveries reads the consumer's redelivery counter: messages received
// with a JetStream delivery count above 1.
func redeliveries(t *testing.T, reader *sdkmetric.ManualReader) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if sum, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == "datamap.consumer.redeliveries" {
				for _, dp := range sum.DataPoints {
					n += dp.Value
				}
			}
		}
	}
	return n
}

func TestFullReplayFromTheStartOfTheStream(t *testing.T) {
	_, js := testservers.NATS(t)
	db := testservers.NewDatabase(t)
	history.FoldDuring(t, db.Conn)
	h := history.New()
	h.Publish(t, js, "website", 1200)
	first := startConsumer(t, js, clickhouse.NewWriter(db.Conn))
	h.WaitExact(t, db.Conn, 30*time.Second)
	first.stop()
	ctx := context.Background()
	if err := js.DeleteConsumer(ctx, events.StreamName, consumer.DurableName); err != nil {
		t.Fatal(err)
	}
	startConsumer(t, js, clickhouse.NewWriter(db.Conn)) // recreated: delivers everything again
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := js.Consumer(ctx, events.StreamName, consumer.DurableName)
		if err == nil {
			if info, err := c.Info(ctx); err == nil && info.AckFloor.Stream >= 1200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("replay did not finish")
		}
		time.Sleep(100 * time.Millisecond)
	}
	h.WaitExact(t, db.Conn, 10*time.Second)
}

func TestBadEventsInEveryBatch(t *testing.T) {
	_, js := testservers.NATS(t)
	db := testservers.NewDatabase(t)
	history.FoldDuring(t, db.Conn)
	h := history.New()
	ctx := context.Background()
	for i := 0; i < 300; i++ {
		h.Publish(t, js, "integrations", 1)
		bad := fmt.Sprintf(`{"specversion":"1.0","id":"bad-%d","source":"integrations","type":"com.back-trace.datamap.data.collected.v1","time":"2026-11-01T10:00:00Z","data":{"category":"integrations.nope","data_subject":"customer","purpose":"invoicing","legal_basis":"contract","retention":"P1Y"}}`, i)
		if _, err := js.Publish(ctx, events.Subject(events.KindCollected), []byte(bad)); err != nil {
			t.Fatal(err)
		}
	}
	startConsumer(t, js, clickhouse.NewWriter(db.Conn)) // batches of 50: every one mixes both
	h.WaitExact(t, db.Conn, 30*time.Second)
	history.WaitDeadLetters(t, js, 300)
}

func TestTwoIdenticalBatchesOfDifferentEventsAreBothStored(t *testing.T) {
	db := testservers.NewDatabase(t)
	history.FoldDuring(t, db.Conn)
	h := history.New()
	w := clickhouse.NewWriter(db.Conn)
	// Same content, different identities: what aggregation produces every
	// window. ClickHouse's block dedup must not mistake them for a retry.
	for batch := 0; batch < 2; batch++ {
		var evs []*events.Event
		for i := 0; i < 10; i++ {
			ev := h.NewEvent("sms-gateway", 1)
			ev.Time = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
			evs = append(evs, ev)
		}
		if err := w.Write(context.Background(), evs); err != nil {
			t.Fatal(err)
		}
		if err := w.Write(context.Background(), evs); err != nil { // and a retry of each
			t.Fatal(err)
		}
	}
	h.WaitExact(t, db.Conn, 10*time.Second)
	var raw uint64
	if err := db.Conn.QueryRow(context.Background(), "SELECT count() FROM events").Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if raw != 20 {
		t.Errorf("%d rows on disk, want 20: the retried INSERTs should have been dropped by their deduplication token", raw)
	}
}

func TestPoisonEventDoesNotBlockTheEventsBehindIt(t *testing.T) {
	_, js := testservers.NATS(t)
	db := testservers.NewDatabase(t)
	history.FoldDuring(t, db.Conn)
	h := history.New()
	h.Publish(t, js, "billing-api", 200)
	poison := h.NewEvent("billing-api", 1)
	h.Forget(poison.Identity()) // it must end up dead-lettered, not stored
	raw, _ := events.Encode(poison)
	if err := events.PublishEncoded(context.Background(), js, poison, raw); err != nil {
		t.Fatal(err)
	}
	h.Publish(t, js, "billing-api", 200)
	refusing := pingingSink{sinkFunc(func(ctx context.Context, batch []*events.Event) error {
		for _, ev := range batch {
			if ev.ID == poison.ID {
				return errors.New("code: 27, the catalog cannot parse this event")
			}
		}
		return clickhouse.NewWriter(db.Conn).Write(ctx, batch)
	}), db.Conn}
	startConsumer(t, js, refusing)
	h.WaitExact(t, db.Conn, 60*time.Second)
	history.WaitDeadLetters(t, js, 1)
}

func TestClickHouseUnreachableUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("30 s outage")
	}
	_, js := testservers.NATS(t)
	db := testservers.NewDatabase(t)
	proxy := testservers.NewFaultProxy(t, db.Addr)
	conn := testservers.Connect(t, proxy.Addr(), db.Password, db.Name)
	history.FoldDuring(t, conn)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	durable, err := consumer.EnsureDurable(ctx, js, consumer.Settings{AckWait: time.Second, MaxDeliver: 20, MaxPending: 10000})
	if err != nil {
		t.Fatal(err)
	}
	c := consumer.New(durable, clickhouse.NewWriter(conn), deadletter.NewSink(js, deadletter.SubjectPrefix),
		events.NewValidator(taxonomy.Default()), consumer.Options{BatchSize: 500, MaxWait: 50 * time.Millisecond})
	go c.Run(ctx)

	h := history.New()
	h.Publish(t, js, "hosting-provisioning", 500)
	h.WaitExact(t, conn, 30*time.Second)
	proxy.Down()
	outageEnds := time.Now().Add(30 * time.Second)
	for time.Now().Before(outageEnds) { // load goes on
		h.Publish(t, js, "hosting-provisioning", 100)
		time.Sleep(200 * time.Millisecond)
	}
	if c.Ready() {
		t.Error("consumer reports ready while ClickHouse is unreachable")
	}
	backlog, err := consumer.Backlog(ctx, js)
	if err != nil || backlog == 0 {
		t.Errorf("backlog during the outage = %d (%v); the events should wait in the stream", backlog, err)
	}
	proxy.Up()
	h.WaitExact(t, db.Conn, 60*time.Second)
	if !c.Ready() {
		t.Error("consumer not ready after ClickHouse came back")
	}
}

type sinkFunc func(context.Context, []*events.Event) error

func (f sinkFunc) Write(ctx context.Context, b []*events.Event) error { return f(ctx, b) }

// pingingSink answers pings, so the consumer knows the sink is up and
// refusing, not down.
type pingingSink struct {
	consumer.Sink
	conn interface{ Ping(context.Context) error }
}

func (p pingingSink) Ping(ctx context.Context) error { return p.conn.Ping(ctx) }

func cutLast(s, sep string) (string, string, bool) {
	for i := len(s) - len(sep); i >= 0; i-- {
		if s[i:i+len(sep)] == sep {
			return s[:i], s[i+len(sep):], true
		}
	}
	return s, "", false
}
