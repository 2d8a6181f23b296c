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

	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/events"
)

// Observation is one group of distinct observed events: the unit of
// evidence, as the catalog's evidence query returns it.
type Observation = query.Observation

// ParseAsOf reads an as-of value: a date (YYYY-MM-DD) means the end of that
// day UTC, so the whole day is included; an RFC 3339 instant is taken as is.
func ParseAsOf(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if d, derr := time.Parse(time.DateOnly, s); derr == nil {
		t, err = d.Add(24*time.Hour-time.Millisecond), nil // events.time has millisecond precision
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("as-of %q is neither a date (2026-11-30) nor an RFC 3339 instant (2026-11-30T12:00:00Z)", s)
	}
	if t.Before(events.MinTime) || t.After(events.MaxTime) {
		return time.Time{}, fmt.Errorf("as-of %q is outside the times the catalog holds, %s to %s", s,
			events.MinTime.Format(time.DateOnly), events.MaxTime.Format(time.DateOnly))
	}
	return t.UTC(), nil
}
