package query

// The figures a row shows, each defined once here and used by every query
// that shows it (docs/catalog.md lists them). They aggregate the rows of a
// selection — rollup rows and raw events alike — so they are sums, minima
// and maxima of what each row carries, and give the same answer however a
// time range is split between rollups and raw events.

// The measures of a row: distinct events, the records they counted, when
// the first and the last of them happened. Measures is all four, in that
// order, as folding (package catalog/rollup) also computes a longer
// period's rollup rows from the next shorter one's.
const (
	sumEvents  = "sum(events)"
	sumRecords = "sum(records)"
	firstSeen  = "min(first_seen)"
	lastSeen   = "max(last_seen)"
	Measures   = sumEvents + ", " + sumRecords + ", " + firstSeen + ", " + lastSeen
)

// longestRetention is the retention a row shows: the longest one its
// collections declared, as written (the duration in days decides; the
// catalog stores both; between two spellings of the same length, such as
// P1Y and P12M, the greater string). Not the latest: records collected
// under an earlier, longer declaration are still held under it after a
// service shortens its retention, so the longest is what the records of the
// row may be kept for — what the Article 30 record must state as the time
// limit, and what the retention finding judges against, so a shorter
// declaration never raises a false alarm. onlyIf, when not empty,
// restricts it to the rows that match (for a query that also reads
// erasures).
func longestRetention(onlyIf string) string {
	if onlyIf == "" {
		return "argMax(retention, (retention_days, retention))"
	}
	return "argMaxIf(retention, (retention_days, retention), " + onlyIf + ")"
}

// latestContract is the contract or DPA reference a flow shows: the one its
// latest event named, since a renewed contract replaces the old one
// (between two named at the same millisecond, the greater string).
const latestContract = "argMax(recipient_contract, (last_seen, recipient_contract))"
