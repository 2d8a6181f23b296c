package testservers

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/back-trace/datamap/deploy"
	"github.com/back-trace/datamap/stack/chembed"
)

// ClickHouseCluster is the layout of deploy/clickhouse/cluster/cluster.xml
// (2 shards × 2 replicas, cluster datamap_cluster) run as embedded servers
// on loopback, each a child process with its own data directory and ports,
// all with the deployed remote_servers and macros. Two things differ from
// the deployed configuration, because the embedded engine (chDB, which
// runs ClickHouse as `clickhouse local`) cannot do them: it has no
// interserver HTTP endpoint, so ReplicatedMergeTree tables never leave
// read-only mode, and no DDL worker, so ON CLUSTER is refused. So there is
// no Keeper, the local tables are plain MergeTree, and the Distributed
// tables write every row to both replicas of its shard themselves
// (internal_replication false); the catalog runs in the matching dialect
// (catalog.Dialect.Unreplicated, DATAMAP_CLICKHOUSE_KEEPER=false).
type ClickHouseCluster struct {
	Name     string
	Password string
	Shards   [][]*ClickHouseNode
}

// ClickHouseNode is one server of the cluster.
//
// A server that dies without Kill is restarted at once, as `datamap
// serve` restarts its embedded engine: chDB aborts when a client breaks
// off in the middle of an INSERT, and in a cluster the other servers are
// such clients — when a Distributed insert fails because one replica was
// killed, the initiator cancels its inserts into the other shards, and
// the engines there abort. A real ClickHouse server survives that.
type ClickHouseNode struct {
	Shard, Replica int // from 1
	t              testing.TB
	logPath        string
	mu             sync.Mutex
	srv            *chembed.Server
	killed         bool // by Kill: stays down until Restart
	stopping       bool
}

// StartClickHouseCluster starts every server of the deployed layout and
// waits until all answer. They are stopped when the test ends.
func StartClickHouseCluster(t testing.TB) *ClickHouseCluster {
	t.Helper()
	SkipWithoutEngine(t)
	layout, err := deploy.ReadClickHouseCluster()
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 16)
	rand.Read(raw)
	c := &ClickHouseCluster{Name: layout.Name, Password: hex.EncodeToString(raw)}
	var count int
	for _, s := range layout.Shards {
		count += len(s.Replicas)
	}
	ports := FreePorts(t, 2*count)
	config := clusterConfig(layout, c.Password, ports)
	opts := map[*ClickHouseNode]chembed.Options{}
	i := 0
	for si, s := range layout.Shards {
		var shard []*ClickHouseNode
		for ri := range s.Replicas {
			n := &ClickHouseNode{Shard: si + 1, Replica: ri + 1, t: t}
			shardMacro, replicaMacro := deploy.Macros(n.Shard, n.Replica)
			macros := fmt.Sprintf("<clickhouse><macros><shard>%s</shard><replica>%s</replica></macros></clickhouse>\n",
				shardMacro, replicaMacro)
			dir := filepath.Join(t.TempDir(), "ch")
			n.logPath = filepath.Join(dir, "clickhouse.log")
			opts[n] = chembed.Options{DataDir: dir, Password: c.Password,
				TCPPort: ports[i], HTTPPort: ports[count+i], StartTimeout: 90 * time.Second,
				Config: map[string][]byte{"cluster.xml": config, "macros.xml": []byte(macros)}}
			shard = append(shard, n)
			i++
		}
		c.Shards = append(c.Shards, shard)
	}
	var wg sync.WaitGroup
	errs := make(chan error, count)
	for n, o := range opts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			srv, err := chembed.Start(context.Background(), o)
			if err != nil {
				errs <- fmt.Errorf("ClickHouse shard %d replica %d: %w", n.Shard, n.Replica, err)
				return
			}
			n.srv = srv
			go n.supervise(srv)
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, n := range c.Nodes() {
			if err := n.server().Err(); err != nil && t.Failed() {
				t.Logf("ClickHouse shard %d replica %d is down: %v", n.Shard, n.Replica, err)
			}
		}
		for _, n := range c.Nodes() {
			n.mu.Lock()
			n.stopping = true
			n.mu.Unlock()
			if srv := n.server(); srv != nil {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				srv.Stop(ctx)
				cancel()
			}
		}
	})
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return c
}

// clusterConfig is the deployed remote_servers on loopback: the same
// cluster name, shards, replicas and user; this cluster's ports and
// password; internal_replication false (see ClickHouseCluster).
func clusterConfig(layout deploy.ClickHouseCluster, password string, ports []int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<clickhouse>\n  <remote_servers>\n    <%s>\n", layout.Name)
	i := 0
	for _, s := range layout.Shards {
		b.WriteString("      <shard>\n        <internal_replication>false</internal_replication>\n")
		for _, r := range s.Replicas {
			fmt.Fprintf(&b, "        <replica><host>127.0.0.1</host><port>%d</port><user>%s</user><password>%s</password></replica>\n",
				ports[i], r.User, password)
			i++
		}
		b.WriteString("      </shard>\n")
	}
	fmt.Fprintf(&b, "    </%s>\n  </remote_servers>\n</clickhouse>\n", layout.Name)
	return b.Bytes()
}

// Nodes lists every server, shard by shard.
func (c *ClickHouseCluster) Nodes() []*ClickHouseNode {
	var out []*ClickHouseNode
	for _, s := range c.Shards {
		out = append(out, s...)
	}
	return out
}

// Addrs are the native-protocol addresses of every server.
func (c *ClickHouseCluster) Addrs() []string {
	var out []string
	for _, n := range c.Nodes() {
		out = append(out, n.Addr())
	}
	return out
}

// DSN is DATAMAP_CLICKHOUSE_DSN for database db on this cluster: every
// server listed, so that the client fails over and datamap can migrate
// each one. Hedged requests are off: they query two replicas and cancel
// the slower one, and a cancelled chDB engine aborts (see ClickHouseNode).
func (c *ClickHouseCluster) DSN(db string) string {
	u := url.URL{Scheme: "clickhouse", User: url.UserPassword(chembed.User, c.Password),
		Host: strings.Join(c.Addrs(), ","), Path: "/" + db, RawQuery: "use_hedged_requests=0"}
	return u.String()
}

// CreateDatabase creates db on every server (what the deployment's init
// script does) and drops it when the test ends.
func (c *ClickHouseCluster) CreateDatabase(t testing.TB, db string) {
	t.Helper()
	for _, n := range c.Nodes() {
		admin := Connect(t, n.Addr(), c.Password, "default")
		if err := admin.Exec(context.Background(), "CREATE DATABASE IF NOT EXISTS "+db); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" SYNC")
		})
	}
}

// Addr is the server's native-protocol address; it stays the same across
// Kill and Restart.
func (n *ClickHouseNode) Addr() string { return n.server().Addr() }

func (n *ClickHouseNode) server() *chembed.Server {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.srv
}

// Kill ends the server with SIGKILL and waits until it is gone. It stays
// down until Restart.
func (n *ClickHouseNode) Kill() {
	n.mu.Lock()
	n.killed = true
	srv := n.srv
	n.mu.Unlock()
	srv.Kill()
	<-srv.Done()
}

// Restart starts a killed server again on the same data and ports.
func (n *ClickHouseNode) Restart(t testing.TB) {
	t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	next, err := n.srv.Restart(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n.srv, n.killed = next, false
	go n.supervise(next)
}

// supervise restarts srv if it dies without Kill.
func (n *ClickHouseNode) supervise(srv *chembed.Server) {
	<-srv.Done()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.killed || n.stopping || n.srv != srv {
		return
	}
	n.t.Logf("ClickHouse shard %d replica %d crashed; restarting it. Its errors:\n%s", n.Shard, n.Replica, errorLines(n.logPath, 12))
	next, err := srv.Restart(context.Background())
	if err != nil {
		n.t.Errorf("ClickHouse shard %d replica %d did not restart: %v", n.Shard, n.Replica, err)
		return
	}
	n.srv = next
	go n.supervise(next)
}

// errorLines are the last n lines of a server log at level Error or Fatal.
func errorLines(path string, n int) string {
	b, _ := os.ReadFile(path)
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "<Error>") || strings.Contains(line, "<Fatal>") {
			out = append(out, line)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return strings.Join(out, "\n")
}
