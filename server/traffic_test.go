package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/config"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/ingest"
	"github.com/back-trace/datamap/internal/testkit/otlptest"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/report"
	"github.com/back-trace/datamap/server"
	"github.com/back-trace/datamap/stack"
	"github.com/back-trace/datamap/traffic/otlp"
)

// lockedBuffer is a log the server writes while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// outgoing is one outgoing call of a test span.
type outgoing struct {
	system, url string
	spans       int
}

// spans are CLIENT spans, each call its number of times, every span full
// of personal values in its name, URL path and query, attributes, events
// and status.
func spans(t *testing.T, at time.Time, calls ...outgoing) []byte {
	td := ptrace.NewTraces()
	for _, c := range calls {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", c.system)
		rs.Resource().Attributes().PutStr("enduser.id", "jane.doe@example.com")
		ss := rs.ScopeSpans().AppendEmpty()
		for i := 0; i < c.spans; i++ {
			s := ss.Spans().AppendEmpty()
			s.SetKind(ptrace.SpanKindClient)
			s.SetName("POST /customers/jane.doe@example.com")
			s.SetStartTimestamp(pcommon.NewTimestampFromTime(at.Add(time.Duration(i) * time.Second)))
			s.SetEndTimestamp(pcommon.NewTimestampFromTime(at.Add(time.Duration(i)*time.Second + time.Millisecond)))
			s.Attributes().PutStr("url.full", c.url+"/customers/jane.doe@example.com?phone=%2B31612345678")
			s.Attributes().PutStr("user.email", "jane.doe@example.com")
			s.Events().AppendEmpty().Attributes().PutStr("exception.message", "no customer jane.doe@example.com")
			s.Status().SetMessage("jane.doe@example.com not found")
		}
	}
	return otlptest.Protobuf(t, td)
}

const sharedWithStripe = `{"specversion":"1.0","id":"server-traffic-1","source":"billing-api","type":"com.back-trace.datamap.data.shared.v1",
 "time":"2026-11-01T10:00:00Z","data":{"category":"billing.payment_token","data_subject":"customer","purpose":"payment_processing",
 "legal_basis":"contract","recipient":{"name":"Stripe","role":"processor","country":"US","safeguard":"scc","contract":"DPA-STRIPE-2024"}}}`

// TestTracesBecomeTrafficAndFindings: spans posted to a running server's
// OTLP listener are answered by the traffic question and drift, each
// destination and finding once with its counts; what is counted when the
// server stops is written; and no personal value of the spans reaches a
// table of the catalog or the server's log.
func TestTracesBecomeTrafficAndFindings(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	ctx := context.Background()
	cfg := config.Config{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", OTLPAddr: "127.0.0.1:0", StreamReplicas: 1,
		StreamDuplicates: time.Minute, BatchSize: 100, BatchWait: 50 * time.Millisecond, RollupInterval: time.Second,
		LogLevel: "debug", LogFormat: "text", APIToken: fullToken, ReadTokens: readToken, IngestTokens: ingestToken,
		Registry: registry.Builtin}
	logged := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := stack.Start(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	reg, err := registry.Open(registry.Builtin, taxonomy.Default())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(ctx, server.Options{Stack: s, Config: cfg, Taxonomy: taxonomy.Default(), Registry: reg, Version: "test", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if srv.OTLPAddr() == "" || srv.OTLPAddr() == srv.Addr() || srv.OTLPGRPCAddr() != "" {
		t.Fatalf("OTLP/HTTP on %q, gRPC on %q: want a listener of its own and no gRPC", srv.OTLPAddr(), srv.OTLPGRPCAddr())
	}
	serving, stop := context.WithCancel(ctx)
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Run(serving) }()
	base, traces := "http://"+srv.Addr(), "http://"+srv.OTLPAddr()+otlp.Path

	if code, body := call(t, "POST", base+ingest.Path, ingestToken, ingest.ContentTypeStructured, sharedWithStripe); code != http.StatusAccepted {
		t.Fatalf("ingest: %d %s", code, body)
	}
	day := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	body := string(spans(t, day,
		outgoing{"billing-api", "https://api.stripe.com", 3},                    // declared and reported
		outgoing{"billing-api", "https://api.mixpanel.com", 2},                  // a vendor nobody declares or reports
		outgoing{"billing-api", "https://tracker.unknown-analytics.example", 4}, // nobody knows it
		outgoing{"support-desk", "https://backtrace.zendesk.com", 1},            // declared, not reported by support-desk
		outgoing{"billing-api", "http://10.0.0.7:8080", 5},                      // internal
	))
	for token, want := range map[string]int{"": 401, readToken: 401, ingestToken: 200, fullToken: 200} {
		if code, resp := call(t, "POST", traces, token, otlp.ContentTypeProtobuf, body); code != want {
			t.Errorf("traces with %q: %d %s, want %d", token, code, resp, want)
		}
	}
	if code, _ := call(t, "POST", base+otlp.Path, ingestToken, otlp.ContentTypeProtobuf, body); code == http.StatusOK {
		t.Error("the API's listener takes traces; they belong on the OTLP listener")
	}

	// Two accepted posts: every count is doubled (at least once).
	type dest struct {
		class, recipient   string
		spans              uint64
		reported, declared bool
	}
	want := map[string]dest{
		"billing-api tracker.unknown-analytics.example": {"unknown", "", 8, false, false},
		"billing-api api.stripe.com":                    {"recipient", "Stripe", 6, true, true},
		"billing-api api.mixpanel.com":                  {"vendor", "Mixpanel", 4, false, false},
		"support-desk backtrace.zendesk.com":            {"recipient", "Zendesk", 2, false, true},
		"billing-api (private address)":                 {"internal", "", 10, false, false},
	}
	var rows []query.DestinationRow
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var page struct{ Items []query.DestinationRow }
		code, resp := call(t, "GET", base+"/api/v1/traffic", readToken, "", "")
		if code != http.StatusOK || json.Unmarshal([]byte(resp), &page) != nil {
			t.Fatalf("GET /api/v1/traffic: %d %s", code, resp)
		}
		rows = page.Items
		if len(rows) == len(want) && rows[0].Reported == want["billing-api "+rows[0].Host].reported {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("traffic never showed the %d destinations: %+v", len(want), rows)
		}
	}
	for _, r := range rows {
		w, ok := want[r.System+" "+r.Host]
		if got := (dest{r.Class, r.Recipient, r.Spans, r.Reported, r.Declared}); !ok || got != w {
			t.Errorf("%s → %s: %+v, want %+v", r.System, r.Host, got, w)
		}
	}
	if code, resp := call(t, "GET", base+"/api/v1/traffic?class=unknown", readToken, "", ""); code != 200 || strings.Count(resp, `"host"`) != 1 {
		t.Errorf("class=unknown: %d %s, want the one unknown host", code, resp)
	}
	if code, resp := call(t, "GET", base+"/api/v1/traffic?system=billing-apj", readToken, "", ""); code != http.StatusBadRequest || !strings.Contains(resp, "sent no traces") {
		t.Errorf("a system that sent no traces: %d %s, want 400 saying so", code, resp)
	}

	code, resp := call(t, "GET", base+"/api/v1/drift", readToken, "", "")
	var findings []report.Finding
	if code != http.StatusOK || json.Unmarshal([]byte(resp), &findings) != nil {
		var page struct{ Items []report.Finding }
		if json.Unmarshal([]byte(resp), &page) != nil {
			t.Fatalf("GET /api/v1/drift: %d %s", code, resp)
		}
		findings = page.Items
	}
	wantFindings := map[string]uint64{
		report.KindTrafficUndeclaredRecipient + " billing-api → Mixpanel (US)":      4,
		report.KindTrafficUnknownDestination + " tracker.unknown-analytics.example": 8,
		report.KindUnreportedDisclosure + " support-desk → Zendesk (US)":            2,
	}
	for _, f := range findings {
		if !strings.HasPrefix(f.Kind, "traffic_") && f.Kind != report.KindUnreportedDisclosure {
			continue
		}
		key := f.Kind + " " + f.About
		spans, ok := wantFindings[key]
		if !ok || f.Evidence == nil || f.Evidence.Spans != spans {
			t.Errorf("finding %s: %+v, want %d spans", key, f.Evidence, spans)
		}
		delete(wantFindings, key)
	}
	for key := range wantFindings {
		t.Errorf("no finding %s", key)
	}

	// Spans taken just before the server stops are written as it stops.
	if code, resp := call(t, "POST", traces, ingestToken, otlp.ContentTypeProtobuf,
		string(spans(t, day, outgoing{"crm", "https://api.hubapi.com", 7}))); code != http.StatusOK {
		t.Fatalf("traces: %d %s", code, resp)
	}
	stop()
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("server stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not stop")
	}
	last, err := query.Traffic(ctx, s.ClickHouse, query.TrafficFilter{Filter: query.Filter{System: "crm"}})
	if err != nil || len(last) != 1 || last[0].Spans != 7 || last[0].Recipient != "HubSpot" {
		t.Errorf("traffic of crm after the stop: %+v, %v; want HubSpot's 7 calls written on stop", last, err)
	}

	// "tracker.unknown" is what the search finds where it should, in
	// the traffic table: the search itself works.
	for _, p := range []string{"tracker.unknown", "jane.doe", "31612345678", "/customers"} {
		if strings.Contains(logged.String(), p) {
			t.Errorf("the server's log holds %q", p)
		}
		var holding []string
		for _, table := range catalogTables(t, s) {
			var n uint64
			if err := s.ClickHouse.QueryRow(ctx, "SELECT count() FROM `"+table+"` WHERE position(formatRow('TSV', *), ?) > 0", p).Scan(&n); err != nil {
				t.Fatalf("searching %s: %v", table, err)
			} else if n > 0 {
				holding = append(holding, table)
			}
		}
		switch {
		case p == "tracker.unknown" && !slices.Equal(holding, []string{"traffic"}):
			t.Errorf("the host is found in %v, want the traffic table", holding)
		case p != "tracker.unknown" && len(holding) > 0:
			t.Errorf("tables holding %q: %v", p, holding)
		}
	}
}

// catalogTables are the tables of the catalog's database.
func catalogTables(t *testing.T, s *stack.Stack) []string {
	rows, err := s.ClickHouse.Query(context.Background(), "SELECT name FROM system.tables WHERE database = currentDatabase() AND engine NOT LIKE '%View%'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if len(names) < 5 {
		t.Fatalf("found %d tables: %v", len(names), names)
	}
	return names
}
