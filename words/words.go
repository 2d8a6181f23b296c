// Package words is what datamap shows people for the keys it stores: the
// taxonomy's names of categories, purposes and data subjects, and plain
// words for the values the GDPR fixes (legal bases, Art. 9 conditions,
// recipient roles, transfer safeguards), for countries' transfer status,
// ISO 8601 durations and dates.
//
// Keys stay what machines read — JSON, CSV, the API, the event contract;
// the words are for pages, tables, records and findings a person reads.
// Every surface takes its words from here, so the web, the record and the
// CLI say the same thing.
package words

import (
	"strconv"
	"time"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
)

// Names gives the taxonomy's names of its keys. A key the taxonomy does
// not know, or names without a name, is shown as it is: a reader then
// sees exactly what a service reported.
type Names struct{ tax *taxonomy.Taxonomy }

// Of returns the names of tax's keys; nil means the default taxonomy.
func Of(tax *taxonomy.Taxonomy) Names {
	if tax == nil {
		tax = taxonomy.Default()
	}
	return Names{tax: tax}
}

// Category names a personal-data category, e.g. "Payment method token".
func (n Names) Category(key string) string {
	if c, ok := n.tax.Category(key); ok && c.Name != "" {
		return c.Name
	}
	return key
}

// Purpose names a purpose.
func (n Names) Purpose(key string) string {
	if p, ok := n.tax.Purpose(key); ok && p.Name != "" {
		return p.Name
	}
	return key
}

// DataSubject names a data-subject category.
func (n Names) DataSubject(key string) string {
	if d, ok := n.tax.DataSubject(key); ok && d.Name != "" {
		return d.Name
	}
	return key
}

// law is a value the GDPR fixes: its name and the article that defines it.
type law struct{ name, article string }

var legalBases = map[string]law{
	events.LegalBasisConsent:             {"Consent", "Art. 6(1)(a)"},
	events.LegalBasisContract:            {"Contract", "Art. 6(1)(b)"},
	events.LegalBasisLegalObligation:     {"Legal obligation", "Art. 6(1)(c)"},
	events.LegalBasisVitalInterests:      {"Vital interests", "Art. 6(1)(d)"},
	events.LegalBasisPublicTask:          {"Public task", "Art. 6(1)(e)"},
	events.LegalBasisLegitimateInterests: {"Legitimate interests", "Art. 6(1)(f)"},
}

var specialConditions = map[string]law{
	"explicit_consent":            {"Explicit consent", "Art. 9(2)(a)"},
	"employment":                  {"Employment and social security law", "Art. 9(2)(b)"},
	"vital_interests":             {"Vital interests", "Art. 9(2)(c)"},
	"nonprofit":                   {"Not-for-profit body", "Art. 9(2)(d)"},
	"made_public":                 {"Made public by the data subject", "Art. 9(2)(e)"},
	"legal_claims":                {"Legal claims", "Art. 9(2)(f)"},
	"substantial_public_interest": {"Substantial public interest", "Art. 9(2)(g)"},
	"health_care":                 {"Health or social care", "Art. 9(2)(h)"},
	"public_health":               {"Public health", "Art. 9(2)(i)"},
	"archiving":                   {"Archiving, research or statistics", "Art. 9(2)(j)"},
}

// LegalBasis names an Art. 6(1) lawful basis, e.g. "Legitimate interests".
func LegalBasis(key string) string { return lookup(legalBases, key).name }

// LegalBasisCited names a lawful basis with its article, as a record
// prints it: "Legitimate interests (Art. 6(1)(f))".
func LegalBasisCited(key string) string { return cited(lookup(legalBases, key)) }

// SpecialCondition names an Art. 9(2) condition with its article:
// "Explicit consent (Art. 9(2)(a))".
func SpecialCondition(key string) string { return cited(lookup(specialConditions, key)) }

func lookup(m map[string]law, key string) law {
	if l, ok := m[key]; ok {
		return l
	}
	return law{name: key}
}

func cited(l law) string {
	if l.article == "" {
		return l.name
	}
	return l.name + " (" + l.article + ")"
}

var roles = map[string]string{
	events.RoleProcessor:       "Processor",
	events.RoleSubProcessor:    "Sub-processor",
	events.RoleController:      "Controller",
	events.RoleJointController: "Joint controller",
	events.RoleAuthority:       "Public authority",
}

// Role names a recipient's role, e.g. "Sub-processor".
func Role(key string) string { return or(roles, key) }

// safeguards name the Chapter V safeguards. "none" is not among them: a
// transfer without one is either fine (EEA, adequacy) or missing one, and
// only the country tells which (SafeguardIn).
var safeguards = map[string]string{
	events.SafeguardAdequacy:   "Adequacy decision",
	events.SafeguardSCC:        "Standard contractual clauses",
	events.SafeguardBCR:        "Binding corporate rules",
	events.SafeguardDPF:        "DPF (certified recipients)",
	events.SafeguardDerogation: "Art. 49 derogation",
}

// The two answers for a transfer without a safeguard. They share no word
// a reader could take for the other.
const (
	NoSafeguardNeeded = "no safeguard needed"
	SafeguardMissing  = "safeguard missing"
)

// Safeguard names a transfer safeguard, e.g. "Standard contractual
// clauses". "none" and "" name no safeguard and give ""; use SafeguardIn
// to say whether one was needed.
func Safeguard(key string) string {
	if key == events.SafeguardNone {
		return ""
	}
	return or(safeguards, key)
}

// SafeguardIn says what covers a transfer to country: the safeguard's
// name, or, where none is given, NoSafeguardNeeded (EEA, adequacy
// decision) or SafeguardMissing.
func SafeguardIn(country, safeguard string) string {
	if s := Safeguard(safeguard); s != "" {
		return s
	}
	if c, ok := events.LookupCountry(country); ok && !c.SafeguardRequired() {
		return NoSafeguardNeeded
	}
	return SafeguardMissing
}

// The transfer status of a country, as keys (the glossary's) and words.
const (
	StatusEEA          = "eea"
	StatusAdequacy     = "adequacy"
	StatusDPF          = "dpf"
	StatusThirdCountry = "third_country"
	StatusUnknown      = "unknown"
)

// Statuses are the transfer statuses, in order of need.
var Statuses = []string{StatusEEA, StatusAdequacy, StatusDPF, StatusThirdCountry, StatusUnknown}

var statuses = map[string]string{
	StatusEEA:      "EEA",
	StatusAdequacy: "adequacy decision",
	// The EU–US Data Privacy Framework adequacy decision covers only the
	// recipients certified under it; the catalog cannot tell which are,
	// so a country status never claims it.
	StatusDPF:          "DPF (certified recipients only)",
	StatusThirdCountry: "third country",
	StatusUnknown:      "unknown country",
}

// dpfCountry is the country the Data Privacy Framework is for.
const dpfCountry = "US"

// CountryStatus is where a country stands for transfers out of the EEA:
// one of Statuses.
func CountryStatus(code string) string {
	c, ok := events.LookupCountry(code)
	switch {
	case !ok:
		return StatusUnknown
	case c.EEA:
		return StatusEEA
	case c.Adequacy:
		return StatusAdequacy
	case code == dpfCountry:
		return StatusDPF
	}
	return StatusThirdCountry
}

// Status says a status key in words: "EEA", "adequacy decision",
// "DPF (certified recipients only)", "third country".
func Status(key string) string { return or(statuses, key) }

// Adequacy says in words where a country stands: Status(CountryStatus(code)).
func Adequacy(code string) string { return Status(CountryStatus(code)) }

// Transfer says in words where a recipient's country stands and what
// covers the transfer: "EEA: no safeguard needed", "adequacy decision: no
// safeguard needed", "third country: standard contractual clauses",
// "third country: safeguard missing". A US recipient under the DPF is
// "DPF (certified recipients)", the safeguard its events declare.
func Transfer(country, safeguard string) string {
	status := CountryStatus(country)
	switch status {
	case StatusEEA, StatusAdequacy:
		return Status(status) + ": " + NoSafeguardNeeded
	case StatusDPF:
		if safeguard == events.SafeguardDPF {
			return Safeguard(safeguard)
		}
		status = StatusThirdCountry
	}
	return Status(status) + ": " + lowerFirst(SafeguardIn(country, safeguard))
}

// lowerFirst puts a name that starts a table cell ("Standard contractual
// clauses") inside a phrase; an abbreviation ("DPF") stays as it is.
func lowerFirst(s string) string {
	if len(s) > 1 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'a' && s[1] <= 'z' {
		return string(s[0]+'a'-'A') + s[1:]
	}
	return s
}

var kinds = map[string]string{
	string(events.KindCollected):        "collected",
	string(events.KindShared):           "shared",
	string(events.KindErased):           "erased",
	string(events.KindConsentGiven):     "consent given",
	string(events.KindConsentWithdrawn): "consent withdrawn",
	string(events.KindRequestReceived):  "request received",
	string(events.KindRequestCompleted): "request completed",
	string(events.KindRequestRefused):   "request refused",
}

// Kind says what an event kind records, e.g. "shared".
func Kind(key string) string { return or(kinds, key) }

var origins = map[string]string{
	events.OriginDataSubject: "from the person",
	events.OriginThirdParty:  "from a third party",
	events.OriginObserved:    "observed",
}

// Origin says where data came from.
func Origin(key string) string { return or(origins, key) }

// Date is an instant to the day, as people read dates in a record:
// "2026-12-07" (UTC); "" for the zero time.
func Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

func or(m map[string]string, key string) string {
	if w, ok := m[key]; ok {
		return w
	}
	return key
}

// Count counts things in words: "1 event", "2 events", "12,345 events" —
// never "1 events".
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return Number(uint64(max(n, 0))) + " " + many
}

// Number writes n with a comma between each group of three digits: 8,941.
func Number(n uint64) string {
	s := strconv.FormatUint(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
