package deadletter_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/catalog/deadletter"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/internal/testkit/testservers"
)

// A dead letter holds no personal value anywhere: not in a body with a
// repeated member (which a decoder reads as its last value), escaped or
// not, not in a header name, not in the subject it came on.
func TestDeadLettersHoldNoPersonalValue(t *testing.T) {
	_, js := testservers.NATS(t)
	ctx := context.Background()
	const tail = `"type":"com.back-trace.datamap.data.collected.v1","time":"2026-11-01T10:00:00Z","data":{"category":"x"}}`
	sent := []struct{ subject, body, header string }{
		{events.Subject(events.KindCollected), `{"id":"1","source":"ann@example.org",` + tail[:len(tail)-1] + `,"source":"x"}`, "X-Note"},
		{events.Subject(events.KindCollected), `{"id":"2","source":"ann\u0040example.org","source":"x",` + tail, "X-Note"},
		{events.Subject(events.KindCollected), `{"id":"3","source":"x",` + strings.TrimSuffix(tail, "}") + `,"data":{"category":"+31 20 123 4567"}}`, "X-Note"},
		{events.Subject(events.KindCollected) + ".ann@example.org", `{"id":"4"}`, "X-4111111111111111"},
	}
	for i, s := range sent {
		msg := nats.NewMsg(s.subject)
		msg.Data = []byte(s.body)
		msg.Header.Set(s.header, "call 0612345678")
		msg.Header.Set(jetstream.MsgIDHeader, "redact-"+string(rune('a'+i))+time.Now().Format("150405.000000"))
		if _, err := js.PublishMsg(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	c, err := js.CreateOrUpdateConsumer(ctx, events.StreamName, jetstream.ConsumerConfig{Durable: "redact", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := c.Fetch(len(sent), jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	sink := deadletter.NewSink(js, deadletter.SubjectPrefix)
	for m := range batch.Messages() {
		if err := sink.DeadLetter(ctx, m, "source ann@example.org differs"); err != nil {
			t.Fatal(err)
		}
		m.Term()
	}
	letters, err := deadletter.List(ctx, js, deadletter.Filter{})
	if err != nil || len(letters) != len(sent) {
		t.Fatalf("%d letters, %v", len(letters), err)
	}
	for _, l := range letters {
		all, _ := json.Marshal(l) // body, subject, reason, every header name and value
		stored := string(all) + string(l.Body)
		for _, leak := range []string{"ann@", "ann\\u0040", "Ann@", "0612345678", "123 4567", "4111111111111111"} {
			if strings.Contains(stored, leak) {
				t.Errorf("letter %d keeps %q: %s", l.ID, leak, stored)
			}
		}
		if json.Valid([]byte(`{"a":1}`)) && strings.HasPrefix(string(l.Body), "{") && !json.Valid(l.Body) {
			t.Errorf("letter %d: the body is no longer JSON: %s", l.ID, l.Body)
		}
	}
	// The repeated member is kept, redacted, not dropped.
	if !strings.Contains(string(letters[0].Body), `"source":"[redacted: e-mail]"`) || !strings.Contains(string(letters[0].Body), `"source":"x"`) {
		t.Errorf("letter 1 body: %s", letters[0].Body)
	}
	// The dead letter of the subject with an address is filed under a
	// subject without it.
	if l := letters[3]; l.Subject != "[redacted: e-mail]" && !strings.Contains(l.Subject, "redacted") {
		t.Errorf("letter 4 subject: %q", l.Subject)
	}
}
