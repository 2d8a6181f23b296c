// Package testservers gives tests real servers: an in-process NATS
// JetStream per test, and one embedded ClickHouse per test binary with a
// fresh, migrated database per test. Nothing is mocked.
package testservers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/catalog/consumer"
	"github.com/back-trace/datamap/catalog/schema"
	"github.com/back-trace/datamap/stack/chembed"
)

// Main is the TestMain of packages that use ClickHouse or a NATS cluster:
// it lets the test binary act as the embedded engine's child process or as
// a NATS cluster node, runs the tests, then stops the shared server.
func Main(m *testing.M) {
	runNATSNodeIfRequested()
	chembed.RunChildIfRequested()
	code := m.Run()
	if shared.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = shared.srv.Stop(ctx)
		cancel()
		if os.Getenv("DATAMAP_KEEP_TEST_DATA") == "" {
			os.RemoveAll(shared.dir)
		} else {
			fmt.Fprintln(os.Stderr, "embedded ClickHouse data and log kept in", shared.dir)
		}
	}
	os.Exit(code)
}

// NATS starts an in-process NATS server with JetStream on a random
// loopback port and a temporary store, connects to it, and creates the
// datamap streams. Everything is torn down when the test ends.
func NATS(t testing.TB) (*server.Server, jetstream.JetStream) {
	t.Helper()
	ns := StartNATSServer(t, t.TempDir(), -1)
	js := ConnectJetStream(t, ns.ClientURL())
	if err := consumer.EnsureStreams(context.Background(), js, consumer.DefaultStreamSettings); err != nil {
		t.Fatal(err)
	}
	return ns, js
}

// StartNATSServer starts (or, with the same dir and port, restarts) an
// in-process NATS server.
func StartNATSServer(t testing.TB, storeDir string, port int) *server.Server {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true,
		StoreDir: storeDir, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server not ready")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns
}

// ConnectJetStream connects to url, reconnecting forever; opts come on
// top (e.g. a token).
func ConnectJetStream(t testing.TB, url string, opts ...nats.Option) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url, append([]nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(50 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

var shared struct {
	once sync.Once
	srv  *chembed.Server
	dir  string
	err  error
}

var databases atomic.Int64

// ClickHouse returns a connection to a fresh database, migrated to the
// catalog schema, on the embedded ClickHouse server shared by the test
// binary. The test is skipped when the engine is not installed, unless
// DATAMAP_REQUIRE_ENGINE is set (as `make test` does), then it fails.
func ClickHouse(t testing.TB) driver.Conn { return NewDatabase(t).Conn }

// Database is a fresh, migrated catalog database on the shared server.
type Database struct {
	Conn                 driver.Conn
	Name, Addr, Password string
}

// NewDatabase creates a fresh catalog database, dropped when the test ends.
func NewDatabase(t testing.TB) Database {
	t.Helper()
	d := EmptyDatabase(t)
	if _, err := schema.Migrate(context.Background(), d.Conn); err != nil {
		t.Fatal(err)
	}
	return d
}

// EmptyDatabase creates a fresh database without the catalog schema, for
// tests that apply migrations themselves; it is dropped when the test ends.
func EmptyDatabase(t testing.TB) Database {
	t.Helper()
	srv := SharedClickHouse(t)
	db := fmt.Sprintf("test_%d_%d", os.Getpid(), databases.Add(1))
	admin := Connect(t, srv.Addr(), srv.Password(), "default")
	if err := admin.Exec(context.Background(), "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" SYNC") })
	return Database{Conn: Connect(t, srv.Addr(), srv.Password(), db), Name: db, Addr: srv.Addr(), Password: srv.Password()}
}

// SharedClickHouse starts the binary's embedded ClickHouse on first use.
func SharedClickHouse(t testing.TB) *chembed.Server {
	t.Helper()
	SkipWithoutEngine(t)
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "datamap-test-clickhouse-")
		if shared.err == nil {
			shared.srv, shared.err = chembed.Start(context.Background(), chembed.Options{DataDir: filepath.Join(shared.dir, "ch")})
		}
	})
	if shared.err != nil {
		t.Fatalf("embedded ClickHouse: %v", shared.err)
	}
	return shared.srv
}

// SkipWithoutEngine skips the test when the ClickHouse engine library is
// not installed, unless DATAMAP_REQUIRE_ENGINE is set.
func SkipWithoutEngine(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(chembed.DefaultLibraryPath()); err != nil {
		if os.Getenv("DATAMAP_REQUIRE_ENGINE") != "" {
			t.Fatalf("ClickHouse engine missing at %s: run `make setup`", chembed.DefaultLibraryPath())
		}
		t.Skipf("ClickHouse engine not installed at %s; run `make setup` (or `make test`, which does)", chembed.DefaultLibraryPath())
	}
}

// Connect opens a clickhouse-go connection closed at the end of the test.
func Connect(t testing.TB, addr, password, database string) driver.Conn {
	t.Helper()
	conn, err := ch.Open(&ch.Options{Addr: []string{addr},
		Auth: ch.Auth{Database: database, Username: chembed.User, Password: password}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// PrivateClickHouse starts an embedded ClickHouse of the test's own, with a
// migrated catalog in its default database, for tests that may crash it:
// chDB aborts when a client breaks off in the middle of an INSERT. Like
// `datamap serve`, the test restarts it on the same address when it dies.
func PrivateClickHouse(t testing.TB) Database {
	t.Helper()
	SkipWithoutEngine(t)
	ctx := context.Background()
	srv, err := chembed.Start(ctx, chembed.Options{DataDir: filepath.Join(t.TempDir(), "ch")})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-stop:
				_ = srv.Stop(ctx)
				return
			case <-srv.Done():
			}
			next, err := srv.Restart(ctx)
			if err != nil {
				t.Errorf("embedded ClickHouse did not restart: %v", err)
				return
			}
			srv = next
		}
	}()
	t.Cleanup(func() { close(stop); <-stopped })
	conn := Connect(t, srv.Addr(), srv.Password(), "default")
	if _, err := schema.Migrate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	return Database{Conn: conn, Name: "default", Addr: srv.Addr(), Password: srv.Password()}
}
