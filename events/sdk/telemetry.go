package sdk

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// instrumentationName names the SDK's tracer and meter: the scope that
// dashboards and alerts select the SDK's metrics and spans by, so it does
// not follow the package path.
const instrumentationName = "github.com/back-trace/datamap/events"

// Metric names of the Publisher, all with the attribute datamap.source.
const (
	MetricQueued    = "datamap.sdk.events.queued"    // counter: accepted events
	MetricPublished = "datamap.sdk.events.published" // counter: acknowledged by JetStream
	MetricRetried   = "datamap.sdk.events.retried"   // counter: failed or unacknowledged attempts, retried
	MetricSpooled   = "datamap.sdk.events.spooled"   // counter: written to the disk spool
	MetricDropped   = "datamap.sdk.events.dropped"   // counter: dropped by WithDropOnFull
	MetricPending   = "datamap.sdk.events.pending"   // gauge: accepted, not yet acknowledged
	MetricLatency   = "datamap.sdk.publish.duration" // histogram, seconds: accepted → acknowledged
)

// telemetry holds the Publisher's OpenTelemetry instruments. Counters are
// atomics read by an observable callback, so the caller's goroutine pays
// nothing for metrics; the latency histogram and the publish spans are
// recorded by the acker.
type telemetry struct {
	tracer  trace.Tracer
	latency metric.Float64Histogram
	reg     metric.Registration
	attrs   metric.MeasurementOption
}

// statsSource is what the metrics callback reads: the counters.
type statsSource interface {
	snapshot() Stats
}

var _ statsSource = (*counters)(nil)

// newTelemetry registers the instruments of the publisher of o.source;
// the metrics callback reads stats.
func newTelemetry(o *options, stats statsSource) (*telemetry, error) {
	t := new(telemetry)
	tp, mp := o.tracerProvider, o.meterProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	t.tracer = tp.Tracer(instrumentationName)
	meter := mp.Meter(instrumentationName)
	t.attrs = metric.WithAttributeSet(attribute.NewSet(attribute.String("datamap.source", o.source)))
	var err error
	if t.latency, err = meter.Float64Histogram(MetricLatency, metric.WithUnit("s"),
		metric.WithDescription("time from accepting an event to JetStream's acknowledgement")); err != nil {
		return nil, fmt.Errorf("events: metric %s: %w", MetricLatency, err)
	}
	counter := func(name, desc string) (metric.Int64ObservableCounter, error) {
		return meter.Int64ObservableCounter(name, metric.WithUnit("{event}"), metric.WithDescription(desc))
	}
	queued, err1 := counter(MetricQueued, "events accepted by the publisher")
	published, err2 := counter(MetricPublished, "events acknowledged by JetStream")
	retried, err3 := counter(MetricRetried, "publish attempts that failed or timed out and were retried")
	spooled, err4 := counter(MetricSpooled, "events written to the disk spool")
	dropped, err5 := counter(MetricDropped, "events dropped because the queue was full (WithDropOnFull)")
	pending, err6 := meter.Int64ObservableGauge(MetricPending, metric.WithUnit("{event}"),
		metric.WithDescription("events accepted and not yet acknowledged"))
	for _, err := range []error{err1, err2, err3, err4, err5, err6} {
		if err != nil {
			return nil, fmt.Errorf("events: metrics: %w", err)
		}
	}
	t.reg, err = meter.RegisterCallback(func(_ context.Context, obs metric.Observer) error {
		s := stats.snapshot()
		obs.ObserveInt64(queued, int64(s.Queued), t.attrs)
		obs.ObserveInt64(published, int64(s.Published), t.attrs)
		obs.ObserveInt64(retried, int64(s.Retried), t.attrs)
		obs.ObserveInt64(spooled, int64(s.Spooled), t.attrs)
		obs.ObserveInt64(dropped, int64(s.Dropped), t.attrs)
		obs.ObserveInt64(pending, s.Pending, t.attrs)
		return nil
	}, queued, published, retried, spooled, dropped, pending)
	if err != nil {
		return nil, fmt.Errorf("events: metrics callback: %w", err)
	}
	return t, nil
}

// published records the latency of an acknowledged event and, when the
// caller's span was sampled, a producer span from acceptance to ack, child
// of the caller's span.
func (t *telemetry) published(o *outgoing) {
	ctx := context.Background()
	t.latency.Record(ctx, time.Since(o.queued).Seconds(), t.attrs)
	if !o.sc.IsSampled() {
		return
	}
	subject := o.subject
	_, span := t.tracer.Start(trace.ContextWithSpanContext(ctx, o.sc), "publish "+subject,
		trace.WithSpanKind(trace.SpanKindProducer), trace.WithTimestamp(o.queued),
		trace.WithAttributes(attribute.String("messaging.system", "nats"),
			attribute.String("messaging.destination.name", subject),
			attribute.String("messaging.message.id", o.msgID)))
	span.End()
}

func (t *telemetry) close() {
	if t.reg != nil {
		_ = t.reg.Unregister()
		t.reg = nil
	}
}
