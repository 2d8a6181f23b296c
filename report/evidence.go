// Package report builds the GDPR Article 30 record of processing activities
// from a declared registry (package registry) and the processing observed in
// the catalog, finds where the two disagree (drift), and renders the record
// as JSON, CSV, Markdown, HTML and XLSX.
//
// The record and the drift findings are pure functions of (registry,
// observations, as-of); the observations come from the catalog's evidence
// query (query.Observations), which aggregates in ClickHouse, so a report
// over millions of events reads a few thousand rows.
package report

import (
	"fmt"
	"time"
)

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
