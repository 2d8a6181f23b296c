package aggregate_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/back-trace/datamap/traffic"
	"github.com/back-trace/datamap/traffic/aggregate"
)

type table struct {
	mu   sync.Mutex
	rows map[traffic.Key]traffic.Observation
	fail error
}

func (w *table) WriteTraffic(_ context.Context, rows []traffic.Observation) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fail != nil {
		return w.fail
	}
	if w.rows == nil {
		w.rows = map[traffic.Key]traffic.Observation{}
	}
	for _, r := range rows { // as the table's engine adds rows up
		o, ok := w.rows[r.Key]
		if !ok {
			w.rows[r.Key] = r
			continue
		}
		o.Spans += r.Spans
		o.Errors += r.Errors
		if r.First.Before(o.First) {
			o.First = r.First
		}
		if r.Last.After(o.Last) {
			o.Last = r.Last
		}
		w.rows[r.Key] = o
	}
	return nil
}

func call(host string, at int64, failed bool) traffic.Call {
	return traffic.Call{Key: traffic.Key{Day: 20000, System: "billing-api", Host: host, Class: traffic.Unknown}, At: at, Failed: failed}
}

func TestCountsFirstAndLastSurviveAFailedWrite(t *testing.T) {
	w := &table{fail: errors.New("catalog down")}
	a := aggregate.New(w, aggregate.Options{})
	ctx := context.Background()
	if err := a.Add([]traffic.Call{call("a.example", 20, false), call("a.example", 10, true)}); err != nil {
		t.Fatal(err)
	}
	if err := a.Flush(ctx); err == nil {
		t.Fatal("a failed write was not reported")
	}
	if err := a.Add([]traffic.Call{call("a.example", 30, false), call("b.example", 5, false)}); err != nil {
		t.Fatal(err)
	}
	w.fail = nil
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := w.rows[call("a.example", 0, false).Key]
	if got.Spans != 3 || got.Errors != 1 || got.First != time.Unix(0, 10).UTC() || got.Last != time.Unix(0, 30).UTC() {
		t.Errorf("a.example = %+v", got)
	}
	if len(w.rows) != 2 || a.Len() != 0 {
		t.Errorf("%d rows written, %d held", len(w.rows), a.Len())
	}
}

func TestFullRefusesWholeRequestsAndTakesKnownKeys(t *testing.T) {
	w := &table{}
	a := aggregate.New(w, aggregate.Options{MaxKeys: 2})
	if err := a.Add([]traffic.Call{call("a.example", 1, false), call("b.example", 1, false)}); err != nil {
		t.Fatal(err)
	}
	if err := a.Add([]traffic.Call{call("a.example", 2, false), call("c.example", 2, false)}); !errors.Is(err, aggregate.ErrFull) {
		t.Fatalf("a request needing a third aggregate: %v", err)
	}
	if err := a.Add([]traffic.Call{call("a.example", 3, false), call("b.example", 3, false), call("a.example", 4, false)}); err != nil {
		t.Fatalf("a request to held aggregates: %v", err)
	}
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := w.rows[call("a.example", 0, false).Key]; got.Spans != 3 {
		t.Errorf("a.example counted %d spans, want 3 (the refused request counts nothing)", got.Spans)
	}
	if err := a.Add([]traffic.Call{call("c.example", 5, false)}); err != nil {
		t.Errorf("after a write: %v", err)
	}
}

// A million spans from 50 systems to 500 hosts: memory follows the 25 000
// aggregates, not the spans.
func TestAMillionSpansInBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("a million spans")
	}
	w := &table{}
	a := aggregate.New(w, aggregate.Options{})
	hosts := make([]string, 500)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("api%d.vendor.example", i)
	}
	systems := make([]string, 50)
	for i := range systems {
		systems[i] = fmt.Sprintf("service-%d", i)
	}
	var before, after runtime.MemStats
	batch := make([]traffic.Call, 0, 1000)
	for i := 0; i < 1_000_000; i++ {
		batch = append(batch, traffic.Call{Key: traffic.Key{Day: 20000, System: systems[i%50], Host: hosts[(i/50)%500], Class: traffic.Unknown}, At: int64(i)})
		if len(batch) == cap(batch) {
			if err := a.Add(batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
			if i == 99_999 {
				runtime.GC()
				runtime.ReadMemStats(&before)
			}
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if a.Len() != 25_000 {
		t.Errorf("%d aggregates, want 25000", a.Len())
	}
	// After the first 100 000 spans every aggregate exists; 900 000 more
	// must not add memory.
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 1<<20 {
		t.Errorf("the heap grew by %d bytes over 900 000 spans to known destinations", grown)
	}
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var spans uint64
	for _, r := range w.rows {
		spans += r.Spans
	}
	if spans != 1_000_000 || len(w.rows) != 25_000 {
		t.Errorf("wrote %d spans in %d rows", spans, len(w.rows))
	}
}

func TestRunWritesPeriodicallyAndOnShutdown(t *testing.T) {
	w := &table{}
	a := aggregate.New(w, aggregate.Options{Interval: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- a.Run(ctx) }()
	_ = a.Add([]traffic.Call{call("a.example", 1, false)})
	deadline := time.Now().Add(5 * time.Second)
	for a.Len() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if a.Len() != 0 {
		t.Error("nothing written within 5s at a 20ms interval")
	}
	_ = a.Add([]traffic.Call{call("b.example", 2, false)})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.rows) != 2 {
		t.Errorf("%d rows written, want both, the last on shutdown", len(w.rows))
	}
}
