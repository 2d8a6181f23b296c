package query

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/events"
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
var retentionSelection = selection{kinds: []string{"collected", "erased"},
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
	// whole month the rollups hold. Small enough to walk in Go whatever
	// the number of events.
	rows, err := conn.Query(ctx, `SELECT source, category, period, whole_month,
		sumIf(records, kind = 'collected'), minIf(first_seen, kind = 'collected'),
		sumIf(records, kind = 'erased'), maxIf(last_seen, kind = 'erased'),
		maxIf(retention_days, kind = 'collected'), `+longestRetention("kind = 'collected'")+`
		FROM `+from+`
		GROUP BY source, category, period, whole_month ORDER BY source, category, period`+rollupSettings, args...)
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
		var wholeMonth uint8
		if err := rows.Scan(&k.system, &k.category, &p.start, &wholeMonth, &p.collected, &p.first, &p.erased, &p.lastErased,
			&p.days, &p.retention); err != nil {
			return nil, err
		}
		p.month = wholeMonth == 1
		if _, seen := byKey[k]; !seen {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []RetentionRow
	var open []oldestInMonth // rows whose oldest held collection is inside a whole month
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
		var covered uint64
		for _, p := range periods {
			if covered+p.collected > r.Erased && p.collected > 0 {
				if p.month {
					open = append(open, oldestInMonth{row: len(out), month: p.start, coveredBefore: covered})
				} else {
					t := p.first
					r.OldestHeld = &t
				}
				break
			}
			covered += p.collected
		}
		out = append(out, r)
	}
	if err := oldestInMonths(ctx, conn, scope, out, open); err != nil {
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
	start             time.Time // the day, or the first of the month
	month             bool      // a whole month from the rollups
	collected, erased uint64
	first, lastErased time.Time
	days              uint32 // the longest retention declared, in days
	retention         string // and as written
}

// oldestInMonth is a retention row whose first collection not covered by
// erasures lies in a whole month: coveredBefore records were collected
// before the month.
type oldestInMonth struct {
	row           int
	month         time.Time
	coveredBefore uint64
}

// oldestInMonths finds, for each open row, the day of its month where the
// collections stop being covered by erasures, and sets OldestHeld to that
// day's first collection. The months are whole and clean, so their day
// rows in the rollups are exactly what their month rows sum up.
func oldestInMonths(ctx context.Context, conn driver.Conn, scope Filter, out []RetentionRow, open []oldestInMonth) error {
	if len(open) == 0 {
		return nil
	}
	type key struct {
		system, category string
		month            time.Time
	}
	want := map[key]oldestInMonth{}
	var months []time.Time
	for _, o := range open {
		k := key{out[o.row].System, out[o.row].Category, o.month}
		want[k] = o
		if !slices.ContainsFunc(months, o.month.Equal) {
			months = append(months, o.month)
		}
	}
	conds, args := scope.dimConds(false)
	rows, err := conn.Query(ctx, `SELECT source, category, toStartOfMonth(period), period, `+sumRecords+`, `+firstSeen+`
		FROM rollups FINAL
		WHERE span = 'day' AND kind = 'collected' AND toStartOfMonth(period) IN ?`+and(conds)+`
		GROUP BY source, category, period ORDER BY source, category, period`+rollupSettings,
		append([]any{dates(months)}, args...)...)
	if err != nil {
		return fmt.Errorf("retention query, days of a month: %w", err)
	}
	defer rows.Close()
	covered := map[key]uint64{}
	for rows.Next() {
		var k key
		var day, first time.Time
		var collected uint64
		if err := rows.Scan(&k.system, &k.category, &k.month, &day, &collected, &first); err != nil {
			return err
		}
		o, ok := want[k]
		if !ok || out[o.row].OldestHeld != nil {
			continue
		}
		if _, started := covered[k]; !started {
			covered[k] = o.coveredBefore
		}
		covered[k] += collected
		if collected > 0 && covered[k] > out[o.row].Erased {
			out[o.row].OldestHeld = &first
		}
	}
	return rows.Err()
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
			r.OldestHeld.Format(time.DateOnly), int(now.Sub(until).Hours()/24), r.Retention, until.Format(time.DateOnly))
	}
	return ""
}
