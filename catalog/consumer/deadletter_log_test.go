package consumer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/back-trace/datamap/catalog/consumer"
	"github.com/back-trace/datamap/catalog/deadletter"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/testkit/testservers"
)

// acceptingSink stores nothing and refuses nothing: this test is about
// what the consumer keeps of the events it refuses.
type acceptingSink struct{}

func (acceptingSink) Write(context.Context, []*events.Event) error { return nil }

// lockedBuffer is a log destination the consumer's goroutine writes to
// while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// An event published on a subject that holds an address, or with the
// address in a repeated member, is dead-lettered; neither the consumer's
// log nor the dead letter keeps the address.
func TestDeadLettersAndTheirLogLinesHoldNoPersonalValue(t *testing.T) {
	_, js := testservers.NATS(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	valid := `{"specversion":"1.0","id":"e1","source":"billing-api","type":"com.back-trace.datamap.data.collected.v1",
		"time":"2026-11-01T10:00:00Z","data":{"category":"billing.payment_token","data_subject":"customer",
		"purpose":"payment_processing","legal_basis":"contract","retention":"P7Y"}}`
	if _, err := js.Publish(ctx, events.Subject(events.KindCollected)+".ann@example.org", []byte(valid)); err != nil {
		t.Fatal(err)
	}
	repeated := strings.Replace(valid, `"id":"e1","source":"billing-api"`, `"id":"e2","source":"ann\u0040example.org","source":"billing-api"`, 1)
	if _, err := js.Publish(ctx, events.Subject(events.KindShared), []byte(repeated)); err != nil {
		t.Fatal(err)
	}
	durable, err := consumer.EnsureDurable(ctx, js, consumer.Settings{AckWait: time.Second, MaxDeliver: 20, MaxPending: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var logged lockedBuffer
	c := consumer.New(durable, acceptingSink{}, deadletter.NewSink(js, deadletter.SubjectPrefix), events.NewValidator(taxonomy.Default()),
		consumer.Options{BatchSize: 10, MaxWait: 50 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	defer func() { cancel(); <-done }()

	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := deadletter.Count(ctx, js)
		if err == nil && n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dead-lettered %d of 2 (%v); log:\n%s", n, err, logged.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	letters, err := deadletter.List(ctx, js, deadletter.Filter{})
	if err != nil || len(letters) != 2 {
		t.Fatalf("%d letters, %v", len(letters), err)
	}
	kept, _ := json.Marshal(letters)
	for where, text := range map[string]string{"log": logged.String(), "dead letters": string(kept) + string(letters[0].Body) + string(letters[1].Body)} {
		if strings.Contains(text, "ann@") || strings.Contains(text, `ann\u0040`) || strings.Contains(text, "example.org") {
			t.Errorf("the %s keep the address:\n%s", where, text)
		}
	}
	if !strings.Contains(logged.String(), "event dead-lettered") {
		t.Errorf("no log line for the dead letters:\n%s", logged.String())
	}
}
