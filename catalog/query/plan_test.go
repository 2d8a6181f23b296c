package query

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// answers counts how many parts of a plan answer the instant t: the rollup
// periods holding its day (when the day is whole in the plan), and the
// raw events (as rawWhere selects them, when rawDays says they are read).
func (p plan) answers(t time.Time) int {
	n := 0
	day := startOfDay(t)
	if p.wholeDays() && !day.Before(p.firstDay) && !day.After(p.lastDay) {
		for _, s := range spans {
			for _, start := range p.periods[s.name] {
				if !day.Before(start) && day.Before(s.next(start)) {
					n++
				}
			}
		}
		for _, through := range p.periods[toDateSpan] {
			if !day.After(through) {
				n++
			}
		}
	}
	if p.readsRaw() && !t.Before(p.lo) && !t.After(p.hi) {
		edge := !p.wholeDays() || t.Before(p.firstDay) || !t.Before(p.lastDay.AddDate(0, 0, 1))
		inRawHours := slices.ContainsFunc(p.rawHours, func(r [2]time.Time) bool { return !t.Before(r[0]) && t.Before(r[1]) })
		if edge || slices.ContainsFunc(p.rawDays, day.Equal) || inRawHours {
			n++
		}
	}
	if p.wholeDays() && !day.Before(p.firstDay) && !day.After(p.lastDay) && slices.ContainsFunc(p.hours, t.Truncate(time.Hour).Equal) {
		n++
	}
	return n
}

// Random ranges, bounds on and off day and month boundaries, random dirty
// days: every instant of the range with events is answered exactly once,
// every instant outside it not at all, and every rollup period used is
// whole and clean.
func TestPlanAnswersEveryInstantOnce(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	base := time.Date(2024, 11, 20, 0, 0, 0, 0, time.UTC)
	instant := func() time.Time {
		t := base.Add(time.Duration(r.Int64N(int64(3 * 365 * 24 * time.Hour))))
		switch r.IntN(4) {
		case 0:
			return startOfDay(t) // a day's first millisecond
		case 1:
			return startOfDay(t).AddDate(0, 0, 1).Add(-resolution) // its last
		case 2:
			return startOfMonth(t)
		}
		return t.Truncate(resolution)
	}
	for i := range 300 {
		first := startOfDay(base.AddDate(0, 0, r.IntN(60)))
		state := rollupState{first: first, last: first.AddDate(0, 0, 200+r.IntN(900))}
		for range r.IntN(12) {
			d := first.AddDate(0, 0, r.IntN(int(state.last.Sub(first).Hours()/24)+1))
			if !slices.ContainsFunc(state.dirty, d.Equal) {
				state.dirty = append(state.dirty, d)
			}
		}
		slices.SortFunc(state.dirty, time.Time.Compare)
		// The newest two days folded by the hour: every hour of their
		// dirty days is listed clean or dirty (each has events, here).
		if r.IntN(2) == 0 {
			state.hourlyFrom = state.last.AddDate(0, 0, -1)
			if !slices.ContainsFunc(state.dirty, state.last.Equal) {
				state.dirty = append(state.dirty, state.last) // the day being written
			}
			for _, d := range state.dirty {
				for h := d; !d.Before(state.hourlyFrom) && h.Before(d.AddDate(0, 0, 1)); h = h.Add(time.Hour) {
					if r.IntN(3) == 0 {
						state.dirtyHours = append(state.dirtyHours, h)
					} else {
						state.cleanHours = append(state.cleanHours, h)
					}
				}
			}
		}
		// Rows to date, as the rollup state trusts them: through a day
		// before which no day is dirty.
		if r.IntN(2) == 0 {
			through := first.AddDate(0, 0, r.IntN(int(state.last.Sub(first).Hours()/24)+1))
			if len(state.dirty) == 0 || state.dirty[0].After(through) {
				state.toDate = through
			}
		}
		var lo, hi time.Time
		if r.IntN(3) > 0 {
			lo = instant()
		}
		if r.IntN(3) > 0 {
			hi = instant()
		}
		if !lo.IsZero() && !hi.IsZero() && hi.Before(lo) {
			lo, hi = hi, lo
		}
		p := newPlan(lo, hi, state, false)
		for _, s := range spans {
			for _, start := range p.periods[s.name] {
				end := s.next(start).AddDate(0, 0, -1)
				if !s.start(start).Equal(start) || start.Before(p.firstDay) || end.After(p.lastDay) || p.dirtyWithin(start, end) {
					t.Fatalf("case %d: %s period %s is not whole and clean in %+v", i, s.name, date(start), p)
				}
			}
		}
		// Every millisecond is too many: instants at and around every day
		// boundary, and a random one inside each day.
		for d := spans[0].start(first).AddDate(0, 0, -2); d.Before(spans[0].next(spans[0].start(state.last)).AddDate(0, 0, 2)); d = d.AddDate(0, 0, 1) {
			for _, at := range []time.Time{d, d.Add(resolution), d.Add(time.Duration(r.Int64N(int64(24 * time.Hour)))).Truncate(resolution),
				d.AddDate(0, 0, 1).Add(-resolution)} {
				inRange := (lo.IsZero() || !at.Before(lo)) && (hi.IsZero() || !at.After(hi))
				// the years holding the days with events
				hasEvents := !at.Before(spans[0].start(state.first)) && at.Before(spans[0].next(spans[0].start(state.last)))
				want := 0
				if inRange && hasEvents {
					want = 1
				}
				if got := p.answers(at); got != want {
					t.Fatalf("case %d: %s answered %d times, want %d\nlo %s hi %s dirty %v to date %s\nplan %+v", i, at, got, want, lo, hi,
						dates(state.dirty), date(state.toDate), p)
				}
			}
		}
	}
}

// A clean catalog asked about everything reads one row set per year; a
// dirty day costs the periods around it, not its year.
func TestPlanUsesTheLongestPeriods(t *testing.T) {
	state := rollupState{first: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), last: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)}
	p := newPlan(time.Time{}, time.Time{}, state, false)
	if got := dates(p.periods["year"]); !slices.Equal(got, []string{"2024-01-01", "2025-01-01", "2026-01-01"}) || len(p.periods) != 1 {
		t.Errorf("clean: %v", p.periods)
	}
	state.dirty = []time.Time{time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)}
	p = newPlan(time.Time{}, time.Time{}, state, false)
	want := map[string][]string{
		"year":     {"2024-01-01", "2025-01-01"},
		"month":    {"2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01", "2026-05-01", "2026-06-01", "2026-07-01", "2026-08-01", "2026-09-01", "2026-10-01", "2026-11-01"},
		"ten_days": {"2026-12-01", "2026-12-11"},
		"day":      {"2026-12-21", "2026-12-22", "2026-12-23", "2026-12-24", "2026-12-25", "2026-12-26", "2026-12-27", "2026-12-28", "2026-12-29", "2026-12-30"},
	}
	for span, w := range want {
		if got := dates(p.periods[span]); !slices.Equal(got, w) {
			t.Errorf("last day dirty, %s: %v, want %v", span, got, w)
		}
	}
	if got := dates(p.dirty); !slices.Equal(got, []string{"2026-12-31"}) {
		t.Errorf("raw days %v", got)
	}
	// With rows to date through the day before: one row set, and the day.
	state.toDate = time.Date(2026, 12, 30, 0, 0, 0, 0, time.UTC)
	p = newPlan(time.Time{}, time.Time{}, state, false)
	if got := dates(p.periods[toDateSpan]); !slices.Equal(got, []string{"2026-12-30"}) || len(p.periods) != 1 || len(p.dirty) != 1 {
		t.Errorf("rows to date, last day dirty: %v, raw %v", p.periods, dates(p.dirty))
	}
	// Not from the first event: the rows to date do not answer.
	p = newPlan(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), time.Time{}, state, false)
	if len(p.periods[toDateSpan]) != 0 {
		t.Errorf("since 2025-03-01: %v", p.periods)
	}
	state.toDate = time.Time{}
	// Events from mid-year on: the year is whole all the same.
	p = newPlan(time.Time{}, time.Time{}, rollupState{first: time.Date(2024, 7, 9, 0, 0, 0, 0, time.UTC), last: state.last}, false)
	if got := dates(p.periods["year"]); !slices.Equal(got, []string{"2024-01-01", "2025-01-01", "2026-01-01"}) {
		t.Errorf("from mid-year: %v", p.periods)
	}
	// As of noon: the day's first half from the raw events.
	p = newPlan(time.Time{}, time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC), rollupState{first: state.first, last: state.last}, false)
	if !p.lastDay.Equal(time.Date(2025, 6, 29, 0, 0, 0, 0, time.UTC)) || !slices.Equal(dates(p.periods["year"]), []string{"2024-01-01"}) {
		t.Errorf("as of noon: last whole day %s, periods %v", date(p.lastDay), p.periods)
	}
}

// Whole days with none dirty read no raw events at all; a bound inside a
// day, or a dirty day, does.
func TestPlanReadsRawEventsOnlyWhenNeeded(t *testing.T) {
	state := rollupState{first: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), last: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)}
	endOf := func(y int, m time.Month, d int) time.Time {
		return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC).Add(-resolution)
	}
	for _, c := range []struct {
		name   string
		lo, hi time.Time
		dirty  []time.Time
		raw    bool
	}{
		{"everything", time.Time{}, time.Time{}, nil, false},
		{"as of a date", time.Time{}, endOf(2026, 1, 1), nil, false},
		{"since a date", time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), time.Time{}, nil, false},
		{"as of noon", time.Time{}, time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC), nil, true},
		{"since noon", time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), time.Time{}, nil, true},
		{"a dirty day", time.Time{}, time.Time{}, []time.Time{time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)}, true},
		{"within one day", time.Date(2025, 3, 1, 1, 0, 0, 0, time.UTC), time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC), nil, true},
	} {
		s := state
		s.dirty = c.dirty
		if got := newPlan(c.lo, c.hi, s, false).readsRaw(); got != c.raw {
			t.Errorf("%s: reads raw events %v, want %v", c.name, got, c.raw)
		}
	}
	if !newPlan(time.Time{}, time.Time{}, state, true).readsRaw() {
		t.Error("from the events only: no raw events read")
	}
}

func TestTenDays(t *testing.T) {
	s := spans[spanIndex("ten_days")]
	for _, c := range []struct{ day, start, next string }{
		{"2026-02-01", "2026-02-01", "2026-02-11"}, {"2026-02-10", "2026-02-01", "2026-02-11"},
		{"2026-02-11", "2026-02-11", "2026-02-21"}, {"2026-02-28", "2026-02-21", "2026-03-01"},
		{"2026-01-31", "2026-01-21", "2026-02-01"},
	} {
		d, _ := time.Parse(time.DateOnly, c.day)
		if start := s.start(d); date(start) != c.start || date(s.next(start)) != c.next {
			t.Errorf("%s: ten days from %s to %s, want %s to %s", c.day, date(start), date(s.next(start)), c.start, c.next)
		}
	}
}

// A few raw days are deduplicated in memory, many by FINAL.
func TestPlanDeduplicatesFewRawDaysInMemory(t *testing.T) {
	state := rollupState{first: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), last: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)}
	state.dirty = []time.Time{time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)}
	if final, limitBy := newPlan(time.Time{}, time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), state, false).dedupRaw(); final != "" || limitBy == "" {
		t.Errorf("one raw day: %q %q", final, limitBy)
	}
	for _, d := range []int{5, 9, 14} {
		state.dirty = append(state.dirty, time.Date(2025, 3, d, 0, 0, 0, 0, time.UTC))
	}
	slices.SortFunc(state.dirty, time.Time.Compare)
	if final, limitBy := newPlan(time.Time{}, time.Time{}, state, false).dedupRaw(); final != " FINAL" || limitBy != "" {
		t.Errorf("four dirty days: %q %q", final, limitBy)
	}
	if final, _ := newPlan(time.Time{}, time.Time{}, state, true).dedupRaw(); final != " FINAL" {
		t.Errorf("from the events only: %q", final)
	}
}

// within picks, of periods sorted by start, those starting in [first,
// last], as the filter it replaces did.
func TestWithinIsThePeriodsStartingInTheRange(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC) }
	var periods []retentionPeriod
	for _, d := range []int{1, 3, 3, 5, 8, 9} {
		periods = append(periods, retentionPeriod{start: day(d)})
	}
	for _, c := range []struct{ first, last int }{{1, 9}, {2, 4}, {3, 3}, {3, 5}, {4, 4}, {6, 8}, {10, 12}, {0, 0}, {9, 30}} {
		var want []time.Time
		for _, p := range periods {
			if !p.start.Before(day(c.first)) && !p.start.After(day(c.last)) {
				want = append(want, p.start)
			}
		}
		var got []time.Time
		for _, p := range within(periods, day(c.first), day(c.last)) {
			got = append(got, p.start)
		}
		if !slices.Equal(got, want) {
			t.Errorf("within [%d, %d]: %v, want %v", c.first, c.last, got, want)
		}
	}
}
