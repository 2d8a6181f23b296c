package rollup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/catalog/query"
)

// The statements that keep the rollups current. A day is folded by
// recomputing its rollup rows from `events FINAL`, then its month's row
// from its day rows, then recording the arrivals it covered; the newest
// days are folded by the hour: the rows of the hours that received events
// are recomputed from `events FINAL`, and the day's rows summed from its
// hours'. docs/catalog.md ("Rollups") says why that is exact under every
// fault.

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
// folded up to the arrivals it had when it was listed. Days on or after
// hourlyFrom (none when it is zero) are folded by the hour (foldHours).
// Days must have been read (query.DirtyDays) before FoldDays reads the
// events: an insert committed after that read has raised its day's
// arrivals past what is recorded here, so the day stays dirty. Folding a
// day twice, or concurrently, is harmless: a row recomputed later holds
// at least the events of one recomputed earlier, and the rollups keep the
// row with the most events.
func FoldDays(ctx context.Context, conn driver.Conn, days []query.Day, hourlyFrom time.Time) error {
	if len(days) == 0 {
		return nil
	}
	first := days[0].Day.UTC()
	month := time.Date(first.Year(), first.Month(), 1, 0, 0, 0, 0, time.UTC)
	var whole, hourly []string
	for _, d := range days {
		if !sameMonth(d.Day.UTC(), month) {
			return ErrDaysInSeveralMonths
		}
		if !hourlyFrom.IsZero() && !d.Day.Before(hourlyFrom) {
			hourly = append(hourly, date(d.Day))
		} else {
			whole = append(whole, date(d.Day))
		}
	}
	if len(whole) > 0 {
		if err := conn.Exec(ctx, `INSERT INTO rollups (span, period, `+rollupDims+`, events, records, first_seen, last_seen)
			SELECT 'day', toDate(time) AS day, `+rollupDims+`, count(), sum(count), min(time), max(time)
			FROM events FINAL WHERE toDate(time) IN ?
			GROUP BY day, `+rollupDims+query.RollupSettings, whole); err != nil {
			return fmt.Errorf("fold days of %s: %w", month.Format("2006-01"), err)
		}
	}
	if len(hourly) > 0 {
		if err := foldHours(ctx, conn, hourly); err != nil {
			return fmt.Errorf("fold days of %s by the hour: %w", month.Format("2006-01"), err)
		}
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
	return recordDays(ctx, conn, days, false)
}

// SealDays records days as sealed and folded at the arrivals they had when
// listed, without recomputing them: their raw events expire, so their
// rollup rows are final. Whatever a day received since its last folding is
// not counted (Pending says how much).
func SealDays(ctx context.Context, conn driver.Conn, days []query.Day) error {
	return recordDays(ctx, conn, days, true)
}

// foldHours folds days by the hour: it lists their hours' state, then
// recomputes from `events FINAL` the rows of the hours that received
// events since their last folding (or were never folded), records every
// hour of the days as folded up to the arrivals listed, and sums the
// days' rows from their hours' rows. The hours are listed after the days
// (FoldDays' caller read those first), so the hours' rows hold every
// event the days' listed arrivals counted: a clean hour's rows were
// computed after its arrivals, a dirty hour's are computed now. An event
// inserted after the listing raises its hour's arrivals past what is
// recorded, and its day's past the day's: both stay dirty.
func foldHours(ctx context.Context, conn driver.Conn, days []string) error {
	ts := make([]time.Time, len(days))
	for i, d := range days {
		ts[i], _ = time.Parse(time.DateOnly, d)
	}
	hours, err := query.Hours(ctx, conn, ts)
	if err != nil {
		return err
	}
	state := map[time.Time]query.Hour{}
	for _, h := range hours {
		state[h.Hour] = h
	}
	var record []query.Hour
	var stale []string
	for _, d := range ts {
		for h := d; h.Before(d.AddDate(0, 0, 1)); h = h.Add(time.Hour) {
			st := state[h]
			if !st.Clean() {
				stale = append(stale, h.Format(time.DateTime))
			}
			record = append(record, query.Hour{Hour: h, Folded: st.Arrived, Covered: true})
		}
	}
	if len(stale) > 0 {
		// The hours are listed as ranges of time, which the events' time
		// index finds; toStartOfHour(time) IN … would read the days.
		var conds []string
		var args []any
		for _, h := range stale {
			conds = append(conds, "(time >= toDateTime64(?, 3, 'UTC') AND time < toDateTime64(?, 3, 'UTC') + toIntervalHour(1))")
			args = append(args, h, h)
		}
		if err := conn.Exec(ctx, `INSERT INTO hourly_rollups (hour, `+rollupDims+`, events, records, first_seen, last_seen)
			SELECT toStartOfHour(time) AS hour, `+rollupDims+`, count(), sum(count), min(time), max(time)
			FROM events FINAL WHERE `+strings.Join(conds, " OR ")+`
			GROUP BY hour, `+rollupDims+query.RollupSettings, args...); err != nil {
			return err
		}
	}
	if err := recordHours(ctx, conn, record); err != nil {
		return err
	}
	return conn.Exec(ctx, `INSERT INTO rollups (span, period, `+rollupDims+`, events, records, first_seen, last_seen)
		SELECT 'day', toDate(hour) AS day, `+rollupDims+`, `+query.Measures+`
		FROM hourly_rollups FINAL WHERE hour >= toDateTime(?, 'UTC') AND hour < toDateTime(?, 'UTC') + toIntervalDay(1)
			AND toDate(hour) IN ?
		GROUP BY day, `+rollupDims+query.RollupSettings, days[0], days[len(days)-1], days)
}

func recordHours(ctx context.Context, conn driver.Conn, hours []query.Hour) error {
	b, err := conn.PrepareBatch(ctx, "INSERT INTO rollup_hours (hour, arrived, folded, covered)")
	if err != nil {
		return fmt.Errorf("record folded hours: %w", err)
	}
	defer b.Abort()
	for _, h := range hours {
		if err := b.Append(h.Hour, uint64(0), h.Folded, uint8(1)); err != nil {
			return fmt.Errorf("record folded hours: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("record folded hours: %w", err)
	}
	return nil
}

func recordDays(ctx context.Context, conn driver.Conn, days []query.Day, sealed bool) error {
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
// Sealed days stay as they are. The arrivals are counted by the hour, so
// that the hours of days folded by the hour are recomputed too (a day's
// arrivals include its hours').
func MarkAllDirty(ctx context.Context, conn driver.Conn) error {
	if err := conn.Exec(ctx, `INSERT INTO rollup_hours (hour, arrived)
		SELECT toStartOfHour(time) AS hour, count() FROM events GROUP BY hour`); err != nil {
		return fmt.Errorf("mark every day dirty: %w", err)
	}
	return nil
}

func date(t time.Time) string { return t.Format(time.DateOnly) }
