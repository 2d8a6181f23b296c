package query

import (
	"context"
	"fmt"
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

// Retention answers "what is held past its retention". Erasures carry
// counts, not the identities of the records they removed, so they are
// applied first in, first out: an erasure of n records covers the n oldest
// records collected in that system and category. The oldest collection
// still held is found at day resolution (the earliest collection of the
// first day not wholly covered), which can only make it earlier, never hide
// a finding. Judged at f.AsOf (or now) from the events up to then.
func Retention(ctx context.Context, conn driver.Conn, f Filter) ([]RetentionRow, error) {
	scope := Filter{System: f.System, Category: f.Category, DataSubject: f.DataSubject, AsOf: f.AsOf}
	conds, args := scope.eventConds(false)
	// One pass over distinct events, aggregated to (system, category, day):
	// small enough to walk in Go whatever the number of events.
	rows, err := conn.Query(ctx, `SELECT source, category, toDate(time) AS day,
		sumIf(count, kind = 'collected'), minIf(time, kind = 'collected'),
		sumIf(count, kind = 'erased'), maxIf(time, kind = 'erased'),
		maxIf(retention_days, kind = 'collected'), `+longestRetention("kind = 'collected'")+`
		FROM events FINAL WHERE kind IN ('collected', 'erased')`+and(conds)+`
		GROUP BY source, category, day ORDER BY source, category, day`+finalSettings, args...)
	if err != nil {
		return nil, fmt.Errorf("retention query: %w", err)
	}
	defer rows.Close()
	type day struct {
		collected, erased uint64
		first, lastErased time.Time
		days              uint32
		retention         string
	}
	type key struct{ system, category string }
	var order []key
	byKey := map[key][]day{}
	for rows.Next() {
		var k key
		var d day
		var date time.Time
		if err := rows.Scan(&k.system, &k.category, &date, &d.collected, &d.first, &d.erased, &d.lastErased, &d.days, &d.retention); err != nil {
			return nil, err
		}
		if _, seen := byKey[k]; !seen {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	now := f.now()
	var out []RetentionRow
	for _, k := range order {
		days := byKey[k]
		r := RetentionRow{System: k.system, Category: k.category}
		var longest uint32
		for _, d := range days {
			r.Collected += d.collected
			r.Erased += d.erased
			if d.collected > 0 && (d.days > longest || r.Retention == "") {
				longest, r.Retention = d.days, d.retention
			}
			if d.erased > 0 && (r.LastErased == nil || d.lastErased.After(*r.LastErased)) {
				t := d.lastErased
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
		for _, d := range days {
			covered += d.collected
			if d.collected > 0 && covered > r.Erased {
				t := d.first
				r.OldestHeld = &t
				break
			}
		}
		r.Finding = retentionFinding(&r, now)
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].System != out[j].System {
			return out[i].System < out[j].System
		}
		return out[i].Category < out[j].Category
	})
	return out, nil
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
