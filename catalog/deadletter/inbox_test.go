package deadletter_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/catalog/consumer"
	"github.com/back-trace/datamap/catalog/deadletter"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/internal/testkit/testservers"
)

// The Sink is where the consumer keeps what it cannot store. (The check
// lives in a test: package consumer imports this one for the stream names.)
var _ consumer.DeadLetterer = (*deadletter.Sink)(nil)

// The stream the catalog creates is the one the inbox reads.
func TestTheCatalogCreatesTheDeadLetterStream(t *testing.T) {
	_, js := testservers.NATS(t) // runs consumer.EnsureStreams
	s, err := js.Stream(context.Background(), deadletter.StreamName)
	if err != nil {
		t.Fatalf("stream %s: %v", deadletter.StreamName, err)
	}
	if got := s.CachedInfo().Config.Subjects; len(got) != 1 || got[0] != deadletter.SubjectPrefix+".>" {
		t.Errorf("stream %s has subjects %v, want [%s.>]", deadletter.StreamName, got, deadletter.SubjectPrefix)
	}
}

func body(i int, category string) string {
	return fmt.Sprintf(`{"specversion":"1.0","id":"ev-%d","source":"billing-api","type":"com.back-trace.datamap.data.collected.v1","time":"2026-11-01T10:00:00Z","data":{"category":%q}}`, i, category)
}

// deadLetter publishes bodies to the events stream, as services would, and
// dead-letters each of them through the Sink, as the consumer would.
func deadLetter(t *testing.T, js jetstream.JetStream, bodies ...string) {
	t.Helper()
	ctx := context.Background()
	for i, b := range bodies {
		msg := nats.NewMsg(events.Subject(events.KindCollected))
		msg.Data = []byte(b)
		msg.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("original-%d-%d", time.Now().UnixNano(), i))
		msg.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
		// A publish control meant for the events stream: stored with the
		// event, it must not be applied to the dead letter's publish.
		msg.Header.Set(jetstream.ExpectedStreamHeader, events.StreamName)
		if _, err := js.PublishMsg(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	c, err := js.CreateOrUpdateConsumer(ctx, events.StreamName, jetstream.ConsumerConfig{Durable: "test", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := c.Fetch(len(bodies), jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	sink := deadletter.NewSink(js, deadletter.SubjectPrefix)
	n := 0
	for m := range batch.Messages() {
		if err := sink.DeadLetter(ctx, m, "invalid event: data.category: unknown"); err != nil {
			t.Fatal(err)
		}
		m.Term()
		n++
	}
	if n != len(bodies) {
		t.Fatalf("fetched %d of %d events", n, len(bodies))
	}
}

func ids(ls []deadletter.Letter) []uint64 {
	out := make([]uint64, len(ls))
	for i, l := range ls {
		out[i] = l.ID
	}
	return out
}

func TestListGetReplay(t *testing.T) {
	_, js := testservers.NATS(t)
	ctx := context.Background()
	if ls, err := deadletter.List(ctx, js, deadletter.Filter{}); err != nil || len(ls) != 0 {
		t.Fatalf("empty stream: %v %v", ls, err)
	}
	deadLetter(t, js, body(1, "crypto.wallet"), `{not json`, body(3, "crypto.wallet"))

	letters, err := deadletter.List(ctx, js, deadletter.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids(letters)) != "[1 2 3]" {
		t.Fatalf("letters = %v", ids(letters))
	}
	l := letters[0]
	if l.Subject != "datamap.events.collected" || l.Reason == "" || l.Deliveries != 1 || l.OriginalSequence != 1 ||
		l.EventID != "ev-1" || l.Source != "billing-api" || l.Size != len(body(1, "crypto.wallet")) ||
		time.Since(l.FailedAt) > time.Minute || string(l.Body) != body(1, "crypto.wallet") {
		t.Errorf("letter 1 = %+v", l)
	}
	if letters[1].EventID != "" || letters[1].Size != len(`{not json`) {
		t.Errorf("a body that is not JSON: %+v", letters[1])
	}
	if n, err := deadletter.Count(ctx, js); err != nil || n != 3 {
		t.Errorf("Count = %d %v", n, err)
	}
	if ls, _ := deadletter.List(ctx, js, deadletter.Filter{Limit: 2}); fmt.Sprint(ids(ls)) != "[1 2]" {
		t.Errorf("Limit 2: %v", ids(ls))
	}
	if ls, _ := deadletter.List(ctx, js, deadletter.Filter{Subject: "datamap.events.shared"}); len(ls) != 0 {
		t.Errorf("subject filter matched %v", ids(ls))
	}
	if ls, _ := deadletter.List(ctx, js, deadletter.Filter{Subject: "datamap.events.>"}); len(ls) != 3 {
		t.Errorf("wildcard subject filter matched %v", ids(ls))
	}

	if dl, err := js.Stream(ctx, deadletter.StreamName); err != nil || dl.CachedInfo().State.Consumers != 0 {
		t.Errorf("listing left consumers on the dead-letter stream: %v", err)
	}

	got, err := deadletter.Get(ctx, js, 3)
	if err != nil || got.EventID != "ev-3" || got.Header.Get("Traceparent") == "" || got.Header.Get(deadletter.HeaderReason) == "" {
		t.Errorf("Get(3) = %+v, %v", got, err)
	}
	if got.Header.Get(jetstream.ExpectedStreamHeader) != "" {
		t.Errorf("the dead letter kept the original's %s header", jetstream.ExpectedStreamHeader)
	}
	if _, err := deadletter.Get(ctx, js, 42); !errors.Is(err, deadletter.ErrNotFound) {
		t.Errorf("Get(42): %v, want ErrNotFound", err)
	}

	// An earlier replay of letter 1 that crashed after its publish: the
	// retry is a duplicate for JetStream, and still deletes the letter.
	crashed := nats.NewMsg(l.Subject)
	crashed.Data = l.Body
	crashed.Header.Set(jetstream.MsgIDHeader, deadletter.ReplayMsgID(l))
	if _, err := js.PublishMsg(ctx, crashed); err != nil {
		t.Fatal(err)
	}
	eventsBefore := streamMsgs(t, js, events.StreamName)

	res, err := deadletter.Replay(ctx, js, []uint64{1, 3, 42})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(res.Replayed) != "[1 3]" || fmt.Sprint(res.Missing) != "[42]" {
		t.Errorf("Replay = %+v", res)
	}
	if n := streamMsgs(t, js, events.StreamName) - eventsBefore; n != 1 {
		t.Errorf("replay added %d events to the stream, want 1 (letter 1 was a duplicate)", n)
	}
	evs, err := js.Stream(ctx, events.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	last, err := evs.GetMsg(ctx, evs.CachedInfo().State.LastSeq)
	if err != nil {
		t.Fatal(err)
	}
	if string(last.Data) != body(3, "crypto.wallet") || last.Header.Get(jetstream.MsgIDHeader) != "replay/3/billing-api/ev-3" ||
		last.Header.Get(deadletter.HeaderReplayOf) != "3" || last.Header.Get("Traceparent") == "" ||
		last.Header.Get(deadletter.HeaderReason) != "" {
		t.Errorf("replayed message: %s %v", last.Data, last.Header)
	}
	if ls, _ := deadletter.List(ctx, js, deadletter.Filter{}); fmt.Sprint(ids(ls)) != "[2]" {
		t.Errorf("after replay the stream holds %v, want [2]", ids(ls))
	}
	if res, err := deadletter.Replay(ctx, js, []uint64{3}); err != nil || len(res.Replayed) != 0 || fmt.Sprint(res.Missing) != "[3]" {
		t.Errorf("replaying again: %+v %v", res, err)
	}
}

func TestReplayRefusesSubjectsOutsideTheEventStream(t *testing.T) {
	_, js := testservers.NATS(t)
	ctx := context.Background()
	deadLetter(t, js, body(1, "billing.invoice"))
	msg := nats.NewMsg(deadletter.SubjectPrefix + ".elsewhere")
	msg.Data = []byte(body(2, "billing.invoice"))
	msg.Header.Set(deadletter.HeaderOriginalSubject, deadletter.SubjectPrefix+".loop")
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		t.Fatal(err)
	}
	res, err := deadletter.Replay(ctx, js, []uint64{1, 2})
	if !errors.Is(err, deadletter.ErrNotReplayable) || len(res.Replayed) != 0 {
		t.Errorf("Replay: %+v %v; want ErrNotReplayable and nothing replayed", res, err)
	}
	if n := streamMsgs(t, js, deadletter.StreamName); n != 2 {
		t.Errorf("%d letters left, want 2", n)
	}
}

func TestPurgeRemovesOnlyOldLetters(t *testing.T) {
	_, js := testservers.NATS(t)
	ctx := context.Background()
	now := time.Now().UTC()
	// Failed-At decides: letters 1, 2 and 4 failed 40 days ago, 3 and 5
	// just now; 6 has no Failed-At, so its stream time (now) counts.
	ages := []time.Duration{40 * 24 * time.Hour, 40 * 24 * time.Hour, 0, 40 * 24 * time.Hour, time.Hour, -1}
	for i, age := range ages {
		msg := nats.NewMsg(deadletter.SubjectPrefix + ".datamap.events.collected")
		msg.Data = []byte(body(i, "billing.invoice"))
		msg.Header.Set(deadletter.HeaderOriginalSubject, "datamap.events.collected")
		msg.Header.Set(deadletter.HeaderReason, "test")
		if age >= 0 {
			msg.Header.Set(deadletter.HeaderFailedAt, now.Add(-age).Format(time.RFC3339Nano))
		}
		if _, err := js.PublishMsg(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	old, err := deadletter.List(ctx, js, deadletter.Filter{FailedBefore: now.Add(-30 * 24 * time.Hour)})
	if err != nil || fmt.Sprint(ids(old)) != "[1 2 4]" {
		t.Errorf("FailedBefore: %v %v", ids(old), err)
	}
	n, err := deadletter.Purge(ctx, js, 30*24*time.Hour)
	if err != nil || n != 3 {
		t.Errorf("Purge = %d, %v; want 3", n, err)
	}
	left, err := deadletter.List(ctx, js, deadletter.Filter{})
	if err != nil || fmt.Sprint(ids(left)) != "[3 5 6]" {
		t.Errorf("left: %v %v; want [3 5 6]", ids(left), err)
	}
	if n, err := deadletter.Purge(ctx, js, 30*24*time.Hour); err != nil || n != 0 {
		t.Errorf("second Purge = %d, %v; want 0", n, err)
	}
	if n, err := deadletter.Purge(ctx, js, 0); err != nil || n != 3 {
		t.Errorf("Purge(0) = %d, %v; want all 3", n, err)
	}
}

func streamMsgs(t *testing.T, js jetstream.JetStream, name string) uint64 {
	t.Helper()
	s, err := js.Stream(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return s.CachedInfo().State.Msgs
}
