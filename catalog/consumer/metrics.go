package consumer

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// Metrics are the consumer's OpenTelemetry instruments. Create them with
// NewMetrics from the host's MeterProvider; `datamap serve` exports them on
// /metrics in Prometheus format.
type Metrics struct {
	meter         metric.Meter
	stored        metric.Int64Counter
	deadLettered  metric.Int64Counter
	redeliveries  metric.Int64Counter
	batchSize     metric.Int64Histogram
	insertLatency metric.Float64Histogram
}

// NewMetrics creates the instruments on mp.
func NewMetrics(mp metric.MeterProvider) (*Metrics, error) {
	// The instrumentation scope stays "…/catalog", the name dashboards and
	// alerts already select on.
	m := &Metrics{meter: mp.Meter("github.com/back-trace/datamap/catalog")}
	var err error
	if m.stored, err = m.meter.Int64Counter("datamap.consumer.events.stored",
		metric.WithDescription("events written to the catalog (rate = events/s)"), metric.WithUnit("{event}")); err != nil {
		return nil, err
	}
	if m.deadLettered, err = m.meter.Int64Counter("datamap.consumer.events.deadlettered",
		metric.WithDescription("events sent to the dead-letter stream"), metric.WithUnit("{event}")); err != nil {
		return nil, err
	}
	if m.redeliveries, err = m.meter.Int64Counter("datamap.consumer.redeliveries",
		metric.WithDescription("messages received more than once"), metric.WithUnit("{message}")); err != nil {
		return nil, err
	}
	if m.batchSize, err = m.meter.Int64Histogram("datamap.consumer.batch.size",
		metric.WithDescription("messages per fetched batch"), metric.WithUnit("{message}"),
		metric.WithExplicitBucketBoundaries(1, 10, 100, 500, 1000, 2500, 5000, 10000, 25000)); err != nil {
		return nil, err
	}
	if m.insertLatency, err = m.meter.Float64Histogram("datamap.consumer.insert.duration",
		metric.WithDescription("time to INSERT one batch into ClickHouse"), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)); err != nil {
		return nil, err
	}
	return m, nil
}

// ObserveLag reports the consumer's backlog — messages not yet delivered
// plus delivered but not acknowledged — each time metrics are collected.
func (m *Metrics) ObserveLag(c *Consumer) error {
	_, err := m.meter.Int64ObservableGauge("datamap.consumer.lag",
		metric.WithDescription("messages in the stream the catalog has not stored yet"), metric.WithUnit("{message}"),
		metric.WithInt64Callback(func(ctx context.Context, o metric.Int64Observer) error {
			ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			backlog, err := c.Backlog(ctx)
			if err != nil {
				return nil // NATS unreachable: no sample rather than a wrong one
			}
			o.Observe(int64(backlog))
			return nil
		}))
	return err
}

// consumerMetrics records into Metrics, or nowhere when nil.
type consumerMetrics struct{ m *Metrics }

func (m *Metrics) forConsumer() *consumerMetrics { return &consumerMetrics{m} }

func (c *consumerMetrics) inserted(ctx context.Context, n int, took time.Duration) {
	if c.m != nil {
		c.m.stored.Add(ctx, int64(n))
		c.m.insertLatency.Record(ctx, took.Seconds())
	}
}

func (c *consumerMetrics) batch(ctx context.Context, n int) {
	if c.m != nil && n > 0 {
		c.m.batchSize.Record(ctx, int64(n))
	}
}

func (c *consumerMetrics) deadLettered(ctx context.Context, n int) {
	if c.m != nil {
		c.m.deadLettered.Add(ctx, int64(n))
	}
}

func (c *consumerMetrics) redelivered(ctx context.Context, n int) {
	if c.m != nil {
		c.m.redeliveries.Add(ctx, int64(n))
	}
}
