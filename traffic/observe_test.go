package traffic_test

import (
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/schemas"
	"github.com/back-trace/datamap/traffic"
)

type collect struct{ calls []traffic.Call }

func (c *collect) Add(calls []traffic.Call) error { c.calls = append(c.calls, calls...); return nil }

// span adds a span of kind to a resource of service (no service.name when
// empty) with string attributes given as key, value pairs.
func span(td ptrace.Traces, service string, kind ptrace.SpanKind, kv ...string) ptrace.Span {
	rs := td.ResourceSpans().AppendEmpty()
	if service != "" {
		rs.Resource().Attributes().PutStr("service.name", service)
	}
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetKind(kind)
	s.SetName("GET /customers/jane@example.com")
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)))
	for i := 0; i+1 < len(kv); i += 2 {
		s.Attributes().PutStr(kv[i], kv[i+1])
	}
	return s
}

func backtrace(t *testing.T) *registry.Registry {
	t.Helper()
	r, err := registry.Parse(schemas.BackTraceRegistry(), "backtrace-registry.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPeersFromSemanticConventions(t *testing.T) {
	td := ptrace.NewTraces()
	client, producer := ptrace.SpanKindClient, ptrace.SpanKindProducer
	span(td, "billing-api", client, "server.address", "api.stripe.com", "url.full", "https://ignored.example/x")
	span(td, "billing-api", client, "url.full", "https://api.eu.mailgun.net/v3/messages?to=jane@example.com")
	span(td, "billing-api", client, "net.peer.name", "s3.eu-west-1.amazonaws.com")
	span(td, "billing-api", client, "http.url", "https://tracker.unknown-analytics.example/p?id=1")
	span(td, "billing-api", client, "peer.service", "crm-sync")
	span(td, "billing-api", client, "db.system", "postgresql", "server.address", "10.0.0.7")
	span(td, "billing-api", producer, "messaging.system", "kafka", "messaging.destination.name", "invoices")
	span(td, "billing-api", producer, "messaging.system", "aws_sqs", "messaging.destination.name", "Queue-1")
	span(td, "billing-api", client, "server.address", "billing-db.prod.svc.cluster.local")
	span(td, "billing-api", client, "server.address", "ledger.corp.back-trace.example")
	span(td, "crm-sync", client, "server.address", "api.hubapi.com")
	failed := span(td, "billing-api", client, "server.address", "api.stripe.com")
	failed.Status().SetCode(ptrace.StatusCodeError)
	// Not outgoing calls, or naming no peer: accepted and ignored.
	span(td, "billing-api", ptrace.SpanKindServer, "server.address", "billing.back-trace.example")
	span(td, "billing-api", ptrace.SpanKindInternal, "server.address", "x.example")
	span(td, "billing-api", ptrace.SpanKind(42), "server.address", "x.example")
	span(td, "billing-api", client)

	var sink collect
	o := traffic.NewObserver(traffic.NewClassifier(backtrace(t), nil, []string{"corp.back-trace.example"}))
	out, err := o.Observe(td, nil, &sink)
	if err != nil || out.Rejected != 0 {
		t.Fatalf("Observe = %+v, %v", out, err)
	}
	type dest struct {
		host      string
		class     traffic.Class
		recipient string
		country   string
	}
	var got []dest
	for _, c := range sink.calls {
		got = append(got, dest{c.Host, c.Class, c.Recipient, c.Country})
		if c.Day != traffic.DayOf(time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("%s: day %d", c.Host, c.Day)
		}
	}
	want := []dest{
		{"api.stripe.com", traffic.Recipient, "Stripe", "US"},
		{"api.eu.mailgun.net", traffic.Vendor, "Mailgun", "DE"},
		{"s3.eu-west-1.amazonaws.com", traffic.Recipient, "Amazon Web Services", "US"}, // the registry's contract says US
		{"tracker.unknown-analytics.example", traffic.Unknown, "", ""},
		{"crm-sync", traffic.Internal, "", ""},
		{traffic.PrivateAddress, traffic.Internal, "", ""},
		{"kafka/invoices", traffic.Internal, "", ""},
		{"aws_sqs/queue-1", traffic.Vendor, "Amazon Web Services", "US"},
		{"billing-db.prod.svc.cluster.local", traffic.Internal, "", ""},
		{"ledger.corp.back-trace.example", traffic.Internal, "", ""},
		{"api.hubapi.com", traffic.Recipient, "HubSpot", "US"},
		{"api.stripe.com", traffic.Recipient, "Stripe", "US"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d calls, want %d:\n%v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("call %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if sink.calls[0].Failed || !sink.calls[len(sink.calls)-1].Failed {
		t.Error("the error status was not carried")
	}
}

func TestOtherInstrumentedServicesAreInternal(t *testing.T) {
	td := ptrace.NewTraces()
	span(td, "web-shop", ptrace.SpanKindServer)
	span(td, "checkout", ptrace.SpanKindClient, "server.address", "web-shop.example")
	span(td, "checkout", ptrace.SpanKindClient, "server.address", "web-shop")
	var sink collect
	o := traffic.NewObserver(traffic.NewClassifier(nil, nil, nil))
	if _, err := o.Observe(td, nil, &sink); err != nil {
		t.Fatal(err)
	}
	if len(sink.calls) != 2 || sink.calls[0].Class != traffic.Unknown || sink.calls[1].Class != traffic.Internal {
		t.Errorf("calls = %+v", sink.calls)
	}
}

func TestRefusals(t *testing.T) {
	td := ptrace.NewTraces()
	span(td, "", ptrace.SpanKindClient, "server.address", "api.stripe.com")
	span(td, "unknown_service:java", ptrace.SpanKindClient, "server.address", "api.stripe.com")
	span(td, "jane@example.com", ptrace.SpanKindClient, "server.address", "api.stripe.com")
	span(td, "intruder", ptrace.SpanKindClient, "server.address", "api.stripe.com")
	span(td, "billing-api", ptrace.SpanKindClient, "server.address", "jane.doe@example.com")
	span(td, "billing-api", ptrace.SpanKindClient, "url.full", "https://jane.doe%40example.com@x.example/") // userinfo: only x.example
	span(td, "billing-api", ptrace.SpanKindClient, "server.address", "+31612345678.example.com")
	span(td, "billing-api", ptrace.SpanKindClient, "server.address", "api.stripe.com")
	var sink collect
	o := traffic.NewObserver(traffic.NewClassifier(nil, nil, nil))
	out, err := o.Observe(td, func(s string) bool { return s != "intruder" }, &sink)
	if err != nil {
		t.Fatal(err)
	}
	if out.Rejected != 6 {
		t.Errorf("rejected %d spans, want 6: %s", out.Rejected, out.Message)
	}
	for _, want := range []string{"2 spans: resource without service.name", "1 spans: service.name is not a system name",
		"1 spans: service.name is not a system this token may speak for", "2 spans: the peer host looks like personal data"} {
		if !strings.Contains(out.Message, want) {
			t.Errorf("message lacks %q:\n%s", want, out.Message)
		}
	}
	if strings.Contains(out.Message, "jane") || strings.Contains(out.Message, "intruder") || strings.Contains(out.Message, "3161") {
		t.Errorf("the message repeats a value: %s", out.Message)
	}
	if len(sink.calls) != 2 || sink.calls[0].Host != "x.example" || sink.calls[1].Host != "api.stripe.com" {
		t.Errorf("calls = %+v", sink.calls)
	}
}
