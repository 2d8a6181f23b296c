package query

import (
	"context"
	"testing"
	"time"

	"github.com/back-trace/datamap/internal/testkit/testservers"
)

// Warm's answer as of an instant falls inside a day whose raw events are
// kept, and not inside the first day (which would leave no whole day for
// the rollups): the second day with events, or the first after the last
// sealed one; none when there is no such day.
func TestWarmAsksAsOfNoonOfAnEarlyDayWithRawEvents(t *testing.T) {
	conn := testservers.ClickHouse(t)
	ctx := context.Background()
	day := func(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC) }
	noon := func() time.Time {
		t.Helper()
		n, err := secondNoon(ctx, conn)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	arrive := func(d int) {
		t.Helper()
		if err := conn.Exec(ctx, "INSERT INTO rollup_arrivals (hour, arrived) VALUES (?, 5)", day(d).Add(9*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if n := noon(); !n.IsZero() {
		t.Errorf("empty catalog: %v, want none", n)
	}
	arrive(2)
	if n := noon(); !n.IsZero() {
		t.Errorf("one day: %v, want none", n)
	}
	arrive(4)
	arrive(5)
	if n, want := noon(), day(4).Add(12*time.Hour); !n.Equal(want) {
		t.Errorf("three days: %v, want %v", n, want)
	}
	if err := conn.Exec(ctx, "INSERT INTO rollup_folded (day, folded, sealed) VALUES (?, 5, 1), (?, 5, 1)", day(2), day(4)); err != nil {
		t.Fatal(err)
	}
	if n, want := noon(), day(5).Add(12*time.Hour); !n.Equal(want) {
		t.Errorf("first two days sealed: %v, want %v", n, want)
	}
	if err := conn.Exec(ctx, "INSERT INTO rollup_folded (day, folded, sealed) VALUES (?, 5, 1)", day(5)); err != nil {
		t.Fatal(err)
	}
	if n := noon(); !n.IsZero() {
		t.Errorf("every day sealed: %v, want none", n)
	}
}
