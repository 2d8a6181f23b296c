package query

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// The statements that keep the rollups current (package catalog/rollup
// runs them). A day is folded by recomputing its rollup rows from
// `events FINAL`, then its month's row from its day rows, then recording
// the arrivals it covered; docs/catalog.md ("Rollups") says why that is
// exact under every fault.

// rollupDims are the columns of a rollup row that identify its flow: every
// column a question groups or filters by, and the retention and contract
// a row shows.
const rollupDims = `kind, source, category, data_subject, purpose, legal_basis, special_condition, retention,
	retention_days, activity, recipient_name, recipient_role, recipient_country, recipient_safeguard,
	recipient_contract`

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

func days(ctx context.Context, conn driver.Conn, having string, args []any) ([]Day, error) {
	rows, err := conn.Query(ctx, `SELECT day, sum(arrived), max(folded), max(sealed) FROM rollup_days
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

// ErrDaysInSeveralMonths is returned by FoldDays for days of more than one
// month: fold them month by month.
var ErrDaysInSeveralMonths = errors.New("query: fold the days of one month at a time")

// FoldDays recomputes the rollup rows of days, which must lie in one
// month, and of the longer periods holding them, then records each day as
// folded up to the arrivals it had when it was listed. Days must have been read (DirtyDays)
// before FoldDays reads the events: an insert committed after that read
// has raised its day's arrivals past what is recorded here, so the day
// stays dirty. Folding a day twice, or concurrently, is harmless: a row
// recomputed later holds at least the events of one recomputed earlier,
// and the rollups keep the row with the most events.
func FoldDays(ctx context.Context, conn driver.Conn, days []Day) error {
	if len(days) == 0 {
		return nil
	}
	month := startOfMonth(days[0].Day)
	list := make([]time.Time, len(days))
	for i, d := range days {
		if !startOfMonth(d.Day).Equal(month) {
			return ErrDaysInSeveralMonths
		}
		list[i] = d.Day
	}
	if err := conn.Exec(ctx, `INSERT INTO rollups (span, period, `+rollupDims+`, events, records, first_seen, last_seen)
		SELECT 'day', toDate(time) AS day, `+rollupDims+`, count(), sum(count), min(time), max(time)
		FROM events FINAL WHERE toDate(time) IN ?
		GROUP BY day, `+rollupDims+rollupSettings, dates(list)); err != nil {
		return fmt.Errorf("fold days of %s: %w", month.Format("2006-01"), err)
	}
	// Then the longer periods holding them, each from the next shorter:
	// the month's ten-day periods from its days, the month from those, the
	// year from its months.
	year := spans[0].start(month)
	for i := len(spans) - 2; i >= 0; i-- {
		from, to := month, month.AddDate(0, 1, -1)
		if spans[i].name == "year" {
			from, to = year, year.AddDate(1, 0, -1)
		}
		if err := conn.Exec(ctx, `INSERT INTO rollups (span, period, `+rollupDims+`, events, records, first_seen, last_seen)
			SELECT ?, `+spans[i].startSQL("period")+` AS start, `+rollupDims+`, `+measures+`
			FROM rollups FINAL WHERE span = ? AND period BETWEEN ? AND ?
			GROUP BY start, `+rollupDims+rollupSettings, spans[i].name, spans[i+1].name, date(from), date(to)); err != nil {
			return fmt.Errorf("fold %s of %s: %w", spans[i].name, month.Format("2006-01"), err)
		}
	}
	return recordDays(ctx, conn, days, false)
}

// SealDays records days as sealed and folded at the arrivals they had when
// listed, without recomputing them: their raw events expire, so their
// rollup rows are final. Whatever a day received since its last folding is
// not counted (Pending says how much).
func SealDays(ctx context.Context, conn driver.Conn, days []Day) error {
	return recordDays(ctx, conn, days, true)
}

func recordDays(ctx context.Context, conn driver.Conn, days []Day, sealed bool) error {
	if len(days) == 0 {
		return nil
	}
	b, err := conn.PrepareBatch(ctx, "INSERT INTO rollup_days (day, arrived, folded, sealed)")
	if err != nil {
		return fmt.Errorf("record folded days: %w", err)
	}
	defer b.Abort()
	var seal uint8
	if sealed {
		seal = 1
	}
	for _, d := range days {
		if err := b.Append(d.Day, uint64(0), d.Arrived, seal); err != nil {
			return fmt.Errorf("record folded days: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("record folded days: %w", err)
	}
	return nil
}

// MarkAllDirty makes every day that has events dirty, so that the next
// foldings recompute every rollup row: the repair after a restore or a
// power failure without fsync, when the rollups may lag the events.
// Sealed days stay as they are.
func MarkAllDirty(ctx context.Context, conn driver.Conn) error {
	if err := conn.Exec(ctx, `INSERT INTO rollup_days (day, arrived)
		SELECT toDate(time) AS day, count() FROM events GROUP BY day`); err != nil {
		return fmt.Errorf("mark every day dirty: %w", err)
	}
	return nil
}
