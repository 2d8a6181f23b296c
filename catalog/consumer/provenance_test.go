package consumer_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/catalog/consumer"
	"github.com/back-trace/datamap/catalog/deadletter"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/sinks/clickhouse"
)

// erasedBy is a valid erased event of source.
func erasedBy(source, id string) string {
	return `{"specversion":"1.0","id":"` + id + `","source":"` + source + `","type":"com.back-trace.datamap.data.erased.v1",
		"time":"2026-11-01T10:00:00Z","data":{"category":"billing.payment_token","data_subject":"customer","reason":"subject_request","count":1}}`
}

// The consumer stores an event only when the subject it arrived on is its
// source's, and records which credential brought it: the subject's source
// on NATS, the ingest token's name on the ingest's subjects (the header
// is believed there only), nats:legacy on an old shared subject. An event
// speaking for another source, or on a legacy subject once those are
// refused, is dead-lettered with the reason.
func TestTheConsumerBindsEventsToTheirSubjectAndRecordsTheCredential(t *testing.T) {
	_, js := testservers.NATS(t)
	conn := testservers.ClickHouse(t)
	ctx := context.Background()
	publish := func(subject, body string, header map[string]string) {
		t.Helper()
		msg := nats.NewMsg(subject)
		msg.Data = []byte(body)
		for k, v := range header {
			msg.Header.Set(k, v)
		}
		if _, err := js.PublishMsg(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	forgedHeader := map[string]string{events.CredentialHeader: "http:support"}
	publish(events.SourceSubject("billing-api", events.KindErased), erasedBy("billing-api", "own"), forgedHeader)
	publish(events.SourceSubject("billing.api", events.KindErased), erasedBy("billing.api", "dotted"), nil)
	publish(events.IngestSubject("support-desk", events.KindErased), erasedBy("support-desk", "relayed"), forgedHeader)
	publish(events.LegacySubject(events.KindErased), erasedBy("crm", "legacy"), nil)
	publish(events.SourceSubject("billing-api", events.KindErased), erasedBy("support-desk", "forged"), nil)
	publish(events.IngestSubject("support-desk", events.KindErased), erasedBy("support-desk", "no-header"), nil)
	publish(events.SourceSubject("billing-api", events.KindCollected), erasedBy("billing-api", "wrong-kind"), nil)

	durable, err := consumer.EnsureDurable(ctx, js, consumer.Settings{AckWait: time.Second, MaxDeliver: 20, MaxPending: 1000})
	if err != nil {
		t.Fatal(err)
	}
	run := func(refuseLegacy bool) func() {
		runCtx, cancel := context.WithCancel(ctx)
		c := consumer.New(durable, clickhouse.NewWriter(conn), deadletter.NewSink(js, deadletter.SubjectPrefix),
			events.NewValidator(taxonomy.Default()), consumer.Options{BatchSize: 50, MaxWait: 50 * time.Millisecond, RefuseLegacySubjects: refuseLegacy})
		done := make(chan struct{})
		go func() { defer close(done); c.Run(runCtx) }()
		return func() { cancel(); <-done }
	}
	stop := run(false)
	waitForEvents(t, conn, 4)
	stop()

	want := map[string]string{"own": "nats:billing-api", "dotted": "nats:billing.api", "relayed": "http:support", "legacy": consumer.CredentialLegacy}
	for id, cred := range want {
		var got string
		if err := conn.QueryRow(ctx, "SELECT credential FROM events FINAL WHERE id = ?", id).Scan(&got); err != nil || got != cred {
			t.Errorf("event %s: credential %q (%v), want %q", id, got, err, cred)
		}
	}
	reasons := deadLetterReasons(t, js, 3)
	for id, want := range map[string]string{
		"forged":     `source "support-desk" does not match subject "datamap.events.billing-api.erased"`,
		"no-header":  "without the Datamap-Credential header",
		"wrong-kind": "does not match subject",
	} {
		if !strings.Contains(reasons[id], want) {
			t.Errorf("dead letter of %s: reason %q, want %q", id, reasons[id], want)
		}
	}

	// Refused, a legacy event is dead-lettered, saying what to do.
	publish(events.LegacySubject(events.KindErased), erasedBy("crm", "legacy-refused"), nil)
	stop = run(true)
	defer stop()
	if r := deadLetterReasons(t, js, 4)["legacy-refused"]; !strings.Contains(r, "DATAMAP_LEGACY_SUBJECTS") || !strings.Contains(r, "datamap.events.crm.erased") {
		t.Errorf("legacy subject refused with %q", r)
	}
}

// deadLetterReasons waits for n dead letters and returns their reasons by
// event id.
func deadLetterReasons(t *testing.T, js jetstream.JetStream, n int) map[string]string {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(15 * time.Second)
	for {
		letters, err := deadletter.List(ctx, js, deadletter.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(letters) >= n {
			out := map[string]string{}
			for _, l := range letters {
				out[l.EventID] = l.Reason
			}
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d dead letters, want %d", len(letters), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
