package main

import (
	"context"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/connector/spanmetricsconnector"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/back-trace/datamap/traffic"
	"github.com/back-trace/datamap/traffic/aggregate"
)

// The pair without HTTP: one request of 1 000 spans decoded with pdata,
// then observed and aggregated (datamap) or consumed by spanmetrics (the
// collector). Figures are per request.

func BenchmarkDatamapInProcess(b *testing.B) {
	bodies := requests()
	o := traffic.NewObserver(traffic.NewClassifier(nil, nil, nil))
	agg := aggregate.New(discard{}, aggregate.Options{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalProto(bodies[i%len(bodies)]); err != nil {
			b.Fatal(err)
		}
		if _, err := o.Observe(req.Traces(), nil, agg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCollectorInProcess(b *testing.B) {
	bodies := requests()
	ctx := context.Background()
	cf := spanmetricsconnector.NewFactory()
	ccfg := cf.CreateDefaultConfig().(*spanmetricsconnector.Config)
	ccfg.Dimensions = []spanmetricsconnector.Dimension{{Name: "server.address"}}
	ccfg.ExcludeDimensions = []string{"span.name", "span.kind", "status.code"}
	ccfg.Histogram.Disable = true
	ccfg.MetricsFlushInterval = 5 * time.Second
	conn, err := cf.CreateTracesToMetrics(ctx, connectortest.NewNopSettings(cf.Type()), ccfg, consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	if err := conn.Start(ctx, componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = conn.Shutdown(ctx) }()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalProto(bodies[i%len(bodies)]); err != nil {
			b.Fatal(err)
		}
		if err := conn.ConsumeTraces(ctx, req.Traces()); err != nil {
			b.Fatal(err)
		}
	}
}
