package query

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"golang.org/x/sync/errgroup"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/words"
)

// RetentionRow is the retention state of one category in one system.
type RetentionRow struct {
	System   string `json:"system"`
	Category string `json:"category"`
	// Retention is the longest retention the collections declared (an
	// ISO 8601 duration), as every row of the catalog shows it (see
	// longestRetention); findings use it, so a shorter declaration for
	// another purpose never raises a false alarm.
	Retention string `json:"retention"`
	Collected uint64 `json:"collected_records"`
	Erased    uint64 `json:"erased_records"`
	Held      uint64 `json:"held_records"`
	// OldestHeld is the earliest collection not yet covered by erasures
	// (nil when everything collected was erased); HeldUntil is when its
	// retention runs out.
	OldestHeld *time.Time `json:"oldest_held"`
	HeldUntil  *time.Time `json:"held_until"`
	LastErased *time.Time `json:"last_erased"`
	Finding    string     `json:"finding"`
}

func (r RetentionRow) finding() string { return r.Finding }

// RetentionParams are the filter parameters Retention honours. Erasure
// events carry no purpose, legal basis or activity, so filtering on those
// would drop every erasure and misreport what is held.
var RetentionParams = []string{"system", "category", "data_subject", "as_of"}

// retentionSelection is what Retention aggregates.
var retentionSelection = selection{rollups: "retention_rollups", kinds: []string{string(events.KindCollected), string(events.KindErased)},
	cols: []string{"kind", "source", "category", "retention", "retention_days"}}

// Retention answers "what is held past its retention". Erasures carry
// counts, not the identities of the records they removed, so they are
// applied first in, first out: an erasure of n records covers the n oldest
// records collected in that system and category. The oldest collection
// still held is found at day resolution (the earliest collection of the
// first day not wholly covered), which can only make it earlier, never hide
// a finding. Judged at f.AsOf (or now) from the events up to then.
func Retention(ctx context.Context, conn driver.Conn, f Filter) ([]RetentionRow, error) {
	scope := Filter{System: f.System, Category: f.Category, DataSubject: f.DataSubject, AsOf: f.AsOf}
	from, args, plan, err := retentionSelection.planned(ctx, conn, scope)
	if err != nil {
		return nil, err
	}
	// One pass, aggregated to (system, category, period): a day, or a
	// longer period the rollups hold. Small enough to walk in Go whatever
	// the number of events. The collections of the periods inside the
	// longest ones — the rows to date, the years — where the search for
	// the oldest held record starts, are read at the same time, of every
	// system and category: a few rows each, and a round trip less.
	var longest []oldestWithin
	if through := plan.periods[toDateSpan]; len(through) > 0 {
		longest = append(longest, oldestWithin{span: toDateSpan, start: plan.firstDay, through: through[0]})
	}
	for _, year := range plan.periods[spans[0].name] {
		longest = append(longest, oldestWithin{span: spans[0].name, start: year})
	}
	var readInside map[pair][]retentionPeriod
	var inside errgroup.Group
	if len(longest) > 0 {
		inside.Go(func() (err error) {
			readInside, err = readCollections(ctx, conn, longest, nil, scope)
			return err
		})
	}
	rows, err := conn.Query(ctx, `SELECT source, category, period_span, period,
		sumIf(records, kind = 'collected'), minIf(first_seen, kind = 'collected'),
		sumIf(records, kind = 'erased'), maxIf(last_seen, kind = 'erased'),
		maxIf(retention_days, kind = 'collected'), `+longestRetention("kind = 'collected'")+`
		FROM `+from+`
		GROUP BY source, category, period_span, period
		ORDER BY source, category, period_span != '`+toDateSpan+`', period`+RollupSettings, args...)
	if err != nil {
		_ = inside.Wait()
		return nil, fmt.Errorf("retention query: %w", err)
	}
	defer rows.Close()
	var order []pair
	byKey := map[pair][]retentionPeriod{}
	for rows.Next() {
		var k pair
		var p retentionPeriod
		if err := rows.Scan(&k.system, &k.category, &p.span, &p.start, &p.collected, &p.first, &p.erased, &p.lastErased,
			&p.days, &p.retention); err != nil {
			_ = inside.Wait()
			return nil, err
		}
		if _, seen := byKey[k]; !seen {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], p)
	}
	if err := errors.Join(rows.Err(), inside.Wait()); err != nil {
		return nil, err
	}
	if readInside == nil {
		readInside = map[pair][]retentionPeriod{}
	}
	var out []RetentionRow
	var open []oldestWithin // rows whose oldest held collection is inside a period longer than a day
	for _, k := range order {
		periods := byKey[k]
		r := RetentionRow{System: k.system, Category: k.category}
		var longest uint32
		for _, p := range periods {
			r.Collected += p.collected
			r.Erased += p.erased
			if p.collected > 0 && (r.Retention == "" || p.days > longest || (p.days == longest && p.retention > r.Retention)) {
				longest, r.Retention = p.days, p.retention
			}
			if p.erased > 0 && (r.LastErased == nil || p.lastErased.After(*r.LastErased)) {
				t := p.lastErased
				r.LastErased = &t
			}
		}
		if r.Collected == 0 {
			continue // erasures only: nothing collected in scope
		}
		if r.Collected > r.Erased {
			r.Held = r.Collected - r.Erased
		}
		if p, before, ok := firstNotCovered(periods, r.Erased); ok {
			switch p.span {
			case daySpan.name:
				t := p.first
				r.OldestHeld = &t
			case toDateSpan: // the rows to date hold from the plan's first day through their period
				open = append(open, oldestWithin{row: len(out), span: p.span, start: plan.firstDay, through: p.start, coveredBefore: before})
			default:
				open = append(open, oldestWithin{row: len(out), span: p.span, start: p.start, coveredBefore: before})
			}
		}
		out = append(out, r)
	}
	if err := oldestWithinPeriods(ctx, conn, scope, out, open, readInside); err != nil {
		return nil, err
	}
	now := f.now()
	for i := range out {
		out[i].Finding = retentionFinding(&out[i], now)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].System != out[j].System {
			return out[i].System < out[j].System
		}
		return out[i].Category < out[j].Category
	})
	return out, nil
}

// retentionPeriod is what one system and category collected and erased in
// one period.
type retentionPeriod struct {
	span              string    // day, or a longer span of the rollups
	start             time.Time // the first day of the period
	collected, erased uint64
	first, lastErased time.Time
	days              uint32 // the longest retention declared, in days
	retention         string // and as written
}

// firstNotCovered returns the first period, in time order, whose
// collections are not all covered by erased records, and how many records
// were collected before it.
func firstNotCovered(periods []retentionPeriod, erased uint64) (retentionPeriod, uint64, bool) {
	var covered uint64
	for _, p := range periods {
		if p.collected > 0 && covered+p.collected > erased {
			return p, covered, true
		}
		covered += p.collected
	}
	return retentionPeriod{}, 0, false
}

// oldestWithin is a retention row whose first collection not covered by
// erasures lies in a period longer than a day: coveredBefore records were
// collected before the period. For the rows to date, the period is the
// days [start, through].
type oldestWithin struct {
	row            int
	span           string
	start, through time.Time
	coveredBefore  uint64
}

// last is the last day of the period.
func (o oldestWithin) last() time.Time {
	if o.span == toDateSpan {
		return o.through
	}
	return spans[spanIndex(o.span)].next(o.start).AddDate(0, 0, -1)
}

// pair is a system and category: a retention row.
type pair struct{ system, category string }

// oldestWithinPeriods finds, for each open row, the day where its
// collections stop being covered by erasures, and sets OldestHeld to that
// day's first collection. It reads the rows of the periods inside each
// open period — inside the rows to date or a year, the ten-day periods
// and days that make them up; inside a month or ten days, its days — and
// again inside the period found there, down to
// days: one round trip per step for every open row, reading a few rollup
// rows each, two steps at most below the rows to date. The periods are
// whole and clean, so the rows inside them are exactly what they sum up.
// read holds the rows already read inside some open periods (inside the
// rows to date and the years, read with the totals).
func oldestWithinPeriods(ctx context.Context, conn driver.Conn, scope Filter, out []RetentionRow, open []oldestWithin,
	read map[pair][]retentionPeriod) error {
	for _, o := range open {
		if o.span != toDateSpan && o.span != spans[0].name {
			// Read inside the rows to date and the years only: a row
			// open in a shorter period reads inside it.
			delete(read, pair{out[o.row].System, out[o.row].Category})
		}
	}
	for len(open) > 0 {
		var toRead []oldestWithin
		for _, o := range open {
			if _, done := read[pair{out[o.row].System, out[o.row].Category}]; !done {
				toRead = append(toRead, o)
			}
		}
		if len(toRead) > 0 {
			found, err := readCollections(ctx, conn, toRead, out, scope)
			if err != nil {
				return err
			}
			for k, periods := range found {
				if _, done := read[k]; !done {
					read[k] = periods
				}
			}
		}
		var next []oldestWithin
		for _, o := range open {
			k := pair{out[o.row].System, out[o.row].Category}
			// Of the periods read for its system and category, in time
			// order, those inside o; each pair has one open period at a
			// time.
			periods := within(read[k], o.start, o.last())
			delete(read, k)
			p, before, ok := firstNotCovered(periods, out[o.row].Erased-min(o.coveredBefore, out[o.row].Erased))
			switch {
			case ok && p.span == daySpan.name:
				t := p.first
				out[o.row].OldestHeld = &t
			case ok:
				next = append(next, oldestWithin{row: o.row, span: p.span, start: p.start, coveredBefore: o.coveredBefore + before})
			default:
				return fmt.Errorf("retention: the rows inside %s %s do not add up to its row; run 'datamap rollups rebuild'",
					o.span, date(o.start))
			}
		}
		open = next
	}
	return nil
}

// within is the part of periods, sorted by start, that starts in [first,
// last]: a part of the same array, since an answer walks thousands.
func within(periods []retentionPeriod, first, last time.Time) []retentionPeriod {
	from, _ := slices.BinarySearchFunc(periods, first, func(p retentionPeriod, t time.Time) int { return p.start.Compare(t) })
	to, found := slices.BinarySearchFunc(periods, last, func(p retentionPeriod, t time.Time) int { return p.start.Compare(t) })
	for found && to < len(periods) && periods[to].start.Equal(last) {
		to++
	}
	return periods[from:to]
}

// inside lists the periods of the rollup rows inside o: inside the rows
// to date or a year, the ten-day periods and days that make up their
// days, so that the step after reads ten days, not thirty (these are read
// ahead, alongside the periods, while the days of an open period are read
// after them, and cost the answer their time); inside a month or ten
// days, its days.
func (o oldestWithin) inside() map[string][]time.Time {
	var in plan
	in.periods = map[string][]time.Time{}
	switch o.span {
	case toDateSpan, spans[0].name:
		in.cover(o.start, o.last(), spanIndex("ten_days"))
	default:
		for d := o.start; !d.After(o.last()); d = d.AddDate(0, 0, 1) {
			in.periods[daySpan.name] = append(in.periods[daySpan.name], d)
		}
	}
	return in.periods
}

// readCollections reads the collections of each system and category in
// the periods inside the open ones, in time order: of every system and
// category when out is nil, otherwise of each open row's own.
func readCollections(ctx context.Context, conn driver.Conn, open []oldestWithin, out []RetentionRow, scope Filter) (map[pair][]retentionPeriod, error) {
	// The periods inside are listed rather than found by their parent's
	// start in SQL: a list of periods is a range of the rollups' key
	// (span, period, …), an expression over period is a full scan. Open
	// periods of one span and start share their list, and read it for
	// their systems and categories only.
	type group struct {
		inside plan
		pairs  []clickhouse.GroupSet
	}
	var groups []*group
	byStart := map[oldestWithin]*group{}
	for _, o := range open {
		at := oldestWithin{span: o.span, start: o.start, through: o.through}
		g, ok := byStart[at]
		if !ok {
			g = &group{inside: plan{periods: o.inside()}}
			byStart[at] = g
			groups = append(groups, g)
		}
		if out != nil {
			g.pairs = append(g.pairs, clickhouse.GroupSet{Value: []any{out[o.row].System, out[o.row].Category}})
		}
	}
	var ors []string
	var args []any
	for _, g := range groups {
		where, wargs := g.inside.rollupWhere()
		if len(g.pairs) > 0 {
			where = "(source, category) IN (?) AND " + where
			wargs = append([]any{g.pairs}, wargs...)
		}
		ors = append(ors, "("+where+")")
		args = append(args, wargs...)
	}
	conds, dargs := scope.dimConds(false)
	rows, err := conn.Query(ctx, `SELECT source, category, toString(span), period, sum(records), min(first_seen)
		FROM retention_rollups FINAL WHERE kind = 'collected' AND (`+strings.Join(ors, " OR ")+`)`+and(conds)+`
		GROUP BY source, category, span, period ORDER BY source, category, period`+RollupSettings, append(args, dargs...)...)
	if err != nil {
		return nil, fmt.Errorf("retention query, inside periods: %w", err)
	}
	defer rows.Close()
	// The rows come by system and category: the periods of each pair are
	// a part of an array shared with the pairs before it, which an answer
	// allocates a few of, not an array grown for every pair.
	const shared = 512
	found := map[pair][]retentionPeriod{}
	var buf []retentionPeriod
	var last pair
	from := 0 // where last's periods start in buf
	for rows.Next() {
		var k pair
		var p retentionPeriod
		if err := rows.Scan(&k.system, &k.category, &p.span, &p.start, &p.collected, &p.first); err != nil {
			return nil, err
		}
		if k != last && len(buf) > from {
			found[last] = buf[from:len(buf):len(buf)]
			from = len(buf)
		}
		if len(buf) == cap(buf) { // a new array, holding the periods of k so far
			next := make([]retentionPeriod, len(buf)-from, max(shared, 2*(len(buf)-from)))
			copy(next, buf[from:])
			buf, from = next, 0
		}
		last = k
		buf = append(buf, p)
	}
	if len(buf) > from {
		found[last] = buf[from:len(buf):len(buf)]
	}
	return found, rows.Err()
}

func retentionFinding(r *RetentionRow, now time.Time) string {
	if r.OldestHeld == nil {
		return ""
	}
	if r.Retention == "" {
		return "no retention declared: collections of this category must state how long they are kept"
	}
	d, err := events.ParseISODuration(r.Retention)
	if err != nil {
		return fmt.Sprintf("declared retention %q is not an ISO 8601 duration", r.Retention)
	}
	until := d.AddTo(*r.OldestHeld)
	r.HeldUntil = &until
	if now.After(until) {
		return fmt.Sprintf("held past retention: records collected %s are still held %d days after their %s retention ran out on %s",
			r.OldestHeld.Format(time.DateOnly), int(now.Sub(until).Hours()/24), words.DurationOr(r.Retention), until.Format(time.DateOnly))
	}
	return ""
}
