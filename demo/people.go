package demo

import (
	"time"

	"github.com/google/uuid"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/subjectref"
)

// SubjectKey is the demo's subject key. It is public, printed here, so that
// `datamap subject show --customer BT-100231` works on the demo with
// DATAMAP_SUBJECT_KEY set to it; a real organisation generates its own with
// `datamap subject key` and keeps it secret.
const SubjectKey = "ZGF0YW1hcCBkZW1vIHN1YmplY3Qga2V5OyBwdWJsaWM="

// Person is someone the demo's stories are about, by the identifier the
// services know them by. The identifiers are made up; only their
// references are published.
type Person struct {
	Kind       subjectref.Kind
	Identifier string
	Story      string
}

// People are the demo's people, one per story. Each story shows one
// answer of the subject questions, and the stories together make each
// finding about people's rights appear exactly once.
var People = []Person{
	{subjectref.Phone, "+31 6 1234 5671", "replied STOP to marketing SMS; sms-gateway kept sending them (processing_after_withdrawal)"},
	{subjectref.Phone, "+31 6 1234 5672", "replied STOP to marketing SMS; no more were sent"},
	{subjectref.Phone, "+31 6 1234 5673", "replied STOP to marketing SMS; no more were sent"},
	{subjectref.CustomerNumber, "BT-100231", "asked for erasure; billing-api, support-desk and hosting-provisioning erased, Zendesk did not (erasure_incomplete); billing-api later collected the contact again (processing_after_erasure)"},
	{subjectref.CustomerNumber, "BT-100877", "asked for access; answered in 13 days"},
	{subjectref.Phone, "+31 6 1234 5679", "asked for portability 40 days ago; unanswered (request_overdue)"},
}

// PeopleEvents are the events of the people's stories, at fixed times
// before end, with their references computed from SubjectKey.
func PeopleEvents(end time.Time) []*events.Event {
	key, err := subjectref.ParseKey(SubjectKey)
	if err != nil {
		panic("demo: SubjectKey: " + err.Error())
	}
	ref := func(p Person) string {
		r, err := key.Ref(p.Kind, p.Identifier)
		if err != nil {
			panic("demo: " + p.Identifier + ": " + err.Error()) // a fixed list, checked by the tests
		}
		return r
	}
	var out []*events.Event
	at := func(daysBefore int) time.Time {
		return end.Add(-time.Duration(daysBefore) * 24 * time.Hour).Truncate(time.Millisecond)
	}
	add := func(source string, kind events.Kind, when time.Time, d events.Data) {
		d.Count = 1
		out = append(out, &events.Event{ID: uuid.Must(uuid.NewV7()).String(), Source: source, Kind: kind, Time: when, Data: d})
	}
	marketingSMS := func(r string, daysBefore int) {
		rc := smsAggregator
		add("sms-gateway", events.KindShared, at(daysBefore), events.Data{Category: "telephony.sms_metadata", DataSubject: "call_party",
			Purpose: "marketing", LegalBasis: consent, Activity: "product update SMS", Recipient: &rc, SubjectRef: r})
	}
	for i, p := range People[:3] {
		r := ref(p)
		add("website", events.KindConsentGiven, at(80-i), events.Data{DataSubject: "call_party", SubjectRef: r, Purpose: "marketing", Channel: "web_form"})
		marketingSMS(r, 60-i)
		add("sms-gateway", events.KindConsentWithdrawn, at(30-i), events.Data{DataSubject: "call_party", SubjectRef: r, Purpose: "marketing", Channel: "sms_stop"})
		if i == 0 {
			marketingSMS(r, 20)
			marketingSMS(r, 10)
		}
	}

	erasure := ref(People[3])
	customer := func(source, category, purpose, basis, retention string, daysBefore int) {
		add(source, events.KindCollected, at(daysBefore), events.Data{Category: category, DataSubject: "customer", Purpose: purpose,
			LegalBasis: basis, Retention: retention, Origin: fromSubject, Location: "NL", Activity: "customer record", SubjectRef: erasure})
	}
	customer("billing-api", "account.contact", "service_delivery", contract, "P3Y", 70)
	customer("hosting-provisioning", "service.provisioning", "service_delivery", contract, "P3Y", 68)
	customer("support-desk", "support.tickets", "support", legitimateInterests, "P24M", 65)
	tk := ticketing
	add("support-desk", events.KindShared, at(65), events.Data{Category: "support.tickets", DataSubject: "customer", Purpose: "support",
		LegalBasis: legitimateInterests, Activity: "ticket handling", Recipient: &tk, SubjectRef: erasure})
	add(TicketingVendor, events.KindCollected, at(65), events.Data{Category: "support.tickets", DataSubject: "customer", Purpose: "support",
		LegalBasis: legitimateInterests, Retention: "P24M", Origin: fromThirdParty, Location: "US", Activity: "hosted ticketing", SubjectRef: erasure})
	add("support-desk", events.KindRequestReceived, at(45), events.Data{DataSubject: "customer", SubjectRef: erasure, Right: "erasure", Channel: "email"})
	for _, e := range []struct {
		source, category string
		daysBefore       int
	}{{"billing-api", "account.contact", 40}, {"support-desk", "support.tickets", 40}, {"hosting-provisioning", "service.provisioning", 39}} {
		add(e.source, events.KindErased, at(e.daysBefore), events.Data{Category: e.category, DataSubject: "customer", Reason: onSubjectRequest, SubjectRef: erasure})
	}
	add("support-desk", events.KindRequestCompleted, at(38), events.Data{DataSubject: "customer", SubjectRef: erasure, Right: "erasure"})
	customer("billing-api", "account.contact", "service_delivery", contract, "P3Y", 10) // an old import brings the contact back

	access := ref(People[4])
	add("billing-api", events.KindCollected, at(50), events.Data{Category: "account.profile", DataSubject: "customer", Purpose: "service_delivery",
		LegalBasis: contract, Retention: "P3Y", Origin: fromSubject, Location: "NL", Activity: "account management", SubjectRef: access})
	add("support-desk", events.KindRequestReceived, at(25), events.Data{DataSubject: "customer", SubjectRef: access, Right: "access", Channel: "web_form"})
	add("support-desk", events.KindRequestCompleted, at(12), events.Data{DataSubject: "customer", SubjectRef: access, Right: "access"})

	overdue := ref(People[5])
	add("voip-platform", events.KindCollected, at(80), events.Data{Category: "service.provisioning", DataSubject: "end_user", Purpose: "service_delivery",
		LegalBasis: contract, Retention: "P3Y", Origin: fromSubject, Location: "DE", Activity: "number provisioning", SubjectRef: overdue})
	add("support-desk", events.KindRequestReceived, at(40), events.Data{DataSubject: "end_user", SubjectRef: overdue, Right: "portability", Channel: "email"})

	// Policy §10: BackTrace does not knowingly collect children's data; a
	// contact form sent by a child is found (children_data).
	add("website", events.KindCollected, at(5), events.Data{Category: "web.forms", DataSubject: "child", Purpose: "support",
		LegalBasis: legitimateInterests, Retention: "P12M", Origin: fromSubject, Location: "NL", Activity: "sales enquiry"})
	return out
}
