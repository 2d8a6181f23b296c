package ingest

import (
	"context"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Metric names of the Handler, in OpenTelemetry's naming: the HTTP server
// duration of its semantic conventions, and datamap's event counter.
const (
	// MetricEvents counts the events of requests by datamap.ingest.mode
	// (binary, structured, batch) and datamap.ingest.outcome (accepted,
	// rejected, failed).
	MetricEvents = "datamap.ingest.events"
	// MetricRequestDuration is http.server.request.duration, by
	// http.request.method, http.route and http.response.status_code.
	MetricRequestDuration = "http.server.request.duration"
)

// Attribute keys of MetricEvents.
const (
	AttrMode    = attribute.Key("datamap.ingest.mode")
	AttrOutcome = attribute.Key("datamap.ingest.outcome")
)

type handlerMetrics struct {
	eventCounter metric.Int64Counter
	duration     metric.Float64Histogram
}

func newHandlerMetrics(mp metric.MeterProvider) (*handlerMetrics, error) {
	meter := mp.Meter("github.com/back-trace/datamap/ingest")
	m := &handlerMetrics{}
	var err error
	if m.eventCounter, err = meter.Int64Counter(MetricEvents, metric.WithUnit("{event}"),
		metric.WithDescription("events received over HTTP, by mode and outcome")); err != nil {
		return nil, err
	}
	if m.duration, err = meter.Float64Histogram(MetricRequestDuration, metric.WithUnit("s"),
		metric.WithDescription("duration of HTTP ingest requests"),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *handlerMetrics) countEvents(ctx context.Context, mode, outcome string, n int) {
	if n > 0 {
		m.eventCounter.Add(ctx, int64(n), metric.WithAttributes(AttrMode.String(mode), AttrOutcome.String(outcome)))
	}
}

func (m *handlerMetrics) request(ctx context.Context, method string, status int, took time.Duration) {
	m.duration.Record(ctx, took.Seconds(), metric.WithAttributes(
		attribute.String("http.request.method", method), attribute.String("http.route", Path),
		attribute.Int("http.response.status_code", status)))
}

// statusRecorder remembers the status a handler answered.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}
