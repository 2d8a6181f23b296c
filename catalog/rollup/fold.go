package rollup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/catalog/query"
)

// The statements that keep the rollups current. A day is folded by
// recomputing its rollup rows from `events FINAL`, then its month's row
// from its day rows, then recording the arrivals it covered;
// docs/catalog.md ("Rollups") says why that is exact under every fault.

// rollupDims are the columns of a rollup row that identify its flow: every
// column a question groups or filters by, and the retention and contract
// a row shows.
const rollupDims = `kind, source, category, data_subject, purpose, legal_basis, special_condition, retention,
	retention_days, activity, recipient_name, recipient_role, recipient_country, recipient_safeguard,
	recipient_contract`

// ErrDaysInSeveralMonths is returned by FoldDays for days of more than one
// month: fold them month by month.
var ErrDaysInSeveralMonths = errors.New("rollup: fold the days of one month at a time")

// FoldDays recomputes the rollup rows of days, which must lie in one
// month, and of the longer periods holding them, then records each day as
// folded up to the arrivals it had when it was listed. Days must have been
// read (query.DirtyDays) before FoldDays reads the events: an insert
// committed after that read has raised its day's arrivals past what is
// recorded here, so the day stays dirty. Folding a day twice, or concurrently, is harmless: a row
// recomputed later holds at least the events of one recomputed earlier,
// and the rollups keep the row with the most events.
func FoldDays(ctx context.Context, conn driver.Conn, days []query.Day) error {
	if len(days) == 0 {
		return nil
	}
	first := days[0].Day.UTC()
	month := time.Date(first.Year(), first.Month(), 1, 0, 0, 0, 0, time.UTC)
	list := make([]string, len(days))
	for i, d := range days {
		if !sameMonth(d.Day.UTC(), month) {
			return ErrDaysInSeveralMonths
		}
		list[i] = date(d.Day)
	}
	// The newest days by the hour, the others whole.
	hourlyFrom, err := query.HourlyFrom(ctx, conn)
	if err != nil {
		return err
	}
	var whole, byHour []time.Time
	for _, d := range days {
		if !hourlyFrom.IsZero() && !d.Day.Before(hourlyFrom) {
			byHour = append(byHour, d.Day)
		} else {
			whole = append(whole, d.Day)
		}
	}
	if len(whole) > 0 {
		if err := conn.Exec(ctx, `INSERT INTO rollups (span, period, `+rollupDims+`, events, records, first_seen, last_seen)
			SELECT 'day', toDate(time) AS day, `+rollupDims+`, count(), sum(count), min(time), max(time)
			FROM events FINAL WHERE toDate(time) IN ?
			GROUP BY day, `+rollupDims+query.RollupSettings, dates(whole)); err != nil {
			return fmt.Errorf("fold days of %s: %w", month.Format("2006-01"), err)
		}
	}
	hours, err := foldHours(ctx, conn, byHour)
	if err != nil {
		return fmt.Errorf("fold days of %s by the hour: %w", month.Format("2006-01"), err)
	}
	// Then the longer periods holding them, each from the next shorter:
	// the month's ten-day periods from its days, the month from those, the
	// year from its months.
	spans := query.Spans()
	year := time.Date(month.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	for i := len(spans) - 2; i >= 0; i-- {
		from, to := month, month.AddDate(0, 1, -1)
		if spans[i].Name == "year" {
			from, to = year, year.AddDate(1, 0, -1)
		}
		if err := conn.Exec(ctx, `INSERT INTO rollups (span, period, `+rollupDims+`, events, records, first_seen, last_seen)
			SELECT ?, `+spans[i].StartSQL("period")+` AS start, `+rollupDims+`, `+query.Measures+`
			FROM rollups FINAL WHERE span = ? AND period BETWEEN ? AND ?
			GROUP BY start, `+rollupDims+query.RollupSettings, spans[i].Name, spans[i+1].Name, date(from), date(to)); err != nil {
			return fmt.Errorf("fold %s of %s: %w", spans[i].Name, month.Format("2006-01"), err)
		}
	}
	if err := foldRetention(ctx, conn, `(span = 'day' AND period IN ?) OR (span IN ('ten_days', 'month') AND period BETWEEN ? AND ?)
		OR (span = 'year' AND period = ?)`, list, date(month), date(month.AddDate(0, 1, -1)), date(year)); err != nil {
		return fmt.Errorf("fold retention rollups of %s: %w", month.Format("2006-01"), err)
	}
	if err := recordHours(ctx, conn, hours); err != nil {
		return err
	}
	return recordDays(ctx, conn, days, false)
}

// FoldToDate computes the rows to date when they are due (query.ToDateDue):
// every flow's sum from the first event through the day before the newest
// day with events, from the folded periods that make it up, then records
// the day and the foldings they were computed from. A query trusts them
// only while those foldings are unchanged, so a day folded again meanwhile
// (by a concurrent Folder, or a late redelivery) makes them untrusted
// until the next computation, never wrong. It reports whether it computed.
func FoldToDate(ctx context.Context, conn driver.Conn) (bool, error) {
	due, err := query.ToDateState(ctx, conn)
	if err != nil || !due.Due {
		return false, err
	}
	where, args := query.CoverOf(due.First, due.Through)
	if err := conn.Exec(ctx, `INSERT INTO rollups (span, period, `+rollupDims+`, events, records, first_seen, last_seen)
		SELECT 'to_date', toDate(?), `+rollupDims+`, `+query.Measures+`
		FROM rollups FINAL WHERE `+where+`
		GROUP BY `+rollupDims+query.RollupSettings, append([]any{date(due.Through)}, args...)...); err != nil {
		return false, fmt.Errorf("fold rollups to %s: %w", date(due.Through), err)
	}
	if err := foldRetention(ctx, conn, "span = 'to_date' AND period = ?", date(due.Through)); err != nil {
		return false, fmt.Errorf("fold retention rollups to %s: %w", date(due.Through), err)
	}
	if err := conn.Exec(ctx, "INSERT INTO rollup_to_date (through, folded) VALUES (?, ?)", date(due.Through), due.Folded); err != nil {
		return false, fmt.Errorf("record rollups to %s: %w", date(due.Through), err)
	}
	return true, nil
}

// foldHours recomputes the hourly rollup rows of the dirty hours of days
// (read before the events), then the days' rollup rows from their hours —
// every hour of them with events has rows: the clean ones kept theirs —
// and returns the hours folded, to be recorded once the longer periods
// are folded too.
func foldHours(ctx context.Context, conn driver.Conn, days []time.Time) ([]query.Hour, error) {
	if len(days) == 0 {
		return nil, nil
	}
	hours, err := query.DirtyHours(ctx, conn, days)
	if err != nil {
		return nil, err
	}
	if len(hours) > 0 {
		list := make([]string, len(hours))
		for i, h := range hours {
			list[i] = h.Hour.Format(time.DateTime)
		}
		if err := conn.Exec(ctx, `INSERT INTO hourly_rollups (hour, `+rollupDims+`, events, records, first_seen, last_seen)
			SELECT toStartOfHour(time) AS hour, `+rollupDims+`, count(), sum(count), min(time), max(time)
			FROM events FINAL WHERE toDate(time) IN ? AND toStartOfHour(time) IN ?
			GROUP BY hour, `+rollupDims+query.RollupSettings, dates(days), list); err != nil {
			return nil, err
		}
	}
	if err := conn.Exec(ctx, `INSERT INTO rollups (span, period, `+rollupDims+`, events, records, first_seen, last_seen)
		SELECT 'day', toDate(hour) AS day, `+rollupDims+`, `+query.Measures+`
		FROM hourly_rollups FINAL WHERE toDate(hour) IN ?
		GROUP BY day, `+rollupDims+query.RollupSettings, dates(days)); err != nil {
		return nil, err
	}
	return hours, nil
}

// recordHours records hours as folded up to the arrivals they had when
// listed.
func recordHours(ctx context.Context, conn driver.Conn, hours []query.Hour) error {
	rows := make([][]any, len(hours))
	for i, h := range hours {
		rows[i] = []any{h.Hour, uint64(0), h.Arrived}
	}
	return record(ctx, conn, "INSERT INTO rollup_arrivals (hour, arrived, folded)", rows, "hours")
}

func dates(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = date(t)
	}
	return out
}

// retentionDims are the columns of a retention rollup row that identify it.
const retentionDims = "span, period, kind, source, category, data_subject, retention, retention_days"

// foldRetention writes the retention rollup rows (migration 0012) of the
// rollup rows selected by where, just computed: the same periods summed
// over every column the retention question neither groups nor filters by.
func foldRetention(ctx context.Context, conn driver.Conn, where string, args ...any) error {
	return conn.Exec(ctx, `INSERT INTO retention_rollups (`+retentionDims+`, events, records, first_seen, last_seen)
		SELECT `+retentionDims+`, `+query.Measures+`
		FROM rollups FINAL WHERE kind IN ('collected', 'erased') AND (`+where+`)
		GROUP BY `+retentionDims+query.RollupSettings, args...)
}

// SealDays records days as sealed and folded at the arrivals they had when
// listed, without recomputing them: their raw events expire, so their
// rollup rows are final. Whatever a day received since its last folding is
// not counted (Pending says how much).
func SealDays(ctx context.Context, conn driver.Conn, days []query.Day) error {
	return recordDays(ctx, conn, days, true)
}

func recordDays(ctx context.Context, conn driver.Conn, days []query.Day, sealed bool) error {
	var seal uint8
	if sealed {
		seal = 1
	}
	rows := make([][]any, len(days))
	for i, d := range days {
		rows[i] = []any{d.Day, d.Arrived, seal}
	}
	return record(ctx, conn, "INSERT INTO rollup_folded (day, folded, sealed)", rows, "days")
}

// record inserts the bookkeeping rows of a folding (rollup_folded,
// rollup_arrivals) in one batch.
func record(ctx context.Context, conn driver.Conn, insert string, rows [][]any, what string) error {
	if len(rows) == 0 {
		return nil
	}
	b, err := conn.PrepareBatch(ctx, insert)
	if err != nil {
		return fmt.Errorf("record folded %s: %w", what, err)
	}
	defer b.Abort()
	for _, r := range rows {
		if err := b.Append(r...); err != nil {
			return fmt.Errorf("record folded %s: %w", what, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("record folded %s: %w", what, err)
	}
	return nil
}

// MarkAllDirty makes every day that has events dirty, and every hour of
// them, so that the next foldings recompute every rollup row: the repair
// after a restore or a power failure without fsync, when the rollups may
// lag the events. Sealed days stay as they are.
func MarkAllDirty(ctx context.Context, conn driver.Conn) error {
	if err := conn.Exec(ctx, `INSERT INTO rollup_arrivals (hour, arrived)
		SELECT toStartOfHour(time) AS hour, count() FROM events GROUP BY hour`); err != nil {
		return fmt.Errorf("mark every day dirty: %w", err)
	}
	return nil
}

func date(t time.Time) string { return t.Format(time.DateOnly) }
