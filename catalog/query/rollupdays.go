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

// daysSQL reads every day's bookkeeping (migration 0013): the arrivals of
// its hours, what its last folding covered, whether it is sealed. A day
// sealed after its raw events expired may have no arrivals left.
const daysSQL = `SELECT day, sum(arrived) AS day_arrived, max(folded) AS day_folded, max(sealed) AS day_sealed FROM (
		SELECT toDate(hour) AS day, arrived, toUInt64(0) AS folded, toUInt8(0) AS sealed FROM rollup_arrivals
		UNION ALL SELECT day, toUInt64(0), folded, sealed FROM rollup_folded)
	GROUP BY day`

func days(ctx context.Context, conn driver.Conn, having string, args []any) ([]Day, error) {
	rows, err := conn.Query(ctx, daysSQL+` HAVING `+having+` ORDER BY day`, args...)
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

// ToDateDue says whether the rows to date (migration 0012) should be
// computed again. They hold every day before the newest day with events,
// the one still arriving; they are due when all those days are folded and
// the newest rows computed hold another day, or were computed from other
// foldings of them (Folded, the sum to record with the new rows, differs).
type ToDateDue struct {
	Due            bool
	First, Through time.Time // the first day with events; the last the rows hold
	Folded         uint64
}

// ToDateState reads whether the rows to date are due.
func ToDateState(ctx context.Context, conn driver.Conn) (ToDateDue, error) {
	b, err := readBookkeeping(ctx, conn)
	if err != nil || len(b.days) == 0 {
		return ToDateDue{}, err
	}
	d := ToDateDue{First: b.days[0].Day, Through: b.days[len(b.days)-1].Day.AddDate(0, 0, -1)}
	var clean bool
	d.Folded, clean = b.foldedThrough(d.Through)
	same := b.toDate.Day.Equal(d.Through) && b.toDate.Folded == d.Folded
	d.Due = clean && !same && !d.Through.Before(d.First)
	return d, nil
}

// HourlyFrom reads the first day folded by the hour: the newest two days
// with events, within the last five, as the plans read them. Zero when no
// day has events.
func HourlyFrom(ctx context.Context, conn driver.Conn) (time.Time, error) {
	b, err := readBookkeeping(ctx, conn)
	return b.hourlyFrom(), err
}

// Hour is the rollup state of one hour of a day folded by the hour: the
// rows that arrived for it, and the arrivals its last folding covered.
type Hour struct {
	Hour            time.Time
	Arrived, Folded uint64
}

// DirtyHours lists the hours of the days whose arrivals their hourly rows
// do not count, oldest first.
func DirtyHours(ctx context.Context, conn driver.Conn, days []time.Time) ([]Hour, error) {
	rows, err := conn.Query(ctx, `SELECT hour, sum(arrived), max(folded) FROM rollup_arrivals
		WHERE toDate(hour) IN ? GROUP BY hour HAVING sum(arrived) > max(folded) ORDER BY hour`, dates(days))
	if err != nil {
		return nil, fmt.Errorf("rollup hours query: %w", err)
	}
	defer rows.Close()
	var out []Hour
	for rows.Next() {
		var h Hour
		if err := rows.Scan(&h.Hour, &h.Arrived, &h.Folded); err != nil {
			return nil, err
		}
		h.Hour = h.Hour.UTC()
		out = append(out, h)
	}
	return out, rows.Err()
}
