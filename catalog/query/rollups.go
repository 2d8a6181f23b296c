package query

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// The data-map queries read the rollups (migration 0005): one row per flow
// and period — a day, ten days, a month, a year — recomputed from
// `events FINAL` whenever the day receives events. A day whose events
// arrived after its last recomputation is dirty; its rows, and the rows of
// every longer period holding it, are stale. Each query splits its time
// range with a plan: whole clean periods from the rollups, the longest
// that fit, and the dirty days and the partial days at the edges of
// --since/--until/--as-of from the raw events. Every instant of the range
// is answered by exactly one of them, so the sum is the answer the raw
// events alone would give (docs/catalog.md, "Rollups").

// RollupSettings keep FINAL cheap and exact. FINAL on the raw events splits
// overlapping part ranges into layers (measured: half the time with pending
// redeliveries) and uses the time skip index without widening it to equal
// keys in other parts: every copy of an event has the same time, so each
// copy passes the index exactly as its original does. Rollups are
// partitioned by month, and FINAL merges within a partition only. Folding
// reads with them too.
const RollupSettings = ` SETTINGS split_intersecting_parts_ranges_into_layers_final = 1,
	use_skip_indexes_if_final_exact_mode = 0, do_not_merge_across_partitions_select_final = 1`

const resolution = time.Millisecond // of the catalog's times

// The range of the catalog's DateTime64 times.
var (
	firstInstant = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	lastInstant  = time.Date(2299, 12, 31, 23, 59, 59, 999e6, time.UTC)
)

type rawOnlyKey struct{}

// FromEventsOnly returns a context under which every query answers from
// the raw events alone, as if no day had been rolled up: the reference the
// rollups are checked against, and the way to read a catalog whose rollups
// are suspect. It is slower by the number of events.
func FromEventsOnly(ctx context.Context) context.Context {
	return context.WithValue(ctx, rawOnlyKey{}, true)
}

func fromEventsOnly(ctx context.Context) bool { v, _ := ctx.Value(rawOnlyKey{}).(bool); return v }

// span is a length of period the rollups hold rows for.
type span struct {
	name  string                    // in the rollups' span column
	start func(time.Time) time.Time // the start of the period holding a day
	next  func(time.Time) time.Time // the start of the period after the one starting at a day
	// startSQL is start in SQL, over a Date expression.
	startSQL func(date string) string
}

// spans are the periods of the rollups, longest first; each is made of
// whole periods of the next.
var spans = []span{
	{"year", func(t time.Time) time.Time { return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC) },
		func(t time.Time) time.Time { return t.AddDate(1, 0, 0) },
		func(d string) string { return "toStartOfYear(" + d + ")" }},
	{"month", startOfMonth, func(t time.Time) time.Time { return t.AddDate(0, 1, 0) },
		func(d string) string { return "toStartOfMonth(" + d + ")" }},
	// Ten days: the 1st, the 11th and the 21st of a month to its end.
	{"ten_days", func(t time.Time) time.Time {
		return time.Date(t.Year(), t.Month(), 1+min((t.Day()-1)/10, 2)*10, 0, 0, 0, 0, time.UTC)
	}, func(t time.Time) time.Time {
		if t.Day() == 21 {
			return startOfMonth(t).AddDate(0, 1, 0)
		}
		return t.AddDate(0, 0, 10)
	}, func(d string) string {
		return "toStartOfMonth(" + d + ") + toIntervalDay(least(intDiv(toDayOfMonth(" + d + ") - 1, 10), 2) * 10)"
	}},
	{"day", startOfDay, func(t time.Time) time.Time { return t.AddDate(0, 0, 1) },
		func(d string) string { return d }},
}

// Span is a length of period the rollups hold rows for, as folding
// (package catalog/rollup) computes it.
type Span struct {
	Name string // in the rollups' span column
	// StartSQL is the start of the period holding a day, in SQL over a
	// Date expression.
	StartSQL func(date string) string
}

// Spans lists the rollups' spans, longest first; each is made of whole
// periods of the next, so a period's rows are the sum of the next
// shorter span's rows within it.
func Spans() []Span {
	out := make([]Span, len(spans))
	for i, s := range spans {
		out[i] = Span{Name: s.name, StartSQL: s.startSQL}
	}
	return out
}

// daySpan is the last of spans.
var daySpan = spans[len(spans)-1]

// toDateSpan names the rollup rows that hold a flow from its first event
// up to and including a day, their period (migration 0012): a question
// over all time reads them and the days after, one row per flow however
// long the catalog's history. They are not one of spans: no longer period
// is made of them.
const toDateSpan = "to_date"

// spanNames are the names of every kind of rollup row a plan may read.
var spanNames = append([]string{toDateSpan}, func() (names []string) {
	for _, s := range spans {
		names = append(names, s.name)
	}
	return names
}()...)

// spanIndex is the place of the span named s in spans.
func spanIndex(s string) int {
	return slices.IndexFunc(spans, func(sp span) bool { return sp.name == s })
}

func startOfDay(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func startOfMonth(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// plan splits the event-time range [lo, hi] (both inclusive) into what the
// rollups answer and what the raw events answer.
type plan struct {
	lo, hi time.Time
	// Whole days [firstDay, lastDay] (empty when firstDay is after
	// lastDay) come from rollup rows, of the periods listed by span,
	// except the dirty days.
	firstDay, lastDay time.Time
	periods           map[string][]time.Time
	dirty             []time.Time
	// Of the dirty days, those folded by the hour (rollupState.hourlyFrom)
	// come from hourly rollup rows for their clean hours and from the raw
	// events for the others (rawHours, [start, end) ranges); the other
	// dirty days, rawDays, wholly from the raw events.
	hours    []time.Time
	rawHours [][2]time.Time
	rawDays  []time.Time
}

// newPlan plans [lo, hi]; a zero bound is unbounded. The state says which
// days have events and which are dirty. With rawOnly nothing comes from
// the rollups.
func newPlan(lo, hi time.Time, state rollupState, rawOnly bool) plan {
	p := plan{lo: lo.UTC(), hi: hi.UTC(), periods: map[string][]time.Time{}}
	// No event lies outside the days that had arrivals: the range shrinks
	// to the years that hold them (so that those years can be whole), or
	// to what DateTime64 can hold when nothing is known.
	first, last := spans[0].start(state.first), spans[0].next(spans[0].start(state.last)).Add(-resolution)
	if rawOnly || state.first.IsZero() {
		first, last = firstInstant, lastInstant
	}
	if lo.IsZero() || lo.Before(first) {
		p.lo = first
	}
	if hi.IsZero() || hi.After(last) {
		p.hi = last
	}
	p.firstDay = startOfDay(p.lo)
	if p.lo.After(p.firstDay) {
		p.firstDay = p.firstDay.AddDate(0, 0, 1)
	}
	p.lastDay = startOfDay(p.hi)
	if p.hi.Add(resolution).Before(p.lastDay.AddDate(0, 0, 1)) {
		p.lastDay = p.lastDay.AddDate(0, 0, -1) // hi is before the day's last millisecond
	}
	if rawOnly || state.first.IsZero() {
		p.firstDay = p.lastDay.AddDate(0, 0, 1)
	}
	for _, d := range state.dirty {
		if !d.Before(p.firstDay) && !d.After(p.lastDay) {
			p.dirty = append(p.dirty, d)
			p.splitHours(d, state)
		}
	}
	switch through := state.toDate; {
	case !p.wholeDays():
	case !through.IsZero() && !rawOnly && !p.firstDay.After(state.first) && !through.After(p.lastDay):
		// From the first event: the rows to date, then the days after.
		p.periods[toDateSpan] = []time.Time{through}
		if through.Before(p.lastDay) {
			p.cover(through.AddDate(0, 0, 1), p.lastDay, 0)
		}
	default:
		p.cover(p.firstDay, p.lastDay, 0)
	}
	return p
}

// CoverOf selects the rollup rows that hold the days from the year of
// first through the day through, every one of them folded: whole years,
// then months, ten-day periods and days. Folding computes the rows to date
// from them.
func CoverOf(first, through time.Time) (string, []any) {
	p := plan{periods: coverOf(spans[0].start(first), startOfDay(through))}
	return p.rollupWhere()
}

// coverOf lists the periods of the rollup rows that hold the days [from,
// to], every one of them folded.
func coverOf(from, to time.Time) map[string][]time.Time {
	p := plan{periods: map[string][]time.Time{}}
	p.cover(from, to, 0)
	return p.periods
}

// cover lists the periods of spans[level] and finer that make up the days
// [from, to]: a period wholly inside and without a dirty day is read from
// its row; the others are split into periods of the next span; a dirty day
// is left to the raw events.
func (p *plan) cover(from, to time.Time, level int) {
	s := spans[level]
	for start := s.start(from); !start.After(to); start = s.next(start) {
		end := s.next(start).AddDate(0, 0, -1)
		switch whole := !start.Before(from) && !end.After(to); {
		case whole && !p.dirtyWithin(start, end):
			p.periods[s.name] = append(p.periods[s.name], start)
		case s.name != daySpan.name:
			p.cover(maxTime(start, from), minTime(end, to), level+1)
		}
	}
}

// splitHours plans the dirty day d: when it is folded by the hour and has
// clean hours, those from hourly rows and its dirty hours from the raw
// events (its hours with neither have no events); otherwise the whole day
// from the raw events.
func (p *plan) splitHours(d time.Time, state rollupState) {
	next := d.AddDate(0, 0, 1)
	within := func(h time.Time) bool { return !h.Before(d) && h.Before(next) }
	if state.hourlyFrom.IsZero() || d.Before(state.hourlyFrom) || !slices.ContainsFunc(state.cleanHours, within) {
		p.rawDays = append(p.rawDays, d)
		return
	}
	for _, h := range state.cleanHours {
		if within(h) {
			p.hours = append(p.hours, h)
		}
	}
	for _, h := range state.dirtyHours {
		if !within(h) {
			continue
		}
		if n := len(p.rawHours); n > 0 && p.rawHours[n-1][1].Equal(h) {
			p.rawHours[n-1][1] = h.Add(time.Hour) // one range for consecutive hours
		} else {
			p.rawHours = append(p.rawHours, [2]time.Time{h, h.Add(time.Hour)})
		}
	}
}

// dirtyWithin reports whether a dirty day lies in [from, to].
func (p *plan) dirtyWithin(from, to time.Time) bool {
	i, _ := slices.BinarySearchFunc(p.dirty, from, func(d, t time.Time) int { return d.Compare(t) })
	return i < len(p.dirty) && !p.dirty[i].After(to)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// wholeDays reports whether the plan has any whole day.
func (p plan) wholeDays() bool { return !p.firstDay.After(p.lastDay) }

// rollupWhere selects the rollup rows of the plan.
func (p plan) rollupWhere() (string, []any) {
	var conds []string
	var args []any
	for _, name := range spanNames {
		if periods := p.periods[name]; len(periods) > 0 {
			conds = append(conds, "(span = '"+name+"' AND period IN ?)")
			args = append(args, dates(periods))
		}
	}
	if len(conds) == 0 {
		return "0", nil
	}
	return "(" + strings.Join(conds, " OR ") + ")", args
}

// readsRaw reports whether the plan reads any raw events: a bound inside
// a day, or a dirty day or hour.
func (p plan) readsRaw() bool { return p.rawDayCount() > 0 }

// rawDayCount is the number of days whose raw events the plan reads, in
// whole or in part.
func (p plan) rawDayCount() int {
	if !p.wholeDays() {
		return int(startOfDay(p.hi).Sub(startOfDay(p.lo)).Hours()/24) + 1
	}
	n := len(p.rawDays)
	if len(p.rawHours) > 0 {
		n++ // hours of the newest two days: fewer events than a day
	}
	if p.lo.Before(p.firstDay) {
		n++
	}
	if !p.hi.Add(resolution).Equal(p.lastDay.AddDate(0, 0, 1)) {
		n++
	}
	return n
}

// fewRawDays is the most raw days a query deduplicates by identity in
// memory (dedupRaw) rather than with FINAL: a set of a few days'
// identities is small, one of every event ever stored is not.
const fewRawDays = 3

// dedupRaw is how a plan's raw events are read once each. FINAL merges the
// parts' rows in key order, in constant memory, and costs that merge even
// for a day's events (55 ms against 24 ms for the 14 000 events of a day
// in a 10M-event catalog, measured); so a plan that reads a few days keeps
// the first row of each identity instead. Every row of one identity is the
// same event, a redelivery or a publisher's retry (CloudEvents: consumers
// may assume that events with identical source and id are duplicates), so
// either way each event counts once.
func (p plan) dedupRaw() (final, limitBy string) {
	if p.rawDayCount() <= fewRawDays {
		return "", " LIMIT 1 BY source, id"
	}
	return " FINAL", ""
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
	if len(p.rawDays) > 0 {
		c += " OR toDate(time) IN ?"
		args = append(args, dates(p.rawDays))
	}
	for _, r := range p.rawHours {
		c += " OR (time >= toDateTime64(?, 3, 'UTC') AND time < toDateTime64(?, 3, 'UTC'))"
		args = append(args, chTime(r[0]), chTime(r[1]))
	}
	return c + ")", args
}

// hourlyWhere selects the hourly rollup rows of the plan, "" when it reads
// none.
func (p plan) hourlyWhere() (string, []any) {
	if len(p.hours) == 0 {
		return "", nil
	}
	hours := make([]string, len(p.hours))
	for i, h := range p.hours {
		hours[i] = h.Format(time.DateTime)
	}
	return "hour IN ?", []any{hours}
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
// rollups: the first and last day with events, the dirty days (sorted),
// the last day whose raw events may have expired (zero when no raw-event
// TTL ever sealed a day), and the last day the rows to date hold (zero
// when there are none to trust).
type rollupState struct {
	first, last time.Time
	dirty       []time.Time
	sealed      time.Time
	toDate      time.Time
	// hourlyFrom is the first day folded by the hour (the newest two days
	// with events, within the last five; zero when none is); cleanHours
	// and dirtyHours, sorted, are the hours of those days with events
	// whose hourly rows do and do not count every one.
	hourlyFrom             time.Time
	cleanHours, dirtyHours []time.Time
}

// oneStateKey keys the rollupState one answer plans with (OneState).
type oneStateKey struct{}

// oneState is the rollup state read once for every query of one answer.
type oneState struct {
	once  sync.Once
	state rollupState
	err   error
}

// OneState returns a context under which every query plans with the same
// reading of the rollup state: the first query reads it, the others (also
// those running at once, as lineage's) reuse it. An answer made of several
// queries then splits time between rollups and raw events the same way in
// each of them, and reads the state once instead of once per query. Use
// it for one answer, not longer: a state read earlier misses days that
// became dirty since.
func OneState(ctx context.Context) context.Context {
	return context.WithValue(ctx, oneStateKey{}, &oneState{})
}

func readRollupState(ctx context.Context, conn driver.Conn) (rollupState, error) {
	if one, ok := ctx.Value(oneStateKey{}).(*oneState); ok {
		one.once.Do(func() { one.state, one.err = readRollupStateNow(ctx, conn) })
		return one.state, one.err
	}
	return readRollupStateNow(ctx, conn)
}

// hourlyCutoffSQL is the first day that may be folded by the hour: the
// hourly rollups are kept a week.
const hourlyCutoffSQL = "toDate(now() - INTERVAL 5 DAY)"

// bookkeeping is what the rollups' bookkeeping tables say, read in one
// statement: every day with events (sorted), the hours of the last days
// with arrivals (sorted), the newest rows to date computed (Day is the
// last day they hold, Folded the foldings they were computed from) and
// the first day that may be folded by the hour. Both the plans of a
// question and the Folder work from it, so they agree on what is dirty,
// what is folded by the hour and when the rows to date are trusted.
type bookkeeping struct {
	days, hours []Day
	toDate      Day
	cutoff      time.Time
}

// readBookkeeping reads the bookkeeping: a statement per figure costs a few
// milliseconds each, and every answer pays for it.
func readBookkeeping(ctx context.Context, conn driver.Conn) (bookkeeping, error) {
	var b bookkeeping
	rows, err := conn.Query(ctx, `SELECT 'day', toDateTime(day, 'UTC'), day_arrived, day_folded, day_sealed FROM (`+daysSQL+`)
		UNION ALL SELECT 'hour', hour, sum(arrived), max(folded), 0
			FROM rollup_arrivals WHERE hour >= `+hourlyCutoffSQL+` GROUP BY hour
		UNION ALL (SELECT 'to_date', toDateTime(through, 'UTC'), 0, folded, 0
			FROM rollup_to_date ORDER BY through DESC, folded DESC LIMIT 1)
		UNION ALL SELECT 'hourly_cutoff', toDateTime(`+hourlyCutoffSQL+`, 'UTC'), 0, 0, 0`)
	if err != nil {
		return b, fmt.Errorf("rollup state query: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var what string
		var d Day
		var sealed uint8
		if err := rows.Scan(&what, &d.Day, &d.Arrived, &d.Folded, &sealed); err != nil {
			return b, fmt.Errorf("rollup state query: %w", err)
		}
		d.Day, d.Sealed = d.Day.UTC(), sealed == 1
		switch what {
		case "day":
			b.days = append(b.days, d)
		case "hour":
			b.hours = append(b.hours, d)
		case "to_date":
			if d.Day.After(time.Unix(0, 0)) {
				b.toDate = d
			}
		case "hourly_cutoff":
			b.cutoff = d.Day
		}
	}
	if err := rows.Err(); err != nil {
		return b, fmt.Errorf("rollup state query: %w", err)
	}
	byTime := func(a, b Day) int { return a.Day.Compare(b.Day) }
	slices.SortFunc(b.days, byTime)
	slices.SortFunc(b.hours, byTime)
	return b, nil
}

// foldedThrough sums the foldings of the days up to through, and says
// whether every one of them is folded: what the rows to date through it
// are computed from, and trusted with.
func (b bookkeeping) foldedThrough(through time.Time) (folded uint64, clean bool) {
	clean = true
	for _, d := range b.days {
		if !d.Day.After(through) {
			folded += d.Folded
			clean = clean && !d.Dirty()
		}
	}
	return folded, clean
}

// hourlyFrom is the first day folded by the hour: the newest two days with
// events, within the last five. Zero when no day has events.
func (b bookkeeping) hourlyFrom() time.Time {
	if len(b.days) == 0 {
		return time.Time{}
	}
	return maxTime(b.days[len(b.days)-1].Day.AddDate(0, 0, -1), b.cutoff)
}

// state works out what a plan needs from the bookkeeping.
func (b bookkeeping) state() rollupState {
	var s rollupState
	if len(b.days) == 0 {
		return s // no day has events
	}
	s.first, s.last = b.days[0].Day, b.days[len(b.days)-1].Day
	for _, d := range b.days {
		if d.Dirty() {
			s.dirty = append(s.dirty, d.Day)
		}
		if d.Sealed {
			s.sealed = d.Day
		}
	}
	// The rows to date are trusted while every day they hold is folded as
	// it was when they were computed (migration 0012).
	if !b.toDate.Day.IsZero() {
		if folded, clean := b.foldedThrough(b.toDate.Day); clean && folded == b.toDate.Folded {
			s.toDate = b.toDate.Day
		}
	}
	s.hourlyFrom = b.hourlyFrom()
	for _, h := range b.hours {
		switch {
		case h.Day.Before(s.hourlyFrom):
		case h.Arrived <= h.Folded:
			s.cleanHours = append(s.cleanHours, h.Day)
		default:
			s.dirtyHours = append(s.dirtyHours, h.Day)
		}
	}
	return s
}

func readRollupStateNow(ctx context.Context, conn driver.Conn) (rollupState, error) {
	b, err := readBookkeeping(ctx, conn)
	return b.state(), err
}

// selection is the rows a query aggregates: rollup rows and raw events in
// the filter's time range, matching its conditions. Every row has the raw
// columns the query asked for, and events, records, first_seen, last_seen
// (a raw event counts as one event with its count as records), period_span
// and period (the span and start of a rollup row's period; a raw event's
// are day and its day).
type selection struct {
	// rollups is the table of rollup rows to read: "rollups", or
	// "retention_rollups" when cols are among its columns.
	rollups string
	kinds   []string // event kinds to read
	flows   bool     // apply the recipient conditions of the filter
	cols    []string // raw columns both tables have
	// distinct selects rows only to find which values exist: without
	// FINAL, since duplicates do not change that.
	distinct bool
}

// from renders the selection as a FROM clause for f, reading the rollup
// state first. A bound that cuts a day whose raw events expired is the
// caller's mistake: only whole days of it can be answered.
func (s selection) from(ctx context.Context, conn driver.Conn, f Filter) (string, []any, error) {
	from, args, _, err := s.planned(ctx, conn, f)
	return from, args, err
}

// planned is from, and the plan it renders.
func (s selection) planned(ctx context.Context, conn driver.Conn, f Filter) (string, []any, plan, error) {
	var state rollupState
	if !fromEventsOnly(ctx) {
		var err error
		if state, err = readRollupState(ctx, conn); err != nil {
			return "", nil, plan{}, err
		}
	}
	p := newPlan(f.Since, f.upper(), state, fromEventsOnly(ctx))
	if err := p.checkExpired(f, state.sealed); err != nil {
		return "", nil, p, err
	}
	conds, args := f.dimConds(s.flows)
	conds = append([]string{"kind IN ('" + strings.Join(s.kinds, "', '") + "')"}, conds...)
	where := strings.Join(conds, " AND ")
	cols := strings.Join(s.cols, ", ")
	rw, rargs := p.rawWhere()
	final := " FINAL"
	rawFinal, limitBy := p.dedupRaw()
	if s.distinct {
		final, rawFinal, limitBy = "", "", ""
	}
	raw := "SELECT " + cols + `, toUInt64(1) AS events, count AS records, time AS first_seen, time AS last_seen,
		'day' AS period_span, toDate(time) AS period
		FROM events` + rawFinal + ` WHERE ` + where + " AND " + rw + limitBy
	if !p.wholeDays() {
		return "(" + raw + ")", append(args, rargs...), p, nil
	}
	uw, uargs := p.rollupWhere()
	rolled := "SELECT " + cols + `, events, records, first_seen, last_seen, toString(span) AS period_span, period
		FROM ` + cmp.Or(s.rollups, "rollups") + final + ` WHERE ` + where + " AND " + uw
	all := append(append([]any{}, args...), uargs...)
	// An hour's rows count as its day's: retention looks inside periods
	// down to days, and an hour is part of one.
	if hw, hargs := p.hourlyWhere(); hw != "" {
		rolled += "\n\t\tUNION ALL SELECT " + cols + `, events, records, first_seen, last_seen, 'day' AS period_span, toDate(hour) AS period
		FROM hourly_rollups` + final + ` WHERE ` + where + " AND " + hw
		all = append(append(all, args...), hargs...)
	}
	if !p.readsRaw() {
		// Reading raw events for an empty range is not free: with FINAL,
		// granules at the range's edges are still merged (measured 26–47
		// ms at 10M events for a range ending at the end of a day).
		return "(" + rolled + ")", all, p, nil
	}
	all = append(append(all, args...), rargs...)
	return "(" + rolled + "\n\t\tUNION ALL " + raw + ")", all, p, nil
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
		return &ValueError{"since", f.Since.Format(time.RFC3339Nano), msg(p.lo)}
	}
	if !p.hi.Add(resolution).Equal(startOfDay(p.hi).AddDate(0, 0, 1)) && !startOfDay(p.hi).After(sealed) {
		param, v := "until", f.Until
		if v.IsZero() || (!f.AsOf.IsZero() && f.AsOf.Before(v)) {
			param, v = "as_of", f.AsOf
		}
		return &ValueError{param, v.Format(time.RFC3339Nano), msg(p.hi)}
	}
	return nil
}
