package sdk

import (
	"time"

	"github.com/back-trace/datamap/events"
)

// Collection describes one collection of personal data, for
// Publisher.Collected.
type Collection struct {
	Category         string // taxonomy key, e.g. "billing.payment_token"
	DataSubject      string // taxonomy key, e.g. "customer"
	Purpose          string // taxonomy key, e.g. "payment_processing"
	LegalBasis       string // GDPR Art. 6 basis: events.LegalBasisContract, …
	SpecialCondition string // GDPR Art. 9(2) condition; required for special categories
	Retention        string // ISO 8601 duration, e.g. "P7Y"
	Origin           string // OriginDataSubject, OriginThirdParty or OriginObserved
	Location         string // ISO 3166-1 alpha-2 country where it is stored
	Activity         string // processing activity, e.g. "billing"
	Count            int64  // records; 0 means 1
	// Time is when the data was collected; zero means now.
	Time time.Time
}

// Share describes one disclosure of personal data to a recipient, for
// Publisher.Shared.
type Share struct {
	Category         string
	DataSubject      string
	Purpose          string
	LegalBasis       string
	SpecialCondition string
	Activity         string
	Recipient        events.Recipient
	Count            int64     // records; 0 means 1
	Time             time.Time // when the data was shared; zero means now
}

// Erasure describes one erasure of personal data, for Publisher.Erased.
type Erasure struct {
	Category    string
	DataSubject string
	Reason      string    // events.ReasonRetention, ReasonSubjectRequest or ReasonContractEnd
	Count       int64     // records; 0 means 1
	Time        time.Time // when the data was erased; zero means now
}

func countOrOne(n int64) int64 {
	if n == 0 {
		return 1
	}
	return n
}
