package stack_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/back-trace/datamap/config"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/stack"
)

func TestMain(m *testing.M) { testservers.Main(m) }

func testConfig(t *testing.T) config.Config {
	return config.Config{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", StreamReplicas: 1,
		StreamDuplicates: time.Minute, BatchSize: 100, BatchWait: 50 * time.Millisecond,
		LogLevel: "info", LogFormat: "text", ClickHouseFsync: true}
}

// chDB aborts when a client breaks off mid-INSERT; the stack must bring the
// engine back on the same address without anyone noticing but the log.
func TestEmbeddedClickHouseIsRestartedWhenItDies(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	ctx := context.Background()
	s, err := stack.Start(ctx, testConfig(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	first := s.EmbeddedClickHouse()
	first.Kill()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var n uint64
		err := s.ClickHouse.QueryRow(ctx, "SELECT count() FROM events").Scan(&n)
		if err == nil && s.EmbeddedClickHouse() != first {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ClickHouse did not come back: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if s.EmbeddedClickHouse().Addr() != first.Addr() {
		t.Errorf("restarted on %s, was %s", s.EmbeddedClickHouse().Addr(), first.Addr())
	}
}

func TestAttachFindsARunningServeAndIgnoresAStaleOne(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	ctx := context.Background()
	cfg := testConfig(t)
	s, err := stack.Start(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, running := stack.FindRunning(cfg.DataDir); running {
		t.Error("found a running serve before it published itself")
	}
	if err := s.Publish("127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	rt, running := stack.FindRunning(cfg.DataDir)
	if !running || rt.NATSURL != s.NATSURL || rt.ClickHouseAddr != s.ClickHouseAddr {
		t.Fatalf("FindRunning = %+v, %v", rt, running)
	}
	client, err := stack.Attach(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := client.ClickHouse.Ping(ctx); err != nil || client.Embedded() {
		t.Errorf("attached client: ping %v, embedded %v (it should use the serve's servers)", err, client.Embedded())
	}
	client.Close(ctx)
	s.Close(ctx)
	if _, running := stack.FindRunning(cfg.DataDir); running {
		t.Error("a closed serve is still found")
	}
}
