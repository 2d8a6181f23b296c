package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/back-trace/datamap/alerts"
	"github.com/back-trace/datamap/config"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/ingest"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/schemas"
	"github.com/back-trace/datamap/server"
	"github.com/back-trace/datamap/stack"
)

// announcementLog is a real local webhook receiver: what it was sent,
// and when.
type announcementLog struct {
	mu   sync.Mutex
	seen map[string]int // "opened about"
	at   map[string]time.Time
}

func (l *announcementLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var ev struct{ Data alerts.Announcement }
	if json.Unmarshal(b, &ev) != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	k := ev.Data.Status + " " + ev.Data.About
	l.seen[k]++
	if _, ok := l.at[k]; !ok {
		l.at[k] = time.Now()
	}
}

func (l *announcementLog) snapshot() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for k, n := range l.seen {
		out[k] = n
	}
	return out
}

// serve runs a server on a fresh stack over cfg.DataDir until stop.
func serve(t *testing.T, cfg config.Config, reg *registry.Registry) (base string, stop func()) {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	s, err := stack.Start(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(ctx, server.Options{Stack: s, Config: cfg, Taxonomy: taxonomy.Default(), Registry: reg, Version: "test", Log: log})
	if err != nil {
		s.Close(ctx)
		t.Fatal(err)
	}
	serving, cancel := context.WithCancel(ctx)
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Run(serving) }()
	return "http://" + srv.Addr(), func() {
		cancel()
		if err := <-stopped; err != nil {
			t.Errorf("server stopped with %v", err)
		}
		if err := s.Close(ctx); err != nil {
			t.Error(err)
		}
	}
}

// A serve with the default alert settings tells a local webhook of a
// finding within its check interval of the first event that shows it
// (the figure is logged for docs/benchmarks.md), once; a serve restarted
// on the same data directory tells it nothing again.
func TestServeAnnouncesAFindingOnceAcrossRestarts(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	if testing.Short() {
		t.Skip("waits for one default alert interval (30s)")
	}
	reg, err := registry.Parse(schemas.BackTraceRegistry(), "backtrace-registry.yaml", taxonomy.Default())
	if err != nil {
		t.Fatal(err)
	}
	rcv := &announcementLog{seen: map[string]int{}, at: map[string]time.Time{}}
	hook := httptest.NewServer(rcv)
	defer hook.Close()
	cfg := config.Config{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", StreamReplicas: 1,
		StreamDuplicates: time.Minute, BatchSize: 100, BatchWait: 200 * time.Millisecond, RollupInterval: time.Second,
		LogLevel: "info", LogFormat: "text", APIToken: fullToken, IngestTokens: ingestToken,
		AlertNATS: true, AlertInterval: alerts.DefaultInterval, AlertWebhooks: "json=" + hook.URL}

	base, stop := serve(t, cfg, reg)
	// The first check runs as serve starts; an event right after it waits
	// the longest for the next one.
	time.Sleep(2 * time.Second)
	event := strings.Replace(collected, `"source":"php-shop"`, `"source":"shadow-crm"`, 1)
	sent := time.Now()
	if code, body := call(t, "POST", base+ingest.Path, ingestToken, ingest.ContentTypeStructured, event); code != http.StatusAccepted {
		t.Fatalf("ingest: %d %s", code, body)
	}
	const want = "opened shadow-crm"
	deadline := time.Now().Add(2*alerts.DefaultInterval + 30*time.Second)
	for rcv.snapshot()[want] == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no webhook for the undeclared system; received %v", rcv.snapshot())
		}
		time.Sleep(100 * time.Millisecond)
	}
	rcv.mu.Lock()
	latency := rcv.at[want].Sub(sent)
	rcv.mu.Unlock()
	t.Logf("alerts: first evidence (ingest) to webhook: %s with the default interval %s", latency.Round(100*time.Millisecond), alerts.DefaultInterval)
	first := rcv.snapshot()
	stop()

	cfg.AlertInterval = 200 * time.Millisecond
	_, stop = serve(t, cfg, reg)
	time.Sleep(3 * time.Second)
	stop()
	again := rcv.snapshot()
	for k, n := range again {
		if n != 1 || first[k] != n {
			t.Errorf("%q announced %d times in all, %d before the restart; want once", k, n, first[k])
		}
	}
	if len(again) != len(first) {
		t.Errorf("after the restart: %d announcements, before: %d", len(again), len(first))
	}
}
