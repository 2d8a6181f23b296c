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
