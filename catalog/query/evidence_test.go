package query_test

import (
	"context"
	"testing"
	"time"

	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/questions"
	"github.com/back-trace/datamap/sinks/clickhouse"
)

// TestObservations runs the evidence query against the embedded
// ClickHouse: duplicates count once, aggregation happens in ClickHouse,
// and --as-of cuts at the end of the day.
func TestObservations(t *testing.T) {
	conn := testservers.ClickHouse(t)
	ctx := context.Background()
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
	invoice := func(id string, at time.Time, n int64) *events.Event {
		return &events.Event{ID: id, Source: "billing-api", Kind: events.KindCollected, Time: at, Data: events.Data{
			Category: "billing.invoice", DataSubject: "customer", Purpose: "invoicing", LegalBasis: "legal_obligation",
			Retention: "P7Y", Origin: "observed", Location: "NL", Count: n}}
	}
	stripe := func(id string, at time.Time) *events.Event {
		return &events.Event{ID: id, Source: "billing-api", Kind: events.KindShared, Time: at, Data: events.Data{
			Category: "billing.payment_token", DataSubject: "customer", Purpose: "payment_processing", LegalBasis: "contract",
			Recipient: &events.Recipient{Name: "Stripe", Role: "processor", Country: "US", Safeguard: "scc", Contract: "DPA-1"}, Count: 1}}
	}
	w := clickhouse.NewWriter(conn)
	batch := []*events.Event{invoice("a", day(1, 10), 100), invoice("b", day(30, 23), 50), stripe("s1", day(15, 9))}
	if err := w.Write(ctx, batch); err != nil {
		t.Fatal(err)
	}
	// A redelivered event in another batch (another insert token) must count once.
	if err := w.Write(ctx, []*events.Event{invoice("a", day(1, 10), 100), stripe("s2", day(30, 12))}); err != nil {
		t.Fatal(err)
	}
	// A flow that starts after the as-of date.
	late := invoice("c", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), 7)
	late.Data.Category = "billing.contact"
	if err := w.Write(ctx, []*events.Event{late}); err != nil {
		t.Fatal(err)
	}

	asOf, _ := questions.ParseTime("as_of", "2026-11-30", true)
	obs, err := query.Observations(ctx, conn, asOf)
	if err != nil {
		t.Fatal(err)
	}
	if len(obs) != 2 {
		t.Fatalf("%d observations, want 2 (invoices, Stripe): %+v", len(obs), obs)
	}
	inv, shr := obs[0], obs[1]
	if inv.Kind != "collected" || inv.Category != "billing.invoice" || inv.Events != 2 || inv.Records != 150 ||
		!inv.FirstSeen.Equal(day(1, 10)) || !inv.LastSeen.Equal(day(30, 23)) || inv.Retention != "P7Y" || inv.RetentionDays != 2556 {
		t.Errorf("invoices: %+v", inv)
	}
	if shr.Kind != "shared" || shr.Recipient != "Stripe" || shr.Country != "US" || shr.Safeguard != "scc" || shr.Contract != "DPA-1" || shr.Events != 2 {
		t.Errorf("Stripe: %+v", shr)
	}

	// One day earlier: the 30 November events are gone, the 1 November one stays.
	before, _ := questions.ParseTime("as_of", "2026-11-29", true)
	obs, err = query.Observations(ctx, conn, before)
	if err != nil {
		t.Fatal(err)
	}
	if len(obs) != 2 || obs[0].Events != 1 || obs[0].Records != 100 || obs[1].Events != 1 {
		t.Errorf("as of 29 November: %+v", obs)
	}
	// An RFC 3339 instant after the late event includes it.
	after, _ := questions.ParseTime("as_of", "2026-12-01T00:00:00Z", true)
	obs, err = query.Observations(ctx, conn, after)
	if err != nil {
		t.Fatal(err)
	}
	if len(obs) != 3 {
		t.Errorf("as of 1 December 00:00: %d observations, want 3", len(obs))
	}
}
