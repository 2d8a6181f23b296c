// Package query holds every SQL statement that reads the catalog: the data
// map (inventory, flows, transfers, retention, search), the flow rows the
// lineage graph is built from, the Article 30 evidence, and the counts the
// benchmarks poll. Filters, their parsing (the same for the CLI and the
// API) and flow groups live here too. Every query reads distinct events
// (`events FINAL`); docs/catalog.md says which figure each row shows.
package query

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Queries read `events FINAL` with the filter pushed into WHERE, so every
// count is over distinct events (source, id) and any time bound (--as-of)
// applies before aggregation. On 10 million events this answers in well
// under a second (docs/benchmarks.md, "Data map queries").

// finalSettings make FINAL cheaper without changing its answer: ranges of
// parts that overlap (a redelivered event in a later part) are split into
// layers, so only the overlapping layers are merged by key. Measured on 10
// million events with 1% pending redeliveries: the inventory query goes
// from 1.4 s to 0.67 s (docs/benchmarks.md, "Data map queries").
const finalSettings = " SETTINGS split_intersecting_parts_ranges_into_layers_final = 1"

// InventoryRow is one line of the inventory: what is held, where, why.
type InventoryRow struct {
	System      string    `json:"system"`
	Category    string    `json:"category"`
	DataSubject string    `json:"data_subject"`
	Purpose     string    `json:"purpose"`
	LegalBasis  string    `json:"legal_basis"`
	Retention   string    `json:"retention"` // the longest declared (see longestRetention)
	Events      uint64    `json:"events"`
	Records     uint64    `json:"records"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
}

// FlowRow is one flow: which recipient received which category from which
// system, and under which safeguard.
type FlowRow struct {
	System      string    `json:"system"`
	Category    string    `json:"category"`
	DataSubject string    `json:"data_subject"`
	Purpose     string    `json:"purpose"`
	LegalBasis  string    `json:"legal_basis"`
	Recipient   string    `json:"recipient"`
	Role        string    `json:"role"`
	Country     string    `json:"country"`
	Safeguard   string    `json:"safeguard"`
	Contract    string    `json:"contract"` // the latest one named (see latestContract)
	Events      uint64    `json:"events"`
	Records     uint64    `json:"records"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
}

// Inventory answers "what personal data do we hold, where and why".
func Inventory(ctx context.Context, conn driver.Conn, f Filter) ([]InventoryRow, error) {
	conds, args := f.eventConds(false)
	rows, err := conn.Query(ctx, `SELECT source, category, data_subject, purpose, legal_basis,
		`+longestRetention("")+`, count(), sum(count), min(time), max(time)
		FROM events FINAL WHERE kind = 'collected'`+and(conds)+`
		GROUP BY source, category, data_subject, purpose, legal_basis
		ORDER BY source, category, data_subject, purpose, legal_basis`+finalSettings, args...)
	if err != nil {
		return nil, fmt.Errorf("inventory query: %w", err)
	}
	defer rows.Close()
	var out []InventoryRow
	for rows.Next() {
		var r InventoryRow
		if err := rows.Scan(&r.System, &r.Category, &r.DataSubject, &r.Purpose, &r.LegalBasis, &r.Retention,
			&r.Events, &r.Records, &r.FirstSeen, &r.LastSeen); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Flows answers "who received which personal data, where".
func Flows(ctx context.Context, conn driver.Conn, f Filter) ([]FlowRow, error) {
	conds, args := f.eventConds(true)
	rows, err := conn.Query(ctx, `SELECT source, category, data_subject, purpose, legal_basis,
		recipient_name, recipient_role, recipient_country, recipient_safeguard, `+latestContract+`,
		count(), sum(count), min(time), max(time)
		FROM events FINAL WHERE kind = 'shared'`+and(conds)+`
		GROUP BY source, category, data_subject, purpose, legal_basis,
			recipient_name, recipient_role, recipient_country, recipient_safeguard
		ORDER BY recipient_name, source, category, data_subject, purpose, legal_basis,
			recipient_role, recipient_country, recipient_safeguard`+finalSettings, args...)
	if err != nil {
		return nil, fmt.Errorf("flows query: %w", err)
	}
	defer rows.Close()
	var out []FlowRow
	for rows.Next() {
		var r FlowRow
		if err := rows.Scan(&r.System, &r.Category, &r.DataSubject, &r.Purpose, &r.LegalBasis, &r.Recipient,
			&r.Role, &r.Country, &r.Safeguard, &r.Contract, &r.Events, &r.Records, &r.FirstSeen, &r.LastSeen); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Totals are catalog-wide counts over distinct events.
type Totals struct {
	Events  uint64 `json:"events"`
	Records uint64 `json:"records"`
}

// CountEvents returns totals over distinct events.
func CountEvents(ctx context.Context, conn driver.Conn) (Totals, error) {
	var t Totals
	err := conn.QueryRow(ctx, "SELECT count(), sum(count) FROM events FINAL"+finalSettings).Scan(&t.Events, &t.Records)
	return t, err
}

// KnownValues checks that the system and recipient the filter names appear
// in the catalog at all (at any time), so that a typo is an InputError
// rather than an empty answer. Distinct values need no FINAL: duplicates
// do not change them.
func KnownValues(ctx context.Context, conn driver.Conn, f Filter) error {
	for _, c := range []struct{ param, column, value string }{
		{"system", "source", f.System}, {"recipient", "recipient_name", f.Recipient},
	} {
		if c.value == "" {
			continue
		}
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM (SELECT 1 FROM events WHERE "+c.column+" = ? LIMIT 1)", c.value).Scan(&n); err != nil {
			return fmt.Errorf("%s lookup: %w", c.param, err)
		}
		if n == 0 {
			return &InputError{c.param, c.value, "no event in the catalog names it; 'datamap search " + c.value + "' finds similar names"}
		}
	}
	return nil
}

// Systems lists the systems that emit events (the sources), sorted. The
// lineage graph uses it to tell an instrumented recipient, whose chain
// continues, from an opaque one.
func Systems(ctx context.Context, conn driver.Conn) ([]string, error) {
	rows, err := conn.Query(ctx, "SELECT DISTINCT source FROM events ORDER BY source")
	if err != nil {
		return nil, fmt.Errorf("systems query: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
