package query

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/report"
)

// evidenceSelection is what the evidence aggregates.
var evidenceSelection = selection{kinds: allKinds, flows: true,
	cols: []string{"kind", "source", "category", "data_subject", "purpose", "legal_basis", "special_condition",
		"recipient_name", "recipient_role", "recipient_country", "recipient_safeguard", "recipient_contract",
		"retention", "retention_days"}}

// Observations returns the observed processing up to and including asOf,
// aggregated in ClickHouse, in a stable order: the evidence the Article 30
// record is built from. A report over millions of events reads a few
// thousand rows.
func Observations(ctx context.Context, conn driver.Conn, asOf time.Time) ([]report.Observation, error) {
	from, args, err := evidenceSelection.from(ctx, conn, Filter{AsOf: asOf})
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	rows, err := conn.Query(ctx, `SELECT toString(kind), source, category, data_subject, purpose, legal_basis,
	special_condition, recipient_name, recipient_role, recipient_country, recipient_safeguard,
	`+latestContract+`, `+longestRetention("")+`, max(retention_days), `+Measures+`
FROM `+from+`
GROUP BY kind, source, category, data_subject, purpose, legal_basis, special_condition,
	recipient_name, recipient_role, recipient_country, recipient_safeguard
ORDER BY kind, source, category, data_subject, purpose, legal_basis, special_condition,
	recipient_name, recipient_role, recipient_country, recipient_safeguard`+RollupSettings, args...)
	if err != nil {
		return nil, fmt.Errorf("report: evidence query: %w", err)
	}
	defer rows.Close()
	var out []report.Observation
	for rows.Next() {
		var o report.Observation
		if err := rows.Scan(&o.Kind, &o.System, &o.Category, &o.DataSubject, &o.Purpose, &o.LegalBasis,
			&o.SpecialCondition, &o.Recipient, &o.Role, &o.Country, &o.Safeguard, &o.Contract,
			&o.Retention, &o.RetentionDays, &o.Events, &o.Records, &o.FirstSeen, &o.LastSeen); err != nil {
			return nil, fmt.Errorf("report: evidence row: %w", err)
		}
		o.FirstSeen, o.LastSeen = o.FirstSeen.UTC(), o.LastSeen.UTC()
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("report: evidence rows: %w", err)
	}
	return out, nil
}
