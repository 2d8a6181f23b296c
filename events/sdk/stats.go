package sdk

import (
	"log/slog"
	"sync/atomic"
	"time"
)

// Stats are the Publisher's counters since it was created. They are also
// exported as OpenTelemetry metrics.
type Stats struct {
	Queued    uint64 // accepted by Collected/Shared/Erased (and coalesced events in aggregation mode)
	Published uint64 // acknowledged by JetStream
	Retried   uint64 // publish attempts that failed or timed out and were retried
	Spooled   uint64 // written to the disk spool
	Dropped   uint64 // dropped by WithDropOnFull
	Pending   int64  // accepted and not yet acknowledged (queued, in flight or spooled)
}

// counters are the Publisher's figures, shared by its parts: delivery
// counts, telemetry reads them. Atomics, so that neither waits.
type counters struct {
	queued, published, retried, spooled, dropped atomic.Uint64
	pending                                      atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{Queued: c.queued.Load(), Published: c.published.Load(), Retried: c.retried.Load(),
		Spooled: c.spooled.Load(), Dropped: c.dropped.Load(), Pending: c.pending.Load()}
}

// dropLog logs dropped events at most once every 10 seconds.
type dropLog struct {
	last   atomic.Int64 // unix nanos of the last line
	logged atomic.Uint64
}

func (d *dropLog) note(log *slog.Logger, total uint64) {
	now := time.Now().UnixNano()
	last := d.last.Load()
	if now-last < int64(10*time.Second) || !d.last.CompareAndSwap(last, now) {
		return
	}
	since := total - d.logged.Swap(total)
	log.Warn("publisher queue full: events dropped (WithDropOnFull); is NATS reachable?", "dropped", since, "dropped_total", total)
}
