package config

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/back-trace/datamap/access"
)

func TestReadmeDocumentsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range (Config{}).Variables() {
		if !strings.Contains(string(readme), "`"+v.Name+"`") {
			t.Errorf("README.md does not document %s (%s)", v.Name, v.Description)
		}
	}
}

func TestDefaultsAreValid(t *testing.T) {
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, Prefix+"_") {
			name, _, _ := strings.Cut(kv, "=")
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:8470" || c.BatchSize != 5000 || strings.HasPrefix(c.DataDir, "~") {
		t.Errorf("defaults: %+v", c)
	}
}

func TestValidateListsEveryProblem(t *testing.T) {
	c := Config{DataDir: "/tmp/x", NATSURL: "::bad", NATSPort: 70000, StreamReplicas: 9, StreamDuplicates: 0,
		ClickHouseDSN: "mysql://x", HTTPAddr: "8470", BatchSize: 0, LogLevel: "loud", LogFormat: "xml",
		NATSTLSCert: "cert.pem", Taxonomy: "/nonexistent/taxonomy.yaml", Registry: "/nonexistent/datamap.yaml", SessionTTL: time.Second,
		RawEventsTTLDays: 3, SubjectEvidence: time.Hour}
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, name := range []string{"NATS_URL", "NATS_PORT", "STREAM_REPLICAS", "STREAM_DUPLICATES", "CLICKHOUSE_DSN",
		"HTTP_ADDR", "BATCH_SIZE", "BATCH_WAIT", "LOG_LEVEL", "LOG_FORMAT", "NATS_TLS_CERT", "TAXONOMY", "REGISTRY", "SESSION_TTL",
		"ROLLUP_INTERVAL", "RAW_EVENTS_TTL_DAYS", "SUBJECT_EVIDENCE"} {
		if !strings.Contains(err.Error(), "DATAMAP_"+name) {
			t.Errorf("error does not name DATAMAP_%s:\n%v", name, err)
		}
	}
}

// validConfig is a configuration that passes Validate.
func validConfig() Config {
	return Config{DataDir: "d", HTTPAddr: "127.0.0.1:1", StreamReplicas: 1, StreamDuplicates: 1, BatchSize: 1,
		BatchWait: 1, RollupInterval: 1, LogLevel: "info", LogFormat: "text", SubjectEvidence: 24 * time.Hour}
}

func TestRawEventsTTL(t *testing.T) {
	for _, c := range []struct {
		days int
		ok   bool
	}{{0, true}, {7, true}, {400, true}, {1, false}, {6, false}, {-1, false}} {
		cfg := validConfig()
		cfg.RawEventsTTLDays = c.days
		err := cfg.Validate()
		if (err == nil) != c.ok {
			t.Errorf("RAW_EVENTS_TTL_DAYS=%d: %v", c.days, err)
		}
		if err != nil && (!strings.Contains(err.Error(), "DATAMAP_RAW_EVENTS_TTL_DAYS") || !strings.Contains(err.Error(), "at least 7")) {
			t.Errorf("the error does not say what to do: %v", err)
		}
	}
}

func TestClusterNeedsExternalClickHouse(t *testing.T) {
	c := validConfig()
	c.ClickHouseCluster = "datamap_cluster"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "DATAMAP_CLICKHOUSE_CLUSTER") ||
		!strings.Contains(err.Error(), "DATAMAP_CLICKHOUSE_DSN") {
		t.Errorf("cluster without DSN: %v", err)
	}
	c.ClickHouseDSN = "clickhouse://u:p@ch:9000/datamap"
	if err := c.Validate(); err != nil {
		t.Errorf("cluster with DSN: %v", err)
	}
	c.ClickHouseCluster = "bad name"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "DATAMAP_CLICKHOUSE_CLUSTER") {
		t.Errorf("bad cluster name: %v", err)
	}
}

func TestSecretsAreMasked(t *testing.T) {
	c := Config{NATSToken: "tok-123", APIToken: "api-456", ClickHouseDSN: "clickhouse://u:pw-789@ch:9000/db"}
	for _, v := range c.Variables() {
		for _, secret := range []string{"tok-123", "api-456", "pw-789"} {
			if strings.Contains(v.Value, secret) {
				t.Errorf("%s shows a secret: %s", v.Name, v.Value)
			}
		}
	}
	if got := Mask("clickhouse://u:pw@ch:9000/db"); !strings.Contains(got, "ch:9000") {
		t.Errorf("Mask dropped the host: %s", got)
	}
}

func FuzzValidateNeverPanics(f *testing.F) {
	f.Add("nats://x:4222", "clickhouse://u:p@h:9000/d", "127.0.0.1:1")
	f.Fuzz(func(t *testing.T, natsURL, dsn, addr string) {
		c := Config{DataDir: "d", NATSURL: natsURL, ClickHouseDSN: dsn, HTTPAddr: addr, StreamReplicas: 1,
			StreamDuplicates: 1, BatchSize: 1, BatchWait: 1, LogLevel: "info", LogFormat: "text"}
		_ = c.Validate()
		_ = c.Variables()
	})
}

func TestSubjectTokens(t *testing.T) {
	c := Config{SubjectTokens: " dpo:0123456789abcdef0123456789abcdef , auditor-laptop:fedcba9876543210fedcba9876543210,"}
	got := c.Credentials("").Only(access.Subject)
	if len(got) != 2 || got[0] != (access.Credential{Role: access.Subject, Name: "dpo", Secret: "0123456789abcdef0123456789abcdef"}) || got[1].Name != "auditor-laptop" {
		t.Fatalf("subject credentials = %+v", got)
	}
	secret := "0123456789abcdef0123456789abcdef"
	for _, c := range []struct{ in, want string }{
		{secret, "entry 1 is not name:token"},
		{"dpo:" + secret + ",:x" + secret, "entry 2 is not name:token"},
		{"d p o:" + secret, "letters, digits"},
		{"dpo:" + secret + ",dpo:x" + secret, "used twice"},
	} {
		_, err := (Config{SubjectTokens: c.in}).subjectCredentials()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("SUBJECT_TOKENS=%q: %v; want %q", c.in, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("SUBJECT_TOKENS error shows a token: %v", err)
		}
		full := Config{DataDir: "d", HTTPAddr: "127.0.0.1:1", StreamReplicas: 1, StreamDuplicates: 1, BatchSize: 1,
			BatchWait: 1, LogLevel: "info", LogFormat: "text", SubjectEvidence: 24 * time.Hour, SubjectTokens: c.in}
		if err := full.Validate(); err == nil || !strings.Contains(err.Error(), "DATAMAP_SUBJECT_TOKENS") {
			t.Errorf("Validate with SUBJECT_TOKENS=%q: %v", c.in, err)
		}
	}
	for _, v := range (Config{SubjectTokens: "dpo:" + secret, SubjectKey: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}).Variables() {
		if strings.Contains(v.Value, secret) || strings.Contains(v.Value, "AAEC") {
			t.Errorf("%s shows a secret: %s", v.Name, v.Value)
		}
	}
}

// TestCredentialsCarryEachSettingsRole: each token setting gives its role,
// blanks open nothing, and the full-access token comes first (Match
// prefers it when a secret is set twice).
func TestCredentialsCarryEachSettingsRole(t *testing.T) {
	c := Config{ReadTokens: "read-1, ,read-2", IngestTokens: " ingest-1,", MetricsToken: "metrics-1",
		SubjectTokens: "dpo:0123456789abcdef0123"}
	got := c.Credentials("full-1")
	want := access.Credentials{{Role: access.Full, Secret: "full-1"}, {Role: access.Read, Secret: "read-1"}, {Role: access.Read, Secret: "read-2"},
		{Role: access.Subject, Name: "dpo", Secret: "0123456789abcdef0123"}, {Role: access.Ingest, Secret: "ingest-1"}, {Role: access.Metrics, Secret: "metrics-1"}}
	if !slices.Equal(got, want) {
		t.Errorf("Credentials = %+v\nwant %+v", got, want)
	}
	if got := (Config{}).Credentials(""); len(got) != 0 {
		t.Errorf("an empty configuration has credentials %+v", got)
	}
}

// Every role's tokens must be long and look random; a token given twice,
// in one role or two, is refused; the error names the setting and the
// entry, never the token.
func TestTokensMustBeStrongAndGivenOnce(t *testing.T) {
	strong := "9f2c4e7a1b3d5f60718293a4b5c6d7e8"
	other := "Zq8-Kp3_Wm7.Xr2~Ty6-Lb1_Nc5.Vd4~"
	weak := map[string]string{"x": "is 1 characters long", "short-token-of-20-ch": "is 20 characters long",
		strings.Repeat("ab", 20): "only 2 different characters", strong[:16] + " " + strong[16:]: "a space"}
	set := []struct {
		variable string
		with     func(c *Config, token string)
	}{
		{"DATAMAP_API_TOKEN", func(c *Config, v string) { c.APIToken = v }},
		{"DATAMAP_READ_TOKENS", func(c *Config, v string) { c.ReadTokens = other + "," + v }},
		{"DATAMAP_SUBJECT_TOKENS", func(c *Config, v string) { c.SubjectTokens = "dpo:" + v }},
		{"DATAMAP_INGEST_TOKENS", func(c *Config, v string) { c.IngestTokens = v }},
		{"DATAMAP_METRICS_TOKEN", func(c *Config, v string) { c.MetricsToken = v }},
	}
	for _, s := range set {
		c := validConfig()
		s.with(&c, strong)
		if err := c.Validate(); err != nil {
			t.Errorf("%s with a strong token: %v", s.variable, err)
		}
		for token, want := range weak {
			c := validConfig()
			s.with(&c, token)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), s.variable) || !strings.Contains(err.Error(), want) {
				t.Errorf("%s=%q: %v, want an error naming %s that says %q", s.variable, token, err, s.variable, want)
			}
			if err != nil && len(token) > 4 && strings.Contains(err.Error(), token) {
				t.Errorf("%s: the error shows the token: %v", s.variable, err)
			}
		}
	}
	for i, a := range set {
		for _, b := range set[i+1:] {
			c := validConfig()
			a.with(&c, strong)
			b.with(&c, strong)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), b.variable) || !strings.Contains(err.Error(), "also given in "+a.variable) {
				t.Errorf("one token in %s and %s: %v, want it refused naming both", a.variable, b.variable, err)
			}
			if err != nil && strings.Contains(err.Error(), strong) {
				t.Errorf("the error shows the token: %v", err)
			}
		}
	}
	c := validConfig()
	c.ReadTokens = strong + "," + strong
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "DATAMAP_READ_TOKENS: entry 2: the token is also given in DATAMAP_READ_TOKENS entry 1") {
		t.Errorf("one token twice in READ_TOKENS: %v", err)
	}
}
