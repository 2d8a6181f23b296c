package clickhouse

import (
	"testing"

	"github.com/back-trace/datamap/events"
)

// The token must identify a batch by its events, never by their content:
// a retried batch is recognised, and two batches of different events with
// identical content (aggregation windows) are both stored.
func TestDeduplicationTokenIdentifiesTheEventsOfABatch(t *testing.T) {
	ev := func(source, id string) *events.Event {
		return &events.Event{Source: source, ID: id, Data: events.Data{Category: "billing.invoice", Count: 1}}
	}
	a := []*events.Event{ev("billing-api", "1"), ev("billing-api", "2")}
	retry := []*events.Event{ev("billing-api", "1"), ev("billing-api", "2")}
	others := []*events.Event{ev("billing-api", "3"), ev("billing-api", "4")}
	reordered := []*events.Event{ev("billing-api", "2"), ev("billing-api", "1")}
	ambiguous := []*events.Event{ev("billing-api1", ""), ev("billing-api", "2")}
	if DeduplicationToken(a) != DeduplicationToken(retry) {
		t.Error("a retried batch gets another token")
	}
	for name, b := range map[string][]*events.Event{"other events": others, "another order": reordered, "shifted separator": ambiguous} {
		if DeduplicationToken(a) == DeduplicationToken(b) {
			t.Errorf("%s: same token as the original batch", name)
		}
	}
}
