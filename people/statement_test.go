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
