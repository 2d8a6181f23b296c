package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/catalog/consumer"
	"github.com/back-trace/datamap/catalog/deadletter"
	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/sdk"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/sinks/clickhouse"
)

// pipeline is a consumer running against real servers.
type pipeline struct {
	js     jetstream.JetStream
	cancel context.CancelFunc
	done   chan struct{}
}

func startConsumer(t *testing.T, js jetstream.JetStream, sink consumer.Sink) *pipeline {
	t.Helper()
	return startMeasuredConsumer(t, js, sink, nil)
}

// startMeasuredConsumer is startConsumer recording into m.
func startMeasuredConsumer(t *testing.T, js jetstream.JetStream, sink consumer.Sink, m *consumer.Metrics) *pipeline {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	durable, err := consumer.EnsureDurable(ctx, js, consumer.Settings{AckWait: time.Second, MaxDeliver: 20, MaxPending: 10000})
	if err != nil {
		t.Fatal(err)
	}
	c := consumer.New(durable, sink, deadletter.NewSink(js, deadletter.SubjectPrefix),
		events.NewValidator(taxonomy.Default()), consumer.Options{BatchSize: 50, MaxWait: 50 * time.Millisecond, Metrics: m})
	p := &pipeline{js: js, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(p.done); c.Run(ctx) }()
	t.Cleanup(p.stop)
	return p
}

func (p *pipeline) stop() {
	p.cancel()
	<-p.done
}

// flakySink stores a batch and then, once, pretends it failed — as if the
// consumer crashed after the insert and before the ack. The batch comes
// back and must not count twice.
type flakySink struct {
	inner  consumer.Sink
	failed atomic.Bool
	onFail func()
}

func (s *flakySink) Write(ctx context.Context, batch []*events.Event) error {
	if err := s.inner.Write(ctx, batch); err != nil {
		return err
	}
	if s.failed.CompareAndSwap(false, true) {
		if s.onFail != nil {
			s.onFail()
		}
		return errors.New("simulated crash after insert, before ack")
	}
	return nil
}

func TestEndToEndCountsEveryEventOnce(t *testing.T) {
	_, js := testservers.NATS(t)
	conn := testservers.ClickHouse(t)
	ctx := context.Background()
	check := func(_ string, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	billing := mustPublisher(t, js, "billing-api")
	support := mustPublisher(t, js, "support-desk")
	stripe := events.Recipient{Name: "Stripe", Role: events.RoleProcessor, Country: "US", Safeguard: events.SafeguardSCC, Contract: "DPA-17"}
	zendesk := events.Recipient{Name: "Zendesk", Role: events.RoleProcessor, Country: "US", Safeguard: events.SafeguardDPF}
	for i := 0; i < 40; i++ {
		check(billing.Collected(ctx, sdk.Collection{Category: "billing.payment_token", DataSubject: "customer",
			Purpose: "payment_processing", LegalBasis: events.LegalBasisContract, Retention: "P7Y", Count: 2}))
	}
	for i := 0; i < 15; i++ {
		check(billing.Shared(ctx, sdk.Share{Category: "billing.payment_token", DataSubject: "customer",
			Purpose: "payment_processing", LegalBasis: events.LegalBasisContract, Recipient: stripe}))
	}
	for i := 0; i < 25; i++ {
		check(support.Collected(ctx, sdk.Collection{Category: "support.tickets", DataSubject: "customer",
			Purpose: "support", LegalBasis: events.LegalBasisContract, Retention: "P24M"}))
		check(support.Shared(ctx, sdk.Share{Category: "support.tickets", DataSubject: "customer",
			Purpose: "support", LegalBasis: events.LegalBasisContract, Recipient: zendesk, Count: 3}))
	}
	for i := 0; i < 5; i++ {
		check(support.Erased(ctx, sdk.Erasure{Category: "support.tickets", DataSubject: "customer", Reason: events.ReasonSubjectRequest}))
	}
	// The same event published twice: once through JetStream's dedup window
	// (dropped by NATS), once under a different Nats-Msg-Id (NATS keeps
	// both; the catalog must count it once).
	dup := &events.Event{ID: "01934f7e-7c1a-7b3e-9d2a-5f0c8e1b2a43", Source: "billing-api", Kind: events.KindCollected,
		Time: time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC), Data: events.Data{Category: "billing.invoice",
			DataSubject: "customer", Purpose: "payment_processing", LegalBasis: events.LegalBasisLegalObligation, Retention: "P7Y", Count: 1}}
	raw, err := events.Encode(dup)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := events.PublishEncoded(ctx, js, dup, raw); err != nil {
			t.Fatal(err)
		}
	}
	msg := nats.NewMsg(events.Subject(events.KindCollected))
	msg.Data = raw
	msg.Header.Set(jetstream.MsgIDHeader, "a-different-id")
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		t.Fatal(err)
	}

	// First consumer: its first batch is inserted, then it "crashes" before
	// acking. A second consumer takes over and gets the batch redelivered.
	var first *pipeline
	sink := &flakySink{inner: clickhouse.NewWriter(conn), onFail: func() { go first.stop() }}
	first = startConsumer(t, js, sink)
	<-first.done
	startConsumer(t, js, clickhouse.NewWriter(conn))

	waitForEvents(t, conn, 40+15+50+5+1)
	inv, err := query.Inventory(ctx, conn, query.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]uint64{}
	for _, r := range inv {
		got[r.System+" "+r.Category] = [2]uint64{r.Events, r.Records}
	}
	want := map[string][2]uint64{
		"billing-api billing.payment_token": {40, 80},
		"billing-api billing.invoice":       {1, 1},
		"support-desk support.tickets":      {25, 25},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("inventory (events, records) = %v, want %v", got, want)
	}
	flows, err := query.Flows(ctx, conn, query.Filter{Country: "US"})
	if err != nil {
		t.Fatal(err)
	}
	gotFlows := map[string][2]uint64{}
	for _, r := range flows {
		gotFlows[r.System+" → "+r.Recipient+" "+r.Safeguard] = [2]uint64{r.Events, r.Records}
	}
	wantFlows := map[string][2]uint64{"billing-api → Stripe scc": {15, 15}, "support-desk → Zendesk dpf": {25, 75}}
	if fmt.Sprint(gotFlows) != fmt.Sprint(wantFlows) {
		t.Errorf("flows = %v, want %v", gotFlows, wantFlows)
	}
	billingOnly, err := query.Inventory(ctx, conn, query.Filter{Category: "billing"})
	if err != nil {
		t.Fatal(err)
	}
	if len(billingOnly) != 2 {
		t.Errorf("--category billing matched %d rows, want the 2 billing.* rows", len(billingOnly))
	}
}

func TestBadEventsAreDeadLetteredAndGoodOnesLand(t *testing.T) {
	_, js := testservers.NATS(t)
	conn := testservers.ClickHouse(t)
	ctx := context.Background()
	good := `{"specversion":"1.0","id":"good-%d","source":"billing-api","type":"com.back-trace.datamap.data.collected.v1",
		"time":"2026-11-01T10:00:00Z","data":{"category":"billing.payment_token","data_subject":"customer",
		"purpose":"payment_processing","legal_basis":"contract","retention":"P7Y"}}`
	bad := []string{
		`{not json`,
		`{"specversion":"1.0","source":"x","type":"com.back-trace.datamap.data.collected.v1","time":"2026-11-01T10:00:00Z","data":{}}`,
		`{"specversion":"1.0","id":"pii","source":"billing-api","type":"com.back-trace.datamap.data.shared.v1","time":"2026-11-01T10:00:00Z",
		  "data":{"category":"billing.payment_token","data_subject":"customer","purpose":"payment_processing","legal_basis":"contract",
		  "recipient":{"name":"jane@example.com","role":"processor","country":"US"}}}`,
	}
	for i := 0; i < 10; i++ {
		publishRaw(t, js, fmt.Sprintf(good, i))
		publishRaw(t, js, bad[i%len(bad)])
	}
	startConsumer(t, js, clickhouse.NewWriter(conn))
	waitForEvents(t, conn, 10)
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := js.Stream(ctx, deadletter.StreamName)
		if err != nil {
			t.Fatal(err)
		}
		if info.CachedInfo().State.Msgs == 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dead letters = %d, want 10", info.CachedInfo().State.Msgs)
		}
		time.Sleep(50 * time.Millisecond)
		_, _ = info.Info(ctx)
	}
	dl, err := js.Stream(ctx, deadletter.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	m, err := dl.GetLastMsgForSubject(ctx, deadletter.SubjectPrefix+".>")
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get(deadletter.HeaderReason) == "" || m.Header.Get(deadletter.HeaderOriginalSubject) == "" {
		t.Errorf("dead letter lacks reason or original subject: %v", m.Header)
	}
}

func publishRaw(t *testing.T, js jetstream.JetStream, body string) {
	t.Helper()
	if _, err := js.Publish(context.Background(), events.Subject(events.KindCollected), []byte(body)); err != nil {
		t.Fatal(err)
	}
}

func mustPublisher(t *testing.T, js jetstream.JetStream, source string) *sdk.Publisher {
	t.Helper()
	p, err := sdk.NewPublisher(js, sdk.WithSource(source))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func waitForEvents(t *testing.T, conn driver.Conn, want uint64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := query.CountEvents(context.Background(), conn)
		if err != nil {
			t.Fatal(err)
		}
		if got.Events == want {
			// Stay a moment to catch late duplicates.
			time.Sleep(300 * time.Millisecond)
			if again, _ := query.CountEvents(context.Background(), conn); again.Events != want {
				t.Fatalf("catalog grew from %d to %d events", want, again.Events)
			}
			return
		}
		if got.Events > want || time.Now().After(deadline) {
			t.Fatalf("catalog has %d events, want %d", got.Events, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
