package consumer_test

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/catalog/rollup"
	"github.com/back-trace/datamap/events"
)

// history is what a scenario published: every event has a unique id, so the
// catalog can be checked event by event, Jepsen style.
type history struct {
	mu      sync.Mutex
	records map[string]uint64 // identity → records
}

func newHistory() *history { return &history{records: map[string]uint64{}} }

// publish sends n new collected events with unique ids, count 1..5.
func (h *history) publish(t testing.TB, js jetstream.JetStream, source string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		ev := h.newEvent(source, int64(i%5+1))
		raw, err := events.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		if err := publishRetrying(js, ev, raw); err != nil {
			t.Fatal(err)
		}
	}
}

// newEvent records and returns a fresh valid event.
func (h *history) newEvent(source string, count int64) *events.Event {
	ev := &events.Event{ID: uuid.Must(uuid.NewV7()).String(), Source: source, Kind: events.KindCollected,
		Time: time.Now().UTC().Truncate(time.Millisecond), Data: events.Data{Category: "billing.invoice", DataSubject: "customer",
			Purpose: "invoicing", LegalBasis: events.LegalBasisLegalObligation, Retention: "P7Y", Count: count}}
	h.mu.Lock()
	h.records[ev.Identity()] = uint64(count)
	h.mu.Unlock()
	return ev
}

// publishRetrying retries like the SDK: same Nats-Msg-Id, until acked.
func publishRetrying(js jetstream.JetStream, ev *events.Event, raw []byte) error {
	var err error
	for attempt := 0; attempt < 100; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = events.PublishEncoded(ctx, js, ev, raw)
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return err
}

// verdict classifies every identity.
type verdict struct {
	ok, lost, duplicated, unexpected []string
	records, wantRecords             uint64
}

func (v verdict) String() string {
	sample := func(ids []string) string {
		if len(ids) > 3 {
			ids = ids[:3]
		}
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("ok=%d lost=%d [%s] duplicated=%d [%s] unexpected=%d [%s] records=%d want %d",
		len(v.ok), len(v.lost), sample(v.lost), len(v.duplicated), sample(v.duplicated),
		len(v.unexpected), sample(v.unexpected), v.records, v.wantRecords)
}

func (v verdict) exact() bool {
	return len(v.lost) == 0 && len(v.duplicated) == 0 && len(v.unexpected) == 0 && v.records == v.wantRecords
}

// check reads the catalog the way every query does (FINAL) and classifies
// each identity of the history.
// A query error (a server restarting) is returned, not fatal: waitExact
// tries again.
func (h *history) check(conn driver.Conn) (verdict, error) {
	ctx := context.Background()
	rows, err := conn.Query(ctx, "SELECT source, id, count() FROM events FINAL GROUP BY source, id")
	if err != nil {
		return verdict{}, err
	}
	defer rows.Close()
	seen := map[string]uint64{}
	for rows.Next() {
		var source, id string
		var copies uint64
		if err := rows.Scan(&source, &id, &copies); err != nil {
			return verdict{}, err
		}
		seen[events.Identity(source, id)] = copies
	}
	if err := rows.Err(); err != nil {
		return verdict{}, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var v verdict
	for id := range h.records {
		v.wantRecords += h.records[id]
		switch copies := seen[id]; {
		case copies == 0:
			v.lost = append(v.lost, id)
		case copies > 1:
			v.duplicated = append(v.duplicated, id)
		default:
			v.ok = append(v.ok, id)
		}
	}
	for id := range seen {
		if _, ok := h.records[id]; !ok {
			v.unexpected = append(v.unexpected, id)
		}
	}
	// The totals the inventory answers with.
	inventory, err := query.Inventory(ctx, conn, query.Filter{})
	if err != nil {
		return verdict{}, err
	}
	for _, r := range inventory {
		v.records += r.Records
	}
	sort.Strings(v.lost)
	return v, nil
}

// waitExact waits until the catalog holds exactly the history, then stays a
// moment to catch late duplicates; it fails with the verdict otherwise.
// Then the rollups must answer exactly the history too (checkRollups).
func (h *history) waitExact(t testing.TB, conn driver.Conn, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var v verdict
	var err error
	for time.Now().Before(deadline) {
		if v, err = h.check(conn); err == nil && v.exact() {
			time.Sleep(500 * time.Millisecond)
			if v, err = h.check(conn); err == nil && v.exact() {
				h.checkRollups(t, conn, deadline)
				return
			}
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("catalog is not exact: %v (last query error: %v)", v, err)
}

// foldDuring folds the catalog's rollups in the background while the
// scenario runs, as serve does, so that the scenario's faults hit days that
// were already folded: an insert whose day was not marked dirty again
// would be missing from the rollups, and checkRollups would see it.
func foldDuring(t testing.TB, conn driver.Conn) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		rollup.New(conn, rollup.Options{Interval: 50 * time.Millisecond}).Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// checkRollups folds whatever is still dirty, then requires the answers
// from the rollups to hold every event of the history once: the inventory
// (the questions' totals) counts exactly its events and records, and
// equals the inventory read from the raw events alone.
func (h *history) checkRollups(t testing.TB, conn driver.Conn, deadline time.Time) {
	t.Helper()
	ctx := context.Background()
	h.mu.Lock()
	wantEvents, wantRecords := uint64(len(h.records)), uint64(0)
	for _, r := range h.records {
		wantRecords += r
	}
	h.mu.Unlock()
	var err error
	for {
		// ClickHouse may still be coming back: retry until the deadline.
		if _, err = rollup.New(conn, rollup.Options{}).FoldAll(ctx, nil); err == nil {
			var rolled, raw []query.InventoryRow
			if rolled, err = query.Inventory(ctx, conn, query.Filter{}); err == nil {
				raw, err = query.Inventory(query.FromEventsOnly(ctx), conn, query.Filter{})
			}
			if err == nil {
				var events, records uint64
				for _, r := range rolled {
					events, records = events+r.Events, records+r.Records
				}
				if events != wantEvents || records != wantRecords || !reflect.DeepEqual(rolled, raw) {
					t.Fatalf("the rollups are not exact: %d events, %d records; want %d, %d (raw events agree: %v)",
						events, records, wantEvents, wantRecords, reflect.DeepEqual(rolled, raw))
				}
				if dirty, _ := query.DirtyDays(ctx, conn); len(dirty) > 0 {
					t.Fatalf("days still dirty after folding: %v", dirty)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("rollups not checked: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
