package server

import (
	"context"
	"time"

	"github.com/back-trace/datamap/alerts"
	"github.com/back-trace/datamap/questions"
	"github.com/back-trace/datamap/report"
	"github.com/back-trace/datamap/stack"
)

// NewAlerter wires the alerts to a stack as its configuration says: the
// drift findings against reg (the same answer as `datamap drift`),
// announced on NATS unless DATAMAP_ALERT_NATS is false, and to the
// DATAMAP_ALERT_WEBHOOKS. It returns nil, and why, when there is nothing
// to check (no registry) or no one to tell.
func NewAlerter(ctx context.Context, s *stack.Stack, deps questions.Deps) (*alerts.Alerter, string, error) {
	cfg := s.Config()
	if deps.Registry == nil {
		return nil, "no registry to check findings against (DATAMAP_REGISTRY)", nil
	}
	var targets []alerts.Target
	if cfg.AlertNATS {
		nt, err := alerts.NewNATS(ctx, s.JS, cfg.StreamReplicas)
		if err != nil {
			return nil, "", err
		}
		targets = append(targets, nt)
	}
	hooks, err := cfg.AlertWebhookList()
	if err != nil {
		return nil, "", err
	}
	for _, h := range hooks {
		w, err := alerts.NewWebhook(h.Format, h.URL)
		if err != nil {
			return nil, "", err
		}
		targets = append(targets, w)
	}
	if len(targets) == 0 {
		return nil, "DATAMAP_ALERT_NATS is false and DATAMAP_ALERT_WEBHOOKS is empty", nil
	}
	findings := func(ctx context.Context, asOf time.Time) ([]report.Finding, error) {
		return deps.Drift(ctx, questions.ParsedEvidence{AsOf: asOf, Role: report.RoleAll, StaleAfter: report.DefaultStaleAfter})
	}
	a, err := alerts.New(ctx, alerts.Options{Findings: findings, Catalog: s.ClickHouse, Targets: targets,
		Interval: cfg.AlertInterval, Log: s.Logger()})
	return a, "", err
}
