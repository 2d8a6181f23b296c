package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/traffic"
)

// TrafficWriter inserts observed traffic day aggregates into the traffic
// table, whose engine adds up rows of the same key.
type TrafficWriter struct{ conn driver.Conn }

// NewTrafficWriter returns a TrafficWriter over an open connection. The
// caller owns conn.
func NewTrafficWriter(conn driver.Conn) *TrafficWriter { return &TrafficWriter{conn: conn} }

const insertTraffic = "INSERT INTO traffic (day, system, host, class, recipient, country, spans, errors, first_seen, last_seen)"

// WriteTraffic inserts rows in one block.
func (w *TrafficWriter) WriteTraffic(ctx context.Context, rows []traffic.Observation) error {
	if len(rows) == 0 {
		return nil
	}
	b, err := w.conn.PrepareBatch(ctx, insertTraffic)
	if err != nil {
		return fmt.Errorf("clickhouse: prepare traffic insert: %w", err)
	}
	defer b.Abort()
	n := len(rows)
	days := make([]time.Time, 0, n)
	systems, hosts, classes, recipients, countries := make([]string, 0, n), make([]string, 0, n),
		make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	spans, errs := make([]uint64, 0, n), make([]uint64, 0, n)
	firsts, lasts := make([]time.Time, 0, n), make([]time.Time, 0, n)
	for _, r := range rows {
		days = append(days, r.Date())
		systems = append(systems, r.System)
		hosts = append(hosts, r.Host)
		classes = append(classes, string(r.Class))
		recipients = append(recipients, r.Recipient)
		countries = append(countries, r.Country)
		spans = append(spans, r.Spans)
		errs = append(errs, r.Errors)
		firsts = append(firsts, r.First)
		lasts = append(lasts, r.Last)
	}
	for i, col := range []any{days, systems, hosts, classes, recipients, countries, spans, errs, firsts, lasts} {
		if err := b.Column(i).Append(col); err != nil {
			return fmt.Errorf("clickhouse: append traffic column %d: %w", i, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("clickhouse: insert %d traffic aggregates: %w", n, err)
	}
	return nil
}
