package schema_test

import (
	"context"
	"slices"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/back-trace/datamap/catalog/schema"
	"github.com/back-trace/datamap/internal/testkit/testservers"
)

// A catalog written before the events' times were stored by difference
// (migration 0016) keeps its parts as they are: the migration changes the
// codec, rewrites no part, loses no event, and ingested_at keeps its
// default.
func TestEventTimesCodecRewritesNoPart(t *testing.T) {
	ctx := context.Background()
	conn := testservers.EmptyDatabase(t).Conn

	// The catalog as the migrations before 0016 left it, with events.
	migrations, err := schema.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	apply := func(versions func(int) bool) {
		t.Helper()
		for _, m := range migrations {
			if !versions(m.Version) {
				continue
			}
			for _, stmt := range m.Statements {
				if err := conn.Exec(ctx, stmt); err != nil {
					t.Fatalf("migration %d: %v", m.Version, err)
				}
			}
		}
	}
	apply(func(v int) bool { return v < 16 })
	if err := conn.Exec(ctx, `INSERT INTO events (source, id, kind, time)
		SELECT 'billing', toString(number), 'collected', toDateTime64('2026-01-01 00:00:00', 3, 'UTC') + toIntervalSecond(number)
		FROM numbers(1000)`); err != nil {
		t.Fatal(err)
	}
	partsBefore, sumBefore := eventParts(t, conn), eventTimes(t, conn)

	apply(func(v int) bool { return v == 16 })
	if got := eventParts(t, conn); !slices.Equal(got, partsBefore) {
		t.Errorf("events parts after the migration: %v, want the same parts %v (nothing rewritten)", got, partsBefore)
	}
	if got := eventTimes(t, conn); got != sumBefore {
		t.Errorf("events' times after the migration sum to %d ms, want %d", got, sumBefore)
	}
	for _, column := range []string{"time", "ingested_at"} {
		var codec string
		if err := conn.QueryRow(ctx, `SELECT compression_codec FROM system.columns
			WHERE database = currentDatabase() AND table = 'events' AND name = ?`, column).Scan(&codec); err != nil {
			t.Fatal(err)
		}
		if codec != "CODEC(DoubleDelta, LZ4)" {
			t.Errorf("events.%s codec %q, want CODEC(DoubleDelta, LZ4)", column, codec)
		}
	}

	// New parts use the codec, and ingested_at is still filled in.
	if err := conn.Exec(ctx, `INSERT INTO events (source, id, kind, time) VALUES ('billing', 'new', 'collected', now64(3))`); err != nil {
		t.Fatal(err)
	}
	var unset uint64
	if err := conn.QueryRow(ctx, "SELECT countIf(ingested_at = 0) FROM events WHERE id = 'new'").Scan(&unset); err != nil {
		t.Fatal(err)
	}
	if unset != 0 {
		t.Error("an event inserted after the migration has no ingested_at: its default was lost")
	}
}

// eventParts names the active parts of events.
func eventParts(t *testing.T, conn driver.Conn) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT name FROM system.parts
		WHERE database = currentDatabase() AND table = 'events' AND active ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		t.Fatal("events has no part")
	}
	return names
}

// eventTimes is the sum of the events' times, in milliseconds.
func eventTimes(t *testing.T, conn driver.Conn) int64 {
	t.Helper()
	var sum int64
	if err := conn.QueryRow(context.Background(), "SELECT toInt64(sum(toUnixTimestamp64Milli(time))) FROM events").Scan(&sum); err != nil {
		t.Fatal(err)
	}
	return sum
}
