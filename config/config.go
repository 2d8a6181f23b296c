// Package config is datamap's service configuration, read from DATAMAP_*
// environment variables. Every field documents its variable and default;
// the README's configuration table is generated from the same tags
// (see TestReadmeDocumentsEveryVariable).
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/kelseyhightower/envconfig"

	"github.com/back-trace/datamap/access"
)

// Config is the effective configuration of a datamap process.
type Config struct {
	DataDir string `envconfig:"DATA_DIR" desc:"where the embedded NATS and ClickHouse keep their data, and where running servers are found" default:"~/.local/share/datamap"`

	NATSURL          string        `envconfig:"NATS_URL" desc:"external NATS server or cluster (nats://host:4222,…); empty starts an embedded one"`
	NATSCredsFile    string        `envconfig:"NATS_CREDS" desc:"NATS credentials file (JWT + nkey) for the external server"`
	NATSToken        string        `envconfig:"NATS_TOKEN" desc:"NATS auth token for the external server" secret:"true"`
	NATSTLSCA        string        `envconfig:"NATS_TLS_CA" desc:"CA certificate file to verify the external NATS server"`
	NATSTLSCert      string        `envconfig:"NATS_TLS_CERT" desc:"client certificate file for NATS mutual TLS"`
	NATSTLSKey       string        `envconfig:"NATS_TLS_KEY" desc:"client key file for NATS mutual TLS"`
	NATSPort         int           `envconfig:"NATS_PORT" desc:"port of the embedded NATS server on 127.0.0.1; 0 picks a free one" default:"0"`
	NATSSyncInterval time.Duration `envconfig:"NATS_SYNC_INTERVAL" desc:"embedded NATS: how often JetStream fsyncs acknowledged writes; 0 keeps the NATS default (2m); see docs/reliability.md" default:"1s"`
	NATSSyncAlways   bool          `envconfig:"NATS_SYNC_ALWAYS" desc:"embedded NATS: fsync every write before acknowledging it (slower, survives power loss)" default:"false"`
	StreamReplicas   int           `envconfig:"STREAM_REPLICAS" desc:"replicas of the events and dead-letter streams (3 on a production cluster)" default:"1"`
	StreamDuplicates time.Duration `envconfig:"STREAM_DUPLICATES" desc:"JetStream dedup window for publisher retries (Nats-Msg-Id)" default:"2m"`

	ClickHouseFsync bool `envconfig:"CLICKHOUSE_FSYNC" desc:"fsync every inserted part before the consumer acks its events (survives power loss); see docs/reliability.md" default:"true"`

	ClickHouseDSN string `envconfig:"CLICKHOUSE_DSN" desc:"external ClickHouse, e.g. clickhouse://user:pass@host:9000/datamap; empty starts the embedded one" secret:"true"`
	// ClickHouseCluster switches the catalog schema to cluster mode: DDL
	// ON CLUSTER, ReplicatedMergeTree tables behind Distributed ones (see
	// docs/clustering.md). Only meaningful with an external ClickHouse.
	ClickHouseCluster string `envconfig:"CLICKHOUSE_CLUSTER" desc:"ClickHouse cluster name (remote_servers) for cluster mode: migrations ON CLUSTER, ReplicatedMergeTree + Distributed tables; needs CLICKHOUSE_DSN; empty means one server"`
	// ClickHouseKeeper=false is a cluster without Keeper: no replicated
	// tables, no ON CLUSTER; datamap migrates every server the DSN lists.
	ClickHouseKeeper bool `envconfig:"CLICKHOUSE_KEEPER" desc:"cluster mode: the cluster has ClickHouse Keeper (or ZooKeeper); false: plain MergeTree shards behind Distributed tables, and datamap migrates every server listed in CLICKHOUSE_DSN (docs/clustering.md)" default:"true"`

	HTTPAddr string `envconfig:"HTTP_ADDR" desc:"address of the HTTP API (/healthz, /readyz, /api/v1/…)" default:"127.0.0.1:8470"`
	// HTTPHosts are the names, besides localhost and IP addresses, that
	// requests may give in their Host header: a page of another site whose
	// name was pointed at this listener (DNS rebinding) gives its own.
	HTTPHosts string `envconfig:"HTTP_HOSTS" desc:"comma-separated host names the HTTP listener answers to besides localhost and IP addresses, e.g. datamap.internal.example (the name a proxy or browser uses); other Host headers get 421"`
	APIToken  string `envconfig:"API_TOKEN" desc:"bearer token for the HTTP API; empty generates one in the data directory" secret:"true"`
	// ReadTokens is a string, not a list, so that Variables masks it as
	// set or unset; ReadTokenList splits it.
	ReadTokens string `envconfig:"READ_TOKENS" desc:"comma-separated read-only bearer tokens for the HTTP API's query routes (/api/v1/inventory, flows, lineage…)" secret:"true"`

	MetricsToken string `envconfig:"METRICS_TOKEN" desc:"bearer token GET /metrics requires; empty leaves /metrics open (it listens on HTTP_ADDR, loopback by default)" secret:"true"`
	// SubjectTokens open the subject questions (a person's data, requests,
	// the audit trail), and only those: refs are personal data. Each is
	// named, so the audit trail can say who asked without keeping a token.
	SubjectTokens string `envconfig:"SUBJECT_TOKENS" desc:"comma-separated name:token pairs for the subject role: the only tokens that may ask about a person (/api/v1/subject/…) and read the audit trail; every use is audited by name" secret:"true"`
	// SubjectKey is read by `datamap subject` on the caller's machine to
	// compute a reference from an e-mail, phone or customer number; the
	// server never reads it (docs/subjects.md).
	SubjectKey string `envconfig:"SUBJECT_KEY" desc:"the organisation's subject key (base64, printed by datamap subject key); only on the machines of services and privacy officers, never on the server" secret:"true"`
	// SubjectEvidence is how long consent and request rows of the subject
	// table are kept: the evidence of how a person's rights were handled.
	SubjectEvidence time.Duration `envconfig:"SUBJECT_EVIDENCE" desc:"how long consents and requests about a person are kept as evidence (subject table TTL); the person's other rows follow their categories' retention" default:"26280h"`

	// IngestTokens bind each token to the sources it may speak for:
	// "billing:tok1:billing-api,billing-worker,support:tok2:support-desk"
	// (IngestCredentials parses it; docs/security.md).
	IngestTokens string `envconfig:"INGEST_TOKENS" desc:"name:token:source,source… entries: bearer tokens that may POST events to /v1/events for the sources listed, and nothing else (* for any source); the old form, plain comma-separated tokens, speaks for any source and is warned about at start (docs/security.md)" secret:"true"`
	// LegacySubjects keeps the old shared subjects, on which any NATS
	// publisher can speak for any source, for the publishers not yet on
	// the per-source subjects (docs/security.md).
	LegacySubjects bool `envconfig:"LEGACY_SUBJECTS" desc:"store events that arrive on the old shared NATS subjects datamap.events.<kind> (with a warning, under the credential nats:legacy); false dead-letters them: set it once every publisher uses an SDK that publishes on datamap.events.<source>.<kind>" default:"true"`

	// Traffic: the OTLP receiver that turns the traces services send into
	// observed destinations (docs/traffic.md).
	OTLPAddr         string `envconfig:"OTLP_ADDR" desc:"address of the OTLP/HTTP traces receiver (POST /v1/traces); empty turns it off" default:"127.0.0.1:4318"`
	OTLPGRPCAddr     string `envconfig:"OTLP_GRPC_ADDR" desc:"address of the OTLP/gRPC traces receiver, e.g. 127.0.0.1:4317; empty turns it off"`
	Vendors          string `envconfig:"VENDORS" desc:"vendor catalogue YAML replacing the built-in one (schemas/vendors.yaml): the processors and host patterns traffic is classified against"`
	InternalSuffixes string `envconfig:"INTERNAL_SUFFIXES" desc:"comma-separated domain suffixes whose hosts are the organisation's own (e.g. corp.example.com); *.svc.cluster.local, private and loopback addresses always are"`

	// Alerts: drift findings announced when they open and when they are
	// resolved (docs/alerts.md). The webhook URLs are secrets: a Slack
	// incoming webhook's path is its credential.
	AlertInterval time.Duration `envconfig:"ALERT_INTERVAL" desc:"how often serve checks the drift findings and announces the ones opened or resolved since; 0 means 30s" default:"30s"`
	AlertNATS     bool          `envconfig:"ALERT_NATS" desc:"announce findings as CloudEvents on NATS, subjects datamap.findings.<kind> of the stream DATAMAP_FINDINGS" default:"true"`
	AlertWebhooks string        `envconfig:"ALERT_WEBHOOKS" desc:"comma-separated format=url webhooks findings are announced to; formats json (the CloudEvent), slack (incoming webhook), alertmanager (POST /api/v2/alerts)" secret:"true"`

	Registry   string        `envconfig:"REGISTRY" desc:"the declared registry (datamap.yaml) that serve's drift and Article 30 routes and pages check the catalog against, and drift/report use without --registry; backtrace names the embedded BackTrace one"`
	SessionTTL time.Duration `envconfig:"SESSION_TTL" desc:"how long a login to the web data map lasts; 0 means 8h" default:"8h"`

	Taxonomy string `envconfig:"TAXONOMY" desc:"taxonomy YAML file; empty uses the built-in BackTrace taxonomy"`

	RollupInterval   time.Duration `envconfig:"ROLLUP_INTERVAL" desc:"how often serve folds newly arrived events into the rollups; answers are exact either way, days not folded yet are read from raw events" default:"5s"`
	RawEventsTTLDays int           `envconfig:"RAW_EVENTS_TTL_DAYS" desc:"days the catalog keeps raw events (at least 7); 0 keeps them forever. Older days are answered from the rollups, whole days only; see docs/catalog.md" default:"0"`

	BatchSize int           `envconfig:"BATCH_SIZE" desc:"events per ClickHouse INSERT" default:"5000"`
	BatchWait time.Duration `envconfig:"BATCH_WAIT" desc:"longest wait to fill a batch before inserting what there is" default:"200ms"`

	LogLevel  string `envconfig:"LOG_LEVEL" desc:"debug, info, warn or error" default:"info"`
	LogFormat string `envconfig:"LOG_FORMAT" desc:"text or json" default:"text"`
}

// MinRawEventsTTLDays is the shortest raw-event TTL: a day's rollup rows
// are final the day before its raw events expire, so an event that arrives
// later than that after it happened is not counted; a week absorbs outages
// of publishers and of the catalog.
const MinRawEventsTTLDays = 7

// clusterName is what schema.Dialect accepts as a cluster name.
var clusterName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Prefix of every variable.
const Prefix = "DATAMAP"

// Load reads the environment, applies defaults and validates the result.
func Load() (Config, error) {
	var c Config
	if err := envconfig.Process(Prefix, &c); err != nil {
		return c, fmt.Errorf("configuration: %w", err)
	}
	c.DataDir = expandHome(c.DataDir)
	return c, c.Validate()
}

// Validate reports every problem with the configuration at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s_%s: %s", Prefix, name, fmt.Sprintf(format, args...)))
	}
	if c.DataDir == "" {
		bad("DATA_DIR", "must not be empty")
	}
	if c.NATSURL != "" {
		for _, u := range strings.Split(c.NATSURL, ",") {
			if p, err := url.Parse(strings.TrimSpace(u)); err != nil || p.Host == "" {
				bad("NATS_URL", "%q is not a URL such as nats://127.0.0.1:4222", RedactURLs(u))
			}
		}
	}
	if c.NATSPort < 0 || c.NATSPort > 65535 {
		bad("NATS_PORT", "%d is not a port (0–65535)", c.NATSPort)
	}
	if (c.NATSTLSCert == "") != (c.NATSTLSKey == "") {
		bad("NATS_TLS_CERT", "set both NATS_TLS_CERT and NATS_TLS_KEY, or neither")
	}
	for name, file := range map[string]string{"NATS_CREDS": c.NATSCredsFile, "NATS_TLS_CA": c.NATSTLSCA,
		"NATS_TLS_CERT": c.NATSTLSCert, "NATS_TLS_KEY": c.NATSTLSKey, "TAXONOMY": c.Taxonomy, "REGISTRY": c.registryFile(),
		"VENDORS": c.Vendors} {
		if file != "" {
			if _, err := os.Stat(file); err != nil {
				bad(name, "cannot read %s: %v", file, errors.Unwrap(err))
			}
		}
	}
	if c.StreamReplicas < 1 || c.StreamReplicas > 5 {
		bad("STREAM_REPLICAS", "%d is not 1 to 5", c.StreamReplicas)
	}
	if c.StreamDuplicates <= 0 {
		bad("STREAM_DUPLICATES", "must be positive, e.g. 2m")
	}
	if c.NATSSyncInterval < 0 {
		bad("NATS_SYNC_INTERVAL", "must not be negative")
	}
	if c.ClickHouseDSN != "" {
		if p, err := url.Parse(c.ClickHouseDSN); err != nil || p.Host == "" || (p.Scheme != "clickhouse" && p.Scheme != "tcp") {
			bad("CLICKHOUSE_DSN", "not a DSN such as clickhouse://user:password@host:9000/database")
		}
	}
	if c.ClickHouseCluster != "" {
		if c.ClickHouseDSN == "" {
			bad("CLICKHOUSE_CLUSTER", "cluster mode needs an external ClickHouse cluster: set DATAMAP_CLICKHOUSE_DSN too (the embedded ClickHouse is one server)")
		}
		if !clusterName.MatchString(c.ClickHouseCluster) {
			bad("CLICKHOUSE_CLUSTER", "%q is not a cluster name (letters, digits, underscore)", c.ClickHouseCluster)
		}
	}
	if host, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		bad("HTTP_ADDR", "%q is not host:port, e.g. 127.0.0.1:8470", c.HTTPAddr)
	} else if host == "" {
		bad("HTTP_ADDR", "%q listens on every interface; name one, e.g. 127.0.0.1:8470 (or 0.0.0.0:8470 on purpose)", c.HTTPAddr)
	}
	for name, addr := range map[string]string{"OTLP_ADDR": c.OTLPAddr, "OTLP_GRPC_ADDR": c.OTLPGRPCAddr} {
		if addr == "" {
			continue
		}
		if host, _, err := net.SplitHostPort(addr); err != nil {
			bad(name, "%q is not host:port, e.g. 127.0.0.1:4318", addr)
		} else if host == "" {
			bad(name, "%q listens on every interface; name one, e.g. 127.0.0.1:4318 (or 0.0.0.0:4318 on purpose)", addr)
		}
	}
	for _, s := range c.InternalSuffixList() {
		if strings.ContainsAny(s, "/:@ ") || !strings.Contains(strings.Trim(s, "."), ".") && s != "internal" {
			bad("INTERNAL_SUFFIXES", "%q is not a domain suffix such as corp.example.com", s)
		}
	}
	for _, h := range splitList(c.HTTPHosts) {
		if !hostName.MatchString(h) {
			bad("HTTP_HOSTS", "%q is not a host name such as datamap.internal.example (no scheme, port or path)", h)
		}
	}
	if _, err := c.subjectCredentials(); err != nil {
		bad("SUBJECT_TOKENS", "%v", err)
	}
	if _, err := c.ingestCredentials(); err != nil {
		bad("INGEST_TOKENS", "%v", err)
	}
	for _, p := range c.tokenProblems() {
		bad(p.variable, "%s", p.problem)
	}
	if c.SubjectEvidence < 0 || (c.SubjectEvidence > 0 && c.SubjectEvidence < 24*time.Hour) {
		bad("SUBJECT_EVIDENCE", "%s is shorter than a day; give the evidence period, e.g. 26280h (three years)", c.SubjectEvidence)
	}
	if c.SessionTTL != 0 && c.SessionTTL < time.Minute || c.SessionTTL > 30*24*time.Hour {
		bad("SESSION_TTL", "%s is not between 1m and 720h", c.SessionTTL)
	}
	if c.AlertInterval < 0 || c.AlertInterval > 0 && c.AlertInterval < time.Second {
		bad("ALERT_INTERVAL", "%s is shorter than 1s; each check reads the catalog, e.g. 30s (0 means 30s)", c.AlertInterval)
	}
	if _, err := c.AlertWebhookList(); err != nil {
		bad("ALERT_WEBHOOKS", "%v", err)
	}
	if c.RollupInterval <= 0 {
		bad("ROLLUP_INTERVAL", "must be positive, e.g. 5s")
	}
	if c.RawEventsTTLDays != 0 && c.RawEventsTTLDays < MinRawEventsTTLDays {
		bad("RAW_EVENTS_TTL_DAYS", "%d is too short: use 0 (keep raw events forever) or at least %d days; events that arrive later than that after they happened are not counted",
			c.RawEventsTTLDays, MinRawEventsTTLDays)
	}
	if c.BatchSize < 1 || c.BatchSize > 100_000 {
		bad("BATCH_SIZE", "%d is not 1 to 100000", c.BatchSize)
	}
	if c.BatchWait <= 0 {
		bad("BATCH_WAIT", "must be positive, e.g. 200ms")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("LOG_LEVEL", "%q is not debug, info, warn or error", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("LOG_FORMAT", "%q is not text or json", c.LogFormat)
	}
	return errors.Join(errs...)
}

// BuiltinRegistry is the DATAMAP_REGISTRY value naming the registry
// embedded in datamap (registry.Builtin).
const BuiltinRegistry = "backtrace"

// registryFile is the registry's file, "" when none or the embedded one.
func (c Config) registryFile() string {
	if c.Registry == BuiltinRegistry {
		return ""
	}
	return c.Registry
}

// Credentials are the credentials of the HTTP surfaces this configuration
// names, in the order Match prefers them: the full-access apiToken
// (API_TOKEN, or the one generated in the data directory: stack.APIToken;
// named APITokenName, it speaks for any source), READ_TOKENS,
// SUBJECT_TOKENS and INGEST_TOKENS under their names, and METRICS_TOKEN.
// Blank entries are left out. Validate reports a malformed SUBJECT_TOKENS
// or INGEST_TOKENS; Credentials then leaves that role without any.
func (c Config) Credentials(apiToken string) access.Credentials {
	creds := access.Credentials{{Role: access.Full, Name: APITokenName, Secret: apiToken}}
	for _, t := range splitList(c.ReadTokens) {
		creds = append(creds, access.Credential{Role: access.Read, Secret: t})
	}
	subjects, _ := c.subjectCredentials()
	creds = append(creds, subjects...)
	ingest, _ := c.ingestCredentials()
	creds = append(creds, ingest...)
	creds = append(creds, access.Credential{Role: access.Metrics, Secret: c.MetricsToken})
	return slices.DeleteFunc(creds, func(c access.Credential) bool { return c.Secret == "" })
}

// splitList splits a comma-separated setting, without blanks.
func splitList(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// DefaultSubjectEvidence is the evidence period when SUBJECT_EVIDENCE is 0.
const DefaultSubjectEvidence = 3 * 365 * 24 * time.Hour

// SubjectEvidencePeriod is SUBJECT_EVIDENCE, or its default when unset.
func (c Config) SubjectEvidencePeriod() time.Duration {
	if c.SubjectEvidence == 0 {
		return DefaultSubjectEvidence
	}
	return c.SubjectEvidence
}

// subjectCredentials parses SUBJECT_TOKENS ("alice:s3cret,dpo-laptop:…").
// Errors name the entry by position, never by its token.
func (c Config) subjectCredentials() ([]access.Credential, error) {
	var out []access.Credential
	names := map[string]bool{}
	for i, entry := range strings.Split(c.SubjectTokens, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, token, ok := strings.Cut(entry, ":")
		name, token = strings.TrimSpace(name), strings.TrimSpace(token)
		switch {
		case !ok || name == "" || token == "":
			return nil, fmt.Errorf("entry %d is not name:token (the name is what the audit trail records)", i+1)
		case !tokenName.MatchString(name):
			return nil, fmt.Errorf("entry %d: the name must be letters, digits, '.', '_' or '-' (at most 64)", i+1)
		case names[name]:
			return nil, fmt.Errorf("entry %d: the name %q is used twice; the audit trail could not tell them apart", i+1, name)
		}
		names[name] = true
		out = append(out, access.Credential{Role: access.Subject, Name: name, Secret: token})
	}
	return out, nil
}

// APITokenName is the name the API token's events are recorded under.
const APITokenName = "api-token"

// AnySource, as the sources of an INGEST_TOKENS entry, lets the token
// speak for every source: for a relay that forwards many systems' events.
const AnySource = "*"

// ingestCredentials parses INGEST_TOKENS. Its form is
// "name:token:source,source,name:token:source…": an item with a colon
// starts an entry, the items after it without one are more of its
// sources. A value without any colon is the old form, plain tokens, each
// speaking for any source and named "ingest#" and its position. Errors
// name the entry by position and name, never by its token.
func (c Config) ingestCredentials() ([]access.Credential, error) {
	items := splitList(c.IngestTokens)
	if !strings.Contains(c.IngestTokens, ":") {
		out := make([]access.Credential, len(items))
		for i, t := range items {
			out[i] = access.Credential{Role: access.Ingest, Name: fmt.Sprintf("ingest#%d", i+1), Secret: t}
		}
		return out, nil
	}
	var out []access.Credential
	var sources [][]string // of out[i], as listed
	names := map[string]bool{}
	for i, item := range items {
		parts := strings.Split(item, ":")
		if len(parts) == 1 {
			if len(out) == 0 {
				return nil, fmt.Errorf("item %d has no name: in the name:token:source,… form every token has a name; name it, or list only plain tokens", i+1)
			}
			if err := addSource(&sources[len(sources)-1], out[len(out)-1].Name, item); err != nil {
				return nil, err
			}
			continue
		}
		name, token := strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])
		switch {
		case len(parts) != 3 || name == "" || token == "":
			return nil, fmt.Errorf("entry %d is not name:token:source (the name is what the catalog records; the sources are what the token may speak for, * for any)", len(out)+1)
		case !tokenName.MatchString(name):
			return nil, fmt.Errorf("entry %d: the name must be letters, digits, '.', '_' or '-' (at most 64)", len(out)+1)
		case names[name]:
			return nil, fmt.Errorf("entry %d: the name %q is used twice; the catalog could not tell their events apart", len(out)+1, name)
		case len(token) < 16:
			return nil, fmt.Errorf("entry %d (%s): the token is shorter than 16 characters; use a long random one", len(out)+1, name)
		}
		names[name] = true
		out = append(out, access.Credential{Role: access.Ingest, Name: name, Secret: token})
		sources = append(sources, nil)
		if err := addSource(&sources[len(sources)-1], name, parts[2]); err != nil {
			return nil, err
		}
	}
	for i, list := range sources {
		if !slices.Contains(list, AnySource) {
			out[i].Sources = access.SourcesOf(list...)
		}
	}
	return out, nil
}

// addSource adds a source an ingest entry may speak for.
func addSource(list *[]string, entry, source string) error {
	source = strings.TrimSpace(source)
	switch {
	case source == "":
		return fmt.Errorf("entry %s: an empty source; list the sources the token may speak for, or * for any", entry)
	case strings.IndexFunc(source, unicode.IsControl) >= 0:
		return fmt.Errorf("entry %s: a source with control characters", entry)
	}
	*list = append(*list, source)
	return nil
}

// Warnings are what is allowed but unsafe in the configuration, for serve
// to log at start: ingest tokens that may speak for any source, alert
// webhooks over plain http. (Events on the legacy subjects are warned
// about as they arrive.)
func (c Config) Warnings() []string {
	out := c.webhookWarnings()
	creds, _ := c.ingestCredentials()
	for _, cred := range creds {
		if cred.Sources.Any() {
			out = append(out, fmt.Sprintf("DATAMAP_INGEST_TOKENS: the token %s may send events for any source; bind it to its sources with name:token:source,… (docs/security.md)", cred.Name))
		}
	}
	return out
}

var tokenName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// hostName is a DNS name as a Host header gives it.
var hostName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$`)

// HTTPHostList is HTTP_HOSTS, split.
func (c Config) HTTPHostList() []string { return splitList(c.HTTPHosts) }

// MinTokenLength is the shortest token any role accepts. Tokens are
// guessed online, against a server that limits failed attempts, but a
// short or patterned one falls to a slow guesser too: `openssl rand -hex
// 16` or `datamap`'s generated api-token are long enough.
const MinTokenLength = 32

// minTokenDistinct is how many different characters a token must use:
// "aaaa…" or "12341234…" is long but not random.
const minTokenDistinct = 10

// tokenProblem says why a token is too weak to carry a role, "" when it
// is not. It never repeats the token.
func tokenProblem(token string) string {
	distinct := map[rune]bool{}
	for _, r := range token {
		if r <= ' ' || r == 0x7f || r > unicode.MaxASCII {
			return "holds a space, a control or a non-ASCII character; use letters, digits and punctuation, e.g. from openssl rand -hex 32"
		}
		distinct[r] = true
	}
	switch {
	case len(token) < MinTokenLength:
		return fmt.Sprintf("is %d characters long; a token needs at least %d random ones, e.g. openssl rand -hex 32", len(token), MinTokenLength)
	case len(distinct) < minTokenDistinct:
		return fmt.Sprintf("uses only %d different characters; a token must look random (at least %d different), e.g. openssl rand -hex 32", len(distinct), minTokenDistinct)
	}
	return ""
}

// tokenVariable is the setting a role's tokens come from.
var tokenVariable = map[access.Role]string{
	access.Full: "API_TOKEN", access.Read: "READ_TOKENS", access.Subject: "SUBJECT_TOKENS",
	access.Ingest: "INGEST_TOKENS", access.Metrics: "METRICS_TOKEN",
}

// settingProblem is what is wrong with one setting.
type settingProblem struct{ variable, problem string }

// tokenProblems checks every token the settings give: each strong enough,
// and none given twice — a token in two roles would hold both, and the
// first would hide the second. Entries are named by position (a subject
// token by its name), never by the token.
func (c Config) tokenProblems() []settingProblem {
	var out []settingProblem
	entries := map[access.Role]int{}
	seen := map[string]string{} // token → the setting and entry it was first given in
	for _, cr := range c.Credentials(c.APIToken) {
		entries[cr.Role]++
		variable, entry := tokenVariable[cr.Role], ""
		switch cr.Role {
		case access.Read, access.Ingest:
			entry = fmt.Sprintf("entry %d", entries[cr.Role])
		case access.Subject:
			entry = fmt.Sprintf("entry %q", cr.Name)
		}
		say := func(problem string) {
			out = append(out, settingProblem{variable, strings.TrimPrefix(entry+": the token "+problem, ": ")})
		}
		if p := tokenProblem(cr.Secret); p != "" {
			say(p)
		}
		if first, ok := seen[cr.Secret]; ok {
			say("is also given in " + first + "; give each role and each entry its own token")
			continue
		}
		seen[cr.Secret] = strings.TrimSpace(Prefix + "_" + variable + " " + entry)
	}
	return out
}

// Variable describes one configuration variable, for `datamap config` and
// the README.
type Variable struct {
	Name, Value, Default, Description string
	Secret                            bool
}

// Variables lists every variable with its effective value; secrets are
// masked.
func (c Config) Variables() []Variable {
	var out []Variable
	v := reflect.ValueOf(c)
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		value := fmt.Sprint(v.Field(i).Interface())
		secret := f.Tag.Get("secret") == "true"
		if secret {
			value = Mask(value)
		} else {
			value = RedactURLs(value) // nats://user:password@… is no secret variable, but holds one
		}
		out = append(out, Variable{Name: Prefix + "_" + f.Tag.Get("envconfig"), Value: value,
			Default: f.Tag.Get("default"), Description: f.Tag.Get("desc"), Secret: secret})
	}
	return out
}

// Mask hides a secret, keeping only whether it is set. A DSN keeps its
// host so the reader can tell which server is meant (see RedactURLs).
func Mask(secret string) string {
	if secret == "" {
		return ""
	}
	if u, err := url.Parse(secret); err == nil && u.Host != "" {
		return RedactURLs(secret)
	}
	return masked + " (set)"
}

// masked stands for a secret that was there.
const masked = "xxxxx"

// urlPattern finds URLs in text: a scheme, "://", then anything up to a
// space, a quote or a comma (which separates the servers of a NATS URL).
var urlPattern = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.\-]*://[^\s"'<>,]+`)

// secretParams are the query parameters of a DSN that hold a secret.
var secretParams = []string{"password", "pass", "pwd", "secret", "token", "key", "auth"}

// RedactURLs returns text with the secrets of every URL in it masked: the
// password of the user-info (clickhouse://u:xxxxx@host), a user-info
// without a password, which NATS reads as a token (nats://xxxxx@host),
// and query parameters such as ?password=. Whatever prints a URL — a
// configured server, an error that repeats one — prints it through this.
func RedactURLs(text string) string {
	return urlPattern.ReplaceAllStringFunc(text, func(raw string) string {
		u, err := url.Parse(raw)
		if err != nil {
			// Unparsable: hide everything before the host.
			scheme, rest, _ := strings.Cut(raw, "://")
			if at := strings.LastIndexByte(rest, '@'); at >= 0 {
				return scheme + "://" + masked + rest[at:]
			}
			return raw
		}
		if u.User != nil {
			if _, ok := u.User.Password(); ok {
				u.User = url.UserPassword(u.User.Username(), masked)
			} else {
				u.User = url.User(masked)
			}
		}
		if u.RawQuery != "" {
			q := u.Query()
			changed := false
			for name := range q {
				for _, s := range secretParams {
					if strings.Contains(strings.ToLower(name), s) {
						q.Set(name, masked)
						changed = true
					}
				}
			}
			if changed {
				u.RawQuery = q.Encode()
			}
		}
		return u.String()
	})
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, strings.TrimPrefix(p, "~"))
		}
	}
	return p
}

// InternalSuffixList splits InternalSuffixes.
func (c Config) InternalSuffixList() []string {
	var out []string
	for _, s := range strings.Split(c.InternalSuffixes, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// AlertFormats are the formats an ALERT_WEBHOOKS entry may name.
var AlertFormats = []string{"json", "slack", "alertmanager"}

// AlertWebhook is one entry of ALERT_WEBHOOKS.
type AlertWebhook struct {
	Format string // one of AlertFormats
	URL    string // http or https
}

// AlertWebhookList parses ALERT_WEBHOOKS ("slack=https://hooks.slack.com/…,
// json=https://…"). Errors name the entry by position and never repeat
// its URL, which may hold a secret.
func (c Config) AlertWebhookList() ([]AlertWebhook, error) {
	var out []AlertWebhook
	for i, entry := range splitList(c.AlertWebhooks) {
		format, raw, ok := strings.Cut(entry, "=")
		format, raw = strings.TrimSpace(format), strings.TrimSpace(raw)
		if !ok || raw == "" {
			return nil, fmt.Errorf("entry %d is not format=url, e.g. slack=https://hooks.slack.com/services/…", i+1)
		}
		if !slices.Contains(AlertFormats, format) {
			return nil, fmt.Errorf("entry %d: format %q is not %s", i+1, format, strings.Join(AlertFormats, ", "))
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("entry %d (%s): not an http or https URL", i+1, format)
		}
		out = append(out, AlertWebhook{Format: format, URL: raw})
	}
	return out, nil
}

// webhookWarnings are alert webhooks that send findings in clear text
// over a network.
func (c Config) webhookWarnings() []string {
	var out []string
	hooks, _ := c.AlertWebhookList()
	for i, h := range hooks {
		u, _ := url.Parse(h.URL)
		if u.Scheme == "http" && !isLoopback(u.Hostname()) {
			out = append(out, fmt.Sprintf("%s_ALERT_WEBHOOKS: entry %d (%s) sends findings over plain http to %s; use https unless that network is trusted",
				Prefix, i+1, h.Format, u.Hostname()))
		}
	}
	return out
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
