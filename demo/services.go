// Package demo simulates BackTrace, a business telecom and hosting provider,
// instrumented with datamap: its services publish the collected, shared and
// erased events that its privacy policy (seed/backtrace-privacy-policy.txt)
// implies, so that `datamap demo` fills the catalog with a believable data
// map.
//
// The scenario is fixed; Options.Seed only varies the order, times and
// record counts. Every data flow appears at least once when there are enough
// events, so even a small demo shows the whole map.
package demo

import (
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/sdk"
)

// Undeclared lists the behaviours of the simulated services that
// BackTrace's declared registry (schemas/backtrace-registry.yaml) does not
// cover, on purpose, so that `datamap drift` and the Article 30 record have
// something real to find. Each is one flow in the scenario.
var Undeclared = []string{
	"voip-platform sends handset identifiers to Mixpanel (US analytics) for service improvement, with no transfer safeguard",
	"support-desk sends call recordings to Deepgram (US transcription), a recipient the support activity does not declare",
	"voip-platform keeps call detail records 36 months for fraud-model training; the registry declares 6 months",
}

// Service is a simulated system that publishes events.
type Service struct {
	Name        string // the events' source, e.g. "billing-api"
	Description string // what it does, for docs and `datamap demo`
}

// TicketingVendor is both a recipient of support-desk and a service of its
// own: the vendor's system reports what it passes to its sub-processors.
// Its source is spelled exactly like the recipient name, so lineage can
// follow BackTrace → Zendesk → Amazon Web Services without a lookup table.
const TicketingVendor = "Zendesk"

// Services returns the simulated services, in scenario order.
func Services() []Service {
	out := make([]Service, len(scenario))
	for i, s := range scenario {
		out[i] = s.Service
	}
	return out
}

// simulatedService is a Service and the data flows it reports.
type simulatedService struct {
	Service
	flows []flow
}

// flow is one kind of event a service publishes again and again.
type flow struct {
	// weight is the flow's share of all events, in events per thousand.
	weight int
	kind   events.Kind
	data   events.Data // Count is drawn from records
	// records is the range of the record count; batch jobs (invoice runs,
	// CDR exports, retention sweeps) report many records in one event.
	records countRange
}

type countRange struct{ min, max int64 }

var single = countRange{1, 1}

func batch(min, max int64) countRange { return countRange{min, max} }

func collected(weight int, records countRange, c sdk.Collection) flow {
	return flow{weight: weight, kind: events.KindCollected, records: records, data: events.Data{
		Category: c.Category, DataSubject: c.DataSubject, Purpose: c.Purpose, LegalBasis: c.LegalBasis,
		SpecialCondition: c.SpecialCondition, Retention: c.Retention, Origin: c.Origin,
		Location: c.Location, Activity: c.Activity}}
}

func shared(weight int, records countRange, s sdk.Share) flow {
	r := s.Recipient
	return flow{weight: weight, kind: events.KindShared, records: records, data: events.Data{
		Category: s.Category, DataSubject: s.DataSubject, Purpose: s.Purpose, LegalBasis: s.LegalBasis,
		SpecialCondition: s.SpecialCondition, Activity: s.Activity, Recipient: &r}}
}

func erased(weight int, records countRange, e sdk.Erasure) flow {
	return flow{weight: weight, kind: events.KindErased, records: records, data: events.Data{
		Category: e.Category, DataSubject: e.DataSubject, Reason: e.Reason}}
}

// Shorter names for the fixed GDPR values, so the scenario reads as a table.
const (
	consent             = events.LegalBasisConsent
	contract            = events.LegalBasisContract
	legalObligation     = events.LegalBasisLegalObligation
	legitimateInterests = events.LegalBasisLegitimateInterests

	fromSubject    = events.OriginDataSubject
	fromThirdParty = events.OriginThirdParty
	observed       = events.OriginObserved

	onRetention      = events.ReasonRetention
	onSubjectRequest = events.ReasonSubjectRequest
	onContractEnd    = events.ReasonContractEnd
)

// Recipients named in the policy (§5 sharing, §9 transfers). EEA recipients
// carry no safeguard: none is needed inside the EEA.
var (
	stripe          = events.Recipient{Name: "Stripe", Role: events.RoleProcessor, Country: "US", Safeguard: events.SafeguardSCC, Contract: "DPA-STRIPE-2024"}
	taxAuthority    = events.Recipient{Name: "Belastingdienst", Role: events.RoleAuthority, Country: "NL"}
	collectionAgent = events.Recipient{Name: "Intrum", Role: events.RoleProcessor, Country: "SE", Contract: "DPA-INTRUM-2022"}

	euCarrier      = events.Recipient{Name: "Deutsche Telekom", Role: events.RoleController, Country: "DE", Contract: "INTERCONNECT-DTAG-2021"}
	usCarrier      = events.Recipient{Name: "Bandwidth", Role: events.RoleController, Country: "US", Safeguard: events.SafeguardSCC, Contract: "MSA-BANDWIDTH-2023"}
	smsAggregator  = events.Recipient{Name: "Twilio", Role: events.RoleProcessor, Country: "US", Safeguard: events.SafeguardSCC, Contract: "DPA-TWILIO-2023"}
	campaignReg    = events.Recipient{Name: "The Campaign Registry", Role: events.RoleController, Country: "US", Safeguard: events.SafeguardSCC}
	lawEnforcement = events.Recipient{Name: "Law enforcement", Role: events.RoleAuthority, Country: "US", Safeguard: events.SafeguardDerogation}

	ticketing      = events.Recipient{Name: TicketingVendor, Role: events.RoleProcessor, Country: "US", Safeguard: events.SafeguardSCC, Contract: "DPA-ZENDESK-2023"}
	ticketingCloud = events.Recipient{Name: "Amazon Web Services", Role: events.RoleSubProcessor, Country: "US", Safeguard: events.SafeguardDPF, Contract: "AWS-DPA-2023"}
	ticketingCDN   = events.Recipient{Name: "Cloudflare", Role: events.RoleSubProcessor, Country: "US", Safeguard: events.SafeguardDPF, Contract: "CLOUDFLARE-DPA-2023"}
	crm            = events.Recipient{Name: "HubSpot", Role: events.RoleProcessor, Country: "US", Safeguard: events.SafeguardDPF, Contract: "DPA-HUBSPOT-2024"}
	webAnalytics   = events.Recipient{Name: "Google Analytics", Role: events.RoleProcessor, Country: "US", Safeguard: events.SafeguardDPF, Contract: "GOOGLE-ADS-DPA-2024"}

	microsoft365 = events.Recipient{Name: "Microsoft 365", Role: events.RoleProcessor, Country: "IE", Contract: "MS-DPA-2024"}
	cxone        = events.Recipient{Name: "NICE CXone", Role: events.RoleProcessor, Country: "US", Safeguard: events.SafeguardSCC, Contract: "DPA-NICE-2023"}

	// Recipients of the deliberate undeclared behaviours (see Undeclared).
	telemetryVendor = events.Recipient{Name: "Mixpanel", Role: events.RoleProcessor, Country: "US", Safeguard: events.SafeguardNone}
	transcription   = events.Recipient{Name: "Deepgram", Role: events.RoleProcessor, Country: "US", Safeguard: events.SafeguardSCC, Contract: "DPA-DEEPGRAM-2025"}

	amsterdamDC = events.Recipient{Name: "Equinix AM3", Role: events.RoleProcessor, Country: "NL", Contract: "DPA-EQUINIX-2022"}
	frankfurtDC = events.Recipient{Name: "Digital Realty FRA", Role: events.RoleProcessor, Country: "DE", Contract: "DPA-DLR-2023"}
)

// scenario is BackTrace's data map, read from its privacy policy. Weights
// are events per thousand; they add up to roughly two thirds collections,
// 30% disclosures and 5% erasures.
var scenario = []simulatedService{
	{Service{"billing-api", "customer accounts, invoices and payments; payment methods are tokenized by Stripe"}, []flow{
		collected(14, single, sdk.Collection{Category: "account.profile", DataSubject: "customer", Purpose: "service_delivery", LegalBasis: contract, Retention: "P3Y", Origin: fromSubject, Location: "NL", Activity: "account management"}),
		collected(10, single, sdk.Collection{Category: "account.contact", DataSubject: "customer", Purpose: "service_delivery", LegalBasis: contract, Retention: "P3Y", Origin: fromSubject, Location: "NL", Activity: "account management"}),
		collected(8, single, sdk.Collection{Category: "billing.contact", DataSubject: "customer", Purpose: "invoicing", LegalBasis: contract, Retention: "P7Y", Origin: fromSubject, Location: "NL", Activity: "billing"}),
		collected(6, single, sdk.Collection{Category: "billing.address", DataSubject: "customer", Purpose: "invoicing", LegalBasis: contract, Retention: "P7Y", Origin: fromSubject, Location: "NL", Activity: "billing"}),
		collected(4, single, sdk.Collection{Category: "billing.tax_id", DataSubject: "customer", Purpose: "invoicing", LegalBasis: legalObligation, Retention: "P7Y", Origin: fromSubject, Location: "NL", Activity: "billing"}),
		collected(10, single, sdk.Collection{Category: "billing.payment_token", DataSubject: "customer", Purpose: "payment_processing", LegalBasis: contract, Retention: "P7Y", Origin: fromThirdParty, Location: "US", Activity: "billing"}),
		collected(12, batch(40, 400), sdk.Collection{Category: "billing.invoice", DataSubject: "customer", Purpose: "invoicing", LegalBasis: legalObligation, Retention: "P7Y", Origin: observed, Location: "NL", Activity: "monthly invoice run"}),
		collected(14, single, sdk.Collection{Category: "billing.transaction", DataSubject: "customer", Purpose: "payment_processing", LegalBasis: contract, Retention: "P7Y", Origin: observed, Location: "NL", Activity: "billing"}),
		collected(4, single, sdk.Collection{Category: "billing.collections", DataSubject: "customer", Purpose: "invoicing", LegalBasis: legitimateInterests, Retention: "P7Y", Origin: observed, Location: "NL", Activity: "collections"}),
		shared(10, single, sdk.Share{Category: "billing.payment_token", DataSubject: "customer", Purpose: "payment_processing", LegalBasis: contract, Activity: "billing", Recipient: stripe}),
		shared(12, single, sdk.Share{Category: "billing.transaction", DataSubject: "customer", Purpose: "payment_processing", LegalBasis: contract, Activity: "billing", Recipient: stripe}),
		shared(2, batch(200, 1500), sdk.Share{Category: "billing.invoice", DataSubject: "customer", Purpose: "legal_compliance", LegalBasis: legalObligation, Activity: "VAT return", Recipient: taxAuthority}),
		shared(3, single, sdk.Share{Category: "billing.collections", DataSubject: "customer", Purpose: "invoicing", LegalBasis: legitimateInterests, Activity: "collections", Recipient: collectionAgent}),
		erased(3, single, sdk.Erasure{Category: "account.contact", DataSubject: "customer", Reason: onContractEnd}),
		erased(2, single, sdk.Erasure{Category: "billing.payment_token", DataSubject: "customer", Reason: onContractEnd}),
		erased(1, batch(100, 2000), sdk.Erasure{Category: "billing.invoice", DataSubject: "customer", Reason: onRetention}),
	}},
	{Service{"voip-platform", "hosted VoIP: numbers, SIP devices, call routing and call detail records"}, []flow{
		collected(60, batch(20, 500), sdk.Collection{Category: "telephony.call_detail_records", DataSubject: "end_user", Purpose: "call_message_routing", LegalBasis: contract, Retention: "P12M", Origin: observed, Location: "DE", Activity: "call routing"}),
		collected(25, batch(20, 500), sdk.Collection{Category: "telephony.call_detail_records", DataSubject: "call_party", Purpose: "call_message_routing", LegalBasis: legitimateInterests, Retention: "P12M", Origin: observed, Location: "DE", Activity: "call routing"}),
		collected(10, batch(100, 2000), sdk.Collection{Category: "telephony.call_detail_records", DataSubject: "end_user", Purpose: "legal_compliance", LegalBasis: legalObligation, Retention: "P6M", Origin: observed, Location: "DE", Activity: "lawful intercept readiness"}),
		collected(8, batch(10, 200), sdk.Collection{Category: "telephony.call_detail_records", DataSubject: "end_user", Purpose: "fraud_prevention", LegalBasis: legitimateInterests, Retention: "P6M", Origin: observed, Location: "DE", Activity: "toll fraud detection"}),
		collected(10, single, sdk.Collection{Category: "service.provisioning", DataSubject: "end_user", Purpose: "service_delivery", LegalBasis: contract, Retention: "P3Y", Origin: fromSubject, Location: "DE", Activity: "number provisioning"}),
		collected(8, single, sdk.Collection{Category: "device.identifiers", DataSubject: "end_user", Purpose: "network_configuration", LegalBasis: contract, Retention: "P3Y", Origin: observed, Location: "DE", Activity: "SIP device registration"}),
		shared(32, batch(50, 2000), sdk.Share{Category: "telephony.call_detail_records", DataSubject: "call_party", Purpose: "call_message_routing", LegalBasis: contract, Activity: "call termination", Recipient: euCarrier}),
		shared(26, batch(50, 2000), sdk.Share{Category: "telephony.call_detail_records", DataSubject: "call_party", Purpose: "call_message_routing", LegalBasis: contract, Activity: "call termination", Recipient: usCarrier}),
		shared(2, batch(1, 20), sdk.Share{Category: "telephony.call_detail_records", DataSubject: "end_user", Purpose: "legal_compliance", LegalBasis: legalObligation, Activity: "lawful request", Recipient: lawEnforcement}),
		erased(8, batch(500, 5000), sdk.Erasure{Category: "telephony.call_detail_records", DataSubject: "end_user", Reason: onRetention}),
		// Undeclared behaviours (see Undeclared): handset telemetry to a US
		// analytics vendor with no safeguard, and CDRs kept three years
		// to train a fraud model while the record says six months.
		shared(3, batch(1, 50), sdk.Share{Category: "device.identifiers", DataSubject: "end_user", Purpose: "service_improvement", LegalBasis: legitimateInterests, Activity: "handset telemetry", Recipient: telemetryVendor}),
		collected(3, batch(10, 200), sdk.Collection{Category: "telephony.call_detail_records", DataSubject: "end_user", Purpose: "fraud_prevention", LegalBasis: legitimateInterests, Retention: "P36M", Origin: observed, Location: "DE", Activity: "fraud model training"}),
	}},
	{Service{"sms-gateway", "business SMS: delivery through carriers and aggregators, 10DLC registration, STOP/HELP"}, []flow{
		collected(45, batch(10, 300), sdk.Collection{Category: "telephony.sms_metadata", DataSubject: "end_user", Purpose: "call_message_routing", LegalBasis: contract, Retention: "P6M", Origin: observed, Location: "DE", Activity: "SMS delivery"}),
		collected(15, batch(10, 300), sdk.Collection{Category: "telephony.sms_metadata", DataSubject: "call_party", Purpose: "call_message_routing", LegalBasis: legitimateInterests, Retention: "P6M", Origin: observed, Location: "DE", Activity: "SMS delivery"}),
		collected(4, single, sdk.Collection{Category: "telephony.messaging_registration", DataSubject: "customer", Purpose: "messaging_compliance", LegalBasis: legalObligation, Retention: "P24M", Origin: fromSubject, Location: "US", Activity: "10DLC registration"}),
		collected(6, single, sdk.Collection{Category: "account.communication_preferences", DataSubject: "call_party", Purpose: "operational_communications", LegalBasis: legalObligation, Retention: "P24M", Origin: fromSubject, Location: "DE", Activity: "STOP/HELP handling"}),
		shared(28, batch(10, 300), sdk.Share{Category: "telephony.sms_metadata", DataSubject: "call_party", Purpose: "call_message_routing", LegalBasis: contract, Activity: "SMS delivery", Recipient: smsAggregator}),
		shared(12, batch(10, 300), sdk.Share{Category: "telephony.sms_metadata", DataSubject: "call_party", Purpose: "call_message_routing", LegalBasis: contract, Activity: "SMS delivery", Recipient: usCarrier}),
		shared(3, single, sdk.Share{Category: "telephony.messaging_registration", DataSubject: "customer", Purpose: "messaging_compliance", LegalBasis: legalObligation, Activity: "10DLC registration", Recipient: campaignReg}),
		shared(1, batch(1, 20), sdk.Share{Category: "telephony.sms_metadata", DataSubject: "end_user", Purpose: "legal_compliance", LegalBasis: legalObligation, Activity: "lawful request", Recipient: lawEnforcement}),
		erased(6, batch(500, 5000), sdk.Erasure{Category: "telephony.sms_metadata", DataSubject: "end_user", Reason: onRetention}),
	}},
	{Service{"hosting-provisioning", "connectivity and hosting: provisioning, device inventory, network telemetry in the Amsterdam and Frankfurt datacenters"}, []flow{
		collected(10, single, sdk.Collection{Category: "service.provisioning", DataSubject: "customer", Purpose: "service_delivery", LegalBasis: contract, Retention: "P3Y", Origin: fromSubject, Location: "NL", Activity: "circuit provisioning"}),
		collected(14, single, sdk.Collection{Category: "service.configuration", DataSubject: "customer", Purpose: "network_configuration", LegalBasis: contract, Retention: "P3Y", Origin: fromSubject, Location: "NL", Activity: "network configuration"}),
		collected(8, single, sdk.Collection{Category: "device.identifiers", DataSubject: "customer", Purpose: "service_delivery", LegalBasis: contract, Retention: "P3Y", Origin: observed, Location: "NL", Activity: "device inventory"}),
		collected(10, batch(1, 50), sdk.Collection{Category: "device.network_addresses", DataSubject: "end_user", Purpose: "service_delivery", LegalBasis: contract, Retention: "P12M", Origin: observed, Location: "NL", Activity: "IP address management"}),
		collected(32, batch(100, 5000), sdk.Collection{Category: "service.network_telemetry", DataSubject: "customer", Purpose: "security", LegalBasis: legitimateInterests, Retention: "P12M", Origin: observed, Location: "NL", Activity: "network monitoring"}),
		collected(22, batch(100, 5000), sdk.Collection{Category: "service.connection_logs", DataSubject: "end_user", Purpose: "security", LegalBasis: legitimateInterests, Retention: "P12M", Origin: observed, Location: "DE", Activity: "access logging"}),
		collected(14, batch(10, 1000), sdk.Collection{Category: "service.system_logs", DataSubject: "end_user", Purpose: "security", LegalBasis: legitimateInterests, Retention: "P12M", Origin: observed, Location: "DE", Activity: "security monitoring"}),
		collected(10, batch(10, 500), sdk.Collection{Category: "service.usage", DataSubject: "customer", Purpose: "invoicing", LegalBasis: contract, Retention: "P24M", Origin: observed, Location: "NL", Activity: "usage metering"}),
		shared(8, single, sdk.Share{Category: "service.configuration", DataSubject: "customer", Purpose: "service_delivery", LegalBasis: contract, Activity: "colocation", Recipient: amsterdamDC}),
		shared(6, single, sdk.Share{Category: "device.identifiers", DataSubject: "customer", Purpose: "service_delivery", LegalBasis: contract, Activity: "remote hands", Recipient: amsterdamDC}),
		shared(6, single, sdk.Share{Category: "service.configuration", DataSubject: "customer", Purpose: "service_delivery", LegalBasis: contract, Activity: "colocation", Recipient: frankfurtDC}),
		shared(6, batch(100, 5000), sdk.Share{Category: "service.connection_logs", DataSubject: "end_user", Purpose: "security", LegalBasis: legitimateInterests, Activity: "off-site log backup", Recipient: frankfurtDC}),
		erased(6, batch(1000, 20000), sdk.Erasure{Category: "service.network_telemetry", DataSubject: "customer", Reason: onRetention}),
		erased(3, single, sdk.Erasure{Category: "service.configuration", DataSubject: "customer", Reason: onContractEnd}),
	}},
	{Service{"website", "back-trace.com: cookies and pixels, analytics, contact and quote forms"}, []flow{
		collected(45, single, sdk.Collection{Category: "web.cookies", DataSubject: "website_visitor", Purpose: "analytics", LegalBasis: consent, Retention: "P13M", Origin: observed, Location: "NL", Activity: "cookie consent"}),
		collected(35, single, sdk.Collection{Category: "web.analytics", DataSubject: "website_visitor", Purpose: "analytics", LegalBasis: consent, Retention: "P14M", Origin: observed, Location: "NL", Activity: "web analytics"}),
		collected(8, single, sdk.Collection{Category: "web.forms", DataSubject: "prospect", Purpose: "support", LegalBasis: legitimateInterests, Retention: "P12M", Origin: fromSubject, Location: "NL", Activity: "sales enquiry"}),
		collected(4, single, sdk.Collection{Category: "account.communication_preferences", DataSubject: "prospect", Purpose: "marketing", LegalBasis: consent, Retention: "P24M", Origin: fromSubject, Location: "NL", Activity: "newsletter sign-up"}),
		shared(28, batch(50, 2000), sdk.Share{Category: "web.analytics", DataSubject: "website_visitor", Purpose: "analytics", LegalBasis: consent, Activity: "web analytics", Recipient: webAnalytics}),
		shared(12, batch(50, 2000), sdk.Share{Category: "web.cookies", DataSubject: "website_visitor", Purpose: "analytics", LegalBasis: consent, Activity: "web analytics", Recipient: webAnalytics}),
		shared(6, single, sdk.Share{Category: "web.forms", DataSubject: "prospect", Purpose: "support", LegalBasis: legitimateInterests, Activity: "sales enquiry", Recipient: crm}),
		erased(3, batch(1000, 20000), sdk.Erasure{Category: "web.cookies", DataSubject: "website_visitor", Reason: onRetention}),
		erased(1, single, sdk.Erasure{Category: "web.forms", DataSubject: "prospect", Reason: onSubjectRequest}),
	}},
	{Service{"support-desk", "customer support: tickets, e-mail, chat/SMS threads and call recordings, kept in Zendesk"}, []flow{
		collected(25, single, sdk.Collection{Category: "support.tickets", DataSubject: "customer", Purpose: "support", LegalBasis: legitimateInterests, Retention: "P24M", Origin: fromSubject, Location: "NL", Activity: "ticket handling"}),
		collected(10, single, sdk.Collection{Category: "support.tickets", DataSubject: "end_user", Purpose: "support", LegalBasis: legitimateInterests, Retention: "P24M", Origin: fromSubject, Location: "NL", Activity: "ticket handling"}),
		collected(12, single, sdk.Collection{Category: "support.email", DataSubject: "customer", Purpose: "support", LegalBasis: legitimateInterests, Retention: "P24M", Origin: fromSubject, Location: "NL", Activity: "support e-mail"}),
		collected(8, single, sdk.Collection{Category: "support.chat", DataSubject: "end_user", Purpose: "support", LegalBasis: legitimateInterests, Retention: "P12M", Origin: fromSubject, Location: "NL", Activity: "support chat"}),
		collected(5, single, sdk.Collection{Category: "support.call_recordings", DataSubject: "end_user", Purpose: "support", LegalBasis: consent, Retention: "P12M", Origin: fromSubject, Location: "NL", Activity: "recorded support call"}),
		collected(4, single, sdk.Collection{Category: "support.feedback", DataSubject: "customer", Purpose: "service_improvement", LegalBasis: consent, Retention: "P24M", Origin: fromSubject, Location: "NL", Activity: "satisfaction survey"}),
		shared(18, single, sdk.Share{Category: "support.tickets", DataSubject: "customer", Purpose: "support", LegalBasis: legitimateInterests, Activity: "ticket handling", Recipient: ticketing}),
		shared(7, single, sdk.Share{Category: "support.email", DataSubject: "customer", Purpose: "support", LegalBasis: legitimateInterests, Activity: "support e-mail", Recipient: ticketing}),
		shared(5, single, sdk.Share{Category: "support.chat", DataSubject: "end_user", Purpose: "support", LegalBasis: legitimateInterests, Activity: "support chat", Recipient: ticketing}),
		// Undeclared behaviour (see Undeclared): recordings sent to a
		// transcription vendor the registry does not list.
		shared(2, single, sdk.Share{Category: "support.call_recordings", DataSubject: "end_user", Purpose: "support", LegalBasis: legitimateInterests, Activity: "call transcription", Recipient: transcription}),
		erased(2, single, sdk.Erasure{Category: "support.tickets", DataSubject: "customer", Reason: onSubjectRequest}),
		erased(2, batch(100, 2000), sdk.Erasure{Category: "support.tickets", DataSubject: "customer", Reason: onRetention}),
		erased(1, batch(10, 200), sdk.Erasure{Category: "support.call_recordings", DataSubject: "end_user", Reason: onRetention}),
	}},
	// The ticketing vendor's own system, reporting as BackTrace's processor:
	// purpose and legal basis stay BackTrace's, the recipients are its
	// sub-processors. This makes a three-hop lineage:
	// support-desk → Zendesk → Amazon Web Services.
	{Service{TicketingVendor, "the ticketing vendor's platform, processing BackTrace's support data and passing it to its sub-processors"}, []flow{
		collected(10, single, sdk.Collection{Category: "support.tickets", DataSubject: "customer", Purpose: "support", LegalBasis: legitimateInterests, Retention: "P24M", Origin: fromThirdParty, Location: "US", Activity: "hosted ticketing"}),
		shared(12, batch(1, 50), sdk.Share{Category: "support.tickets", DataSubject: "customer", Purpose: "support", LegalBasis: legitimateInterests, Activity: "hosted ticketing", Recipient: ticketingCloud}),
		shared(5, batch(1, 50), sdk.Share{Category: "support.email", DataSubject: "customer", Purpose: "support", LegalBasis: legitimateInterests, Activity: "hosted ticketing", Recipient: ticketingCloud}),
		shared(3, single, sdk.Share{Category: "support.chat", DataSubject: "end_user", Purpose: "support", LegalBasis: legitimateInterests, Activity: "chat widget delivery", Recipient: ticketingCDN}),
		erased(1, batch(100, 2000), sdk.Erasure{Category: "support.tickets", DataSubject: "customer", Reason: onRetention}),
	}},
	{Service{"integrations", "customer-directed Microsoft 365 and NICE CXone connectors (presence, directory, contact-centre interactions)"}, []flow{
		collected(14, batch(10, 200), sdk.Collection{Category: "integrations.microsoft365", DataSubject: "end_user", Purpose: "customer_integration", LegalBasis: contract, Retention: "P90D", Origin: fromThirdParty, Location: "NL", Activity: "directory and presence sync"}),
		collected(10, batch(10, 200), sdk.Collection{Category: "integrations.cxone", DataSubject: "end_user", Purpose: "customer_integration", LegalBasis: contract, Retention: "P90D", Origin: fromThirdParty, Location: "NL", Activity: "contact-centre interaction sync"}),
		shared(12, batch(10, 200), sdk.Share{Category: "integrations.microsoft365", DataSubject: "end_user", Purpose: "customer_integration", LegalBasis: contract, Activity: "presence and call sync", Recipient: microsoft365}),
		shared(8, batch(10, 200), sdk.Share{Category: "integrations.cxone", DataSubject: "end_user", Purpose: "customer_integration", LegalBasis: contract, Activity: "contact-centre interaction sync", Recipient: cxone}),
		erased(2, batch(10, 500), sdk.Erasure{Category: "integrations.microsoft365", DataSubject: "end_user", Reason: onContractEnd}),
		erased(1, batch(10, 500), sdk.Erasure{Category: "integrations.cxone", DataSubject: "end_user", Reason: onContractEnd}),
	}},
}
