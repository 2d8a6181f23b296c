// Package events is the datamap event contract, what publishers and the
// consumer share: the types (Event, Data, Recipient, Kind), the values
// fixed by law (legal bases, roles, safeguards…) and by standards (ISO
// 3166-1 countries, ISO 8601 durations), the wire encoding and decoding,
// and validation, whose every problem is keyed by field.
//
// An event says that a system collected, shared or erased a category of
// personal data. It carries metadata about the data — category, purpose,
// legal basis, recipient — and never the data itself: validation refuses
// payloads that contain e-mail addresses, phone numbers, card numbers or IP
// addresses.
//
// The wire format is a CloudEvents 1.0 structured-mode JSON document; see
// the JSON Schemas in package schemas and docs/instrumenting.md. Services
// publish with package events/sdk; the keys of categories, purposes and
// data subjects come from a taxonomy (package events/taxonomy).
package events

import (
	"strings"
	"time"
)

// Kind is what happened: to the data (collected, shared, erased), or
// between a person and the organisation (a consent given or withdrawn, a
// data-subject request received, completed or refused).
type Kind string

// The kinds of v1 events.
const (
	KindCollected Kind = "collected"
	KindShared    Kind = "shared"
	KindErased    Kind = "erased"

	// Events about one person's choices and rights; each carries the
	// person's subject reference (docs/subjects.md).
	KindConsentGiven     Kind = "consent_given"
	KindConsentWithdrawn Kind = "consent_withdrawn"
	KindRequestReceived  Kind = "request_received"
	KindRequestCompleted Kind = "request_completed"
	KindRequestRefused   Kind = "request_refused"
)

// AboutData reports whether events of kind k describe personal data
// (collected, shared, erased) — the evidence of the data map — rather than
// one person's choices and requests.
func (k Kind) AboutData() bool { return k == KindCollected || k == KindShared || k == KindErased }

// typePrefix is the reverse-DNS prefix of every datamap event type.
const typePrefix = "com.back-trace.datamap.data."

// Kinds lists every kind, in a stable order.
var Kinds = []Kind{KindCollected, KindShared, KindErased,
	KindConsentGiven, KindConsentWithdrawn, KindRequestReceived, KindRequestCompleted, KindRequestRefused}

// Type is the CloudEvents type attribute of the v1 event of this kind,
// e.g. "com.back-trace.datamap.data.collected.v1".
func (k Kind) Type() string { return typePrefix + string(k) + ".v1" }

// KindOfType maps a CloudEvents type back to its kind.
func KindOfType(ceType string) (Kind, bool) {
	// Compared piecewise: Type() would allocate, and this runs per event.
	rest, ok := strings.CutPrefix(ceType, typePrefix)
	if !ok {
		return "", false
	}
	rest, ok = strings.CutSuffix(rest, ".v1")
	if !ok {
		return "", false
	}
	for _, k := range Kinds {
		if string(k) == rest {
			return k, true
		}
	}
	return "", false
}

// Event is a decoded, validated datamap event.
type Event struct {
	ID          string
	Source      string // the emitting system, e.g. "billing-api"
	Kind        Kind
	Time        time.Time
	DataSchema  string
	TraceParent string // W3C trace context of the caller, if any
	TraceState  string
	// Extensions are the CloudEvents extension attributes the event came
	// with (brokers and relays add them: partitionkey, Knative's, Dapr's),
	// by name. They are checked like free text and kept; nil when none.
	Extensions map[string]string
	Data       Data
	// Credential names what brought the event, never a secret: set by
	// the catalog consumer from the subject the event arrived on
	// ("nats:billing-api", "nats:legacy") or, for events the HTTP ingest
	// relays, from the token's name ("http:billing-team"). It is not part
	// of the wire format; services leave it empty (see
	// sdk.Publisher.PublishEvent).
	Credential string
}

// Identity is the event's identity across the pipeline: JetStream's
// Nats-Msg-Id and the catalog's deduplication key. Two events with the same
// source and id are the same event, however often they are delivered.
func (e *Event) Identity() string { return Identity(e.Source, e.ID) }

// Identity joins a source and an event id into the event's identity.
func Identity(source, id string) string { return source + "/" + id }

// RetentionLength is how long a retention (an ISO 8601 duration, as
// data.retention holds it) keeps data, with average calendar lengths, so
// that retentions written in different units compare: P1Y is longer than
// P11M. It is 0 for no retention, and for one the Validator would refuse.
func RetentionLength(retention string) time.Duration {
	d, err := ParseISODuration(retention)
	if err != nil {
		return 0
	}
	return d.Approx()
}

// Data is the payload of an event. Which fields are allowed depends on the
// kind; see the JSON Schemas in package schemas.
type Data struct {
	Category         string     `json:"category,omitempty"`
	DataSubject      string     `json:"data_subject"`
	Purpose          string     `json:"purpose,omitempty"`
	LegalBasis       string     `json:"legal_basis,omitempty"`
	SpecialCondition string     `json:"special_condition,omitempty"`
	Retention        string     `json:"retention,omitempty"`
	Origin           string     `json:"origin,omitempty"`
	Location         string     `json:"location,omitempty"`
	Activity         string     `json:"activity,omitempty"`
	Recipient        *Recipient `json:"recipient,omitempty"`
	Reason           string     `json:"reason,omitempty"`
	// SubjectRef is the subject reference (sr1:…) of the one person the
	// event is about; never an identifier (package events/subjectref).
	SubjectRef string `json:"subject_ref,omitempty"`
	Right      string `json:"right,omitempty"`   // requests: RightAccess, …
	Channel    string `json:"channel,omitempty"` // consents, requests received: how
	Grounds    string `json:"grounds,omitempty"` // refused requests: why
	Count      int64  `json:"count"`
}

// Recipient is who received shared data.
type Recipient struct {
	Name      string `json:"name"`
	Role      string `json:"role"`
	Country   string `json:"country"`
	Safeguard string `json:"safeguard,omitempty"`
	Contract  string `json:"contract,omitempty"`
}

// Values fixed by law (GDPR), not by the taxonomy.
const (
	LegalBasisConsent             = "consent"
	LegalBasisContract            = "contract"
	LegalBasisLegalObligation     = "legal_obligation"
	LegalBasisVitalInterests      = "vital_interests"
	LegalBasisPublicTask          = "public_task"
	LegalBasisLegitimateInterests = "legitimate_interests"

	RoleProcessor       = "processor"
	RoleSubProcessor    = "sub_processor"
	RoleController      = "controller"
	RoleJointController = "joint_controller"
	RoleAuthority       = "authority"

	SafeguardAdequacy   = "adequacy"
	SafeguardSCC        = "scc"
	SafeguardBCR        = "bcr"
	SafeguardDPF        = "dpf"
	SafeguardDerogation = "derogation"
	SafeguardNone       = "none"

	OriginDataSubject = "data_subject"
	OriginThirdParty  = "third_party"
	OriginObserved    = "observed"

	ReasonRetention      = "retention"
	ReasonSubjectRequest = "subject_request"
	ReasonContractEnd    = "contract_end"

	// The rights of data subjects a request exercises (GDPR Art. 15–21).
	RightAccess        = "access"
	RightRectification = "rectification"
	RightErasure       = "erasure"
	RightRestriction   = "restriction"
	RightObjection     = "objection"
	RightPortability   = "portability"

	// ChannelSMSStop is a STOP reply to an SMS: a withdrawal of consent.
	ChannelSMSStop = "sms_stop"
)

// The allowed values of each fixed field, in documentation order.
var (
	LegalBases = []string{LegalBasisConsent, LegalBasisContract, LegalBasisLegalObligation,
		LegalBasisVitalInterests, LegalBasisPublicTask, LegalBasisLegitimateInterests}
	Roles      = []string{RoleProcessor, RoleSubProcessor, RoleController, RoleJointController, RoleAuthority}
	Safeguards = []string{SafeguardAdequacy, SafeguardSCC, SafeguardBCR, SafeguardDPF, SafeguardDerogation, SafeguardNone}
	Origins    = []string{OriginDataSubject, OriginThirdParty, OriginObserved}
	Reasons    = []string{ReasonRetention, ReasonSubjectRequest, ReasonContractEnd}
	Rights     = []string{RightAccess, RightRectification, RightErasure, RightRestriction, RightObjection, RightPortability}
	// Channels are how a consent was given or withdrawn, or a request
	// arrived.
	Channels = []string{"web_form", "cookie_banner", "email", "unsubscribe_link", "sms", ChannelSMSStop,
		"phone", "in_person", "paper", "app", "support"}
	// Grounds are why a request may be refused: identity not verified
	// (Art. 12(6)), manifestly unfounded or excessive (12(5)), a legal
	// obligation or legal claims (17(3)(b), (e)), another exemption (Art.
	// 23 and national law).
	Grounds = []string{"identity_not_verified", "manifestly_unfounded", "excessive", "legal_obligation",
		"legal_claims", "exemption"}
	// SpecialConditions are the GDPR Art. 9(2)(a)–(j) conditions.
	SpecialConditions = []string{"explicit_consent", "employment", "vital_interests", "nonprofit",
		"made_public", "legal_claims", "substantial_public_interest", "health_care",
		"public_health", "archiving"}
)
