package testservers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/deploy"
)

// envNATSNode carries a natsNodeSpec to a test binary re-executed as a
// NATS cluster node.
const envNATSNode = "DATAMAP_TEST_NATS_NODE"

// natsNodeSpec is what a node process needs to start.
type natsNodeSpec struct {
	Name        string   `json:"name"`
	Config      string   `json:"config"` // deploy/nats/cluster.conf, written to a file
	Dir         string   `json:"dir"`
	Port        int      `json:"port"`
	ClusterPort int      `json:"cluster_port"`
	Routes      []string `json:"routes"`
}

// NATSCluster is a 3-node NATS JetStream cluster on loopback: every node a
// nats-server/v2 (the go.mod version) in a child process of the test
// binary, configured by deploy/nats/cluster.conf, with its own store
// directory and ports, routes between all three. Nodes run in child
// processes so that a test can SIGKILL one: an in-process Shutdown steps
// its Raft leaders down gracefully first, which is not what a crash does.
// A package that uses it needs TestMain to call Main.
type NATSCluster struct {
	Token string
	Nodes []*NATSNode
}

// NATSNode is one server of a NATSCluster.
type NATSNode struct {
	Name    string
	Port    int
	Dir     string
	LogPath string
	token   string
	spec    []byte

	mu       sync.Mutex
	cmd      *exec.Cmd
	lifeline io.WriteCloser
	done     chan struct{}
}

// RequireCluster skips a cluster test unless DATAMAP_TEST_CLUSTER is set,
// as `make test-cluster` does.
func RequireCluster(t testing.TB) {
	t.Helper()
	if os.Getenv("DATAMAP_TEST_CLUSTER") == "" {
		t.Skip("cluster test: run `make test-cluster` (sets DATAMAP_TEST_CLUSTER=1)")
	}
}

// StartNATSCluster starts three clustered nodes and waits until JetStream
// has a meta leader. Everything is torn down when the test ends.
func StartNATSCluster(t testing.TB) *NATSCluster {
	t.Helper()
	const size = 3
	raw := make([]byte, 16)
	rand.Read(raw)
	c := &NATSCluster{Token: hex.EncodeToString(raw)}
	conf := filepath.Join(t.TempDir(), "cluster.conf")
	if err := os.WriteFile(conf, deploy.NATSClusterConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	ports := FreePorts(t, 2*size)
	var routes []string
	for i := 0; i < size; i++ {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", ports[size+i]))
	}
	for i := 0; i < size; i++ {
		spec := natsNodeSpec{Name: fmt.Sprintf("nats-%d", i+1), Config: conf, Dir: t.TempDir(),
			Port: ports[i], ClusterPort: ports[size+i], Routes: routes}
		b, _ := json.Marshal(spec)
		c.Nodes = append(c.Nodes, &NATSNode{Name: spec.Name, Port: spec.Port, Dir: spec.Dir,
			LogPath: filepath.Join(spec.Dir, "nats.log"), token: c.Token, spec: b})
	}
	for _, n := range c.Nodes {
		if err := n.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(n.stop)
	}
	for _, n := range c.Nodes {
		if err := n.waitListening(20 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	js := c.Connect(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := js.AccountInfo(ctx)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("NATS cluster: JetStream not ready after 30s: %v (logs in %s)", err, c.Nodes[0].LogPath)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return c
}

// URL lists every node, as DATAMAP_NATS_URL does for a cluster.
func (c *NATSCluster) URL() string {
	var urls []string
	for _, n := range c.Nodes {
		urls = append(urls, n.URL())
	}
	return strings.Join(urls, ",")
}

// Connect opens a client connection to every node of the cluster, with
// its token, reconnecting forever; closed at the end of the test.
func (c *NATSCluster) Connect(t testing.TB) jetstream.JetStream {
	t.Helper()
	return ConnectJetStream(t, c.URL(), nats.Token(c.Token))
}

// Node returns the node with this server name, or nil.
func (c *NATSCluster) Node(name string) *NATSNode {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// StreamLeader is the node that leads the stream's Raft group.
func (c *NATSCluster) StreamLeader(ctx context.Context, js jetstream.JetStream, stream string) (*NATSNode, error) {
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return nil, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, err
	}
	if info.Cluster == nil || info.Cluster.Leader == "" {
		return nil, fmt.Errorf("stream %s has no leader", stream)
	}
	if n := c.Node(info.Cluster.Leader); n != nil {
		return n, nil
	}
	return nil, fmt.Errorf("stream %s is led by %q, not a node of this cluster", stream, info.Cluster.Leader)
}

// WaitStreamHealthy waits until the stream has a leader and every other
// replica is online and current: after a node came back, before the next
// fault is injected.
func (c *NATSCluster) WaitStreamHealthy(t testing.TB, js jetstream.JetStream, stream string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var last string
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s, err := js.Stream(ctx, stream)
		var info *jetstream.StreamInfo
		if err == nil {
			info, err = s.Info(ctx)
		}
		cancel()
		switch {
		case err != nil:
			last = err.Error()
		case info.Cluster == nil || info.Cluster.Leader == "":
			last = "no leader"
		case len(info.Cluster.Replicas) != len(c.Nodes)-1:
			last = fmt.Sprintf("%d replicas besides the leader", len(info.Cluster.Replicas))
		default:
			healthy := true
			for _, r := range info.Cluster.Replicas {
				if !r.Current || r.Offline {
					healthy, last = false, fmt.Sprintf("replica %s current=%v offline=%v lag=%d", r.Name, r.Current, r.Offline, r.Lag)
				}
			}
			if healthy {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("stream %s not healthy after %s: %s", stream, within, last)
}

// URL is the node's client URL.
func (n *NATSNode) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.Port) }

// Start starts the node's process, or restarts it after Kill on the same
// store and ports.
func (n *NATSNode) Start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.done != nil {
		select {
		case <-n.done:
		default:
			return fmt.Errorf("NATS node %s is already running", n.Name)
		}
	}
	logFile, err := os.OpenFile(n.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), envNATSNode+"="+string(n.spec),
		"NATS_SERVER_NAME="+n.Name, "DATAMAP_NATS_TOKEN="+n.token)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	lifeline, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start NATS node %s: %w", n.Name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	n.cmd, n.lifeline, n.done = cmd, lifeline, done
	return nil
}

// Kill ends the node with SIGKILL and waits until it is gone.
func (n *NATSNode) Kill() {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// Restart starts a killed node again and waits until it accepts clients.
func (n *NATSNode) Restart(t testing.TB) {
	t.Helper()
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	if err := n.waitListening(20 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// stop ends the node cleanly: closing its lifeline makes it shut down.
func (n *NATSNode) stop() {
	n.mu.Lock()
	lifeline, done := n.lifeline, n.done
	n.mu.Unlock()
	if lifeline == nil {
		return
	}
	lifeline.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		n.Kill()
	}
}

func (n *NATSNode) waitListening(within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(n.Port)), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-n.done:
			return fmt.Errorf("NATS node %s exited; see %s", n.Name, n.LogPath)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("NATS node %s not listening after %s: %v; see %s", n.Name, within, err, n.LogPath)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runNATSNodeIfRequested turns the test binary into a cluster node when
// StartNATSCluster spawned it. It never returns in the node.
func runNATSNodeIfRequested() {
	raw := os.Getenv(envNATSNode)
	if raw == "" {
		return
	}
	fail := func(err error) { fmt.Fprintln(os.Stderr, "NATS node:", err); os.Exit(2) }
	var spec natsNodeSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		fail(err)
	}
	opts, err := server.ProcessConfigFile(spec.Config)
	if err != nil {
		fail(err)
	}
	// Only what is specific to this machine: loopback addresses, ports and
	// the store directory. The rest is deploy/nats/cluster.conf.
	opts.Host, opts.Port, opts.HTTPPort = "127.0.0.1", spec.Port, 0
	opts.StoreDir = spec.Dir
	opts.Cluster.Host, opts.Cluster.Port = "127.0.0.1", spec.ClusterPort
	opts.Routes = server.RoutesFromStr(strings.Join(spec.Routes, ","))
	opts.NoSigs, opts.Logtime = true, true
	ns, err := server.NewServer(opts)
	if err != nil {
		fail(err)
	}
	ns.ConfigureLogger()
	go ns.Start()
	if !ns.ReadyForConnections(20 * time.Second) {
		fail(errors.New("not ready after 20s"))
	}
	// The lifeline: EOF on stdin means the test ended (or died): shut down.
	io.Copy(io.Discard, os.Stdin)
	ns.Shutdown()
	ns.WaitForShutdown()
	os.Exit(0)
}

// FreePorts asks the kernel for n unused loopback ports. They are released
// before the servers bind them; on this shared machine another process may
// rarely take one meanwhile.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}
