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
	want := access.Credentials{{Role: access.Full, Name: APITokenName, Secret: "full-1"}, {Role: access.Read, Secret: "read-1"}, {Role: access.Read, Secret: "read-2"},
		{Role: access.Subject, Name: "dpo", Secret: "0123456789abcdef0123"}, {Role: access.Ingest, Name: "ingest#1", Secret: "ingest-1"}, {Role: access.Metrics, Secret: "metrics-1"}}
	if !slices.Equal(got, want) {
		t.Errorf("Credentials = %+v\nwant %+v", got, want)
	}
	if got := (Config{}).Credentials(""); len(got) != 0 {
		t.Errorf("an empty configuration has credentials %+v", got)
	}
}

// No printed URL holds a secret: `datamap config` (Variables), a
// validation error, an error that repeats a URL.
func TestURLSecretsAreMasked(t *testing.T) {
	for in, want := range map[string]string{
		"clickhouse://u:pw@ch:9000/datamap":                   "clickhouse://u:xxxxx@ch:9000/datamap",
		"clickhouse://ch:9000/datamap?username=u&password=pw": "clickhouse://ch:9000/datamap?password=xxxxx&username=u",
		"nats://user:secret@a:4222,nats://user:secret@b:4222": "nats://user:xxxxx@a:4222,nats://user:xxxxx@b:4222",
		"nats://s3cr3ttoken@nats:4222":                        "nats://xxxxx@nats:4222",
		`parse "clickhouse://u:pw@ch:99999": invalid port`:    `parse "clickhouse://u:xxxxx@ch:99999": invalid port`,
		"connect to nats://a:4222 failed":                     "connect to nats://a:4222 failed",
		"no url here":                                         "no url here",
	} {
		if got := RedactURLs(in); got != want {
			t.Errorf("RedactURLs(%q) = %q, want %q", in, got, want)
		}
	}
	c := Config{NATSURL: "nats://user:secret@a:4222", ClickHouseDSN: "clickhouse://u:pw@ch:9000/d?password=pw2"}
	for _, v := range c.Variables() {
		for _, secret := range []string{"secret", "pw"} {
			if strings.Contains(v.Value, ":"+secret+"@") || strings.Contains(v.Value, "="+secret) {
				t.Errorf("%s = %s", v.Name, v.Value)
			}
		}
	}
	c.NATSURL = "nats://user:secret@a:4222,::bad"
	if err := c.Validate(); err != nil && strings.Contains(err.Error(), "secret") {
		t.Errorf("Validate repeats the password: %v", err)
	}
}
func TestIngestTokensBindSources(t *testing.T) {
	const tok1, tok2 = "0123456789abcdef0123", "fedcba9876543210fedc"
	c := Config{IngestTokens: "billing:" + tok1 + ":billing-api, billing-worker ,relay:" + tok2 + ":*"}
	if err := errOf(c.ingestCredentials()); err != nil {
		t.Fatal(err)
	}
	got := c.Credentials("api").Only(access.Ingest)
	want := access.Credentials{
		{Role: access.Ingest, Name: "billing", Secret: tok1, Sources: access.SourcesOf("billing-api", "billing-worker")},
		{Role: access.Ingest, Name: "relay", Secret: tok2},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ingest credentials = %+v\nwant %+v", got, want)
	}
	if !got[0].SpeaksFor("billing-worker") || got[0].SpeaksFor("support-desk") || !got[1].SpeaksFor("support-desk") {
		t.Error("SpeaksFor: billing speaks for its two sources only, relay for any")
	}
	if w := c.Warnings(); len(w) != 1 || !strings.Contains(w[0], "relay") || strings.Contains(w[0], tok2) {
		t.Errorf("warnings = %q; want one about relay, without its token", w)
	}
	if api, _ := c.Credentials("api-secret-0123456789").Match("api-secret-0123456789"); api.Name != APITokenName || !api.SpeaksFor("anything") {
		t.Errorf("the API token = %+v; want it named %s, for any source", api, APITokenName)
	}

	old := Config{IngestTokens: tok1 + "," + tok2}
	got = old.Credentials("").Only(access.Ingest)
	if len(got) != 2 || got[0].Name != "ingest#1" || got[1].Name != "ingest#2" || !got[0].Sources.Any() {
		t.Errorf("old form = %+v; want two tokens named by position, for any source", got)
	}
	if w := old.Warnings(); len(w) != 2 {
		t.Errorf("old form warnings = %q; want one per token", w)
	}

	for in, want := range map[string]string{
		tok1 + ",billing:" + tok2 + ":billing-api":           "item 1 has no name",
		"billing:" + tok1:                                    "entry 1 is not name:token:source",
		"billing:" + tok1 + ":a,billing:" + tok2 + ":b":      "used twice",
		"bill ing:" + tok1 + ":a":                            "letters, digits",
		"billing:short:a":                                    "shorter than 16",
		"billing:" + tok1 + ":":                              "empty source",
		"billing:" + tok1 + ":a,,support:" + tok2 + ":b\x01": "control characters",
	} {
		err := errOf(Config{IngestTokens: in}.ingestCredentials())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("INGEST_TOKENS=%q: %v; want %q", in, err, want)
			continue
		}
		if strings.Contains(err.Error(), tok1) || strings.Contains(err.Error(), tok2) {
			t.Errorf("INGEST_TOKENS error shows a token: %v", err)
		}
	}
}

func errOf(_ []access.Credential, err error) error { return err }
func TestAlertWebhooks(t *testing.T) {
	c := validConfig()
	c.AlertWebhooks = "slack=https://hooks.slack.com/services/T0/B0/s3cret, json=http://127.0.0.1:9000/hook,alertmanager=http://am.internal:9093/api/v2/alerts"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	hooks, err := c.AlertWebhookList()
	if err != nil || len(hooks) != 3 || hooks[0].Format != "slack" || hooks[1].URL != "http://127.0.0.1:9000/hook" {
		t.Fatalf("%v %+v", err, hooks)
	}
	// Plain http leaves the machine only with a warning; loopback is fine.
	if w := c.Warnings(); len(w) != 1 || !strings.Contains(w[0], "entry 3") || !strings.Contains(w[0], "am.internal") {
		t.Errorf("warnings %q, want one about entry 3", w)
	}
	for entry, want := range map[string]string{
		"https://hooks.slack.com/services/T0/B0/s3cret": "entry 1 is not format=url",
		"teams=https://example.com/hook":                "format \"teams\"",
		"slack=ftp://example.com/s3cret":                "entry 1 (slack): not an http or https URL",
		"json=/relative/s3cret":                         "not an http or https URL",
		"json=https://ok.example.com/a,json=":           "entry 2 is not format=url",
	} {
		c.AlertWebhooks = entry
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), "DATAMAP_ALERT_WEBHOOKS") || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want DATAMAP_ALERT_WEBHOOKS … %s", entry, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%q: the error repeats the URL: %v", entry, err)
		}
	}
	c.AlertWebhooks = ""
	c.AlertInterval = 100 * time.Millisecond
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "DATAMAP_ALERT_INTERVAL") {
		t.Errorf("interval of 100ms: %v", err)
	}
	c.AlertWebhooks = "slack=https://hooks.slack.com/services/T0/B0/s3cret"
	for _, v := range c.Variables() {
		if v.Name == "DATAMAP_ALERT_WEBHOOKS" && strings.Contains(v.Value, "s3cret") {
			t.Errorf("datamap config shows the webhook URL: %s", v.Value)
		}
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
