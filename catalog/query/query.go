// Package query holds every SQL statement that reads the catalog: the data
// map (inventory, flows, transfers, retention, search), the flow rows the
// lineage graph is built from, the Article 30 evidence, and the counts the
// benchmarks poll; and the statements that keep the rollups current
// (fold.go). Filters, their parsing (the same for the CLI and the API) and
// flow groups live here too. Every query counts distinct events: it reads
// the rollups for the days they hold and `events FINAL` for the rest
// (rollups.go); docs/catalog.md says which figure each row shows.
package query

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/events"
)

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

// inventorySelection is what the inventory aggregates.
var inventorySelection = selection{kinds: []string{string(events.KindCollected)},
	cols: []string{"source", "category", "data_subject", "purpose", "legal_basis", "retention", "retention_days"}}

// Inventory answers "what personal data do we hold, where and why".
func Inventory(ctx context.Context, conn driver.Conn, f Filter) ([]InventoryRow, error) {
	from, args, err := inventorySelection.from(ctx, conn, f)
	if err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, `SELECT source, category, data_subject, purpose, legal_basis,
		`+longestRetention("")+`, `+Measures+`
		FROM `+from+`
		GROUP BY source, category, data_subject, purpose, legal_basis
		ORDER BY source, category, data_subject, purpose, legal_basis`+RollupSettings, args...)
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

// flowSelection is what flows aggregate.
var flowSelection = selection{kinds: []string{string(events.KindShared)}, flows: true,
	cols: []string{"source", "category", "data_subject", "purpose", "legal_basis",
		"recipient_name", "recipient_role", "recipient_country", "recipient_safeguard", "recipient_contract"}}

// Flows answers "who received which personal data, where".
func Flows(ctx context.Context, conn driver.Conn, f Filter) ([]FlowRow, error) {
	from, args, err := flowSelection.from(ctx, conn, f)
	if err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, `SELECT source, category, data_subject, purpose, legal_basis,
		recipient_name, recipient_role, recipient_country, recipient_safeguard, `+latestContract+`, `+Measures+`
		FROM `+from+`
		GROUP BY source, category, data_subject, purpose, legal_basis,
			recipient_name, recipient_role, recipient_country, recipient_safeguard
		ORDER BY recipient_name, source, category, data_subject, purpose, legal_basis,
			recipient_role, recipient_country, recipient_safeguard`+RollupSettings, args...)
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

// allKinds selects every event about data, for the queries that are not
// about one kind.
var allKinds = kindsAboutData()

func kindsAboutData() []string {
	var out []string
	for _, k := range events.Kinds {
		if k.AboutData() {
			out = append(out, string(k))
		}
	}
	return out
}

// CountEvents returns totals over distinct events.
func CountEvents(ctx context.Context, conn driver.Conn) (Totals, error) {
	from, args, err := selection{kinds: allKinds, cols: []string{"kind"}}.from(ctx, conn, Filter{})
	if err != nil {
		return Totals{}, err
	}
	var t Totals
	if err := conn.QueryRow(ctx, "SELECT "+sumEvents+", "+sumRecords+" FROM "+from+RollupSettings, args...).
		Scan(&t.Events, &t.Records); err != nil {
		return t, fmt.Errorf("totals query: %w", err)
	}
	return t, nil
}

// KnownValues checks that the system and recipient the filter names appear
// in the catalog at all (at any time), so that a typo is a ValueError
// rather than an empty answer.
func KnownValues(ctx context.Context, conn driver.Conn, f Filter) error {
	for _, c := range []struct {
		param, value string
		only         Filter
	}{
		{"system", f.System, Filter{System: f.System}}, {"recipient", f.Recipient, Filter{Recipient: f.Recipient}},
	} {
		if c.value == "" {
			continue
		}
		from, args, err := selection{kinds: allKinds, flows: true, cols: []string{"source"}, distinct: true}.from(ctx, conn, c.only)
		if err != nil {
			return err
		}
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM (SELECT 1 FROM "+from+" LIMIT 1)"+RollupSettings, args...).Scan(&n); err != nil {
			return fmt.Errorf("%s lookup: %w", c.param, err)
		}
		if n == 0 {
			return &ValueError{c.param, c.value, "no event in the catalog names it; 'datamap search " + c.value + "' finds similar names"}
		}
	}
	return nil
}

// Systems lists the systems that emit events (the sources), sorted. The
// lineage graph uses it to tell an instrumented recipient, whose chain
// continues, from an opaque one.
func Systems(ctx context.Context, conn driver.Conn) ([]string, error) {
	from, args, err := selection{kinds: allKinds, cols: []string{"source"}, distinct: true}.from(ctx, conn, Filter{})
	if err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, "SELECT DISTINCT source FROM "+from+" ORDER BY source"+RollupSettings, args...)
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
