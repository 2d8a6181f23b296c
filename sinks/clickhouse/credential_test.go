package clickhouse_test

import (
	"context"
	"testing"
	"time"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/sinks/clickhouse"
)

// TestTheCredentialIsStoredWithEveryEvent: the name of the credential that
// brought an event is kept in events and, for an event about a person, in
// subject_refs.
func TestTheCredentialIsStoredWithEveryEvent(t *testing.T) {
	conn := testservers.ClickHouse(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	batch := []*events.Event{
		{ID: "1", Source: "billing-api", Kind: events.KindCollected, Time: at, Credential: "nats:billing-api",
			Data: events.Data{Category: "billing.payment_token", DataSubject: "customer", Purpose: "payment_processing",
				LegalBasis: "contract", Retention: "P7Y", Count: 1}},
		{ID: "2", Source: "support-desk", Kind: events.KindRequestCompleted, Time: at, Credential: "http:support",
			Data: events.Data{DataSubject: "customer", SubjectRef: ann, Right: "access", Count: 1}},
	}
	if err := clickhouse.NewWriter(conn).Write(ctx, batch); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := conn.QueryRow(ctx, "SELECT credential FROM events FINAL WHERE id = '1'").Scan(&got); err != nil || got != "nats:billing-api" {
		t.Errorf("events.credential = %q (%v), want nats:billing-api", got, err)
	}
	for _, table := range []string{"subject_refs", "subject_rights"} {
		if err := conn.QueryRow(ctx, "SELECT credential FROM "+table+" FINAL WHERE id = '2'").Scan(&got); err != nil || got != "http:support" {
			t.Errorf("%s.credential = %q (%v), want http:support", table, got, err)
		}
	}
}
