package rollup

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// Metrics are the Folder's OpenTelemetry instruments; `datamap serve`
// exports them on /metrics. The gauges show a backfill's progress: dirty
// days fall to the one or two days that are receiving events.
type Metrics struct {
	meter    metric.Meter
	folded   metric.Int64Counter
	sealed   metric.Int64Counter
	late     metric.Int64Counter
	duration metric.Float64Histogram
}

// NewMetrics creates the instruments on mp. Pass them to New in Options,
// then call ObserveBacklog with the Folder.
func NewMetrics(mp metric.MeterProvider) (*Metrics, error) {
	meter := mp.Meter("github.com/back-trace/datamap/catalog/rollup")
	m := &Metrics{meter: meter}
	var err error
	if m.folded, err = meter.Int64Counter("datamap.rollup.days.folded",
		metric.WithDescription("days whose rollup rows were recomputed from their events"), metric.WithUnit("{day}")); err != nil {
		return nil, err
	}
	if m.sealed, err = meter.Int64Counter("datamap.rollup.days.sealed",
		metric.WithDescription("days sealed because their raw events expire (DATAMAP_RAW_EVENTS_TTL_DAYS)"), metric.WithUnit("{day}")); err != nil {
		return nil, err
	}
	if m.late, err = meter.Int64Counter("datamap.rollup.rows.late",
		metric.WithDescription("rows that arrived for days already sealed, not counted by the rollups"), metric.WithUnit("{row}")); err != nil {
		return nil, err
	}
	if m.duration, err = meter.Float64Histogram("datamap.rollup.fold.duration",
		metric.WithDescription("time of one folding round (one month's dirty days)"), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)); err != nil {
		return nil, err
	}
	return m, nil
}

// ObserveBacklog reports f's dirty days and pending rows, as of its latest
// round, each time metrics are collected.
func (m *Metrics) ObserveBacklog(f *Folder) error {
	if _, err := m.meter.Int64ObservableGauge("datamap.rollup.days.dirty",
		metric.WithDescription("days with events not folded into the rollups yet (their queries read raw events); -1 before the first round"),
		metric.WithUnit("{day}"),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(f.dirtyDays.Load())
			return nil
		})); err != nil {
		return err
	}
	_, err := m.meter.Int64ObservableGauge("datamap.rollup.rows.pending",
		metric.WithDescription("rows inserted into dirty days since their last folding"), metric.WithUnit("{row}"),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(f.pendingRows.Load())
			return nil
		}))
	return err
}

// round records one round; a nil Metrics records nothing.
func (m *Metrics) round(ctx context.Context, r Round, took time.Duration) {
	if m == nil {
		return
	}
	m.folded.Add(ctx, int64(r.Folded))
	m.sealed.Add(ctx, int64(r.Sealed))
	m.late.Add(ctx, int64(r.LateRows))
	m.duration.Record(ctx, took.Seconds())
}
