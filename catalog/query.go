package catalog

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Filter narrows inventory and flow queries. Empty fields match everything.
type Filter struct {
	System    string // emitting system, exact
	Category  string // a category key and its subtree: "billing" matches billing.*
	Recipient string // recipient name, exact (flows only)
	Country   string // recipient country, ISO 3166-1 alpha-2 (flows only)
}

// InventoryRow is one line of the inventory: what is held, where, why.
type InventoryRow struct {
	System      string    `json:"system"`
	Category    string    `json:"category"`
	DataSubject string    `json:"data_subject"`
	Purpose     string    `json:"purpose"`
	LegalBasis  string    `json:"legal_basis"`
	Retention   string    `json:"retention"`
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
	Contract    string    `json:"contract"`
	Events      uint64    `json:"events"`
	Records     uint64    `json:"records"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
}

// Inventory answers "what personal data do we hold, where and why".
func Inventory(ctx context.Context, conn driver.Conn, f Filter) ([]InventoryRow, error) {
	where, args := f.where(false)
	rows, err := conn.Query(ctx, `SELECT system, category, data_subject, purpose, legal_basis, retention,
		events, records, first_seen, last_seen FROM inventory`+where+
		` ORDER BY system, category, data_subject, purpose, legal_basis`, args...)
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
	where, args := f.where(true)
	rows, err := conn.Query(ctx, `SELECT system, category, data_subject, purpose, legal_basis, recipient, role,
		country, safeguard, contract, events, records, first_seen, last_seen FROM flows`+where+
		` ORDER BY recipient, system, category, data_subject, purpose`, args...)
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

// where renders the filter as a parameterised WHERE clause.
func (f Filter) where(flows bool) (string, []any) {
	var conds []string
	var args []any
	if f.System != "" {
		conds, args = append(conds, "system = ?"), append(args, f.System)
	}
	if f.Category != "" {
		conds = append(conds, "(category = ? OR startsWith(category, ?))")
		args = append(args, f.Category, f.Category+".")
	}
	if flows && f.Recipient != "" {
		conds, args = append(conds, "recipient = ?"), append(args, f.Recipient)
	}
	if flows && f.Country != "" {
		conds, args = append(conds, "country = ?"), append(args, f.Country)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// Totals are catalog-wide counts over distinct events.
type Totals struct {
	Events  uint64 `json:"events"`
	Records uint64 `json:"records"`
}

// CountEvents returns totals over distinct events.
func CountEvents(ctx context.Context, conn driver.Conn) (Totals, error) {
	var t Totals
	err := conn.QueryRow(ctx, "SELECT count(), sum(count) FROM events FINAL").Scan(&t.Events, &t.Records)
	return t, err
}
