package stack

import (
	"context"
	"log/slog"
	"path/filepath"

	"github.com/back-trace/datamap/config"
	"github.com/back-trace/datamap/stack/chembed"
)

// AttachCatalog connects to the catalog alone, for a command that only
// reads it: the ClickHouse of the `datamap serve` running on the data
// directory, or the one DATAMAP_CLICKHOUSE_DSN names — without NATS, which
// a read does not need and which may not be reachable from where the
// question is asked. With neither, it is Attach: a stack of its own, whose
// catalog is empty until events are published and consumed.
func AttachCatalog(ctx context.Context, cfg config.Config, log *slog.Logger) (*Stack, error) {
	s := &Stack{cfg: cfg, log: log}
	rt, running := FindRunning(cfg.DataDir)
	switch {
	case running && rt.EmbeddedCH:
		dir := filepath.Join(cfg.DataDir, "clickhouse")
		if err := s.connectClickHouse(ctx, embeddedOptions(rt.ClickHouseAddr, chembed.User, ReadSecret(dir, "password"))); err != nil {
			return nil, err
		}
	case cfg.ClickHouseDSN != "":
		if err := s.startClickHouse(ctx); err != nil { // the DSN: connects, starts nothing
			return nil, err
		}
	default:
		return Attach(ctx, cfg, log)
	}
	return s, nil
}
