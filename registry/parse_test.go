package registry_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/schemas"
)

const valid = `version: 1
controller:
  name: Example
  contact: {name: Privacy}
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
      - {category: billing.invoice, period: P7Y}
`

func TestValidRegistry(t *testing.T) {
	r, err := registry.Parse([]byte(valid), "datamap.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	a := r.Activities[0]
	if !a.CoversCategory("billing.invoice") || a.CoversCategory("billingx") {
		t.Error("CoversCategory")
	}
	if rt, ok := a.RetentionFor("billing.invoice"); !ok || rt.Period != "P7Y" {
		t.Errorf("RetentionFor = %v, %v", rt, ok)
	}
}

// TestBadRegistries: each broken file gives an error naming file, line and
// field, and saying what is wrong.
func TestBadRegistries(t *testing.T) {
	cases := []struct {
		name, old, new string
		line           int
		field, msg     string
	}{
		{"unknown key", "    systems: [billing-api]\n", "    systems: [billing-api]\n    retenion: P7Y\n", 13, "activities[0].retenion", `did you mean "retention"`},
		{"unknown top-level key", "version: 1\n", "version: 1\ncontroler: {}\n", 2, "controler", "unknown field"},
		{"wrong type", "purposes: [invoicing]", "purposes: invoicing", 8, "activities[0].purposes", "must be array, not string"},
		{"wrong type of number", "version: 1", `version: "1"`, 1, "version", "must be 1"},
		{"bad enum", "safeguard: scc", "safeguard: sccs", 14, "activities[0].recipients[0].safeguard", `"sccs" is not allowed; use one of adequacy`},
		{"unknown purpose", "purposes: [invoicing]", "purposes: [invoicing, world_domination]", 8, "activities[0].purposes[1]", `"world_domination" is not a purpose of the taxonomy`},
		{"unknown category", "data_categories: [billing]", "data_categories: [billing, billing.cvv]", 11, "activities[0].data_categories[1]", "not a data category"},
		{"host with a scheme", "safeguard: scc}", "safeguard: scc, hosts: [\"https://api.stripe.com\"]}", 14, "activities[0].recipients[0].hosts[0]", "without scheme, port or path"},
		{"host wildcard in the middle", "safeguard: scc}", "safeguard: scc, hosts: [\"api.*.stripe.com\"]}", 14, "activities[0].recipients[0].hosts[0]", "only a leading *."},
		{"unknown data subject", "data_subjects: [customer]", "data_subjects: [martian]", 10, "activities[0].data_subjects[0]", "data subject category"},
		{"duplicate activity id", "    retention:\n      - {category: billing.invoice, period: P7Y}\n",
			"    retention:\n      - {category: billing.invoice, period: P7Y}\n  - id: billing\n    name: Again\n    purposes: [invoicing]\n    legal_bases: [contract]\n    data_subjects: [customer]\n    data_categories: [billing]\n    systems: [x]\n",
			17, "activities[1].id", `"billing" is used twice (first on line 6)`},
		{"duplicate key", "    name: Billing\n", "    name: Billing\n    name: Billing 2\n", 8, "activities[0].name", "set twice (first on line 7)"},
		{"missing required", "    systems: [billing-api]\n", "", 6, "activities[0].systems", "missing"},
		{"bad country", "country: US", "country: USA", 14, "activities[0].recipients[0].country", "not a country code"},
		{"unknown country", "country: US", "country: XX", 14, "activities[0].recipients[0].country", "not an ISO 3166-1"},
		{"third country without safeguard", "country: US, safeguard: scc", "country: US", 14, "activities[0].recipients[0].safeguard", "outside the EEA"},
		{"bad duration", "period: P7Y", "period: P7X", 16, "activities[0].retention[0].period", "not an ISO 8601 duration"},
		{"legitimate interest unexplained", "legal_bases: [contract]", "legal_bases: [legitimate_interests]", 9, "activities[0].legitimate_interest", "which interest"},
		{"special without condition", "data_categories: [billing]", "data_categories: [billing, health]", 11, "activities[0].data_categories[1]", "special category"},
		{"dpia progress not a stage", "    systems: [billing-api]\n", "    systems: [billing-api]\n    dpia_required: true\n    dpia_progress: halfway\n", 14, "activities[0].dpia_progress", `"halfway" is not allowed; use one of not_started, in_progress, completed`},
		{"dpia required not a boolean", "    systems: [billing-api]\n", "    systems: [billing-api]\n    dpia_required: maybe\n", 13, "activities[0].dpia_required", "must be boolean, not string"},
		{"dpia progress without a dpia", "    systems: [billing-api]\n", "    systems: [billing-api]\n    dpia_required: false\n    dpia_progress: in_progress\n", 14, "activities[0].dpia_progress", "dpia_required is false"},
		{"breach record without a breach", "    systems: [billing-api]\n", "    systems: [billing-api]\n    breach_record: https://wiki.example/INC-1\n", 13, "activities[0].breach_record", "breach_occurred is not true"},
		{"consent record without consent", "    systems: [billing-api]\n", "    systems: [billing-api]\n    consent_record: https://crm.example/consents\n", 13, "activities[0].consent_record", "rests on no consent"},
		{"typo of a new field", "    systems: [billing-api]\n", "    systems: [billing-api]\n    breach_ocurred: false\n", 13, "activities[0].breach_ocurred", `did you mean "breach_occurred"`},
		{"yaml syntax", "    name: Billing\n", "    name: [Billing\n", 0, "", "invalid YAML"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := strings.Replace(valid, c.old, c.new, 1)
			if doc == valid {
				t.Fatalf("case does not change the document")
			}
			_, err := registry.Parse([]byte(doc), "datamap.yaml", taxonomy.Default())
			if err == nil {
				t.Fatalf("no error for\n%s", doc)
			}
			var re *registry.Error
			if !errors.As(err, &re) {
				t.Fatalf("error %T is not a *registry.Error: %v", err, err)
			}
			found := false
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				r := e.(*registry.Error)
				if r.File == "datamap.yaml" && (c.line == 0 || r.Line == c.line) && r.Field == c.field && strings.Contains(r.Msg, c.msg) {
					found = true
				}
			}
			if !found {
				t.Errorf("want datamap.yaml:%d: %s: …%s…; got\n%v", c.line, c.field, c.msg, err)
			}
		})
	}
}

// TestICOColumnsFields: the fields behind the ICO template's DPIA, consent
// and breach columns parse from a registry that declares them.
func TestICOColumnsFields(t *testing.T) {
	doc := strings.Replace(valid, "legal_bases: [contract]", "legal_bases: [contract, consent]", 1) +
		"    dpia_required: true\n    dpia_progress: in_progress\n    dpia: https://wiki.example/dpia/billing\n" +
		"    consent_record: https://crm.example/consents\n    breach_occurred: true\n    breach_record: INC-2026-3\n"
	r, err := registry.Parse([]byte(doc), "datamap.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	a := r.Activities[0]
	if a.DPIARequired == nil || !*a.DPIARequired || a.DPIAProgress != registry.DPIAInProgress || a.DPIA != "https://wiki.example/dpia/billing" ||
		a.ConsentRecord != "https://crm.example/consents" || a.BreachOccurred == nil || !*a.BreachOccurred || a.BreachRecord != "INC-2026-3" {
		t.Errorf("parsed %+v", a)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(valid))
	f.Add(schemas.BackTraceRegistry())
	f.Add([]byte("version: 1\nactivities: &a [*a]\n"))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := registry.Parse(data, "fuzz.yaml", nil)
		if err != nil {
			var re *registry.Error
			if !errors.As(err, &re) {
				t.Fatalf("error is not a *registry.Error: %v", err)
			}
			return
		}
		if len(r.AllActivities()) == 0 {
			t.Fatal("a valid registry without activities")
		}
	})
}
