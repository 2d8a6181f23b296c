package registry

import "github.com/back-trace/datamap/events"

// safeguardNames name the Chapter V safeguards a recipient can be under.
var safeguardNames = map[string]string{
	events.SafeguardAdequacy:   "adequacy decision",
	events.SafeguardSCC:        "standard contractual clauses (SCC)",
	events.SafeguardBCR:        "binding corporate rules (BCR)",
	events.SafeguardDPF:        "DPF (certified recipients)",
	events.SafeguardDerogation: "Art. 49 derogation",
}

// TransferStatus says in words where a recipient's country stands and
// what covers the transfer: "EEA: no safeguard needed" or "adequacy
// decision: no safeguard needed" where none is needed, "third country: "
// and the safeguard's name where one is in place, and "third country:
// safeguard missing" where one is needed and none is given. "No safeguard
// needed" and "safeguard missing" share no word a reader could take for
// the other.
func TransferStatus(country, safeguard string) string {
	c, known := events.LookupCountry(country)
	switch {
	case known && c.EEA:
		return "EEA: no safeguard needed"
	case known && c.Adequacy:
		return "adequacy decision: no safeguard needed"
	case safeguard == "" || safeguard == events.SafeguardNone:
		return "third country: safeguard missing"
	}
	if name, ok := safeguardNames[safeguard]; ok {
		return "third country: " + name
	}
	return "third country: " + safeguard
}
