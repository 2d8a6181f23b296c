// Package report builds the GDPR Article 30 record of processing activities
// from a declared registry (package registry) and the processing observed in
// the catalog, finds where the two disagree (drift), and renders the record
// as JSON, CSV, Markdown, HTML and XLSX.
//
// The record and the drift findings are pure functions of (registry,
// observations, as-of); only LoadObservations touches ClickHouse, and it
// aggregates there, so a report over millions of events reads a few
// thousand rows.
package report

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Observation is one group of distinct observed events with the same kind,
// system, category, data subject, purpose, legal basis, Art. 9 condition
// and recipient: the unit of evidence.
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

// Querier is the part of a ClickHouse connection the loader needs.
type Querier interface {
	Query(ctx context.Context, query string, args ...any) (driver.Rows, error)
}

var _ Querier = driver.Conn(nil)

// observationsQuery groups distinct events (FINAL collapses redelivered
// duplicates) up to the as-of instant. Only aggregates leave ClickHouse.
const observationsQuery = `SELECT toString(kind), source, category, data_subject, purpose, legal_basis,
	special_condition, recipient_name, recipient_role, recipient_country, recipient_safeguard,
	argMax(recipient_contract, time), argMax(retention, retention_days), max(retention_days),
	count(), sum(count), min(time), max(time)
FROM events FINAL
WHERE time <= ?
GROUP BY kind, source, category, data_subject, purpose, legal_basis, special_condition,
	recipient_name, recipient_role, recipient_country, recipient_safeguard
ORDER BY kind, source, category, data_subject, purpose, legal_basis, special_condition,
	recipient_name, recipient_role, recipient_country, recipient_safeguard`

// LoadObservations returns the observed processing up to and including
// asOf, aggregated in ClickHouse, in a stable order.
func LoadObservations(ctx context.Context, q Querier, asOf time.Time) ([]Observation, error) {
	rows, err := q.Query(ctx, observationsQuery, asOf.UTC())
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

// ParseAsOf reads an as-of value: a date (YYYY-MM-DD) means the end of that
// day UTC, so the whole day is included; an RFC 3339 instant is taken as is.
func ParseAsOf(s string) (time.Time, error) {
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d.Add(24*time.Hour - time.Millisecond), nil // events.time has millisecond precision
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("as-of %q is neither a date (2026-11-30) nor an RFC 3339 instant (2026-11-30T12:00:00Z)", s)
	}
	return t.UTC(), nil
}
