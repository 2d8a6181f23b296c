package conformance_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/back-trace/datamap/internal/testkit/conformance"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/stack"
	"github.com/back-trace/datamap/stack/chembed"
)

func TestMain(m *testing.M) { testservers.Main(m) }

// The embedded single server, as `datamap serve` runs it without
// DATAMAP_CLICKHOUSE_DSN: started and supervised by the stack.
func TestEmbeddedConformance(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	conformance.Run(t, conformance.Topology{Name: "embedded", Features: conformance.Features{Shards: 1, Replicas: 1},
		New: func(t *testing.T, natsURL string) conformance.Catalog {
			return conformance.Catalog{Config: conformance.BaseConfig(t, natsURL),
				Kill: func(t *testing.T, s *stack.Stack) {
					srv := s.EmbeddedClickHouse()
					srv.Kill()
					<-srv.Done()
				},
				// The stack's supervisor restarts it on the same address.
				Restart: func(t *testing.T, s *stack.Stack) {
					deadline := time.Now().Add(60 * time.Second)
					for s.ClickHouse.Ping(context.Background()) != nil {
						if time.Now().After(deadline) {
							t.Fatal("the stack did not restart its embedded ClickHouse")
						}
						time.Sleep(100 * time.Millisecond)
					}
				}}
		}})
}

// An external single server: its own OS process, reached only over TCP
// through DATAMAP_CLICKHOUSE_DSN.
func TestExternalConformance(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	conformance.Run(t, conformance.Topology{Name: "external", Features: conformance.Features{Shards: 1, Replicas: 1},
		New: func(t *testing.T, natsURL string) conformance.Catalog {
			srv, err := chembed.Start(context.Background(), chembed.Options{DataDir: filepath.Join(t.TempDir(), "ch")})
			if err != nil {
				t.Fatal(err)
			}
			var current atomic.Pointer[chembed.Server]
			current.Store(srv)
			t.Cleanup(func() { current.Load().Stop(context.Background()) })
			cfg := conformance.BaseConfig(t, natsURL)
			cfg.ClickHouseDSN = srv.DSN()
			return conformance.Catalog{Config: cfg,
				Kill: func(*testing.T, *stack.Stack) { srv := current.Load(); srv.Kill(); <-srv.Done() },
				Restart: func(t *testing.T, _ *stack.Stack) {
					next, err := current.Load().Restart(context.Background())
					if err != nil {
						t.Fatal(err)
					}
					current.Store(next)
				}}
		}})
}

// The cluster of deploy/clickhouse/cluster/cluster.xml: 2 shards × 2
// replicas (see testservers.ClickHouseCluster for what the embedded engine
// changes), reached through a DSN listing every server.
func TestClusterConformance(t *testing.T) {
	testservers.RequireCluster(t)
	cluster := testservers.StartClickHouseCluster(t)
	var databases atomic.Int64
	conformance.Run(t, conformance.Topology{Name: "cluster",
		Features: conformance.Features{Shards: len(cluster.Shards), Replicas: len(cluster.Shards[0])},
		New: func(t *testing.T, natsURL string) conformance.Catalog {
			db := fmt.Sprintf("conformance_%d", databases.Add(1))
			cluster.CreateDatabase(t, db)
			cfg := conformance.BaseConfig(t, natsURL)
			cfg.ClickHouseDSN, cfg.ClickHouseCluster, cfg.ClickHouseKeeper = cluster.DSN(db), cluster.Name, false
			// The second replica of the first shard: not the server the
			// catalog's connections use, so the loss is a replica's.
			victim := cluster.Shards[0][1]
			return conformance.Catalog{Config: cfg,
				Kill:    func(*testing.T, *stack.Stack) { victim.Kill() },
				Restart: func(t *testing.T, _ *stack.Stack) { victim.Restart(t) },
				Check:   func(t *testing.T) { replicasAgree(t, cluster, db) }}
		}})
}

// replicasAgree: the replicas of each shard hold the same events.
func replicasAgree(t *testing.T, c *testservers.ClickHouseCluster, db string) {
	t.Helper()
	for _, shard := range c.Shards {
		var first string
		for _, n := range shard {
			conn := testservers.Connect(t, n.Addr(), c.Password, db)
			var count, sum uint64
			if err := conn.QueryRow(context.Background(), "SELECT count(), sum(cityHash64(source, id, count)) FROM events_local FINAL").Scan(&count, &sum); err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprintf("%d events (hash %x)", count, sum)
			if first == "" {
				first = got
			} else if got != first {
				t.Errorf("shard %d: replica %d holds %s, replica 1 %s", n.Shard, n.Replica, got, first)
			}
		}
	}
}
