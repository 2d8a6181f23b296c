package query

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// The data-map queries read the rollups (migration 0004): one row per flow
// and day, and per flow and month, recomputed from `events FINAL` whenever
// the day receives events. A day whose events arrived after its last
// recomputation is dirty; its rows are stale. Each query splits its time
// range with a plan: whole clean months from the month rows, the other
// whole clean days from the day rows, and the dirty days and the partial
// days at the edges of --since/--until/--as-of from the raw events. Every
// instant of the range is answered by exactly one of the three, so the sum
// is the answer the raw events alone would give (docs/catalog.md,
// "Rollups").

// rollupSettings keep FINAL cheap and exact. FINAL on the raw events splits
// overlapping part ranges into layers (measured: half the time with pending
// redeliveries) and uses the time skip index without widening it to equal
// keys in other parts: every copy of an event has the same time, so each
// copy passes the index exactly as its original does. Rollups are
// partitioned by month, and FINAL merges within a partition only.
const rollupSettings = ` SETTINGS split_intersecting_parts_ranges_into_layers_final = 1,
	use_skip_indexes_if_final_exact_mode = 0, do_not_merge_across_partitions_select_final = 1`

// The time resolution of the catalog and the range of ClickHouse's Date
// type, which bound every plan.
var (
	firstDate = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	lastDate  = time.Date(2149, 6, 6, 0, 0, 0, 0, time.UTC)
)

const resolution = time.Millisecond

type rawOnlyKey struct{}

// FromEventsOnly returns a context under which every query answers from
// the raw events alone, as if no day had been rolled up: the reference the
// rollups are checked against, and the way to read a catalog whose rollups
// are suspect. It is slower by the number of events.
func FromEventsOnly(ctx context.Context) context.Context {
	return context.WithValue(ctx, rawOnlyKey{}, true)
}

func fromEventsOnly(ctx context.Context) bool { v, _ := ctx.Value(rawOnlyKey{}).(bool); return v }

// plan splits the event-time range [lo, hi] (both inclusive) into what the
// rollups answer and what the raw events answer.
type plan struct {
	lo, hi time.Time
	// Whole days [firstDay, lastDay] come from the rollups, except dirty
	// ones; of those, whole months [firstMonth, lastMonth] without a dirty
	// day come from month rows. Empty ranges have first > last.
	firstDay, lastDay     time.Time
	firstMonth, lastMonth time.Time
	dirtyDays             []time.Time // within [firstDay, lastDay]
	dirtyMonths           []time.Time // their months
}

func startOfDay(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func startOfMonth(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// newPlan plans [lo, hi]; a zero bound is unbounded. dirty lists the days
// whose rollup rows are stale. With rawOnly nothing comes from the rollups.
func newPlan(lo, hi time.Time, dirty []time.Time, rawOnly bool) plan {
	if lo.IsZero() || lo.Before(firstDate) {
		lo = firstDate
	}
	if hi.IsZero() || !hi.Before(lastDate) {
		hi = lastDate.Add(-resolution)
	}
	p := plan{lo: lo.UTC(), hi: hi.UTC()}
	p.firstDay = startOfDay(p.lo)
	if p.lo.After(p.firstDay) {
		p.firstDay = p.firstDay.AddDate(0, 0, 1)
	}
	p.lastDay = startOfDay(p.hi)
	if p.hi.Add(resolution).Before(p.lastDay.AddDate(0, 0, 1)) {
		p.lastDay = p.lastDay.AddDate(0, 0, -1) // hi is before the day's last millisecond
	}
	if rawOnly {
		p.firstDay = p.lastDay.AddDate(0, 0, 1)
	}
	p.firstMonth = startOfMonth(p.firstDay)
	if p.firstDay.After(p.firstMonth) {
		p.firstMonth = p.firstMonth.AddDate(0, 1, 0)
	}
	p.lastMonth = startOfMonth(p.lastDay)
	if !p.lastDay.AddDate(0, 0, 1).Equal(p.lastMonth.AddDate(0, 1, 0)) {
		p.lastMonth = p.lastMonth.AddDate(0, -1, 0) // lastDay is not the month's last day
	}
	days, months := map[time.Time]bool{}, map[time.Time]bool{}
	for _, d := range dirty {
		d = startOfDay(d)
		if d.Before(p.firstDay) || d.After(p.lastDay) || days[d] {
			continue // not a whole day of the range: the raw events answer it anyway
		}
		days[d] = true
		p.dirtyDays = append(p.dirtyDays, d)
		if m := startOfMonth(d); !months[m] {
			months[m] = true
			p.dirtyMonths = append(p.dirtyMonths, m)
		}
	}
	return p
}

// wholeDays reports whether the plan has any whole day.
func (p plan) wholeDays() bool { return !p.firstDay.After(p.lastDay) }

// rollupWhere selects the rollup rows of the plan.
func (p plan) rollupWhere() (string, []any) {
	if !p.wholeDays() {
		return "0", nil
	}
	var conds []string
	var args []any
	wholeMonths := !p.firstMonth.After(p.lastMonth)
	if wholeMonths {
		c := "(span = 'month' AND period BETWEEN ? AND ?"
		args = append(args, date(p.firstMonth), date(p.lastMonth))
		if len(p.dirtyMonths) > 0 {
			c += " AND period NOT IN ?"
			args = append(args, dates(p.dirtyMonths))
		}
		conds = append(conds, c+")")
	}
	c := "(span = 'day' AND period BETWEEN ? AND ?"
	args = append(args, date(p.firstDay), date(p.lastDay))
	if wholeMonths {
		// days outside the whole months, and days of months with a dirty day
		c += " AND (period < ? OR period >= ?"
		args = append(args, date(p.firstMonth), date(p.lastMonth.AddDate(0, 1, 0)))
		if len(p.dirtyMonths) > 0 {
			c += " OR toStartOfMonth(period) IN ?"
			args = append(args, dates(p.dirtyMonths))
		}
		c += ")"
	}
	if len(p.dirtyDays) > 0 {
		c += " AND period NOT IN ?"
		args = append(args, dates(p.dirtyDays))
	}
	conds = append(conds, c+")")
	return "(" + strings.Join(conds, " OR ") + ")", args
}

// rawWhere selects the raw events of the plan: the partial days at the
// edges, and the dirty days.
func (p plan) rawWhere() (string, []any) {
	c := "time BETWEEN toDateTime64(?, 3, 'UTC') AND toDateTime64(?, 3, 'UTC')"
	args := []any{chTime(p.lo), chTime(p.hi)}
	if !p.wholeDays() {
		return c, args
	}
	c += " AND (time < toDateTime64(?, 3, 'UTC') OR time >= toDateTime64(?, 3, 'UTC')"
	args = append(args, chTime(p.firstDay), chTime(p.lastDay.AddDate(0, 0, 1)))
	if len(p.dirtyDays) > 0 {
		c += " OR toDate(time) IN ?"
		args = append(args, dates(p.dirtyDays))
	}
	return c + ")", args
}

func date(t time.Time) string { return t.Format(time.DateOnly) }

func dates(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = date(t)
	}
	return out
}

// rollupState is what the plans of a query need to know about the
// rollups: the dirty days, and the last day whose raw events may have
// expired (zero when no raw-event TTL ever sealed a day).
type rollupState struct {
	dirty  []time.Time
	sealed time.Time
}

func readRollupState(ctx context.Context, conn driver.Conn) (rollupState, error) {
	var s rollupState
	if fromEventsOnly(ctx) {
		return s, nil
	}
	err := conn.QueryRow(ctx, `SELECT groupArrayIf(day, dirty AND NOT sealed), maxIf(day, sealed)
		FROM (SELECT day, sum(arrived) > max(folded) AS dirty, max(sealed) = 1 AS sealed FROM rollup_days GROUP BY day)`).
		Scan(&s.dirty, &s.sealed)
	if err != nil {
		return s, fmt.Errorf("rollup state query: %w", err)
	}
	if !s.sealed.After(firstDate) {
		s.sealed = time.Time{} // no day sealed (maxIf of nothing is the epoch)
	}
	return s, nil
}

// selection is the rows a query aggregates: rollup rows and raw events in
// the filter's time range, matching its conditions. Every row has the raw
// columns the query asked for, and events, records, first_seen, last_seen
// (a raw event counts as one event with its count as records), period (the
// day, or the first of the month) and whole_month (1 for month rows).
type selection struct {
	kinds []string // event kinds to read
	flows bool     // apply the recipient conditions of the filter
	cols  []string // raw columns both tables have
}

// from renders the selection as a FROM clause for f, reading the rollup
// state first. A bound that cuts a day whose raw events expired is the
// caller's mistake: only whole days of it can be answered.
func (s selection) from(ctx context.Context, conn driver.Conn, f Filter) (string, []any, error) {
	state, err := readRollupState(ctx, conn)
	if err != nil {
		return "", nil, err
	}
	p := newPlan(f.Since, f.upper(), state.dirty, fromEventsOnly(ctx))
	if err := p.checkExpired(f, state.sealed); err != nil {
		return "", nil, err
	}
	conds, args := f.dimConds(s.flows)
	conds = append([]string{"kind IN ('" + strings.Join(s.kinds, "', '") + "')"}, conds...)
	where := strings.Join(conds, " AND ")
	cols := strings.Join(s.cols, ", ")
	rw, rargs := p.rawWhere()
	raw := "SELECT " + cols + `, toUInt64(1) AS events, count AS records, time AS first_seen, time AS last_seen,
		toDate(time) AS period, 0 AS whole_month
		FROM events FINAL WHERE ` + where + " AND " + rw
	if !p.wholeDays() {
		return "(" + raw + ")", append(args, rargs...), nil
	}
	uw, uargs := p.rollupWhere()
	rolled := "SELECT " + cols + `, events, records, first_seen, last_seen, period, toUInt8(span = 'month') AS whole_month
		FROM rollups FINAL WHERE ` + where + " AND " + uw
	all := append(append(append(append([]any{}, args...), uargs...), args...), rargs...)
	return "(" + rolled + "\n\t\tUNION ALL " + raw + ")", all, nil
}

// checkExpired refuses a bound inside a day whose raw events may have
// expired: the rollups answer whole days only.
func (p plan) checkExpired(f Filter, sealed time.Time) error {
	if sealed.IsZero() {
		return nil
	}
	msg := func(t time.Time) string {
		return fmt.Sprintf("the raw events of %s have expired (DATAMAP_RAW_EVENTS_TTL) and the rollups keep whole days: give a date YYYY-MM-DD", date(t))
	}
	if !p.lo.Equal(startOfDay(p.lo)) && !startOfDay(p.lo).After(sealed) {
		return &InputError{"since", f.Since.Format(time.RFC3339Nano), msg(p.lo)}
	}
	if !p.hi.Add(resolution).Equal(startOfDay(p.hi).AddDate(0, 0, 1)) && !startOfDay(p.hi).After(sealed) {
		param, v := "until", f.Until
		if v.IsZero() || (!f.AsOf.IsZero() && f.AsOf.Before(v)) {
			param, v = "as_of", f.AsOf
		}
		return &InputError{param, v.Format(time.RFC3339Nano), msg(p.hi)}
	}
	return nil
}
