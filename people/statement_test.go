package people

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/schemas"
)

// TestStatementNamesEveryRecipient builds the Art. 15 statement of a
// BackTrace customer: every recipient the profile lists is named with its
// country and transfer, each purpose has its legal basis, each category
// its retention, and the statement carries no reference.
func TestStatementNamesEveryRecipient(t *testing.T) {
	tax := taxonomy.Default()
	reg, err := registry.Parse(schemas.BackTraceRegistry(), "backtrace-registry.yaml", tax)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	const ref = "sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a"
	p := Profile{Ref: ref, DataSubjects: []string{"customer"},
		Holdings: []Holding{
			{System: "billing-api", Category: "billing.invoice", DataSubject: "customer", Purposes: []string{"invoicing"}, Events: 2, FirstSeen: at, LastSeen: at},
			{System: "billing-api", Category: "billing.payment_token", DataSubject: "customer", Purposes: []string{"payment_processing"}, Events: 1, FirstSeen: at, LastSeen: at},
		},
		Disclosures: []Disclosure{
			{From: "billing-api", To: "Stripe", Role: "processor", Country: "US", Category: "billing.payment_token", Purpose: "payment_processing", Events: 1, FirstSeen: at, LastSeen: at},
			{From: "billing-api", To: "Intrum", Role: "processor", Country: "SE", Category: "billing.collections", Purpose: "invoicing", Events: 1, FirstSeen: at, LastSeen: at},
		}}
	st := StatementOf(p, reg, tax, at)
	for _, d := range p.Disclosures {
		i := slices.IndexFunc(st.Recipients, func(r StatementRecipient) bool { return r.Name == d.To })
		if i < 0 {
			t.Errorf("recipient %s of the profile is not named in the statement", d.To)
			continue
		}
		if r := st.Recipients[i]; r.Country != d.Country || r.Transfer == "" || r.Role == "" {
			t.Errorf("recipient %+v lacks its country, role or transfer", r)
		}
		if r := st.Recipients[i]; !slices.ContainsFunc(r.Categories, func(c Named) bool { return c.Key == d.Category && c.Name != c.Key }) {
			t.Errorf("recipient %s: categories %v lack %s by its name", r.Name, r.Categories, d.Category)
		}
		// billing.collections is only disclosed (to Intrum), never held: it
		// is still one of the person's categories, with its retention.
		if !slices.ContainsFunc(st.Categories, func(c Named) bool { return c.Key == d.Category }) ||
			!slices.ContainsFunc(st.Retention, func(r StatementRetention) bool { return r.Key == d.Category }) {
			t.Errorf("category %s disclosed to %s is not among the statement's categories %v or retention", d.Category, d.To, st.Categories)
		}
	}
	want := map[string]string{"Stripe": "third country: standard contractual clauses", "Intrum": "EEA: no safeguard needed"}
	for _, r := range st.Recipients {
		if w, ok := want[r.Name]; ok && r.Transfer != w {
			t.Errorf("%s: transfer %q, want %q", r.Name, r.Transfer, w)
		}
	}
	for _, sp := range st.Purposes {
		if len(sp.LegalBases) == 0 || sp.Name == sp.Key {
			t.Errorf("purpose %+v lacks its name or legal basis", sp)
		}
	}
	for _, r := range st.Retention {
		if strings.HasPrefix(r.Period, "not declared") || strings.HasPrefix(r.Period, "P") {
			t.Errorf("retention of %s = %q; want the declared period in words", r.Key, r.Period)
		}
	}
	if st.Controller.Name != "BackTrace" || st.Controller.Contact == "" || st.Complaint == "" || st.Date != "2026-11-01" {
		t.Errorf("statement header %+v, complaint %q, date %s", st.Controller, st.Complaint, st.Date)
	}
	b, _ := json.Marshal(st)
	if strings.Contains(string(b), ref) {
		t.Error("the statement carries the person's reference")
	}
}

// TestStatementOfOnlyDisclosed: a person whom a system only disclosed
// about — it never reported collecting their data — is told the
// categories, the purpose with its declared legal basis, and the
// recipient's safeguard from the registry.
func TestStatementOfOnlyDisclosed(t *testing.T) {
	tax := taxonomy.Default()
	reg, err := registry.Parse(schemas.BackTraceRegistry(), "backtrace-registry.yaml", tax)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	p := Profile{Ref: "sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a", DataSubjects: []string{"customer"},
		Disclosures: []Disclosure{{From: "billing-api", To: "Stripe", Role: "processor", Country: "US", Category: "billing.payment_token",
			Purpose: "payment_processing", Events: 1, FirstSeen: at, LastSeen: at, Path: []string{"billing-api", "Stripe"}}}}
	st := StatementOf(p, reg, tax, at)
	if len(st.Categories) != 1 || st.Categories[0].Key != "billing.payment_token" {
		t.Errorf("categories %v; want billing.payment_token", st.Categories)
	}
	if len(st.Recipients) != 1 || len(st.Recipients[0].Categories) != 1 || st.Recipients[0].Transfer != "third country: standard contractual clauses" {
		t.Errorf("recipients %+v; want Stripe with billing.payment_token under SCC", st.Recipients)
	}
	if len(st.Purposes) != 1 || len(st.Purposes[0].LegalBases) == 0 {
		t.Errorf("purposes %+v; want payment_processing with its declared legal basis", st.Purposes)
	}
	if len(st.Retention) != 1 || strings.HasPrefix(st.Retention[0].Period, "not declared") {
		t.Errorf("retention %+v; want the declared period", st.Retention)
	}
}

// TestWithChildrenFindings: a child's data in a system whose activities
// declare no children is a finding; a customer's is not; no registry,
// no judgement.
func TestWithChildrenFindings(t *testing.T) {
	tax := taxonomy.Default()
	reg, err := registry.Parse(schemas.BackTraceRegistry(), "backtrace-registry.yaml", tax)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	p := Profile{Holdings: []Holding{
		{System: "website", Category: "web.forms", DataSubject: "child", Events: 2, FirstSeen: at, LastSeen: at.Add(time.Hour)},
		{System: "billing-api", Category: "billing.invoice", DataSubject: "customer", Events: 1, FirstSeen: at, LastSeen: at},
	}, Findings: []Finding{{Kind: FindingRequestOverdue, System: "support-desk", Topic: "access"}}}
	got := WithChildrenFindings(p, reg, tax).Findings
	want := []Finding{{Kind: FindingChildrenData, System: "website", Topic: "child", People: 1, Events: 2, First: at, Last: at.Add(time.Hour)},
		{Kind: FindingRequestOverdue, System: "support-desk", Topic: "access"}}
	if !slices.Equal(got, want) {
		t.Errorf("findings %+v\nwant %+v", got, want)
	}
	if got := WithChildrenFindings(p, nil, tax).Findings; len(got) != 1 {
		t.Errorf("without a registry: %+v", got)
	}
}
