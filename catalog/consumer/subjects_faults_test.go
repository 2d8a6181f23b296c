package consumer_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/back-trace/datamap/catalog/schema"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/subjectref"
	"github.com/back-trace/datamap/internal/testkit/history"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/sinks/clickhouse"
	"github.com/back-trace/datamap/stack/chembed"
)

// Events about people are written by two INSERTs at once (events and
// subject_refs, whose views copy the facts on). ClickHouse killed while
// both run, then restarted and its copies repaired as serve does at
// start: every event once in events, every fact once in subject_refs and
// in its copy.
func TestClickHouseKilledMidInsertWithSubjectReferences(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	_, js := testservers.NATS(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "ch")
	srv, err := chembed.Start(ctx, chembed.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	proxy := testservers.NewFaultProxy(t, srv.Addr())
	conn := testservers.Connect(t, proxy.Addr(), srv.Password(), "default")
	if _, err := schema.Migrate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	if err := schema.SetInsertFsync(ctx, conn, schema.Dialect{}, true); err != nil {
		t.Fatal(err)
	}
	key, err := subjectref.ParseKey("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		t.Fatal(err)
	}
	h := history.New()
	facts := 0
	publish := func(n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			ev := h.NewEvent("billing-api", int64(i%5+1))
			if i%2 == 0 { // every other event is about one of 50 people
				ev.Data.Count = 1
				h.Expect(ev.Identity(), 1)
				if ev.Data.SubjectRef, err = key.Ref(subjectref.CustomerNumber, fmt.Sprintf("C-%d", i%50)); err != nil {
					t.Fatal(err)
				}
				facts++
			}
			raw, err := events.Encode(ev)
			if err != nil {
				t.Fatal(err)
			}
			if err := history.PublishRetrying(js, ev, raw); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish(3000)
	var writes atomic.Int64
	killed := make(chan struct{})
	sink := sinkFunc(func(ctx context.Context, batch []*events.Event) error {
		if writes.Add(1) == 3 { // kill the engine while both INSERTs run
			go func() { time.Sleep(2 * time.Millisecond); srv.Kill(); close(killed) }()
		}
		return clickhouse.NewWriter(conn).Write(ctx, batch)
	})
	startConsumer(t, js, sink)
	<-killed
	<-srv.Done()
	publish(500) // traffic goes on during the outage
	srv, err = chembed.Start(ctx, chembed.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop(context.Background()) })
	proxy.SetTarget(srv.Addr())
	h.WaitExact(t, conn, 90*time.Second)
	if _, err := schema.RepairSubjectCopies(ctx, conn); err != nil {
		t.Fatal(err)
	}
	var refs, holdings, rows uint64
	if err := conn.QueryRow(ctx, `SELECT
			(SELECT count() FROM subject_refs FINAL),
			(SELECT count() FROM (SELECT DISTINCT ref, source, time FROM subject_holdings)),
			(SELECT count() FROM subject_refs)`).Scan(&refs, &holdings, &rows); err != nil {
		t.Fatal(err)
	}
	if refs != uint64(facts) || holdings != uint64(facts) {
		t.Errorf("%d facts published: subject_refs holds %d (%d rows before FINAL), subject_holdings %d", facts, refs, rows, holdings)
	}
}
