package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/back-trace/datamap/events"
)

// UndeclaredTraffic lists the calls of the simulated services that only
// their traces show: no event reports them and the registry does not
// declare them, so that `datamap traffic` and drift have something real
// to find.
var UndeclaredTraffic = []string{
	"website loads Hotjar's session recording (static.hotjar.com, Malta), which nothing reports and no activity declares",
	"support-desk posts to ingest.feedback-widget.example, a host neither the registry nor the vendor catalogue knows",
}

// apiHosts are the hosts the services call each recipient at, as their
// HTTP client spans name them. Recipients reached otherwise (authorities,
// the datacenters, a transcription upload) have none.
var apiHosts = map[string]string{
	"Stripe":                "api.stripe.com",
	"Intrum":                "api.intrum.com",
	"Deutsche Telekom":      "sip-gw.telekom.de",
	"Bandwidth":             "voice.bandwidth.com",
	"Twilio":                "api.twilio.com",
	"The Campaign Registry": "csp-api.campaignregistry.com",
	"HubSpot":               "api.hubapi.com",
	"Google Analytics":      "region1.google-analytics.com",
	TicketingVendor:         "backtrace.zendesk.com",
	"Amazon Web Services":   "s3.us-east-1.amazonaws.com",
	"Cloudflare":            "api.cloudflare.com",
	"Microsoft 365":         "graph.microsoft.com",
	"NICE CXone":            "api.niceincontact.com",
	"Mixpanel":              "api.mixpanel.com",
}

// Call is one kind of outgoing call a simulated service makes: Spans
// CLIENT spans from System to Host.
type Call struct {
	System, Host string
	Spans        int
}

// callSpans is how many spans each call sends in a demo.
const callSpans = 5

// Calls are the scenario's outgoing calls: each service's calls to the
// recipients it reports sharing with (those with an API host), one call
// of each of BackTrace's services to its own database, and the calls of
// UndeclaredTraffic.
func Calls() []Call {
	var out []Call
	for _, s := range scenario {
		var hosts []string
		for _, f := range s.flows {
			if f.kind != events.KindShared || f.data.Recipient == nil {
				continue
			}
			if h, ok := apiHosts[f.data.Recipient.Name]; ok && !slices.Contains(hosts, h) {
				hosts = append(hosts, h)
			}
		}
		if s.Name != TicketingVendor { // the vendor's own infrastructure is not BackTrace's
			hosts = append(hosts, s.Name+"-db.svc.cluster.local")
		}
		for _, h := range hosts {
			out = append(out, Call{System: s.Name, Host: h, Spans: callSpans})
		}
	}
	return append(out,
		Call{System: "website", Host: "static.hotjar.com", Spans: callSpans},
		Call{System: "support-desk", Host: "ingest.feedback-widget.example", Spans: callSpans})
}

// Traces are the CLIENT spans of Calls, one a minute before end, as an
// OpenTelemetry SDK's HTTP client instrumentation records them
// (server.address, url.full).
func Traces(end time.Time) ptrace.Traces {
	td := ptrace.NewTraces()
	bySystem := map[string]ptrace.SpanSlice{}
	for _, c := range Calls() {
		spans, ok := bySystem[c.System]
		if !ok {
			rs := td.ResourceSpans().AppendEmpty()
			rs.Resource().Attributes().PutStr("service.name", c.System)
			ss := rs.ScopeSpans().AppendEmpty()
			ss.Scope().SetName("go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp")
			spans = ss.Spans()
			bySystem[c.System] = spans
		}
		for i := range c.Spans {
			at := end.Add(-time.Duration(i+1) * time.Minute)
			s := spans.AppendEmpty()
			s.SetKind(ptrace.SpanKindClient)
			s.SetName("POST")
			s.SetStartTimestamp(pcommon.NewTimestampFromTime(at))
			s.SetEndTimestamp(pcommon.NewTimestampFromTime(at.Add(80 * time.Millisecond)))
			s.Attributes().PutStr("http.request.method", "POST")
			s.Attributes().PutStr("server.address", c.Host)
			s.Attributes().PutStr("url.full", "https://"+c.Host+"/v1/requests")
			s.Attributes().PutInt("http.response.status_code", 200)
		}
	}
	return td
}

// SendTraces posts Traces(end) to an OTLP/HTTP traces endpoint
// (http://host:port/v1/traces) with a bearer token, as an SDK's or a
// collector's otlphttp exporter would, and returns the spans sent.
func SendTraces(ctx context.Context, endpoint, token string, end time.Time) (int, error) {
	td := Traces(end)
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("demo: sending traces: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("demo: sending traces: %s: %s", resp.Status, answer)
	}
	out := ptraceotlp.NewExportResponse()
	if err := out.UnmarshalProto(answer); err == nil && out.PartialSuccess().RejectedSpans() > 0 {
		return 0, fmt.Errorf("demo: %d spans refused: %s", out.PartialSuccess().RejectedSpans(), out.PartialSuccess().ErrorMessage())
	}
	return td.SpanCount(), nil
}
