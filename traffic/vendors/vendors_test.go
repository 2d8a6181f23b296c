package vendors_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/back-trace/datamap/traffic/vendors"
)

func TestDefaultCatalogue(t *testing.T) {
	c := vendors.Default()
	if len(c.Vendors) < 100 {
		t.Errorf("the built-in catalogue lists %d vendors, want at least 100", len(c.Vendors))
	}
	kinds := map[string]int{}
	for _, v := range c.Vendors {
		kinds[v.Kind]++
	}
	for _, k := range []string{"cloud", "payments", "messaging", "email", "analytics", "advertising", "crm", "support", "monitoring", "identity"} {
		if kinds[k] == 0 {
			t.Errorf("no vendor of kind %s", k)
		}
	}
	cases := []struct{ host, vendor, country string }{
		{"s3.eu-west-1.amazonaws.com", "Amazon Web Services", "IE"},
		{"dynamodb.us-east-1.amazonaws.com", "Amazon Web Services", "US"},
		{"sqs.eu-central-1.amazonaws.com", "Amazon Web Services", "DE"},
		{"api.stripe.com", "Stripe", "US"},
		{"api.eu.mailgun.net", "Mailgun", "DE"},
		{"o123.ingest.de.sentry.io", "Sentry", "DE"},
		{"http-intake.logs.datadoghq.eu", "Datadog", "DE"},
		{"checkout-test.adyen.com", "Adyen", "NL"},
	}
	for _, tc := range cases {
		m, ok := c.Lookup(tc.host)
		if !ok || m.Vendor.Name != tc.vendor || m.Country != tc.country {
			t.Errorf("Lookup(%q) = %+v, %v; want %s in %s", tc.host, m, ok, tc.vendor, tc.country)
		}
	}
	if _, ok := c.Lookup("billing.back-trace.example"); ok {
		t.Error("an unknown host matched a vendor")
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	doc := `as_of: ""
vendors:
  - {name: A, kind: cloud, role: owner, country: XX, hosts: ["https://a.example"]}
  - {name: A, kind: cloud, role: processor, country: US}
`
	_, err := vendors.Parse([]byte(doc), "v.yaml")
	if err == nil {
		t.Fatal("Parse accepted an invalid catalogue")
	}
	for _, want := range []string{"as_of", "vendors[0].role", "vendors[0].country", "vendors[0].hosts[0]", "vendors[1].name", "vendors[1].hosts"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
	if _, err := vendors.Parse([]byte("as_of: x\nvendor: []\n"), "v.yaml"); err == nil {
		t.Error("an unknown field was accepted")
	}
}

func TestLoadReplacesTheBuiltIn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vendors.yaml")
	doc := "as_of: \"2026-01-01\"\nvendors:\n  - {name: Acme Mail, kind: email, role: processor, country: FR, hosts: [\"*.acme-mail.example\"]}\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := vendors.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := c.Lookup("eu.api.acme-mail.example"); !ok || m.Vendor.Name != "Acme Mail" || m.Country != "FR" {
		t.Errorf("Lookup = %+v, %v", m, ok)
	}
	if _, ok := c.Lookup("api.stripe.com"); ok {
		t.Error("a replaced catalogue still knows the built-in vendors")
	}
	if _, err := vendors.Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "DATAMAP_VENDORS") {
		t.Errorf("Load of a missing file: %v", err)
	}
}
