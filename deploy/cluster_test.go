package deploy

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.yaml.in/yaml/v3"

	"github.com/back-trace/datamap/config"
)

// The cluster tests run nats/cluster.conf and the layout of
// clickhouse/cluster/cluster.xml (internal/testkit/testservers). These tests keep
// docker-compose.cluster.yml and the Kubernetes manifests describing that
// same topology, so the deployment cannot drift from what was tested.

// natsCluster parses nats/cluster.conf with nats-server's own parser, as
// the tests' nodes do.
func natsCluster(t *testing.T) *server.Options {
	t.Helper()
	t.Setenv("NATS_SERVER_NAME", "nats-1")
	t.Setenv("DATAMAP_NATS_TOKEN", "dummy-token-for-the-test")
	opts, err := server.ProcessConfigFile("nats/cluster.conf")
	if err != nil {
		t.Fatalf("nats/cluster.conf: %v", err)
	}
	if !opts.JetStream || opts.Cluster.Name != "datamap" || len(opts.Routes) != 3 {
		t.Fatalf("nats/cluster.conf: JetStream %v, cluster %q, %d routes; want JetStream, cluster datamap, 3 routes",
			opts.JetStream, opts.Cluster.Name, len(opts.Routes))
	}
	if opts.SyncInterval != time.Second || opts.Authorization != "dummy-token-for-the-test" || opts.ServerName != "nats-1" {
		t.Errorf("nats/cluster.conf: sync_interval %v, token %q, server_name %q; want 1s and both from the environment",
			opts.SyncInterval, opts.Authorization, opts.ServerName)
	}
	return opts
}

type clusterCompose struct {
	Services map[string]struct {
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
	} `yaml:"services"`
}

func readClusterCompose(t *testing.T) clusterCompose {
	t.Helper()
	b, err := os.ReadFile("docker-compose.cluster.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c clusterCompose
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("docker-compose.cluster.yml: %v", err)
	}
	return c
}

func mounts(volumes []string, file string) bool {
	for _, v := range volumes {
		if strings.HasPrefix(v, "./"+file+":") {
			return true
		}
	}
	return false
}

func TestClusterComposeFollowsTheTestedTopology(t *testing.T) {
	nats := natsCluster(t)
	layout, err := ReadClickHouseCluster()
	if err != nil {
		t.Fatal(err)
	}
	c := readClusterCompose(t)
	var natsURLs []string
	for _, r := range nats.Routes {
		name := r.Hostname()
		s, ok := c.Services[name]
		if !ok {
			t.Errorf("route %s of nats/cluster.conf has no service", r)
			continue
		}
		if s.Environment["NATS_SERVER_NAME"] != name || !mounts(s.Volumes, "nats/cluster.conf") {
			t.Errorf("service %s: NATS_SERVER_NAME %q, volumes %v; want its own name and nats/cluster.conf", name, s.Environment["NATS_SERVER_NAME"], s.Volumes)
		}
		natsURLs = append(natsURLs, fmt.Sprintf("nats://%s:%d", name, nats.Port))
	}
	var dsnHosts []string
	for si, shard := range layout.Shards {
		if !shard.InternalReplication {
			t.Errorf("shard %d: internal_replication must be true: the replicated tables copy rows between replicas", si+1)
		}
		for ri, r := range shard.Replicas {
			s, ok := c.Services[r.Host]
			if !ok {
				t.Errorf("replica %s of cluster.xml has no service", r.Host)
				continue
			}
			wantShard, wantReplica := Macros(si+1, ri+1)
			if s.Environment["CLICKHOUSE_SHARD"] != wantShard || s.Environment["CLICKHOUSE_REPLICA"] != wantReplica {
				t.Errorf("service %s: macros shard %q replica %q, want %q %q (what the tests use)", r.Host,
					s.Environment["CLICKHOUSE_SHARD"], s.Environment["CLICKHOUSE_REPLICA"], wantShard, wantReplica)
			}
			if !mounts(s.Volumes, "clickhouse/cluster/cluster.xml") {
				t.Errorf("service %s does not mount clickhouse/cluster/cluster.xml", r.Host)
			}
			dsnHosts = append(dsnHosts, r.Host+":"+strconv.Itoa(r.Port))
		}
	}
	keepers := keeperHosts(t)
	for i, k := range keepers {
		if c.Services[k].Environment["KEEPER_SERVER_ID"] != strconv.Itoa(i+1) {
			t.Errorf("keeper %s of cluster.xml: no service with KEEPER_SERVER_ID %d", k, i+1)
		}
	}
	env := c.Services["datamap"].Environment
	if got, want := env["DATAMAP_NATS_URL"], strings.Join(natsURLs, ","); got != want {
		t.Errorf("DATAMAP_NATS_URL %q, want every NATS server: %q", got, want)
	}
	if env["DATAMAP_STREAM_REPLICAS"] != strconv.Itoa(len(nats.Routes)) {
		t.Errorf("DATAMAP_STREAM_REPLICAS %q, want one replica per NATS server (%d)", env["DATAMAP_STREAM_REPLICAS"], len(nats.Routes))
	}
	if env["DATAMAP_CLICKHOUSE_CLUSTER"] != layout.Name || env["DATAMAP_CLICKHOUSE_KEEPER"] != "true" {
		t.Errorf("DATAMAP_CLICKHOUSE_CLUSTER %q KEEPER %q, want %q with Keeper", env["DATAMAP_CLICKHOUSE_CLUSTER"], env["DATAMAP_CLICKHOUSE_KEEPER"], layout.Name)
	}
	dsn, err := url.Parse(composeInterpolation.ReplaceAllString(env["DATAMAP_CLICKHOUSE_DSN"], "dummy"))
	if err != nil || dsn.Host != strings.Join(dsnHosts, ",") {
		t.Errorf("DATAMAP_CLICKHOUSE_DSN lists %q, want every server of cluster.xml: %q (%v)", dsn.Host, strings.Join(dsnHosts, ","), err)
	}
	cfg := config.Config{DataDir: "/var/lib/datamap", StreamReplicas: 3, StreamDuplicates: 2 * time.Minute, BatchSize: 5000,
		BatchWait: 200 * time.Millisecond, LogLevel: "info", LogFormat: "json", NATSURL: env["DATAMAP_NATS_URL"],
		HTTPAddr: env["DATAMAP_HTTP_ADDR"], ClickHouseDSN: dsn.String(), ClickHouseCluster: env["DATAMAP_CLICKHOUSE_CLUSTER"], ClickHouseKeeper: true,
		RollupInterval: 5 * time.Second, SubjectEvidence: 26280 * time.Hour}
	if err := cfg.Validate(); err != nil {
		t.Errorf("datamap environment in docker-compose.cluster.yml does not validate: %v", err)
	}
}

// keeperHosts are the <zookeeper> nodes of cluster.xml, checked against
// the raft configuration of keeper.xml.
func keeperHosts(t *testing.T) []string {
	t.Helper()
	var cluster struct {
		Nodes []struct {
			Host string `xml:"host"`
		} `xml:"zookeeper>node"`
	}
	if err := xml.Unmarshal(ClickHouseClusterConfig, &cluster); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("clickhouse/cluster/keeper.xml")
	if err != nil {
		t.Fatal(err)
	}
	var keeper struct {
		Servers []struct {
			ID       int    `xml:"id"`
			Hostname string `xml:"hostname"`
		} `xml:"keeper_server>raft_configuration>server"`
	}
	if err := xml.NewDecoder(bytes.NewReader(b)).Decode(&keeper); err != nil {
		t.Fatalf("keeper.xml: %v", err)
	}
	var hosts []string
	for i, n := range cluster.Nodes {
		hosts = append(hosts, n.Host)
		if i >= len(keeper.Servers) || keeper.Servers[i].Hostname != n.Host || keeper.Servers[i].ID != i+1 {
			t.Errorf("zookeeper node %s of cluster.xml is not raft server %d of keeper.xml", n.Host, i+1)
		}
	}
	if len(hosts) != 3 || len(keeper.Servers) != 3 {
		t.Errorf("%d Keeper nodes in cluster.xml, %d in keeper.xml; want 3", len(hosts), len(keeper.Servers))
	}
	return hosts
}

func TestClusterKubernetesFollowsTheTestedTopology(t *testing.T) {
	nats := natsCluster(t)
	layout, err := ReadClickHouseCluster()
	if err != nil {
		t.Fatal(err)
	}
	docs := yamlDocuments(t, "kubernetes/clickhouse.yaml")
	var chi, chk struct {
		Kind string `yaml:"kind"`
		Spec struct {
			Configuration struct {
				Clusters []struct {
					Name   string `yaml:"name"`
					Layout struct {
						Shards   int `yaml:"shardsCount"`
						Replicas int `yaml:"replicasCount"`
					} `yaml:"layout"`
				} `yaml:"clusters"`
			} `yaml:"configuration"`
		} `yaml:"spec"`
	}
	for _, d := range docs {
		switch d["kind"] {
		case "ClickHouseInstallation":
			remarshal(t, d, &chi)
		case "ClickHouseKeeperInstallation":
			remarshal(t, d, &chk)
		}
	}
	if len(chi.Spec.Configuration.Clusters) != 1 {
		t.Fatal("kubernetes/clickhouse.yaml: want one ClickHouseInstallation with one cluster")
	}
	cl := chi.Spec.Configuration.Clusters[0]
	if cl.Name != layout.Name || cl.Layout.Shards != len(layout.Shards) || cl.Layout.Replicas != len(layout.Shards[0].Replicas) {
		t.Errorf("ClickHouseInstallation cluster %s %d×%d, want cluster.xml's %s %d×%d", cl.Name, cl.Layout.Shards, cl.Layout.Replicas,
			layout.Name, len(layout.Shards), len(layout.Shards[0].Replicas))
	}
	if len(chk.Spec.Configuration.Clusters) != 1 || chk.Spec.Configuration.Clusters[0].Layout.Replicas != len(keeperHosts(t)) {
		t.Error("ClickHouseKeeperInstallation must run as many Keeper nodes as cluster.xml names")
	}
	var values struct {
		Config struct {
			Cluster struct {
				Replicas int `yaml:"replicas"`
			} `yaml:"cluster"`
			JetStream struct {
				Merge struct {
					SyncInterval string `yaml:"sync_interval"`
				} `yaml:"merge"`
			} `yaml:"jetstream"`
		} `yaml:"config"`
	}
	remarshal(t, yamlDocuments(t, "kubernetes/nats-values.yaml")[0], &values)
	if values.Config.Cluster.Replicas != len(nats.Routes) {
		t.Errorf("nats-values.yaml: %d NATS servers, nats/cluster.conf routes %d", values.Config.Cluster.Replicas, len(nats.Routes))
	}
	if d, err := time.ParseDuration(values.Config.JetStream.Merge.SyncInterval); err != nil || d != nats.SyncInterval {
		t.Errorf("nats-values.yaml sync_interval %q, nats/cluster.conf %v", values.Config.JetStream.Merge.SyncInterval, nats.SyncInterval)
	}
	deployment := string(must(os.ReadFile("kubernetes/datamap.yaml")))
	for _, want := range []string{"name: DATAMAP_STREAM_REPLICAS\n              value: \"3\"", "name: DATAMAP_CLICKHOUSE_CLUSTER\n              value: " + layout.Name} {
		if !strings.Contains(deployment, want) {
			t.Errorf("kubernetes/datamap.yaml does not set %q", want)
		}
	}
}

func yamlDocuments(t *testing.T, path string) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(must(os.ReadFile(path))))
	var out []map[string]any
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			break
		}
		out = append(out, doc)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no YAML document", path)
	}
	return out
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
