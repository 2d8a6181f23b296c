package query

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// CountRows counts the rows of the events table, duplicates that are not
// merged yet included. It reads part metadata only, so polling it costs
// nothing; CountEvents counts distinct events.
func CountRows(ctx context.Context, conn driver.Conn) (uint64, error) {
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM events").Scan(&n); err != nil {
		return 0, fmt.Errorf("row count: %w", err)
	}
	return n, nil
}

// Arrival is when one event became queryable: its id and the instant the
// catalog stored it (ingested_at, millisecond resolution).
type Arrival struct {
	ID         string
	IngestedAt time.Time
}

// ArrivedSince lists the events stored at or after since, in no particular
// order and without deduplication (a redelivered event may appear twice).
// `datamap bench` polls it to time each event from publish to queryable.
func ArrivedSince(ctx context.Context, conn driver.Conn, since time.Time) ([]Arrival, error) {
	rows, err := conn.Query(ctx,
		"SELECT id, toUnixTimestamp64Milli(ingested_at) FROM events WHERE ingested_at >= fromUnixTimestamp64Milli(toInt64(?))",
		since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("arrivals query: %w", err)
	}
	defer rows.Close()
	var out []Arrival
	for rows.Next() {
		var id string
		var ms int64
		if err := rows.Scan(&id, &ms); err != nil {
			return nil, err
		}
		out = append(out, Arrival{ID: id, IngestedAt: time.UnixMilli(ms)})
	}
	return out, rows.Err()
}
