package query

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/report"
)

// TrafficRow is one system's observed destination: what the traces it
// sent show of its outgoing calls, over the filter's days.
type TrafficRow struct {
	System string `json:"system"`
	Host   string `json:"host"`
	// Class is internal, recipient (a registry recipient's hosts match),
	// vendor (the vendor catalogue's) or unknown, as classified when the
	// spans arrived.
	Class     string `json:"class"`
	Recipient string `json:"recipient,omitempty"`
	Country   string `json:"country,omitempty"`
	// Spans and Errors count calls at least once (senders retry);
	// FirstSeen and LastSeen are exact.
	Spans     uint64    `json:"spans"`
	Errors    uint64    `json:"errors"`
	Days      uint64    `json:"days"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// TrafficFilter narrows Traffic. Of Filter it uses System, Recipient,
// Country, Since, Until and AsOf; the traffic table keeps days, so Since
// and the upper bound select whole days, and a destination first seen
// after the upper bound is left out.
type TrafficFilter struct {
	Filter
	Class string // internal, recipient, vendor or unknown; empty for all
	Host  string // exact peer host
}

// TrafficClasses are the values of TrafficFilter.Class.
var TrafficClasses = []string{"internal", "recipient", "vendor", "unknown"}

// Traffic answers "where do our systems' outgoing calls go": each
// system's observed destinations, external before internal, busiest
// first.
func Traffic(ctx context.Context, conn driver.Conn, f TrafficFilter) ([]TrafficRow, error) {
	var where []string
	var args []any
	eq := func(col, v string) {
		if v != "" {
			where = append(where, col+" = ?")
			args = append(args, v)
		}
	}
	eq("system", f.System)
	eq("recipient", f.Recipient)
	eq("country", f.Country)
	eq("class", f.Class)
	eq("host", f.Host)
	if !f.Since.IsZero() {
		where = append(where, "day >= toDate(?)")
		args = append(args, f.Since.UTC().Format(time.DateOnly))
	}
	having := ""
	if upper := f.upper(); !upper.IsZero() {
		where = append(where, "day <= toDate(?)")
		args = append(args, upper.UTC().Format(time.DateOnly))
		having = " HAVING min(first_seen) <= ?"
		args = append(args, upper.UTC())
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := conn.Query(ctx, `SELECT system, host, class, recipient, country,
		sum(spans), sum(errors), uniqExact(day), min(first_seen), max(last_seen)
		FROM traffic`+cond+`
		GROUP BY system, host, class, recipient, country`+having+`
		ORDER BY system, class = 'internal', sum(spans) DESC, host, class, recipient, country`, args...)
	if err != nil {
		return nil, fmt.Errorf("traffic query: %w", err)
	}
	defer rows.Close()
	var out []TrafficRow
	for rows.Next() {
		var r TrafficRow
		if err := rows.Scan(&r.System, &r.Host, &r.Class, &r.Recipient, &r.Country,
			&r.Spans, &r.Errors, &r.Days, &r.FirstSeen, &r.LastSeen); err != nil {
			return nil, err
		}
		r.FirstSeen, r.LastSeen = r.FirstSeen.UTC(), r.LastSeen.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// DestinationRow is one system's observed destination held against what
// is reported and declared: the answer of `datamap traffic`.
type DestinationRow struct {
	System    string `json:"system"`
	Host      string `json:"host"`
	Class     string `json:"class"` // as TrafficRow.Class
	Recipient string `json:"recipient,omitempty"`
	Country   string `json:"country,omitempty"`
	// Reported is set when the system reports sharing with the
	// destination's recipient: a shared event from the system naming it
	// (case aside), up to the filter's upper bound.
	Reported bool `json:"reported"`
	// Declared is set when a registry recipient's hosts matched the
	// destination when its spans arrived (class recipient).
	Declared bool `json:"declared"`
	// Spans and Errors count calls at least once (senders retry);
	// FirstSeen and LastSeen are exact.
	Spans     uint64    `json:"spans"`
	Errors    uint64    `json:"errors"`
	Days      uint64    `json:"days"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// Destinations answers "where do our systems' calls go, and is it
// reported and declared": Traffic, with each row's disclosure events and
// registry declaration. A system that sent no traces is a *ValueError, so
// that a typo is not taken for a system that calls nothing.
func Destinations(ctx context.Context, conn driver.Conn, f TrafficFilter) ([]DestinationRow, error) {
	rows, err := Traffic(ctx, conn, f)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 && f.System != "" {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM (SELECT 1 FROM traffic WHERE system = ? LIMIT 1)", f.System).Scan(&n); err != nil {
			return nil, fmt.Errorf("traffic system lookup: %w", err)
		}
		if n == 0 {
			return nil, &ValueError{"system", f.System, "sent no traces datamap received; 'datamap traffic' lists the systems that did"}
		}
	}
	reported, err := Disclosures(ctx, conn, Filter{System: f.System, Until: f.upper()})
	if err != nil {
		return nil, err
	}
	out := make([]DestinationRow, len(rows))
	for i, r := range rows {
		out[i] = DestinationRow{System: r.System, Host: r.Host, Class: r.Class, Recipient: r.Recipient, Country: r.Country,
			Reported: r.Recipient != "" && reported.Has(r.System, r.Recipient), Declared: r.Class == "recipient",
			Spans: r.Spans, Errors: r.Errors, Days: r.Days, FirstSeen: r.FirstSeen, LastSeen: r.LastSeen}
	}
	return out, nil
}

// DisclosureSet is which systems report sharing with which recipients.
type DisclosureSet map[[2]string]bool

// Has reports whether system reports sharing with recipient; names of
// recipients are compared without case, as services spell them.
func (d DisclosureSet) Has(system, recipient string) bool {
	return d[[2]string{system, strings.ToLower(recipient)}]
}

// Disclosures reads which systems report sharing with which recipients:
// the shared events of the filter (System, Until, AsOf).
func Disclosures(ctx context.Context, conn driver.Conn, f Filter) (DisclosureSet, error) {
	flows, err := Flows(ctx, conn, f)
	if err != nil {
		return nil, err
	}
	set := DisclosureSet{}
	for _, fl := range flows {
		set[[2]string{fl.System, strings.ToLower(fl.Recipient)}] = true
	}
	return set, nil
}

// TrafficObservations reads each system's external destinations up to
// asOf, as drift and the Article 30 record hold them against the
// registry. Internal calls are left out: they leave nothing.
func TrafficObservations(ctx context.Context, conn driver.Conn, asOf time.Time) ([]report.Traffic, error) {
	rows, err := Traffic(ctx, conn, TrafficFilter{Filter: Filter{AsOf: asOf}})
	if err != nil {
		return nil, err
	}
	var out []report.Traffic
	for _, r := range rows {
		if r.Class == "internal" {
			continue
		}
		out = append(out, report.Traffic{System: r.System, Host: r.Host, Class: r.Class, Recipient: r.Recipient,
			Country: r.Country, Spans: r.Spans, FirstSeen: r.FirstSeen, LastSeen: r.LastSeen})
	}
	return out, nil
}
