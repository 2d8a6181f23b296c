package cli_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/back-trace/datamap/config"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/stack"
)

// scrape reads /metrics with Prometheus' own text parser.
func scrape(t *testing.T, addr, token string) (int, map[string]*dto.MetricFamily) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("Prometheus cannot parse /metrics: %v", err)
	}
	return resp.StatusCode, families
}

// sample returns the value of the sample of family whose labels include
// labels, or -1.
func sample(families map[string]*dto.MetricFamily, family string, labels map[string]string) float64 {
	f := families[family]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return -1
}

func postEvents(t *testing.T, addr, contentType string, header map[string]string, body string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/events", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer ingest-tok-0123456789abcdefghijklmnopqrstuv")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestMetricsCountIngestAndDeadLetters: events sent over HTTP in each mode
// and a dead letter show up on /metrics, which Prometheus' parser reads,
// under the service's name; DATAMAP_METRICS_TOKEN makes /metrics need it.
func TestMetricsCountIngestAndDeadLetters(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	dir := isolate(t)
	t.Setenv("DATAMAP_INGEST_TOKENS", "ingest-tok-0123456789abcdefghijklmnopqrstuv")
	t.Setenv("DATAMAP_METRICS_TOKEN", "metrics-tok-0123456789abcdefghijklmnopqrstuv")
	serve(t)
	rt, ok := stack.FindRunning(dir)
	if !ok {
		t.Fatal("serve published no runtime file")
	}
	addr := rt.HTTPAddr
	invalid := strings.Replace(event(90, "billing.payment_token", ""), `"legal_basis":"contract"`, `"legal_basis":"because"`, 1)
	if got := postEvents(t, addr, "application/cloudevents+json", nil, event(1, "billing.payment_token", "")); got != http.StatusAccepted {
		t.Fatalf("structured: %d", got)
	}
	if got := postEvents(t, addr, "application/cloudevents-batch+json", nil, "["+event(2, "billing.payment_token", "")+","+invalid+"]"); got != http.StatusBadRequest {
		t.Fatalf("batch with an invalid event: %d", got)
	}
	binary := map[string]string{"ce-specversion": "1.0", "ce-id": "cli-3", "ce-source": "billing-api",
		"ce-type": "com.back-trace.datamap.data.collected.v1", "ce-time": "2026-11-01T10:00:00Z"}
	data := `{"category":"billing.payment_token","data_subject":"customer","purpose":"payment_processing","legal_basis":"contract","retention":"P7Y"}`
	if got := postEvents(t, addr, "application/json", binary, data); got != http.StatusAccepted {
		t.Fatalf("binary: %d", got)
	}
	// An invalid event published on NATS directly is dead-lettered.
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	s, err := stack.Attach(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	publishRawEvent(t, s.JS, `{"not":"an event"}`)

	if code, _ := scrape(t, addr, ""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without DATAMAP_METRICS_TOKEN: %d, want 401", code)
	}
	if code, _ := scrape(t, addr, "wrong"); code != http.StatusUnauthorized {
		t.Errorf("/metrics with a wrong token: %d, want 401", code)
	}
	var families map[string]*dto.MetricFamily
	want := map[string]map[string]string{
		"datamap_ingest_events_total":                {"datamap_ingest_mode": "structured", "datamap_ingest_outcome": "accepted"},
		"datamap_consumer_events_deadlettered_total": {"error_type": "invalid"},
		"datamap_sdk_events_published_total":         {"datamap_source": "datamap-ingest"},
		"http_server_request_duration_seconds":       {"http_route": "/v1/events", "http_response_status_code": "400"},
		"target_info":                                {"service_name": "datamap"},
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var code int
		code, families = scrape(t, addr, "metrics-tok-0123456789abcdefghijklmnopqrstuv")
		if code != http.StatusOK {
			t.Fatalf("/metrics with the token: %d", code)
		}
		missing := ""
		for family, labels := range want {
			if sample(families, family, labels) <= 0 {
				missing = family
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics has no %s%v after 30 s", missing, want[missing])
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, c := range []struct {
		mode, outcome string
		n             float64
	}{{"structured", "accepted", 1}, {"batch", "accepted", 1}, {"batch", "rejected", 1}, {"binary", "accepted", 1}} {
		if got := sample(families, "datamap_ingest_events_total", map[string]string{"datamap_ingest_mode": c.mode, "datamap_ingest_outcome": c.outcome}); got != c.n {
			t.Errorf("ingest events %s/%s = %v, want %v", c.mode, c.outcome, got, c.n)
		}
	}
	if got := sample(families, "datamap_consumer_events_deadlettered_total", map[string]string{"error_type": "invalid"}); got != 1 {
		t.Errorf("dead letters (invalid) = %v, want 1", got)
	}
	if sample(families, "target_info", map[string]string{"service_name": "unknown_service:datamap"}) >= 0 {
		t.Error("the service is still unknown_service:datamap")
	}
}
