package rollup

import (
	"context"
	"testing"
	"time"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/sinks/clickhouse"
)

// An empty catalog has nothing to load or compile: the Folder does not warm
// it at start, and warms it (with the compiling repetitions) once it holds
// events.
func TestTheFolderWarmsOnlyACatalogWithEvents(t *testing.T) {
	db := testservers.NewDatabase(t)
	ctx := context.Background()
	f := New(db.Conn, Options{})
	if err := f.warm(ctx); err != nil {
		t.Fatal(err)
	}
	if f.warmed.Load() {
		t.Fatal("an empty catalog was warmed")
	}
	ev := &events.Event{ID: "e1", Source: "billing-api", Kind: events.KindCollected, Time: time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC),
		Data: events.Data{Category: "billing.invoice", DataSubject: "customer", Purpose: "invoicing", LegalBasis: "legal_obligation", Count: 1, Retention: "P7Y"}}
	if err := clickhouse.NewWriter(db.Conn).Write(ctx, []*events.Event{ev}); err != nil {
		t.Fatal(err)
	}
	if err := f.warm(ctx); err != nil {
		t.Fatal(err)
	}
	if !f.warmed.Load() {
		t.Fatal("a catalog with events was not warmed")
	}
}
