package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/back-trace/datamap/config"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/ingest"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/server"
	"github.com/back-trace/datamap/stack"
)

func TestMain(m *testing.M) { testservers.Main(m) }

const (
	fullToken    = "full-token-0123456789"
	readToken    = "read-token-0123456789"
	ingestToken  = "ingest-token-0123456789"
	metricsToken = "metrics-token-0123456789"
)

const collected = `{"specversion":"1.0","id":"server-1","source":"php-shop","type":"com.back-trace.datamap.data.collected.v1",
 "time":"2026-11-01T10:00:00Z","data":{"category":"billing.payment_token","data_subject":"customer","purpose":"payment_processing",
 "legal_basis":"contract","retention":"P7Y","count":3}}`

// call makes one request and returns its status and body.
func call(t *testing.T, method, url, token, contentType, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServerRunsEveryPartOnOneListener: one server, built and run apart
// from the command line, publishes itself, takes an event over HTTP
// ingest through the consumer into the catalog and answers it on the API,
// keeps /metrics to the metrics role, and stops when its context ends.
// A consumer-only server on the same stack serves health and metrics,
// and nothing of the catalog.
func TestServerRunsEveryPartOnOneListener(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	ctx := context.Background()
	cfg := config.Config{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", StreamReplicas: 1,
		StreamDuplicates: time.Minute, BatchSize: 100, BatchWait: 50 * time.Millisecond, RollupInterval: time.Second,
		LogLevel: "info", LogFormat: "text", APIToken: fullToken, ReadTokens: readToken, IngestTokens: ingestToken,
		MetricsToken: metricsToken}
	log := slog.New(slog.DiscardHandler)
	s, err := stack.Start(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	srv, err := server.New(ctx, server.Options{Stack: s, Config: cfg, Taxonomy: taxonomy.Default(), Version: "test", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if rt, ok := stack.FindRunning(cfg.DataDir); !ok || rt.HTTPAddr != srv.Addr() {
		t.Errorf("runtime file %+v %v, want the server's address %s", rt, ok, srv.Addr())
	}
	serving, stop := context.WithCancel(ctx)
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Run(serving) }()
	base := "http://" + srv.Addr()

	if code, body := call(t, "POST", base+ingest.Path, readToken, ingest.ContentTypeStructured, collected); code != http.StatusForbidden {
		t.Errorf("ingest with a read token: %d %s, want 403", code, body)
	}
	if code, body := call(t, "POST", base+ingest.Path, ingestToken, ingest.ContentTypeStructured, collected); code != http.StatusAccepted {
		t.Fatalf("ingest with an ingest token: %d %s, want 202", code, body)
	}
	var page struct{ Total int }
	for deadline := time.Now().Add(30 * time.Second); page.Total == 0; time.Sleep(100 * time.Millisecond) {
		code, body := call(t, "GET", base+"/api/v1/inventory", readToken, "", "")
		if code != http.StatusOK || json.Unmarshal([]byte(body), &page) != nil {
			t.Fatalf("inventory with a read token: %d %s", code, body)
		}
		if time.Now().After(deadline) {
			t.Fatal("the ingested event did not reach the catalog's answers")
		}
	}
	for token, want := range map[string]int{"": 401, fullToken: 401, readToken: 401, metricsToken: 200} {
		if code, _ := call(t, "GET", base+"/metrics", token, "", ""); code != want {
			t.Errorf("/metrics with %q: %d, want %d", token, code, want)
		}
	}
	if code, body := call(t, "GET", base+"/", "", "", ""); code != http.StatusOK || !strings.Contains(body, `name="token"`) {
		t.Errorf("the web data map at / without a session: %d, want its login form", code)
	}

	consumerCfg := cfg
	consumerCfg.MetricsToken = ""
	worker, err := server.New(ctx, server.Options{Stack: s, Config: consumerCfg, Taxonomy: taxonomy.Default(), Log: log, ConsumerOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	working, stopWorker := context.WithCancel(ctx)
	workerStopped := make(chan error, 1)
	go func() { workerStopped <- worker.Run(working) }()
	wbase := "http://" + worker.Addr()
	for path, want := range map[string]int{"/healthz": 200, "/metrics": 200, "/api/v1/inventory": 404} {
		if code, _ := call(t, "GET", wbase+path, readToken, "", ""); code != want {
			t.Errorf("consumer-only GET %s: %d, want %d", path, code, want)
		}
	}
	if code, _ := call(t, "POST", wbase+ingest.Path, ingestToken, ingest.ContentTypeStructured, collected); code == http.StatusAccepted {
		t.Error("a consumer-only server takes ingest")
	}
	if rt, _ := stack.FindRunning(cfg.DataDir); rt.HTTPAddr != srv.Addr() {
		t.Errorf("the consumer-only server replaced the runtime file: %+v", rt)
	}

	for name, c := range map[string]struct {
		stop    context.CancelFunc
		stopped chan error
	}{"server": {stop, stopped}, "consumer-only server": {stopWorker, workerStopped}} {
		c.stop()
		select {
		case err := <-c.stopped:
			if err != nil {
				t.Errorf("%s stopped with %v", name, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s did not stop", name)
		}
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the server still answers after Run returned")
	}
}
