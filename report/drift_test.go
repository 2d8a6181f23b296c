package report_test

import (
	"slices"
	"testing"
	"time"

	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/report"
)

// driftRegistry declares one activity of each shape the drift kinds need.
const driftRegistry = `
version: 1
controller: {name: Example, contact: {name: Privacy}}
activities:
  - id: billing
    name: Billing
    purposes: [invoicing]
    legal_bases: [contract]
    data_subjects: [customer]
    data_categories: [billing]
    systems: [billing-api]
    recipients:
      - {name: Stripe, role: processor, country: US, safeguard: scc}
    retention:
      - {category: billing, period: P7Y}
  - id: wellness
    name: Wellness programme
    purposes: [service_delivery]
    legal_bases: [consent]
    special_condition: explicit_consent
    data_subjects: [employee]
    data_categories: [health]
    systems: [hr]
  - id: support
    name: Support
    purposes: [support]
    legal_bases: [legitimate_interests]
    legitimate_interest: Helping customers.
    data_subjects: [customer]
    data_categories: [support]
    systems: [support-desk]
`

var asOf = time.Date(2026, 11, 30, 23, 59, 59, 0, time.UTC)

func recent(o report.Observation) report.Observation {
	if o.Events == 0 {
		o.Events, o.Records = 1, 1
	}
	o.FirstSeen, o.LastSeen = asOf.Add(-10*24*time.Hour), asOf.Add(-24*time.Hour)
	return o
}

// clean observations: every activity, system and recipient seen, all as declared.
func cleanObservations() []report.Observation {
	return []report.Observation{
		recent(report.Observation{Kind: "collected", System: "billing-api", Category: "billing.invoice", DataSubject: "customer", Purpose: "invoicing", LegalBasis: "contract", Retention: "P7Y", RetentionDays: 2556}),
		recent(report.Observation{Kind: "shared", System: "billing-api", Category: "billing.payment_token", DataSubject: "customer", Purpose: "invoicing", LegalBasis: "contract", Recipient: "Stripe", Role: "processor", Country: "US", Safeguard: "scc"}),
		recent(report.Observation{Kind: "collected", System: "hr", Category: "health", DataSubject: "employee", Purpose: "service_delivery", LegalBasis: "consent", SpecialCondition: "explicit_consent"}),
		recent(report.Observation{Kind: "collected", System: "support-desk", Category: "support.tickets", DataSubject: "customer", Purpose: "support", LegalBasis: "legitimate_interests"}),
	}
}

func driftReg(t *testing.T, yaml string) *registry.Registry {
	t.Helper()
	reg, err := registry.Parse([]byte(yaml), "drift.yaml", taxonomy.Default())
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func kinds(fs []report.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Kind)
	}
	return out
}

func TestCleanObservationsHaveNoDrift(t *testing.T) {
	fs := report.Drift(driftReg(t, driftRegistry), nil, cleanObservations(), asOf, report.DriftOptions{})
	if len(fs) != 0 {
		t.Fatalf("findings on clean observations: %+v", fs)
	}
}

// TestEachDriftKind: for each kind, one change to the clean observations
// (or registry) that triggers it, and a near miss that does not.
func TestEachDriftKind(t *testing.T) {
	cases := []struct {
		kind     string
		severity report.Severity
		trigger  func(obs []report.Observation) []report.Observation
		nearMiss func(obs []report.Observation) []report.Observation
	}{
		{report.KindUndeclaredSystem, report.Medium,
			func(o []report.Observation) []report.Observation {
				return append(o, recent(report.Observation{Kind: "collected", System: "crm", Category: "account.contact", DataSubject: "customer", Purpose: "support", LegalBasis: "contract"}))
			},
			func(o []report.Observation) []report.Observation {
				return append(o, recent(report.Observation{Kind: "collected", System: "support-desk", Category: "support.email", DataSubject: "customer", Purpose: "support", LegalBasis: "legitimate_interests"}))
			}},
		{report.KindUndeclaredPurpose, report.High,
			func(o []report.Observation) []report.Observation {
				return append(o, recent(report.Observation{Kind: "collected", System: "billing-api", Category: "billing.invoice", DataSubject: "customer", Purpose: "marketing", LegalBasis: "consent"}))
			},
			func(o []report.Observation) []report.Observation {
				return append(o, recent(report.Observation{Kind: "collected", System: "billing-api", Category: "billing.contact", DataSubject: "customer", Purpose: "invoicing", LegalBasis: "contract"}))
			}},
		{report.KindUndeclaredCategory, report.Medium,
			func(o []report.Observation) []report.Observation {
				return append(o, recent(report.Observation{Kind: "collected", System: "billing-api", Category: "web.analytics", DataSubject: "customer", Purpose: "invoicing", LegalBasis: "contract"}))
			},
			func(o []report.Observation) []report.Observation {
				return append(o, recent(report.Observation{Kind: "collected", System: "billing-api", Category: "billing.tax_id", DataSubject: "customer", Purpose: "invoicing", LegalBasis: "contract"}))
			}},
		{report.KindUndeclaredDataSubject, report.Medium,
			func(o []report.Observation) []report.Observation {
				return append(o, recent(report.Observation{Kind: "collected", System: "support-desk", Category: "support.tickets", DataSubject: "prospect", Purpose: "support", LegalBasis: "legitimate_interests"}))
			},
			func(o []report.Observation) []report.Observation {
				return append(o, recent(report.Observation{Kind: "collected", System: "support-desk", Category: "support.chat", DataSubject: "customer", Purpose: "support", LegalBasis: "legitimate_interests"}))
			}},
		{report.KindUndeclaredRecipient, report.High,
			func(o []report.Observation) []report.Observation {
				return append(o, recent(report.Observation{Kind: "shared", System: "billing-api", Category: "billing.invoice", DataSubject: "customer", Purpose: "invoicing", LegalBasis: "contract", Recipient: "Intrum", Role: "processor", Country: "SE"}))
			},
			func(o []report.Observation) []report.Observation {
				return append(o, recent(report.Observation{Kind: "shared", System: "billing-api", Category: "billing.invoice", DataSubject: "customer", Purpose: "invoicing", LegalBasis: "contract", Recipient: "Stripe", Role: "processor", Country: "US", Safeguard: "scc"}))
			}},
		{report.KindLegalBasisMismatch, report.High,
			func(o []report.Observation) []report.Observation {
				o[0].LegalBasis = "legitimate_interests"
				return o
			},
			func(o []report.Observation) []report.Observation {
				o[0].LegalBasis = "contract"
				return o
			}},
		{report.KindTransferNoSafeguard, report.High,
			func(o []report.Observation) []report.Observation {
				o[1].Safeguard = "none"
				return o
			},
			func(o []report.Observation) []report.Observation {
				// Inside the EEA no safeguard is needed.
				return append(o, recent(report.Observation{Kind: "shared", System: "billing-api", Category: "billing.invoice", DataSubject: "customer", Purpose: "invoicing", LegalBasis: "contract", Recipient: "Stripe", Role: "processor", Country: "US", Safeguard: "scc"}))
			}},
		{report.KindTransferMismatch, report.Medium,
			func(o []report.Observation) []report.Observation {
				o[1].Safeguard = "dpf"
				return o
			},
			func(o []report.Observation) []report.Observation {
				o[1].Safeguard = "scc"
				return o
			}},
		{report.KindSpecialNoCondition, report.High,
			func(o []report.Observation) []report.Observation {
				o[2].SpecialCondition = "employment"
				return o
			},
			func(o []report.Observation) []report.Observation {
				o[2].SpecialCondition = "explicit_consent"
				return o
			}},
		{report.KindRetentionExceeded, report.Medium,
			func(o []report.Observation) []report.Observation {
				o[0].Retention, o[0].RetentionDays = "P10Y", 3652
				return o
			},
			func(o []report.Observation) []report.Observation {
				o[0].Retention, o[0].RetentionDays = "P84M", 2556 // = P7Y
				return o
			}},
		{report.KindStaleRecord, report.Low,
			func(o []report.Observation) []report.Observation {
				o[3].FirstSeen, o[3].LastSeen = asOf.AddDate(0, 0, -200), asOf.AddDate(0, 0, -91)
				return o
			},
			func(o []report.Observation) []report.Observation {
				o[3].FirstSeen, o[3].LastSeen = asOf.AddDate(0, 0, -200), asOf.AddDate(0, 0, -89)
				return o
			}},
	}
	reg := driftReg(t, driftRegistry)
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			fs := report.Drift(reg, nil, c.trigger(cleanObservations()), asOf, report.DriftOptions{})
			i := slices.IndexFunc(fs, func(f report.Finding) bool { return f.Kind == c.kind })
			if i < 0 {
				t.Fatalf("not triggered; findings: %v", kinds(fs))
			}
			f := fs[i]
			if f.Severity != c.severity || f.Message == "" || f.Action == "" {
				t.Errorf("finding %+v: want severity %s, a message and an action", f, c.severity)
			}
			if c.kind != report.KindStaleRecord && (f.Evidence == nil || f.Evidence.Events == 0) {
				t.Errorf("finding without evidence: %+v", f)
			}
			if fs := report.Drift(reg, nil, c.nearMiss(cleanObservations()), asOf, report.DriftOptions{}); len(fs) != 0 {
				t.Errorf("near miss triggered: %v", kinds(fs))
			}
		})
	}
}

func TestSpecialCategoryWithoutDeclaredCondition(t *testing.T) {
	// The registry refuses a controller activity with a special category
	// and no condition, so the finding comes from undeclared processing.
	obs := append(cleanObservations(), recent(report.Observation{Kind: "collected", System: "support-desk", Category: "biometric", DataSubject: "customer", Purpose: "security", LegalBasis: "legitimate_interests", SpecialCondition: "explicit_consent"}))
	fs := report.Drift(driftReg(t, driftRegistry), nil, obs, asOf, report.DriftOptions{})
	if !slices.Contains(kinds(fs), report.KindSpecialNoCondition) {
		t.Errorf("findings %v lack %s", kinds(fs), report.KindSpecialNoCondition)
	}
}

func TestDriftIsStableAndIgnoresLaterEvidence(t *testing.T) {
	reg := driftReg(t, driftRegistry)
	obs := cleanObservations()
	late := recent(report.Observation{Kind: "collected", System: "crm", Category: "account.contact", DataSubject: "customer", Purpose: "support", LegalBasis: "contract"})
	late.FirstSeen, late.LastSeen = asOf.Add(time.Hour), asOf.Add(2*time.Hour)
	if fs := report.Drift(reg, nil, append(obs, late), asOf, report.DriftOptions{}); len(fs) != 0 {
		t.Errorf("processing after the as-of date produced findings: %v", kinds(fs))
	}
	a := report.Drift(reg, nil, []report.Observation{}, asOf, report.DriftOptions{})
	b := report.Drift(reg, nil, nil, asOf, report.DriftOptions{})
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("stale findings differ: %d vs %d", len(a), len(b))
	}
	for i := range a {
		if a[i].About != b[i].About {
			t.Errorf("order differs at %d", i)
		}
	}
	if report.MaxSeverity(a) != report.Low {
		t.Errorf("max severity %s", report.MaxSeverity(a))
	}
}
