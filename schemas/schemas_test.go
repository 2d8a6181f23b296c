package schemas

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// designExample is the v1 wire format example from DESIGN.md, verbatim: other
// tools and customers write events by hand from it, so it must stay valid.
const designExample = `{"specversion":"1.0","id":"01934f7e-7c1a-7b3e-9d2a-5f0c8e1b2a43","source":"billing-api",
 "type":"com.back-trace.datamap.data.collected.v1","subject":"billing.payment_token",
 "time":"2026-11-01T10:00:00Z","datacontenttype":"application/json",
 "data":{"category":"billing.payment_token","data_subject":"customer",
         "purpose":"payment_processing","legal_basis":"contract","retention":"P7Y",
         "origin":"data_subject","location":"US","activity":"billing","count":1}}`

const sharedExample = `{"specversion":"1.0","id":"01934f7e-7c1a-7b3e-9d2a-5f0c8e1b2a44","source":"billing-api",
 "type":"com.back-trace.datamap.data.shared.v1","subject":"billing.payment_token",
 "time":"2026-11-01T10:00:00.123+01:00","datacontenttype":"application/json",
 "traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
 "data":{"category":"billing.payment_token","data_subject":"customer",
         "purpose":"payment_processing","legal_basis":"contract","activity":"billing","count":3,
         "recipient":{"name":"Stripe","role":"processor","country":"US","safeguard":"scc","contract":"DPA-17"}}}`

const erasedExample = `{"specversion":"1.0","id":"01934f7e-7c1a-7b3e-9d2a-5f0c8e1b2a45","source":"billing-api",
 "type":"com.back-trace.datamap.data.erased.v1","subject":"billing.invoice",
 "time":"2026-11-01T10:00:00Z",
 "data":{"category":"billing.invoice","data_subject":"customer","reason":"retention","count":120}}`

func compile(t *testing.T, kind string) *jsonschema.Schema {
	t.Helper()
	raw, err := EventSchema(kind)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: not JSON: %v", kind, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	url := kind + ".v1.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("%s: schema does not compile: %v", kind, err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, event string) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(event))
	if err != nil {
		t.Fatalf("test event is not JSON: %v\n%s", err, event)
	}
	return s.Validate(inst)
}

func TestExamplesValidate(t *testing.T) {
	for kind, ev := range map[string]string{"collected": designExample, "shared": sharedExample, "erased": erasedExample} {
		if err := validate(t, compile(t, kind), ev); err != nil {
			t.Errorf("%s example rejected: %v", kind, err)
		}
	}
}

// TestKindsAreDistinct guards the type const: an event must not validate
// against another kind's schema.
func TestKindsAreDistinct(t *testing.T) {
	for _, kind := range []string{"shared", "erased"} {
		if err := validate(t, compile(t, kind), designExample); err == nil {
			t.Errorf("collected event accepted by the %s schema", kind)
		}
	}
}

func TestBadEventsFail(t *testing.T) {
	s := compile(t, "collected")
	cases := []struct{ name, old, new string }{
		{"wrong specversion", `"specversion":"1.0"`, `"specversion":"0.3"`},
		{"unknown type", `data.collected.v1`, `data.collected.v2`},
		{"missing id", `"id":"01934f7e-7c1a-7b3e-9d2a-5f0c8e1b2a43",`, ``},
		{"bad time", `"2026-11-01T10:00:00Z"`, `"yesterday"`},
		{"bad content type", `"application/json"`, `"text/plain"`},
		{"unknown data field", `"count":1`, `"count":1,"email":"a@b.example"`},
		{"missing retention", `"retention":"P7Y",`, ``},
		{"bad retention", `"P7Y"`, `"7 years"`},
		{"empty retention", `"P7Y"`, `"P"`},
		{"retention with dangling T", `"P7Y"`, `"P7YT"`},
		{"bad legal basis", `"contract"`, `"because"`},
		{"bad origin", `"data_subject","location"`, `"scraped","location"`},
		{"lower-case country", `"US"`, `"us"`},
		{"zero count", `"count":1`, `"count":0`},
		{"fractional count", `"count":1`, `"count":1.5`},
		{"bad category key", `"category":"billing.payment_token"`, `"category":"Billing.Payment Token"`},
		{"bad special condition", `"count":1`, `"count":1,"special_condition":"because"`},
		{"binary data", `"data":{`, `"data_base64":"AA==","data":{`},
		{"extension attribute with a bad name", `"datacontenttype"`, `"partition_key":"acct-1","datacontenttype"`},
		{"extension attribute holding an object", `"datacontenttype"`, `"partitionkey":{"a":1},"datacontenttype"`},
	}
	for _, c := range cases {
		ev := strings.Replace(designExample, c.old, c.new, 1)
		if ev == designExample {
			t.Fatalf("%s: replacement %q not found", c.name, c.old)
		}
		if err := validate(t, s, ev); err == nil {
			t.Errorf("%s: accepted\n%s", c.name, ev)
		}
	}
	// Extension attributes named by the CloudEvents rules are allowed.
	withExtension := strings.Replace(designExample, `"datacontenttype"`, `"partitionkey":"acct-1","sequence":7,"datacontenttype"`, 1)
	if err := validate(t, s, withExtension); err != nil {
		t.Errorf("event with extension attributes rejected: %v", err)
	}
	// subject is optional (the validator checks it equals data.category).
	noSubject := strings.Replace(designExample, `"subject":"billing.payment_token",`, ``, 1)
	if err := validate(t, s, noSubject); err != nil {
		t.Errorf("event without subject rejected: %v", err)
	}
}

func TestSharedRecipientRequired(t *testing.T) {
	s := compile(t, "shared")
	for name, ev := range map[string]string{
		"no recipient":   withoutRecipient(t),
		"no country":     strings.Replace(sharedExample, `"country":"US",`, ``, 1),
		"bad role":       strings.Replace(sharedExample, `"processor"`, `"friend"`, 1),
		"bad safeguard":  strings.Replace(sharedExample, `"scc"`, `"trust"`, 1),
		"extra field":    strings.Replace(sharedExample, `"contract":"DPA-17"`, `"contract":"DPA-17","email":"x"`, 1),
		"retention here": strings.Replace(sharedExample, `"count":3`, `"count":3,"retention":"P1Y"`, 1),
	} {
		if err := validate(t, s, ev); err == nil {
			t.Errorf("%s: accepted\n%s", name, ev)
		}
	}
}

func withoutRecipient(t *testing.T) string {
	var ev map[string]any
	if err := json.Unmarshal([]byte(sharedExample), &ev); err != nil {
		t.Fatal(err)
	}
	delete(ev["data"].(map[string]any), "recipient")
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEventSchemaNames(t *testing.T) {
	for _, k := range []string{"collected", "shared.v1", "com.back-trace.datamap.data.erased.v1"} {
		if _, err := EventSchema(k); err != nil {
			t.Errorf("EventSchema(%q): %v", k, err)
		}
	}
	for _, k := range []string{"", "deleted", "collected.v2", "com.example.collected.v1"} {
		if _, err := EventSchema(k); err == nil {
			t.Errorf("EventSchema(%q) succeeded", k)
		}
	}
}

// TestYAMLFilesParse is a smoke test; the strict parsers and their tests are
// in package events.
func TestYAMLFilesParse(t *testing.T) {
	for name, b := range map[string][]byte{"taxonomy.yaml": Taxonomy(), "countries.yaml": Countries()} {
		var v map[string]any
		if err := yaml.Unmarshal(b, &v); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if len(v) == 0 {
			t.Errorf("%s: empty", name)
		}
	}
}
