package words_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/words"
)

// TestEveryFixedValueHasWords: each legal basis, Art. 9 condition, role,
// safeguard, event kind and country status the contract allows is said in
// words that are not its key.
func TestEveryFixedValueHasWords(t *testing.T) {
	check := func(what, key, got string) {
		t.Helper()
		if got == "" || strings.Contains(got, "_") || (got == key && strings.ContainsAny(key, "_.")) {
			t.Errorf("%s %q: words %q", what, key, got)
		}
	}
	for _, k := range events.LegalBases {
		check("legal basis", k, words.LegalBasis(k))
		if c := words.LegalBasisCited(k); !strings.HasPrefix(c, words.LegalBasis(k)+" (Art. 6(1)(") {
			t.Errorf("legal basis %q cited as %q", k, c)
		}
	}
	for _, k := range events.SpecialConditions {
		check("special condition", k, words.SpecialCondition(k))
	}
	for _, k := range events.Roles {
		check("role", k, words.Role(k))
	}
	for _, k := range events.Safeguards {
		if k == events.SafeguardNone {
			continue
		}
		check("safeguard", k, words.Safeguard(k))
	}
	for _, k := range events.Kinds {
		check("kind", string(k), words.Kind(string(k)))
	}
	for _, k := range events.Origins {
		check("origin", k, words.Origin(k))
	}
	for _, k := range words.Statuses {
		check("country status", k, words.Status(k))
	}
	if words.Role("sub_processor") != "Sub-processor" {
		t.Errorf("sub_processor is %q", words.Role("sub_processor"))
	}
	if words.Safeguard(events.SafeguardSCC) != "Standard contractual clauses" {
		t.Errorf("scc is %q", words.Safeguard(events.SafeguardSCC))
	}
	if got := words.LegalBasisCited("not_a_basis"); got != "not_a_basis" {
		t.Errorf("an unknown basis is shown as %q, want its key", got)
	}
}

// TestTransferWords: adequacy is said as EEA, adequacy decision, DPF or
// third country, and "no safeguard needed" and "safeguard missing" never
// share a word.
func TestTransferWords(t *testing.T) {
	for _, c := range []struct{ country, status, safeguard, in, transfer string }{
		{"SE", "EEA", "none", words.NoSafeguardNeeded, "EEA: no safeguard needed"},
		{"DE", "EEA", "", words.NoSafeguardNeeded, "EEA: no safeguard needed"},
		{"CH", "adequacy decision", "none", words.NoSafeguardNeeded, "adequacy decision: no safeguard needed"},
		{"US", "DPF (certified recipients only)", "none", words.SafeguardMissing, "third country: safeguard missing"},
		{"US", "DPF (certified recipients only)", "dpf", "DPF (certified recipients)", "DPF (certified recipients)"},
		{"US", "DPF (certified recipients only)", "scc", "Standard contractual clauses", "third country: standard contractual clauses"},
		{"IN", "third country", "", words.SafeguardMissing, "third country: safeguard missing"},
		{"IN", "third country", "bcr", "Binding corporate rules", "third country: binding corporate rules"},
		{"XX", "unknown country", "", words.SafeguardMissing, "unknown country: safeguard missing"},
	} {
		if got := words.Adequacy(c.country); got != c.status {
			t.Errorf("Adequacy(%s) = %q, want %q", c.country, got, c.status)
		}
		if got := words.SafeguardIn(c.country, c.safeguard); got != c.in {
			t.Errorf("SafeguardIn(%s, %q) = %q, want %q", c.country, c.safeguard, got, c.in)
		}
		if got := words.Transfer(c.country, c.safeguard); got != c.transfer {
			t.Errorf("Transfer(%s, %q) = %q, want %q", c.country, c.safeguard, got, c.transfer)
		}
	}
	// Apart from the thing they are about, the two answers share no word:
	// "none" once said both.
	need := strings.Fields(words.NoSafeguardNeeded)
	for _, w := range strings.Fields(words.SafeguardMissing) {
		for _, x := range need {
			if strings.EqualFold(w, x) && w != "safeguard" {
				t.Errorf("%q and %q share the word %q", words.NoSafeguardNeeded, words.SafeguardMissing, w)
			}
		}
	}
}

func TestDuration(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{"P24M", "24 months", ""},
		{"P1Y6M", "1 year 6 months", ""},
		{"P7Y", "7 years", ""},
		{"P1Y", "1 year", ""},
		{"P2W", "2 weeks", ""},
		{"P30D", "30 days", ""},
		{"P1D", "1 day", ""},
		{"PT12H", "12 hours", ""},
		{"P1DT1H1M1S", "1 day 1 hour 1 minute 1 second", ""},
		{"PT90M", "90 minutes", ""},
		{"P0D", "0 days", ""},
		{"P", "", "no components"},
		{"24M", "", "must start with P"},
		{"", "", "empty"},
		{"p24m", "", "upper-case P"},
		{"P1.5Y", "", "fractions"},
		{"P6MT", "", "T must be followed"},
		{"P1M1Y", "", "out of order"},
		{"P-1Y", "", "expected a number"},
	} {
		got, err := words.Duration(c.in)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("Duration(%q): %v", c.in, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("Duration(%q) = %q, %v; want an error saying %q", c.in, got, err, c.err)
		case got != c.want:
			t.Errorf("Duration(%q) = %q, want %q", c.in, got, c.want)
		}
		if c.err != "" && words.DurationOr(c.in) != c.in {
			t.Errorf("DurationOr(%q) = %q, want the value as it is", c.in, words.DurationOr(c.in))
		}
	}
}

// FuzzDuration: any string is either a duration said in words — numbers
// and unit names only — or an error; never a panic, never a key.
func FuzzDuration(f *testing.F) {
	for _, s := range []string{"P24M", "P1Y6M", "PT12H", "P", "24M", "", "P1DT", "P999999Y", "P9999999Y", "PT1H1M1S"} {
		f.Add(s)
	}
	units := map[string]bool{}
	for _, u := range words.Units {
		units[u.One], units[u.Many] = true, true
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := words.Duration(s)
		if err != nil {
			if got != "" {
				t.Fatalf("Duration(%q) = %q with error %v", s, got, err)
			}
			return
		}
		if !utf8.ValidString(got) {
			t.Fatalf("Duration(%q) = %q is not text", s, got)
		}
		f := strings.Fields(got)
		if len(f) == 0 || len(f)%2 != 0 {
			t.Fatalf("Duration(%q) = %q: not number-unit pairs", s, got)
		}
		for i := 0; i < len(f); i += 2 {
			if strings.Trim(f[i], "0123456789") != "" || !units[f[i+1]] {
				t.Fatalf("Duration(%q) = %q: %q %q is not a number and a unit", s, got, f[i], f[i+1])
			}
		}
	})
}

func TestNamesComeFromTheTaxonomy(t *testing.T) {
	n := words.Of(nil)
	tax := taxonomy.Default()
	for _, c := range tax.Categories {
		if c.Name != "" && n.Category(c.Key) != c.Name {
			t.Errorf("category %s: %q, want %q", c.Key, n.Category(c.Key), c.Name)
		}
	}
	if got := n.Category("billing.payment_token"); got != "Payment method token" {
		t.Errorf("billing.payment_token is %q", got)
	}
	if got := n.Purpose("no.such.purpose"); got != "no.such.purpose" {
		t.Errorf("an unknown purpose is shown as %q, want its key", got)
	}
	g := n.Glossary()
	for _, field := range []string{"category", "purpose", "data_subject", "legal_basis", "role", "safeguard", "country_status"} {
		if len(g.Fields[field]) == 0 {
			t.Errorf("glossary has no words for %s", field)
		}
	}
	if g.Countries["US"] != words.StatusDPF || g.Countries["SE"] != words.StatusEEA || g.Countries["CH"] != words.StatusAdequacy {
		t.Errorf("glossary country statuses: US %q, SE %q, CH %q", g.Countries["US"], g.Countries["SE"], g.Countries["CH"])
	}
}

func TestDate(t *testing.T) {
	if got := words.Date(time.Date(2026, 12, 7, 23, 30, 0, 0, time.FixedZone("x", -3600))); got != "2026-12-08" {
		t.Errorf("Date = %q, want the UTC day", got)
	}
	if words.Date(time.Time{}) != "" {
		t.Error("the zero time has a date")
	}
}

func TestCount(t *testing.T) {
	for _, c := range []struct {
		n    int
		want string
	}{{0, "0 events"}, {1, "1 event"}, {2, "2 events"}, {8941, "8,941 events"}, {1234567, "1,234,567 events"}, {-3, "0 events"}} {
		if got := words.Count(c.n, "event", "events"); got != c.want {
			t.Errorf("Count(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}
