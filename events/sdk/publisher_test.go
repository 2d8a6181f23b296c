package sdk_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/back-trace/datamap/catalog/consumer"
	"github.com/back-trace/datamap/catalog/deadletter"
	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/sdk"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/sinks/clickhouse"
)

// spoolChildEnv makes the test binary a service that spools events while
// NATS is down and waits to be killed (TestSpoolSurvivesKill).
const spoolChildEnv = "DATAMAP_TEST_SPOOL_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(spoolChildEnv); dir != "" {
		spoolChild(dir)
		return
	}
	testservers.Main(m)
}

var paymentToken = sdk.Collection{Category: "billing.payment_token", DataSubject: "customer",
	Purpose: "payment_processing", LegalBasis: events.LegalBasisContract, Retention: "P7Y"}

var smsToCarrier = sdk.Share{Category: "telephony.sms_metadata", DataSubject: "customer",
	Purpose: "call_message_routing", LegalBasis: events.LegalBasisContract,
	Recipient: events.Recipient{Name: "Twilio", Role: events.RoleProcessor, Country: "US", Safeguard: events.SafeguardSCC}}

// downNATS is a NATS address that will come up later in the test: its
// store directory and port are fixed, the server is not running.
type downNATS struct {
	dir  string
	port int
	url  string
}

func reserveNATS(t *testing.T) downNATS {
	t.Helper()
	dir := t.TempDir()
	ns := testservers.StartNATSServer(t, dir, -1)
	port := ns.Addr().(*net.TCPAddr).Port
	ns.Shutdown()
	ns.WaitForShutdown()
	return downNATS{dir: dir, port: port, url: fmt.Sprintf("nats://127.0.0.1:%d", port)}
}

// start brings the server up with the datamap streams.
func (d downNATS) start(t *testing.T) *server.Server {
	t.Helper()
	ns := testservers.StartNATSServer(t, d.dir, d.port)
	js := testservers.ConnectJetStream(t, ns.ClientURL())
	if err := consumer.EnsureStreams(context.Background(), js, consumer.DefaultStreamSettings); err != nil {
		t.Fatal(err)
	}
	return ns
}

// connect connects to url whether or not the server runs yet.
func connect(t testing.TB, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url, nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1),
		nats.ReconnectWait(20*time.Millisecond), nats.ReconnectBufSize(64<<20))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func newPublisher(t testing.TB, js jetstream.JetStream, opts ...sdk.Option) *sdk.Publisher {
	t.Helper()
	p, err := sdk.NewPublisher(js, append([]sdk.Option{sdk.WithSource("billing-api")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Close(ctx)
	})
	return p
}

func flush(t testing.TB, p *sdk.Publisher, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if err := p.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v (stats %+v)", err, p.Stats())
	}
}

// streamIDs reads the whole events stream and counts each Nats-Msg-Id.
func streamIDs(t testing.TB, js jetstream.JetStream) (msgs int, ids map[string]int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, events.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	n := int(s.CachedInfo().State.Msgs)
	ids = make(map[string]int, n)
	if n == 0 {
		return 0, ids
	}
	c, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for msgs < n {
		batch, err := c.Fetch(min(n-msgs, 5000), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for m := range batch.Messages() {
			ids[m.Headers().Get(jetstream.MsgIDHeader)]++
			got++
		}
		if got == 0 {
			t.Fatalf("stream reads stalled at %d of %d messages: %v", msgs, n, batch.Error())
		}
		msgs += got
	}
	return msgs, ids
}

// requireOnce checks that the stream holds want distinct events, each once.
func requireOnce(t testing.TB, js jetstream.JetStream, want int) {
	t.Helper()
	msgs, ids := streamIDs(t, js)
	dups := 0
	for _, n := range ids {
		if n > 1 {
			dups++
		}
	}
	if msgs != want || len(ids) != want || dups > 0 {
		t.Fatalf("stream has %d messages, %d distinct ids, %d duplicated; want %d events once each", msgs, len(ids), dups, want)
	}
}

func TestPublisherDeliversEveryEventOnce(t *testing.T) {
	_, js := testservers.NATS(t)
	p := newPublisher(t, js)
	ctx := context.Background()
	for i := range 300 {
		c := paymentToken
		c.Count = int64(i%3 + 1)
		if _, err := p.Collected(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Shared(ctx, smsToCarrier); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Erased(ctx, sdk.Erasure{Category: "billing.payment_token", DataSubject: "customer", Reason: events.ReasonRetention}); err != nil {
		t.Fatal(err)
	}
	flush(t, p, 20*time.Second)
	requireOnce(t, js, 302)
	s := p.Stats()
	if s.Queued != 302 || s.Published != 302 || s.Pending != 0 {
		t.Errorf("stats = %+v, want 302 queued and published, none pending", s)
	}
}

func TestInvalidEventIsRefusedSynchronouslyByField(t *testing.T) {
	_, js := testservers.NATS(t)
	p := newPublisher(t, js)
	bad := paymentToken
	bad.Category = "billing.nope"
	bad.Retention = "seven years"
	_, err := p.Collected(context.Background(), bad)
	var ve *events.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, events.ErrInvalid) {
		t.Fatalf("err = %v, want a *ValidationError", err)
	}
	if ve.Field("data.category") == "" || ve.Field("data.retention") == "" {
		t.Errorf("problems = %v, want data.category and data.retention", ve.Problems)
	}
	share := smsToCarrier
	share.Recipient.Name = "jane.doe@example.com"
	if _, err := p.Shared(context.Background(), share); !errors.As(err, &ve) || ve.Field("data.recipient.name") == "" {
		t.Errorf("personal value in recipient.name: err = %v", err)
	}
	if s := p.Stats(); s.Queued != 0 {
		t.Errorf("invalid events were queued: %+v", s)
	}
}

func TestOptionsAreValidatedTogether(t *testing.T) {
	_, js := testservers.NATS(t)
	for name, opts := range map[string][]sdk.Option{
		"no source":             {},
		"spill without a spool": {sdk.WithSource("a"), sdk.WithSpillOnFull()},
		"bad buffer":            {sdk.WithSource("a"), sdk.WithBuffer(0)},
		"bad window":            {sdk.WithSource("a"), sdk.WithAggregation(-time.Second)},
	} {
		if _, err := sdk.NewPublisher(js, opts...); err == nil {
			t.Errorf("%s: NewPublisher succeeded", name)
		}
	}
}

func TestNATSDownAtStartThenUp(t *testing.T) {
	down := reserveNATS(t)
	js := connect(t, down.url)
	p := newPublisher(t, js, sdk.WithAckTimeout(2*time.Second))
	const n = 2000
	for range n {
		if _, err := p.Collected(context.Background(), paymentToken); err != nil {
			t.Fatal(err)
		}
	}
	down.start(t)
	flush(t, p, 30*time.Second)
	requireOnce(t, js, n)
}

func TestNATSRestartMidBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("100k events")
	}
	down := reserveNATS(t)
	ns := down.start(t)
	js := connect(t, down.url)
	p := newPublisher(t, js, sdk.WithAckTimeout(2*time.Second))
	const n = 100_000
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	wg.Go(func() {
		for range n {
			if _, err := p.Collected(context.Background(), paymentToken); err != nil {
				errs <- err
				return
			}
		}
	})
	waitFor(t, 30*time.Second, "a third of the burst published", func() bool { return p.Stats().Published >= n/3 })
	ns.Shutdown()
	ns.WaitForShutdown()
	down.start(t)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	flush(t, p, 60*time.Second)
	t.Logf("stats after the restart: %+v", p.Stats())
	requireOnce(t, js, n)

	// And in the catalog: every event counted once.
	conn := testservers.ClickHouse(t)
	startConsumer(t, js, conn)
	waitFor(t, 60*time.Second, "the catalog to hold every event", func() bool {
		got, err := query.CountEvents(context.Background(), conn)
		if err != nil {
			t.Fatal(err)
		}
		if got.Events > n {
			t.Fatalf("catalog has %d events, more than the %d published", got.Events, n)
		}
		return got.Events == n
	})
}

func TestQueueFullPolicies(t *testing.T) {
	const attempts = 60
	// Each case runs against a NATS that is down, with a tiny queue, then
	// brings it up and checks that every accepted event arrived once.
	cases := []struct {
		name  string
		opts  func(t *testing.T) []sdk.Option
		check func(t *testing.T, accepted int, errs []error, s sdk.Stats)
	}{{
		name: "default blocks until the caller's context ends and loses nothing",
		opts: func(*testing.T) []sdk.Option { return nil },
		check: func(t *testing.T, accepted int, errs []error, s sdk.Stats) {
			if len(errs) == 0 || !errors.Is(errs[0], sdk.ErrQueueFull) || !errors.Is(errs[0], context.DeadlineExceeded) {
				t.Errorf("errs = %v, want ErrQueueFull with the context's deadline", errs)
			}
			if s.Dropped != 0 || s.Spooled != 0 {
				t.Errorf("stats = %+v, want nothing dropped or spooled", s)
			}
		},
	}, {
		name: "block with a timeout reports ErrQueueFull",
		opts: func(*testing.T) []sdk.Option {
			return []sdk.Option{sdk.WithBlockOnFull(20 * time.Millisecond)}
		},
		check: func(t *testing.T, accepted int, errs []error, s sdk.Stats) {
			if len(errs) == 0 || !errors.Is(errs[0], sdk.ErrQueueFull) {
				t.Errorf("errs = %v, want ErrQueueFull", errs)
			}
		},
	}, {
		name: "drop never fails and counts the drops",
		opts: func(*testing.T) []sdk.Option { return []sdk.Option{sdk.WithDropOnFull()} },
		check: func(t *testing.T, accepted int, errs []error, s sdk.Stats) {
			if len(errs) != 0 || accepted != attempts || s.Dropped == 0 || s.Queued == 0 {
				t.Errorf("errs = %v, stats = %+v: want no error, some queued, some dropped", errs, s)
			}
		},
	}, {
		name: "spill (the default with a spool) never fails and loses nothing",
		opts: func(t *testing.T) []sdk.Option { return []sdk.Option{sdk.WithSpool(t.TempDir())} },
		check: func(t *testing.T, accepted int, errs []error, s sdk.Stats) {
			if len(errs) != 0 || accepted != attempts || s.Spooled == 0 {
				t.Errorf("errs = %v, stats = %+v: want all %d accepted, some spooled", errs, s, attempts)
			}
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			down := reserveNATS(t)
			js := connect(t, down.url)
			opts := append([]sdk.Option{sdk.WithBuffer(4), sdk.WithMaxInFlight(2), sdk.WithAckTimeout(time.Second)}, c.opts(t)...)
			p := newPublisher(t, js, opts...)
			accepted := 0
			var errs []error
			for range attempts {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
				_, err := p.Collected(ctx, paymentToken)
				cancel()
				if err != nil {
					errs = append(errs, err)
				} else {
					accepted++
				}
			}
			s := p.Stats()
			c.check(t, accepted, errs, s)
			if int(s.Queued+s.Dropped) != accepted {
				t.Errorf("Queued+Dropped = %d, calls that succeeded = %d", s.Queued+s.Dropped, accepted)
			}
			down.start(t)
			flush(t, p, 30*time.Second)
			requireOnce(t, js, int(s.Queued))
		})
	}
}

func TestTraceParentOfTheCallerIsOnTheStoredEvent(t *testing.T) {
	_, js := testservers.NATS(t)
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	p := newPublisher(t, js, sdk.WithTracerProvider(tp))
	ctx, span := tp.Tracer("billing").Start(context.Background(), "charge card")
	if _, err := p.Collected(ctx, paymentToken); err != nil {
		t.Fatal(err)
	}
	span.End()
	flush(t, p, 10*time.Second)
	ev := lastEvent(t, js)
	if want := events.TraceParent(span.SpanContext()); ev.TraceParent != want || want == "" {
		t.Errorf("traceparent = %q, want the caller's %q", ev.TraceParent, want)
	}
	var publish sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		if s.Name() == "publish "+events.SourceSubject("billing-api", events.KindCollected) {
			publish = s
		}
	}
	if publish == nil || publish.Parent().SpanID() != span.SpanContext().SpanID() {
		t.Errorf("no publish span under the caller's span; spans: %v", spans.Ended())
	}
}

func lastEvent(t *testing.T, js jetstream.JetStream) *events.Event {
	t.Helper()
	s, err := js.Stream(context.Background(), events.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetLastMsgForSubject(context.Background(), events.SubjectPrefix+".>")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := events.NewValidator(taxonomy.Default()).Decode(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestSpoolSurvivesKill(t *testing.T) {
	dir := t.TempDir()
	const n = 500
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), spoolChildEnv+"="+dir, fmt.Sprintf("DATAMAP_TEST_SPOOL_EVENTS=%d", n))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "spooled\n" {
		cmd.Process.Kill()
		t.Fatalf("child said %q, %v", line, err)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no Close, no flush
		t.Fatal(err)
	}
	_ = cmd.Wait()

	// A crash in the middle of a write leaves a torn last record.
	f, err := os.OpenFile(filepath.Join(dir, "events.spool"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte{0, 0, 1, 0, 0xde, 0xad, 0xbe, 0xef, 0, 42, '{'}); err != nil {
		t.Fatal(err)
	}
	f.Close()

	_, js := testservers.NATS(t)
	p := newPublisher(t, js, sdk.WithSpool(dir))
	if got := p.Stats().Pending; got != n {
		t.Errorf("pending after restart = %d, want the %d spooled events", got, n)
	}
	flush(t, p, 30*time.Second)
	requireOnce(t, js, n)
	waitFor(t, 5*time.Second, "the spool to be truncated", func() bool {
		info, err := os.Stat(filepath.Join(dir, "events.spool"))
		return err == nil && info.Size() == 0
	})
}

// spoolChild publishes events with NATS down until they are all in the
// spool, says so on stdout, and waits to be killed.
func spoolChild(dir string) {
	var n int
	fmt.Sscan(os.Getenv("DATAMAP_TEST_SPOOL_EVENTS"), &n)
	nc, err := nats.Connect("nats://127.0.0.1:1", nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1))
	if err != nil {
		panic(err)
	}
	js, _ := jetstream.New(nc)
	p, err := sdk.NewPublisher(js, sdk.WithSource("billing-api"), sdk.WithSpool(dir))
	if err != nil {
		panic(err)
	}
	for range n {
		if _, err := p.Collected(context.Background(), paymentToken); err != nil {
			panic(err)
		}
	}
	for p.Stats().Spooled < uint64(n) {
		time.Sleep(5 * time.Millisecond)
	}
	fmt.Println("spooled")
	select {}
}

func startConsumer(t *testing.T, js jetstream.JetStream, conn driver.Conn) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	durable, err := consumer.EnsureDurable(ctx, js, consumer.Settings{AckWait: 10 * time.Second, MaxDeliver: 20, MaxPending: 20000})
	if err != nil {
		t.Fatal(err)
	}
	c := consumer.New(durable, clickhouse.NewWriter(conn), deadletter.NewSink(js, deadletter.SubjectPrefix),
		events.NewValidator(taxonomy.Default()), consumer.Options{BatchSize: 5000, MaxWait: 50 * time.Millisecond})
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// When a stream leader dies, the acks of a whole window of publishes are
// lost at once. They must all be retried one ack timeout later, not one
// timeout per publish (which made 1000 lost acks a 10000 s stall).
func TestLostAcksOfAWindowTimeOutTogether(t *testing.T) {
	ns := testservers.StartNATSServer(t, t.TempDir(), -1)
	js := connect(t, ns.ClientURL())
	// Something receives the publishes and never answers, like a stream
	// leader that died after reading them.
	var swallowed atomic.Int64
	blackhole, err := js.Conn().Subscribe(events.SubjectPrefix+".>", func(*nats.Msg) { swallowed.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	js.Conn().Flush()
	const n = 1000
	p := newPublisher(t, js, sdk.WithAckTimeout(time.Second), sdk.WithMaxInFlight(n))
	for range n {
		if _, err := p.Collected(context.Background(), paymentToken); err != nil {
			t.Fatal(err)
		}
	}
	for swallowed.Load() < n { // the whole window is in flight
		time.Sleep(10 * time.Millisecond)
	}
	blackhole.Unsubscribe()
	if err := consumer.EnsureStreams(context.Background(), js, consumer.DefaultStreamSettings); err != nil {
		t.Fatal(err)
	}
	flush(t, p, 60*time.Second) // one timeout per publish would be 1000 s
	requireOnce(t, js, n)
	if s := p.Stats(); s.Retried < n {
		t.Errorf("stats = %+v: every publish of the window should have timed out and been retried", s)
	}
}
