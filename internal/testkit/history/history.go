// Package history is the Jepsen-style checker of the reliability tests: a
// History records every event a scenario published (each with a unique
// identity), and Check reads the catalog the way every query does (FINAL)
// to classify each identity as stored once, lost, duplicated or unexpected.
// Tests of the consumer, of the NATS and ClickHouse clusters and of every
// catalog topology share it, so "nothing lost, nothing counted twice" means
// the same everywhere.
package history

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

	"github.com/back-trace/datamap/catalog/deadletter"
	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/catalog/rollup"
	"github.com/back-trace/datamap/events"
)

// History is what a scenario published. It is safe for concurrent use.
type History struct {
	mu      sync.Mutex
	records map[string]uint64 // identity → records
}

// New returns an empty history.
func New() *History { return &History{records: map[string]uint64{}} }

// Publish sends n new collected events with unique ids, count 1..5, each
// retried under the same Nats-Msg-Id until JetStream acknowledges it.
func (h *History) Publish(t testing.TB, js jetstream.JetStream, source string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		ev := h.NewEvent(source, int64(i%5+1))
		raw, err := events.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		if err := PublishRetrying(js, ev, raw); err != nil {
			t.Fatal(err)
		}
	}
}

// NewEvent records and returns a fresh valid collected event.
func (h *History) NewEvent(source string, count int64) *events.Event {
	ev := &events.Event{ID: uuid.Must(uuid.NewV7()).String(), Source: source, Kind: events.KindCollected,
		Time: time.Now().UTC().Truncate(time.Millisecond), Data: events.Data{Category: "billing.invoice", DataSubject: "customer",
			Purpose: "invoicing", LegalBasis: events.LegalBasisLegalObligation, Retention: "P7Y", Count: count}}
	h.Expect(ev.Identity(), uint64(count))
	return ev
}

// Expect records that the event with this identity must be stored once,
// with this many records (for events published by other means, e.g. the
// SDK Publisher).
func (h *History) Expect(identity string, records uint64) {
	h.mu.Lock()
	h.records[identity] = records
	h.mu.Unlock()
}

// Forget removes an identity: the scenario expects it not to be stored
// (e.g. a poison event that must end up dead-lettered).
func (h *History) Forget(identity string) {
	h.mu.Lock()
	delete(h.records, identity)
	h.mu.Unlock()
}

// Len is how many events the history expects.
func (h *History) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.records)
}

// PublishRetrying retries like the SDK: same Nats-Msg-Id, until acked.
func PublishRetrying(js jetstream.JetStream, ev *events.Event, raw []byte) error {
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

// Verdict classifies every identity.
type Verdict struct {
	OK, Lost, Duplicated, Unexpected []string
	Records, WantRecords             uint64
}

func (v Verdict) String() string {
	sample := func(ids []string) string {
		if len(ids) > 3 {
			ids = ids[:3]
		}
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("ok=%d lost=%d [%s] duplicated=%d [%s] unexpected=%d [%s] records=%d want %d",
		len(v.OK), len(v.Lost), sample(v.Lost), len(v.Duplicated), sample(v.Duplicated),
		len(v.Unexpected), sample(v.Unexpected), v.Records, v.WantRecords)
}

// Exact: every event stored once, nothing else, and the inventory totals
// match.
func (v Verdict) Exact() bool {
	return len(v.Lost) == 0 && len(v.Duplicated) == 0 && len(v.Unexpected) == 0 && v.Records == v.WantRecords
}

// Check reads the catalog the way every query does (FINAL) and classifies
// each identity of the history. A query error (a server restarting) is
// returned, not fatal: WaitExact tries again.
func (h *History) Check(conn driver.Conn) (Verdict, error) {
	ctx := context.Background()
	rows, err := conn.Query(ctx, "SELECT source, id, count() FROM events FINAL GROUP BY source, id")
	if err != nil {
		return Verdict{}, err
	}
	defer rows.Close()
	seen := map[string]uint64{}
	for rows.Next() {
		var source, id string
		var copies uint64
		if err := rows.Scan(&source, &id, &copies); err != nil {
			return Verdict{}, err
		}
		seen[events.Identity(source, id)] = copies
	}
	if err := rows.Err(); err != nil {
		return Verdict{}, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var v Verdict
	for id := range h.records {
		v.WantRecords += h.records[id]
		switch copies := seen[id]; {
		case copies == 0:
			v.Lost = append(v.Lost, id)
		case copies > 1:
			v.Duplicated = append(v.Duplicated, id)
		default:
			v.OK = append(v.OK, id)
		}
	}
	for id := range seen {
		if _, ok := h.records[id]; !ok {
			v.Unexpected = append(v.Unexpected, id)
		}
	}
	// The totals the inventory answers with.
	inventory, err := query.Inventory(ctx, conn, query.Filter{})
	if err != nil {
		return Verdict{}, err
	}
	for _, r := range inventory {
		v.Records += r.Records
	}
	sort.Strings(v.Lost)
	return v, nil
}

// WaitExact waits until the catalog holds exactly the history, then stays a
// moment to catch late duplicates; it fails the test with the verdict
// otherwise. Then the rollups must answer exactly the history too
// (checkRollups).
func (h *History) WaitExact(t testing.TB, conn driver.Conn, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var v Verdict
	var err error
	for time.Now().Before(deadline) {
		if v, err = h.Check(conn); err == nil && v.Exact() {
			time.Sleep(500 * time.Millisecond)
			if v, err = h.Check(conn); err == nil && v.Exact() {
				h.checkRollups(t, conn, deadline)
				return
			}
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("catalog is not exact: %v (last query error: %v)", v, err)
}

// WaitDeadLetters waits until the dead-letter stream holds exactly want
// messages: the invalid events a scenario published, each kept once.
func WaitDeadLetters(t testing.TB, js jetstream.JetStream, want uint64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := js.Stream(context.Background(), deadletter.StreamName)
		if err != nil {
			t.Fatal(err)
		}
		got := s.CachedInfo().State.Msgs
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d dead letters, want %d", got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// FoldDuring folds the catalog's rollups in the background while the
// scenario runs, as serve does, so that the scenario's faults hit days that
// were already folded: an insert whose day was not marked dirty again
// would be missing from the rollups, and checkRollups would see it.
func FoldDuring(t testing.TB, conn driver.Conn) {
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
func (h *History) checkRollups(t testing.TB, conn driver.Conn, deadline time.Time) {
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
				// A write the scenario left in flight (a paused consumer
				// finishing its batch) marks its day dirty again after the
				// fold: fold again until nothing is dirty.
				dirty, derr := query.DirtyDays(ctx, conn)
				if derr == nil && len(dirty) == 0 {
					return
				}
				err = fmt.Errorf("days still dirty after folding: %v (%v)", dirty, derr)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("rollups not checked: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
