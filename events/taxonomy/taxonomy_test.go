package taxonomy

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/back-trace/datamap/events"
)

func TestDefaultTaxonomy(t *testing.T) {
	tx := Default()
	if tx.Version == "" {
		t.Error("default taxonomy has no version")
	}
	for _, k := range []string{
		"account", "account.contact", "account.credentials",
		"billing", "billing.payment_token", "billing.invoice", "billing.address",
		"service", "device.identifiers", "service.connection_logs", "service.provisioning", "service.usage",
		"telephony.call_detail_records", "telephony.sms_metadata",
		"support.tickets", "support.call_recordings", "support.chat",
		"web.cookies", "web.analytics", "web.forms",
		"integrations.microsoft365", "integrations.cxone",
	} {
		if _, ok := tx.Category(k); !ok {
			t.Errorf("category %q missing", k)
		}
	}
	if c, _ := tx.Category("billing.invoice"); c.Retention != "P7Y" {
		t.Errorf("billing.invoice retention = %q, want P7Y (policy: invoices 7+ years)", c.Retention)
	}
	if c, _ := tx.Category("billing.payment_token"); c.Special {
		t.Error("billing.payment_token must not be special")
	}
	special := 0
	for _, c := range tx.Categories {
		if c.Special {
			special++
		}
		if c.Retention != "" {
			if _, err := events.ParseISODuration(c.Retention); err != nil {
				t.Errorf("%s: %v", c.Key, err)
			}
		}
	}
	if special == 0 {
		t.Error("no special category: the Art. 9 validator path would be untested")
	}
	for _, k := range []string{"payment_processing", "service_delivery", "support", "fraud_prevention", "security", "legal_compliance", "marketing", "analytics"} {
		if _, ok := tx.Purpose(k); !ok {
			t.Errorf("purpose %q missing", k)
		}
	}
	for _, k := range []string{"customer", "end_user", "website_visitor"} {
		if _, ok := tx.DataSubject(k); !ok {
			t.Errorf("data subject %q missing", k)
		}
	}
	var stripe bool
	for _, r := range tx.Recipients {
		stripe = stripe || r.Name == "Stripe"
	}
	if !stripe {
		t.Error("recipient Stripe missing (DESIGN.md example)")
	}
	if _, ok := tx.Category("billingx"); ok {
		t.Error("unknown category found")
	}
	if Default() != tx {
		t.Error("Default parses more than once")
	}
}

const smallTaxonomy = `version: "1"
categories:
  - {key: billing, name: Billing}
  - {key: billing.invoice, name: Invoices, retention: P7Y}
  - {key: billing.payment_token, name: Tokens}
  - {key: billingx, name: Not billing}
  - {key: health, name: Health, special: true}
  - {key: health.sick_leave, name: Sick leave}
purposes:
  - {key: payment_processing, name: Payments}
data_subjects:
  - {key: customer, name: Customers}
`

func TestSubtree(t *testing.T) {
	tx, err := Parse([]byte(smallTaxonomy), "small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for prefix, want := range map[string][]string{
		"billing":         {"billing", "billing.invoice", "billing.payment_token"},
		"billing.invoice": {"billing.invoice"},
		"billingx":        {"billingx"},
		"bill":            nil,
		"":                nil,
		"billing.":        nil,
	} {
		if got := tx.Subtree(prefix); !slices.Equal(got, want) {
			t.Errorf("Subtree(%q) = %q, want %q", prefix, got, want)
		}
	}
	if c, _ := tx.Category("health.sick_leave"); !c.Special {
		t.Error("child of a special category is not special")
	}
	if c, _ := tx.Category("billing.invoice"); c.Special {
		t.Error("billing.invoice is special")
	}
}

// TestParseTaxonomyErrors checks that each kind of mistake is reported with
// its line and field, so that the message points at what to fix.
func TestParseTaxonomyErrors(t *testing.T) {
	cases := []struct {
		name, yaml string
		line       int
		field, msg string
	}{
		{"unknown top-level field", "versoin: 1\n" + smallTaxonomy, 1, "versoin", "unknown field"},
		{"unknown category field", strings.Replace(smallTaxonomy, "retention: P7Y", "retenion: P7Y", 1), 4, "categories[1].retenion", "unknown field"},
		{"duplicate category key", smallTaxonomy + "  - {key: customer, name: Again}\n", 13, "data_subjects[1].key", "defined twice (first on line 12)"},
		{"duplicate field", strings.Replace(smallTaxonomy, "{key: billingx, name: Not billing}", "{key: billingx, name: A, name: B}", 1), 6, "categories[3].name", "set twice"},
		{"missing parent", strings.Replace(smallTaxonomy, "{key: billing, name: Billing}", "{key: bill, name: Billing}", 1), 4, "categories[1].key", `"billing.invoice" has no parent`},
		{"bad key syntax", strings.Replace(smallTaxonomy, "key: billingx", "key: Billing-X", 1), 6, "categories[3].key", "not a valid key"},
		{"double dot", strings.Replace(smallTaxonomy, "key: billingx", "key: billing..x", 1), 6, "categories[3].key", "not a valid key"},
		{"bad retention", strings.Replace(smallTaxonomy, "P7Y", "7 years", 1), 4, "categories[1].retention", "not an ISO 8601 duration"},
		{"empty name", strings.Replace(smallTaxonomy, "name: Payments", `name: ""`, 1), 10, "purposes[0].name", "missing or empty"},
		{"missing key", strings.Replace(smallTaxonomy, "{key: customer, name: Customers}", "{name: Customers}", 1), 12, "data_subjects[0].key", "missing"},
		{"special not bool", strings.Replace(smallTaxonomy, "special: true", "special: yes please", 1), 7, "categories[4].special", "true or false"},
		{"name not string", strings.Replace(smallTaxonomy, "name: Tokens", "name: [a]", 1), 5, "categories[2].name", "must be a string"},
		{"categories not a list", "version: x\ncategories: nope\npurposes: [{key: p, name: P}]\ndata_subjects: [{key: s, name: S}]\n", 2, "categories", "must be a list"},
		{"missing purposes", strings.Replace(smallTaxonomy, "purposes:\n  - {key: payment_processing, name: Payments}\n", "", 1), 1, "purposes", "missing"},
		{"yaml syntax", smallTaxonomy + "  - {key: x\n", anyLine, "", "invalid YAML"},
		{"recipient role", smallTaxonomy + "recipients:\n  - {name: Stripe, role: friend}\n", 14, "recipients[0].role", "not a recipient role"},
		{"recipient country", smallTaxonomy + "recipients:\n  - {name: Stripe, role: processor, country: us}\n", 14, "recipients[0].country", "alpha-2"},
		{"recipient safeguard", smallTaxonomy + "recipients:\n  - {name: Stripe, role: processor, safeguard: hope}\n", 14, "recipients[0].safeguard", "not a transfer safeguard"},
		{"alias", strings.Replace(smallTaxonomy, "name: Billing}", "name: &b Billing}", 1) + "  - {key: prospect, name: *b}\n", 13, "data_subjects[1].name", "aliases"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.yaml), "tx.yaml")
			if err == nil {
				t.Fatalf("no error for\n%s", c.yaml)
			}
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("error %T is not a *Error: %v", err, err)
			}
			found := false
			for _, e := range unjoin(err) {
				if errors.As(e, &te) && (te.Line == c.line || c.line == anyLine && te.Line > 0) && te.Field == c.field && strings.Contains(te.Msg, c.msg) {
					found = true
				}
			}
			if !found {
				t.Errorf("want an error at tx.yaml:%d field %q containing %q; got:\n%v", c.line, c.field, c.msg, err)
			}
			if !strings.Contains(err.Error(), "tx.yaml:") {
				t.Errorf("error does not name the file: %v", err)
			}
		})
	}
}

// anyLine accepts any positive line: the YAML library decides where a
// syntax error is.
const anyLine = -1

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// TestParseTaxonomyReportsAll: one run must list every problem, so that a
// hand-written file is fixed in one round trip.
func TestParseTaxonomyReportsAll(t *testing.T) {
	bad := `categories:
  - {key: Billing, name: Billing}
  - {key: billing.invoice, name: "", retention: 7y}
  - {key: web, name: Web, colour: blue}
purposes:
  - {key: p, name: P}
data_subjects:
  - {key: s, name: S}
`
	_, err := Parse([]byte(bad), "bad.yaml")
	errs := unjoin(err)
	lines := map[int]int{}
	for _, e := range errs {
		lines[e.(*Error).Line]++
	}
	// line 2: key syntax; line 3: name, retention, missing parent; line 4: unknown field.
	if lines[2] != 1 || lines[3] != 3 || lines[4] != 1 {
		t.Errorf("got %d errors by line %v:\n%v", len(errs), lines, err)
	}
}

func TestParseTaxonomyEmpty(t *testing.T) {
	for _, in := range []string{"", "# only a comment\n", "[]", "just a string"} {
		if _, err := Parse([]byte(in), "e.yaml"); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestLoadTaxonomy(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.yaml")
	_, err := Load(missing)
	if err == nil || !strings.Contains(err.Error(), missing) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v; want an os.ErrNotExist naming %s", err, missing)
	}
	good := filepath.Join(dir, "tx.yaml")
	if err := os.WriteFile(good, []byte(smallTaxonomy), 0o600); err != nil {
		t.Fatal(err)
	}
	tx, err := Load(good)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tx.Purpose("payment_processing"); !ok {
		t.Error("purpose missing after load")
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(strings.Replace(smallTaxonomy, "P7Y", "P7", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), bad+":4:") {
		t.Errorf("Load(bad) = %v; want an error at %s:4", err, bad)
	}
}

func FuzzParseTaxonomy(f *testing.F) {
	f.Add([]byte(smallTaxonomy))
	f.Add([]byte(strings.Replace(smallTaxonomy, "P7Y", "P7", 1)))
	f.Add([]byte("categories: [{key: a.b, name: x, special: 1}]\nrecipients: [{name: a, role: processor, country: ZZ}]"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tx, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if tx != nil {
				t.Fatal("taxonomy returned with an error")
			}
			return
		}
		// A taxonomy that parses must be internally consistent.
		for _, c := range tx.Categories {
			if got, ok := tx.Category(c.Key); !ok || got != c {
				t.Fatalf("index broken for %q", c.Key)
			}
			if p := parentKey(c.Key); p != "" {
				if _, ok := tx.Category(p); !ok {
					t.Fatalf("%q accepted without parent", c.Key)
				}
			}
			if len(tx.Subtree(c.Key)) == 0 {
				t.Fatalf("Subtree(%q) empty", c.Key)
			}
		}
	})
}

func TestChildDataSubjects(t *testing.T) {
	d, ok := Default().DataSubject("child")
	if !ok || !d.Child {
		t.Fatalf("default taxonomy: child = %+v, %v; want a child data subject (policy §10)", d, ok)
	}
	if c, _ := Default().DataSubject("customer"); c.Child {
		t.Error("customer is marked child")
	}
	_, err := Parse([]byte("version: x\ncategories: [{key: a, name: A}]\npurposes: [{key: p, name: P, child: true}]\ndata_subjects: [{key: kid, name: Kid, child: yes please}]\n"), "t.yaml")
	if err == nil || !strings.Contains(err.Error(), "child") || !strings.Contains(err.Error(), "purposes[0]") {
		t.Errorf("child on a purpose and a non-boolean child: %v; want both refused", err)
	}
}
