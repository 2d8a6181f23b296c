package query

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// The bookkeeping of the rollups, read: which days have events, and which
// of them the rollups do not cover yet. Package catalog/rollup keeps it
// current and folds the days these lists name.

// Day is the rollup state of one day: the rows that arrived in the events
// table for it (redeliveries included), the arrivals its last folding
// covered, and whether it is sealed (its raw events expire; its rows are
// final).
type Day struct {
	Day     time.Time
	Arrived uint64
	Folded  uint64
	Sealed  bool
}

// Dirty reports whether the day has arrivals its rollup rows do not cover.
func (d Day) Dirty() bool { return d.Arrived > d.Folded && !d.Sealed }

// Pending is how many arrived rows the day's rollup rows do not cover.
func (d Day) Pending() uint64 {
	if d.Arrived > d.Folded {
		return d.Arrived - d.Folded
	}
	return 0
}

// RollupDays lists every day that has events, oldest first.
func RollupDays(ctx context.Context, conn driver.Conn) ([]Day, error) {
	return days(ctx, conn, "1", nil)
}

// LastDay is the newest day that has events; zero when none has.
func LastDay(ctx context.Context, conn driver.Conn) (time.Time, error) {
	var last time.Time
	if err := conn.QueryRow(ctx, `SELECT max(day) FROM `+dayArrivals).Scan(&last); err != nil {
		return time.Time{}, fmt.Errorf("rollup last day query: %w", err)
	}
	if !last.After(time.Unix(0, 0)) {
		return time.Time{}, nil
	}
	return last.UTC(), nil
}

// DirtyDays lists the days to fold, oldest first.
func DirtyDays(ctx context.Context, conn driver.Conn) ([]Day, error) {
	return days(ctx, conn, "sum(arrived) > max(folded) AND max(sealed) = 0", nil)
}

// LateDays lists the sealed days that received events since they were
// sealed: events the rollups do not count, since their day's raw events
// may be gone.
func LateDays(ctx context.Context, conn driver.Conn) ([]Day, error) {
	return days(ctx, conn, "sum(arrived) > max(folded) AND max(sealed) = 1", nil)
}

// UnsealedDays lists the days up to and including through that are not
// sealed yet, oldest first.
func UnsealedDays(ctx context.Context, conn driver.Conn, through time.Time) ([]Day, error) {
	return days(ctx, conn, "max(sealed) = 0 AND day <= ?", []any{date(through)})
}

// dayArrivals is rollup_days with each day's arrivals: those counted by
// the day (before hours were counted, and by MarkAllDirty) and those
// counted by the hour. Its folded and sealed are the day's.
const dayArrivals = `(SELECT day, arrived, folded, sealed FROM rollup_days
	UNION ALL SELECT toDate(hour) AS day, arrived, toUInt64(0) AS folded, toUInt8(0) AS sealed FROM rollup_hours)`

func days(ctx context.Context, conn driver.Conn, having string, args []any) ([]Day, error) {
	rows, err := conn.Query(ctx, `SELECT day, sum(arrived), max(folded), max(sealed) FROM `+dayArrivals+`
		GROUP BY day HAVING `+having+` ORDER BY day`, args...)
	if err != nil {
		return nil, fmt.Errorf("rollup days query: %w", err)
	}
	defer rows.Close()
	var out []Day
	for rows.Next() {
		var d Day
		var sealed uint8
		if err := rows.Scan(&d.Day, &d.Arrived, &d.Folded, &sealed); err != nil {
			return nil, err
		}
		d.Sealed = sealed == 1
		out = append(out, d)
	}
	return out, rows.Err()
}

// Hour is the rollup state of one hour of a day folded by the hour: the
// rows that arrived for it, the arrivals its last folding covered, and
// whether its rows were ever computed.
type Hour struct {
	Hour    time.Time
	Arrived uint64
	Folded  uint64
	Covered bool
}

// Clean reports whether the hour's rows cover every event that arrived
// for it.
func (h Hour) Clean() bool { return h.Covered && h.Arrived <= h.Folded }

// Hours lists the hours of the given days that have any state (arrivals
// or a folding), oldest first; an hour not listed has neither.
func Hours(ctx context.Context, conn driver.Conn, days []time.Time) ([]Hour, error) {
	rows, err := conn.Query(ctx, `SELECT hour, sum(arrived), max(folded), max(covered) FROM rollup_hours
		WHERE toDate(hour) IN ? GROUP BY hour ORDER BY hour`, dates(days))
	if err != nil {
		return nil, fmt.Errorf("rollup hours query: %w", err)
	}
	defer rows.Close()
	var out []Hour
	for rows.Next() {
		var h Hour
		var covered uint8
		if err := rows.Scan(&h.Hour, &h.Arrived, &h.Folded, &covered); err != nil {
			return nil, err
		}
		h.Hour, h.Covered = h.Hour.UTC(), covered == 1
		out = append(out, h)
	}
	return out, rows.Err()
}
