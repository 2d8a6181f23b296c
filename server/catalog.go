package server

import (
	"context"

	"github.com/back-trace/datamap/catalog/consumer"
	"github.com/back-trace/datamap/catalog/deadletter"
	"github.com/back-trace/datamap/catalog/rollup"
	"github.com/back-trace/datamap/catalog/schema"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/sinks/clickhouse"
	"github.com/back-trace/datamap/stack"
)

// NewConsumer wires the catalog consumer to a stack: the durable
// JetStream consumer in, the ClickHouse writer and the dead-letter stream
// out. tax validates the events and gives the retention of the subject
// table's rows; metrics may be nil.
func NewConsumer(ctx context.Context, s *stack.Stack, tax *taxonomy.Taxonomy, metrics *consumer.Metrics) (*consumer.Consumer, error) {
	durable, err := consumer.EnsureDurable(ctx, s.JS, consumer.DefaultSettings)
	if err != nil {
		return nil, err
	}
	cfg := s.Config()
	w := clickhouse.NewWriter(s.ClickHouse).WithSubjectRetention(clickhouse.SubjectRetention{
		Category: tax.RetentionOf, Evidence: cfg.SubjectEvidencePeriod()})
	return consumer.New(durable, w,
		deadletter.NewSink(s.JS, deadletter.SubjectPrefix), events.NewValidator(tax),
		consumer.Options{BatchSize: cfg.BatchSize, MaxWait: cfg.BatchWait, Logger: s.Logger(),
			MaxDeliver: consumer.DefaultSettings.MaxDeliver, Metrics: metrics, RefuseLegacySubjects: !cfg.LegacySubjects}), nil
}

// NewFolder returns the folder that keeps a stack's rollups current, as
// its configuration says (DATAMAP_ROLLUP_INTERVAL,
// DATAMAP_RAW_EVENTS_TTL_DAYS); metrics may be nil.
func NewFolder(s *stack.Stack, metrics *rollup.Metrics) *rollup.Folder {
	cfg := s.Config()
	return rollup.New(s.ClickHouse, rollup.Options{Interval: cfg.RollupInterval, RawTTLDays: cfg.RawEventsTTLDays,
		Dialect: schema.Dialect{Cluster: cfg.ClickHouseCluster}, Logger: s.Logger(), Metrics: metrics})
}
