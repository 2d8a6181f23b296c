package otlp_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/back-trace/datamap/internal/testkit/otlptest"
	"github.com/back-trace/datamap/traffic"
	"github.com/back-trace/datamap/traffic/aggregate"
	"github.com/back-trace/datamap/traffic/otlp"
)

type discard struct{}

func (discard) WriteTraffic(context.Context, []traffic.Observation) error { return nil }

// BenchmarkReceiver: one request of 1000 client spans from 50 services,
// decoded, classified and aggregated; the figure is per span.
func BenchmarkReceiver(b *testing.B) {
	td := ptrace.NewTraces()
	for s := 0; s < 50; s++ {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", fmt.Sprintf("service-%02d", s))
		spans := rs.ScopeSpans().AppendEmpty().Spans()
		for k := 0; k < 20; k++ {
			sp := spans.AppendEmpty()
			sp.SetKind(ptrace.SpanKindClient)
			sp.SetName("POST")
			host := fmt.Sprintf("api-%03d.vendor.example", (s*20+k)%500)
			sp.Attributes().PutStr("http.request.method", "POST")
			sp.Attributes().PutStr("server.address", host)
			sp.Attributes().PutInt("server.port", 443)
			sp.Attributes().PutStr("url.full", "https://"+host+"/v1/customers/123")
			sp.Attributes().PutInt("http.response.status_code", 200)
		}
	}
	body := otlptest.Protobuf(b, td)
	rc := otlp.New(traffic.NewObserver(traffic.NewClassifier(nil, nil, nil)), aggregate.New(discard{}, aggregate.Options{}),
		func(*http.Request) (func(string) bool, bool) { return nil, true }, otlp.Limits{}, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := httptest.NewRequest(http.MethodPost, otlp.Path, bytes.NewReader(body))
		r.Header.Set("Content-Type", otlp.ContentTypeProtobuf)
		w := httptest.NewRecorder()
		rc.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "spans/s")
}
