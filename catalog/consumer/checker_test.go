package consumer_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/catalog/query"
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
func (h *history) waitExact(t testing.TB, conn driver.Conn, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var v verdict
	var err error
	for time.Now().Before(deadline) {
		if v, err = h.check(conn); err == nil && v.exact() {
			time.Sleep(500 * time.Millisecond)
			if v, err = h.check(conn); err == nil && v.exact() {
				return
			}
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("catalog is not exact: %v (last query error: %v)", v, err)
}
