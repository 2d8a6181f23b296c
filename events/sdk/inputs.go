package sdk

import (
	"time"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/subjectref"
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
	// SubjectRef is the subject reference of the one person the event is
	// about (SubjectRef computes it), or "" for data about no one in
	// particular; with it, Count must be 0 or 1.
	SubjectRef string
	Count      int64 // records; 0 means 1
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
	SubjectRef       string    // see Collection.SubjectRef
	Count            int64     // records; 0 means 1
	Time             time.Time // when the data was shared; zero means now
}

// Erasure describes one erasure of personal data, for Publisher.Erased.
type Erasure struct {
	Category    string
	DataSubject string
	Reason      string // events.ReasonRetention, ReasonSubjectRequest or ReasonContractEnd
	// SubjectRef, with ReasonSubjectRequest, makes the event this system's
	// evidence of carrying out the person's erasure request.
	SubjectRef string
	Count      int64     // records; 0 means 1
	Time       time.Time // when the data was erased; zero means now
}

func countOrOne(n int64) int64 {
	if n == 0 {
		return 1
	}
	return n
}

// Consent is a person's consent to a purpose, given or withdrawn, for
// Publisher.ConsentGiven and Publisher.ConsentWithdrawn.
type Consent struct {
	SubjectRef  string // the person's subject reference (SubjectRef)
	DataSubject string // taxonomy key, e.g. "customer"
	Purpose     string // taxonomy key, e.g. "marketing"
	Channel     string // how: one of events.Channels, e.g. events.ChannelSMSStop
	Time        time.Time
}

// Request is a data-subject request, for Publisher.RequestReceived,
// RequestCompleted and RequestRefused.
type Request struct {
	SubjectRef  string // the person's subject reference (SubjectRef)
	DataSubject string // taxonomy key, e.g. "customer"
	Right       string // one of events.Rights, e.g. events.RightErasure
	Channel     string // received only: how it arrived, one of events.Channels
	Grounds     string // refused only: one of events.Grounds
	Time        time.Time
}

// SubjectRef computes the subject reference of a person from an
// identifier of theirs — an e-mail address, a phone number with its
// country code, a customer number — with the organisation's subject key
// (subjectref.ParseKey of DATAMAP_SUBJECT_KEY). Every service computes the
// same reference for the same person; the identifier never leaves the
// service. Errors never repeat the identifier.
func SubjectRef(key subjectref.Key, kind subjectref.Kind, identifier string) (string, error) {
	return key.Ref(kind, identifier)
}
