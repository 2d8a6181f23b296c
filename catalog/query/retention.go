package query

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

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
var retentionSelection = selection{kinds: []string{string(events.KindCollected), string(events.KindErased)},
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
	from, args, err := retentionSelection.from(ctx, conn, scope)
	if err != nil {
		return nil, err
	}
	// One pass, aggregated to (system, category, period): a day, or a
	// longer period the rollups hold. Small enough to walk in Go whatever
	// the number of events.
	rows, err := conn.Query(ctx, `SELECT source, category, period_span, period,
		sumIf(records, kind = 'collected'), minIf(first_seen, kind = 'collected'),
		sumIf(records, kind = 'erased'), maxIf(last_seen, kind = 'erased'),
		maxIf(retention_days, kind = 'collected'), `+longestRetention("kind = 'collected'")+`
		FROM `+from+`
		GROUP BY source, category, period_span, period ORDER BY source, category, period`+RollupSettings, args...)
	if err != nil {
		return nil, fmt.Errorf("retention query: %w", err)
	}
	defer rows.Close()
	type key struct{ system, category string }
	var order []key
	byKey := map[key][]retentionPeriod{}
	for rows.Next() {
		var k key
		var p retentionPeriod
		if err := rows.Scan(&k.system, &k.category, &p.span, &p.start, &p.collected, &p.first, &p.erased, &p.lastErased,
			&p.days, &p.retention); err != nil {
			return nil, err
		}
		if _, seen := byKey[k]; !seen {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
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
			if p.span == daySpan.name {
				t := p.first
				r.OldestHeld = &t
			} else {
				open = append(open, oldestWithin{row: len(out), span: p.span, start: p.start, coveredBefore: before})
			}
		}
		out = append(out, r)
	}
	if err := oldestWithinPeriods(ctx, conn, scope, out, open); err != nil {
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
// collected before the period.
type oldestWithin struct {
	row           int
	span          string
	start         time.Time
	coveredBefore uint64
}

// oldestWithinPeriods finds, for each open row, the day where its
// collections stop being covered by erasures, and sets OldestHeld to that
// day's first collection. It reads the rows of the next shorter span
// inside each open period, and again inside the period found there, down
// to days: a few rollup rows per step, one round trip each. The
// periods are whole and clean, so their shorter periods' rows are exactly
// what they sum up.
func oldestWithinPeriods(ctx context.Context, conn driver.Conn, scope Filter, out []RetentionRow, open []oldestWithin) error {
	conds, args := scope.dimConds(false)
	for len(open) > 0 {
		// The open rows of the longest span first; the others wait.
		level := len(spans)
		for _, o := range open {
			level = min(level, spanIndex(o.span))
		}
		parent, child := spans[level], spans[level+1]
		type key struct {
			system, category string
			start            time.Time
		}
		want := map[key]oldestWithin{}
		// The child periods are listed rather than found by their parent's
		// start in SQL: a list of periods is a range of the rollups' key
		// (span, period, …), an expression over period is a full scan.
		var starts, children []time.Time
		var rest []oldestWithin
		for _, o := range open {
			if o.span != parent.name {
				rest = append(rest, o)
				continue
			}
			want[key{out[o.row].System, out[o.row].Category, o.start}] = o
			if !slices.ContainsFunc(starts, o.start.Equal) {
				starts = append(starts, o.start)
				for c := o.start; c.Before(parent.next(o.start)); c = child.next(c) {
					children = append(children, c)
				}
			}
		}
		rows, err := conn.Query(ctx, `SELECT source, category, `+parent.startSQL("period")+` AS parent, period,
			sumIf(records, kind = 'collected'), minIf(first_seen, kind = 'collected')
			FROM rollups FINAL
			WHERE span = ? AND period IN ? AND kind = 'collected' AND parent IN ?`+and(conds)+`
			GROUP BY source, category, parent, period ORDER BY source, category, period`+RollupSettings,
			append([]any{child.name, dates(children), dates(starts)}, args...)...)
		if err != nil {
			return fmt.Errorf("retention query, inside %s periods: %w", parent.name, err)
		}
		byKey := map[key][]retentionPeriod{}
		for rows.Next() {
			var k key
			p := retentionPeriod{span: child.name}
			if err := rows.Scan(&k.system, &k.category, &k.start, &p.start, &p.collected, &p.first); err != nil {
				rows.Close()
				return err
			}
			byKey[k] = append(byKey[k], p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for k, o := range want {
			p, before, ok := firstNotCovered(byKey[k], out[o.row].Erased-min(o.coveredBefore, out[o.row].Erased))
			if !ok {
				return fmt.Errorf("retention: the %s rows of %s %s do not add up to its row; run 'datamap rollups --rebuild'",
					child.name, parent.name, date(o.start))
			}
			if child.name == daySpan.name {
				t := p.first
				out[o.row].OldestHeld = &t
				continue
			}
			rest = append(rest, oldestWithin{row: o.row, span: child.name, start: p.start, coveredBefore: o.coveredBefore + before})
		}
		open = rest
	}
	return nil
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
