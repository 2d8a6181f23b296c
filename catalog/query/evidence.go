package query

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Observation is one group of distinct observed events with the same kind,
// system, category, data subject, purpose, legal basis, Art. 9 condition
// and recipient: the unit of evidence of the Article 30 record.
type Observation struct {
	Kind             string `json:"kind"` // collected, shared or erased
	System           string `json:"system"`
	Category         string `json:"category"`
	DataSubject      string `json:"data_subject"`
	Purpose          string `json:"purpose,omitempty"`
	LegalBasis       string `json:"legal_basis,omitempty"`
	SpecialCondition string `json:"special_condition,omitempty"`
	Recipient        string `json:"recipient,omitempty"`
	Role             string `json:"role,omitempty"`
	Country          string `json:"country,omitempty"`
	Safeguard        string `json:"safeguard,omitempty"`
	Contract         string `json:"contract,omitempty"` // the latest one seen
	// Retention is the longest retention the events declared, as written,
	// and RetentionDays the same in days (calendar-averaged, as the catalog
	// stores it); empty and 0 for shares and erasures.
	Retention     string    `json:"retention,omitempty"`
	RetentionDays uint32    `json:"retention_days,omitempty"`
	Events        uint64    `json:"events"`
	Records       uint64    `json:"records"`
	FirstSeen     time.Time `json:"first_seen"`
	LastSeen      time.Time `json:"last_seen"`
}

// evidenceSelection is what the evidence aggregates.
var evidenceSelection = selection{kinds: allKinds, flows: true,
	cols: []string{"kind", "source", "category", "data_subject", "purpose", "legal_basis", "special_condition",
		"recipient_name", "recipient_role", "recipient_country", "recipient_safeguard", "recipient_contract",
		"retention", "retention_days"}}

// Observations returns the observed processing up to and including asOf,
// aggregated in ClickHouse, in a stable order: the evidence the Article 30
// record is built from. A report over millions of events reads a few
// thousand rows.
func Observations(ctx context.Context, conn driver.Conn, asOf time.Time) ([]Observation, error) {
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
	var out []Observation
	for rows.Next() {
		var o Observation
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
