package deploy

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.yaml.in/yaml/v3"

	"github.com/back-trace/datamap/catalog/consumer"
	"github.com/back-trace/datamap/catalog/schema"
	"github.com/back-trace/datamap/config"
	"github.com/back-trace/datamap/events"
)

var update = flag.Bool("update", false, "rewrite clickhouse/schema.sql from schema.Migrations()")

// composeFile is the part of docker-compose.yml the checks read.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
}

type composeService struct {
	Image       string            `yaml:"image"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
	Ports       []yaml.Node       `yaml:"ports"` // short "host:container" or long {host_ip: …}
	Healthcheck struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
	DependsOn map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
}

func readCompose(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(false)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return c
}

func TestComposeFile(t *testing.T) {
	c := readCompose(t)
	for _, name := range []string{"nats", "clickhouse", "datamap"} {
		s, ok := c.Services[name]
		if !ok {
			t.Errorf("service %s missing", name)
			continue
		}
		if len(s.Healthcheck.Test) == 0 {
			t.Errorf("service %s has no healthcheck", name)
		}
		for _, p := range s.Ports {
			if ip := hostIP(p); ip == "" {
				t.Errorf("service %s publishes port %q on every interface of the host; bind it to 127.0.0.1", name, p.Value)
			} else if ip != "127.0.0.1" {
				t.Errorf("service %s publishes a port on %s; only 127.0.0.1 of the host is allowed", name, ip)
			}
		}
	}
	if got := c.Services["clickhouse"].Image; got != "clickhouse/clickhouse-server:26.7" {
		t.Errorf("clickhouse image %q, want the version the embedded engine runs (26.7)", got)
	}
	dm := c.Services["datamap"]
	for _, dep := range []string{"nats", "clickhouse"} {
		if dm.DependsOn[dep].Condition != "service_healthy" {
			t.Errorf("datamap must wait for %s to be healthy (depends_on condition service_healthy)", dep)
		}
	}
	if !strings.Contains(strings.Join(dm.Healthcheck.Test, " "), "/readyz") {
		t.Errorf("datamap healthcheck %q does not probe /readyz", dm.Healthcheck.Test)
	}
	dsn := dm.Environment["DATAMAP_CLICKHOUSE_DSN"]
	if !strings.HasPrefix(dsn, "clickhouse://datamap:") || !strings.HasSuffix(dsn, "@clickhouse:9000/datamap") {
		t.Errorf("DATAMAP_CLICKHOUSE_DSN %q: want clickhouse://datamap:…@clickhouse:9000/datamap", dsn)
	}
	// The values must pass datamap's own validation once the secrets are
	// substituted, or the container would exit at start.
	cfg := config.Config{DataDir: "/var/lib/datamap", StreamReplicas: 1, StreamDuplicates: 2 * time.Minute,
		BatchSize: 5000, BatchWait: 200 * time.Millisecond, LogLevel: "info",
		NATSURL: dm.Environment["DATAMAP_NATS_URL"], HTTPAddr: dm.Environment["DATAMAP_HTTP_ADDR"],
		ClickHouseDSN: composeInterpolation.ReplaceAllString(dsn, "dummy"), LogFormat: dm.Environment["DATAMAP_LOG_FORMAT"]}
	if err := cfg.Validate(); err != nil {
		t.Errorf("datamap environment in docker-compose.yml does not validate: %v", err)
	}
}

// hostIP is the host address a compose port entry binds; "" means every
// interface.
func hostIP(n yaml.Node) string {
	if n.Kind == yaml.MappingNode {
		var long struct {
			HostIP string `yaml:"host_ip"`
		}
		_ = n.Decode(&long)
		return long.HostIP
	}
	// "127.0.0.1:8470:8470" binds an address; "8470:8470" and "8470" do not.
	parts := strings.Split(n.Value, ":")
	if len(parts) < 3 {
		return ""
	}
	return strings.Join(parts[:len(parts)-2], ":")
}

// composeInterpolation matches ${VAR}, ${VAR:?message} and ${VAR:-default}.
var composeInterpolation = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}`)

func TestEnvExampleCoversCompose(t *testing.T) {
	compose, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile(".env.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range composeInterpolation.FindAllStringSubmatch(string(compose), -1) {
		if !regexp.MustCompile(`(?m)^` + m[1] + `=`).Match(example) {
			t.Errorf("docker-compose.yml reads %s, which .env.example does not list", m[1])
		}
	}
}

func TestKubernetesManifestsParse(t *testing.T) {
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in kubernetes/: %v", err)
	}
	kinds := map[string]map[string]any{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for i := 0; ; i++ {
			var doc map[string]any
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s, document %d: %v", f, i, err)
			}
			if filepath.Base(f) == "nats-values.yaml" {
				continue // Helm values, not a manifest
			}
			kind, _ := doc["kind"].(string)
			if doc["apiVersion"] == nil || kind == "" {
				t.Errorf("%s, document %d: no apiVersion or kind", f, i)
				continue
			}
			kinds[kind] = doc
		}
	}
	for _, kind := range []string{"Deployment", "Service", "Secret"} {
		if kinds[kind] == nil {
			t.Errorf("no %s in kubernetes/", kind)
		}
	}
	var d struct {
		Spec struct {
			Replicas int `yaml:"replicas"`
			Template struct {
				Spec struct {
					Containers []struct {
						ReadinessProbe *struct {
							HTTPGet struct{ Path string } `yaml:"httpGet"`
						} `yaml:"readinessProbe"`
						LivenessProbe *struct{} `yaml:"livenessProbe"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	remarshal(t, kinds["Deployment"], &d)
	if d.Spec.Replicas < 2 {
		t.Errorf("Deployment has %d replicas; the durable consumer is shared so that several serve processes split the work", d.Spec.Replicas)
	}
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe == nil {
			t.Errorf("Deployment container needs a readiness probe on /readyz and a liveness probe")
		}
	}
}

func remarshal(t *testing.T, in any, out any) {
	t.Helper()
	b, err := yaml.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
}

// datamapVariable finds DATAMAP_* names; the word boundary keeps
// CLICKHOUSE_DATAMAP_PASSWORD (ClickHouse's, not datamap's) out.
var datamapVariable = regexp.MustCompile(`\bDATAMAP_[A-Z0-9_]+`)

// TestVariablesExist fails when a deployment file sets a DATAMAP_* variable
// config.Config does not read, so renaming a variable breaks this test
// instead of silently dropping a setting in production.
func TestVariablesExist(t *testing.T) {
	known := map[string]bool{}
	for _, v := range (config.Config{}).Variables() {
		known[v.Name] = true
	}
	used := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".go") || path == ".env" {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, name := range datamapVariable.FindAllString(string(b), -1) {
			used++
			if !known[name] {
				t.Errorf("%s uses %s, which config.Config does not define", path, name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if used < 10 {
		t.Fatalf("found only %d DATAMAP_* uses; is the scan looking at the right files?", used)
	}
}

// schemaSQL is what datamap applies to ClickHouse at start, in order.
func schemaSQL(t *testing.T) []byte {
	t.Helper()
	migrations, err := schema.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString("-- The ClickHouse schema `datamap serve` applies at start (schema.Migrate),\n")
	b.WriteString("-- generated from catalog/schema/migrations; do not edit. Regenerate with\n")
	b.WriteString("--   go test ./deploy -run TestSchemaGolden -update\n")
	b.WriteString("-- schema.Migrate also creates schema_migrations, its record of applied versions.\n")
	b.WriteString("-- Shown for review only: nothing mounts this file into ClickHouse.\n")
	for _, m := range migrations {
		fmt.Fprintf(&b, "\n-- %04d_%s\n", m.Version, m.Name)
		for _, s := range m.Statements {
			b.WriteString(s)
			b.WriteString(";\n\n")
		}
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

func TestSchemaGolden(t *testing.T) {
	const golden = "clickhouse/schema.sql"
	want := append(schemaSQL(t), '\n')
	if *update {
		if err := os.WriteFile(golden, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./deploy -run TestSchemaGolden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from schema.Migrations(); a migration changed: run go test ./deploy -run TestSchemaGolden -update and review the diff", golden)
	}
}

// TestNoDivergentDDL keeps the deployment from creating tables of its own:
// datamap migrates its schema at start, and a second copy of the DDL would
// drift from the one the code queries.
func TestNoDivergentDDL(t *testing.T) {
	createDatabase := regexp.MustCompile(`(?i)^CREATE\s+DATABASE\s+(IF\s+NOT\s+EXISTS\s+)?datamap$`)
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".sql" || path == filepath.Join("clickhouse", "schema.sql") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, stmt := range sqlStatements(string(b)) {
			if !createDatabase.MatchString(stmt) {
				t.Errorf("%s: %q: deployment SQL may only create the database; datamap creates its tables itself", path, stmt)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c := readCompose(t)
	for name, s := range c.Services {
		for _, v := range s.Volumes {
			if strings.Contains(v, "schema.sql") || strings.Contains(v, "migrations") {
				t.Errorf("service %s mounts %q: the schema is applied by datamap, not by the stack", name, v)
			}
		}
	}
}

// sqlStatements drops -- comments and splits on semicolons, normalising
// whitespace.
func sqlStatements(sql string) []string {
	var kept []string
	for _, line := range strings.Split(sql, "\n") {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		kept = append(kept, line)
	}
	var out []string
	for _, s := range strings.Split(strings.Join(kept, "\n"), ";") {
		if s = strings.Join(strings.Fields(s), " "); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// TestNATSConfigParses runs nats/nats.conf through nats-server's own parser
// (the version in go.mod, which the compose image tag follows), then starts
// a server with it and creates datamap's streams over a token connection.
func TestNATSConfigParses(t *testing.T) {
	const token = "dummy-token-for-the-test"
	t.Setenv("DATAMAP_NATS_TOKEN", token)
	var opts server.Options
	if err := opts.ProcessConfigFile("nats/nats.conf"); err != nil {
		t.Fatalf("nats/nats.conf: %v", err)
	}
	if !opts.JetStream || opts.StoreDir != "/data" {
		t.Errorf("JetStream %v in %q; want enabled with its store on the /data volume", opts.JetStream, opts.StoreDir)
	}
	if opts.Authorization != token {
		t.Errorf("authorization token %q, want $DATAMAP_NATS_TOKEN from the environment", opts.Authorization)
	}
	if opts.SyncInterval != time.Second || opts.SyncAlways {
		t.Errorf("sync_interval %v (always %v); the README and nats.conf document 1s", opts.SyncInterval, opts.SyncAlways)
	}
	if opts.MaxPayload < events.MaxEventSize {
		t.Errorf("max_payload %d is smaller than the largest event (%d)", opts.MaxPayload, events.MaxEventSize)
	}

	// The same options, on free ports and a temporary store.
	opts.Host, opts.Port, opts.HTTPPort = "127.0.0.1", server.RANDOM_PORT, 0
	opts.StoreDir, opts.NoSigs, opts.NoLog = t.TempDir(), true, true
	ns, err := server.NewServer(&opts)
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS with nats/nats.conf did not start")
	}
	if _, err := nats.Connect(ns.ClientURL()); err == nil {
		t.Error("NATS accepted a connection without the token")
	}
	nc, err := nats.Connect(ns.ClientURL(), nats.Token(token))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := consumer.EnsureStreams(ctx, js, consumer.DefaultStreamSettings); err != nil {
		t.Fatalf("datamap's streams on a server configured by nats/nats.conf: %v", err)
	}
	if _, err := consumer.EnsureDurable(ctx, js, consumer.DefaultSettings); err != nil {
		t.Fatal(err)
	}
}

// TestClickHouseUsersXML checks users.d/datamap.xml is well-formed and
// gives the datamap user a password from an environment variable the
// compose file sets.
func TestClickHouseUsersXML(t *testing.T) {
	b, err := os.ReadFile("clickhouse/users.d/datamap.xml")
	if err != nil {
		t.Fatal(err)
	}
	// Well-formedness: every token, to the end.
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("users.d/datamap.xml: %v", err)
		}
	}
	var doc struct {
		XMLName xml.Name `xml:"clickhouse"`
		User    struct {
			Password struct {
				FromEnv string `xml:"from_env,attr"`
				Value   string `xml:",chardata"`
			} `xml:"password"`
			Grants []string `xml:"grants>query"`
		} `xml:"users>datamap"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	pw := doc.User.Password
	if pw.FromEnv == "" || strings.TrimSpace(pw.Value) != "" {
		t.Fatalf("the datamap user's password must come from_env, never be written in the file")
	}
	if _, ok := readCompose(t).Services["clickhouse"].Environment[pw.FromEnv]; !ok {
		t.Errorf("the password comes from %s, which the clickhouse service's environment does not set", pw.FromEnv)
	}
	grants := strings.Join(doc.User.Grants, "\n")
	if !strings.Contains(grants, "ON datamap.*") {
		t.Errorf("grants %q do not cover the datamap database", grants)
	}
}

// TestNATSTokenShared: nats.conf reads the token from the nats service's
// environment, and datamap must get the same variable.
func TestNATSTokenShared(t *testing.T) {
	c := readCompose(t)
	nc, dm := c.Services["nats"].Environment["DATAMAP_NATS_TOKEN"], c.Services["datamap"].Environment["DATAMAP_NATS_TOKEN"]
	if nc == "" || nc != dm {
		t.Errorf("nats gets DATAMAP_NATS_TOKEN=%q, datamap %q; both must read the same .env value", nc, dm)
	}
	var names []string
	for name := range c.Services {
		names = append(names, name)
	}
	sort.Strings(names)
	if len(names) != 3 {
		t.Errorf("services %v; the stack is nats, clickhouse and datamap", names)
	}
}
