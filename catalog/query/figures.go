package query

// The figures a row shows, each defined once here and used by every query
// that shows it (docs/catalog.md lists them).

// longestRetention is the retention a row shows: the longest one its
// collections declared, as written (the duration in days decides; the
// catalog stores both). Not the latest: records collected under an
// earlier, longer declaration are still held under it after a service
// shortens its retention, so the longest is what the records of the row
// may be kept for — what the Article 30 record must state as the time
// limit, and what the retention finding judges against, so a shorter
// declaration never raises a false alarm. onlyIf, when not empty,
// restricts it to the rows that match (for a query that also reads
// erasures).
func longestRetention(onlyIf string) string {
	if onlyIf == "" {
		return "argMax(retention, retention_days)"
	}
	return "argMaxIf(retention, retention_days, " + onlyIf + ")"
}

// latestContract is the contract or DPA reference a flow shows: the one its
// latest event named, since a renewed contract replaces the old one.
const latestContract = "argMax(recipient_contract, time)"
