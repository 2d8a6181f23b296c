package events_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/schemas"
)

// designExample is the v1 wire format exactly as DESIGN.md shows it.
const designExample = `{"specversion":"1.0","id":"01934f7e-7c1a-7b3e-9d2a-5f0c8e1b2a43","source":"billing-api",
 "type":"com.back-trace.datamap.data.collected.v1","subject":"billing.payment_token",
 "time":"2026-11-01T10:00:00Z","datacontenttype":"application/json",
 "data":{"category":"billing.payment_token","data_subject":"customer",
         "purpose":"payment_processing","legal_basis":"contract","retention":"P7Y",
         "origin":"data_subject","location":"US","activity":"billing","count":1}}`

const sharedExample = `{"specversion":"1.0","id":"e2","source":"billing-api",
 "type":"com.back-trace.datamap.data.shared.v1","time":"2026-11-01T10:00:00Z",
 "data":{"category":"billing.payment_token","data_subject":"customer","purpose":"payment_processing",
   "legal_basis":"contract","activity":"billing","count":3,
   "recipient":{"name":"Stripe","role":"processor","country":"US","safeguard":"scc","contract":"DPA-17"}}}`

const erasedExample = `{"specversion":"1.0","id":"e3","source":"support-desk",
 "type":"com.back-trace.datamap.data.erased.v1","time":"2026-11-01T10:00:00Z",
 "data":{"category":"support.tickets","data_subject":"customer","reason":"retention","count":12}}`

func TestDecodeAcceptsTheWireFormat(t *testing.T) {
	v := events.NewValidator(taxonomy.Default())
	ev, err := v.Decode([]byte(designExample))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != events.KindCollected || ev.Identity() != "billing-api/01934f7e-7c1a-7b3e-9d2a-5f0c8e1b2a43" ||
		ev.Data.Retention != "P7Y" || ev.Data.Count != 1 || ev.Data.Location != "US" {
		t.Errorf("decoded %+v", ev)
	}
	sh, err := v.Decode([]byte(sharedExample))
	if err != nil {
		t.Fatal(err)
	}
	if sh.Data.Recipient == nil || sh.Data.Recipient.Name != "Stripe" || sh.Data.Count != 3 {
		t.Errorf("decoded shared %+v", sh.Data)
	}
	if _, err := v.Decode([]byte(erasedExample)); err != nil {
		t.Fatal(err)
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	v := events.NewValidator(taxonomy.Default())
	in, err := v.Decode([]byte(sharedExample))
	if err != nil {
		t.Fatal(err)
	}
	in.TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	raw, err := events.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := v.Decode(raw)
	if err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	a, _ := json.Marshal(in)
	b, _ := json.Marshal(out)
	if !bytes.Equal(a, b) {
		t.Errorf("round trip changed the event:\n%s\n%s", a, b)
	}
}

// withData replaces the data object of the collected example.
func withData(data string) string {
	i := strings.Index(designExample, `"data":`)
	return designExample[:i] + `"data":` + data + `}`
}

func TestDecodeRejectsBadInputNamingTheField(t *testing.T) {
	v := events.NewValidator(taxonomy.Default())
	okData := `{"category":"billing.payment_token","data_subject":"customer","purpose":"payment_processing","legal_basis":"contract","retention":"P7Y"`
	cases := []struct {
		name, event, field, mentions string
	}{
		{"malformed JSON", `{"specversion":"1.0",`, "", "malformed JSON"},
		{"not an object", `[1,2]`, "", "malformed JSON"},
		{"missing id", strings.Replace(designExample, `"id":"01934f7e-7c1a-7b3e-9d2a-5f0c8e1b2a43",`, "", 1), "id", "required"},
		{"empty id", strings.Replace(designExample, `"id":"01934f7e-7c1a-7b3e-9d2a-5f0c8e1b2a43"`, `"id":""`, 1), "id", "required"},
		{"wrong specversion", strings.Replace(designExample, `"specversion":"1.0"`, `"specversion":"0.3"`, 1), "specversion", "0.3"},
		{"unknown type", strings.Replace(designExample, "collected.v1", "stolen.v1", 1), "type", "unknown type"},
		{"unknown category", strings.ReplaceAll(designExample, "billing.payment_token", "billing.cvv"), "data.category", "not a category"},
		{"bad retention", strings.Replace(designExample, `"P7Y"`, `"7 years"`, 1), "data.retention", "ISO 8601"},
		{"negative count", strings.Replace(designExample, `"count":1`, `"count":-3`, 1), "data.count", "1 or more"},
		{"zero count", strings.Replace(designExample, `"count":1`, `"count":0`, 1), "data.count", "1 or more"},
		{"count not a number", strings.Replace(designExample, `"count":1`, `"count":"one"`, 1), "data.count", "integer"},
		{"unknown location", strings.Replace(designExample, `"location":"US"`, `"location":"XX"`, 1), "data.location", "ISO 3166-1"},
		{"unknown role", strings.Replace(sharedExample, `"role":"processor"`, `"role":"friend"`, 1), "data.recipient.role", "friend"},
		{"unknown country", strings.Replace(sharedExample, `"country":"US"`, `"country":"USA"`, 1), "data.recipient.country", "ISO 3166-1"},
		{"unknown safeguard", strings.Replace(sharedExample, `"safeguard":"scc"`, `"safeguard":"trust"`, 1), "data.recipient.safeguard", "trust"},
		{"missing recipient", strings.Replace(designExample, "collected.v1", "shared.v1", 1), "data.recipient", "required"},
		{"special category without condition", withData(`{"category":"health","data_subject":"customer","purpose":"support","legal_basis":"consent","retention":"P1Y"}`), "data.special_condition", "Art. 9"},
		{"email in recipient", strings.Replace(sharedExample, `"name":"Stripe"`, `"name":"jane.doe@example.com"`, 1), "data.recipient.name", "e-mail"},
		{"phone in activity", withData(okData + `,"activity":"call +44 20 7946 0958"}`), "data.activity", "phone"},
		{"card number in contract", strings.Replace(sharedExample, `"DPA-17"`, `"4111 1111 1111 1111"`, 1), "data.recipient.contract", "card"},
		{"IP address as source", strings.Replace(designExample, `"source":"billing-api"`, `"source":"10.1.2.3"`, 1), "source", "IP address"},
		{"IPv6 in activity", withData(okData + `,"activity":"2001:db8::1"}`), "data.activity", "IP address"},
		{"email as data subject", withData(`{"category":"billing.payment_token","data_subject":"bob@example.org","purpose":"payment_processing","legal_basis":"contract","retention":"P7Y"}`), "data.data_subject", "e-mail"},
		{"data not an object", withData(`"billing"`), "data", "JSON object"},
		{"data missing", withData(`null`), "data", "required"},
		{"unknown data field", withData(okData + `,"email":"x"}`), "data.email", "unknown field"},
		{"unknown attribute", strings.Replace(designExample, `"source"`, `"customer_email":"x","source"`, 1), "customer_email", "unknown field"},
		{"time not RFC 3339", strings.Replace(designExample, `"2026-11-01T10:00:00Z"`, `"yesterday"`, 1), "time", "RFC 3339"},
		{"subject differs from category", strings.Replace(designExample, `"subject":"billing.payment_token"`, `"subject":"billing"`, 1), "subject", "differs"},
		{"field not allowed for kind", strings.Replace(erasedExample, `"reason":"retention"`, `"reason":"retention","purpose":"support"`, 1), "data.purpose", "not allowed"},
		{"oversized event", withData(okData + `,"activity":"` + strings.Repeat("a", events.MaxEventSize) + `"}`), "", "limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := v.Decode([]byte(c.event))
			var ve *events.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, events.ErrInvalid) {
				t.Fatalf("want a *ValidationError, got %v", err)
			}
			found := false
			for _, p := range ve.Problems {
				if p.Field == c.field && strings.Contains(p.Message, c.mentions) {
					found = true
				}
			}
			if !found {
				t.Errorf("no problem on field %q mentioning %q; got %v", c.field, c.mentions, ve.Problems)
			}
		})
	}
}

func TestDecodeReportsEveryProblemAtOnce(t *testing.T) {
	bad := withData(`{"category":"nope","data_subject":"alien","purpose":"fun","legal_basis":"whim","retention":"forever","count":-1}`)
	_, err := events.NewValidator(taxonomy.Default()).Decode([]byte(bad))
	var ve *events.ValidationError
	if !errors.As(err, &ve) {
		t.Fatal(err)
	}
	for _, f := range []string{"data.category", "data.data_subject", "data.purpose", "data.legal_basis", "data.retention", "data.count"} {
		if ve.Field(f) == "" {
			t.Errorf("no problem reported for %s; got %v", f, ve.Problems)
		}
	}
}

func TestNoFalsePositivesOnMetadata(t *testing.T) {
	// Values that look a little like personal data but are metadata.
	for _, s := range []string{"P7Y", "DPA-2024-001", "01934f7e-7c1a-7b3e-9d2a-5f0c8e1b2a43", "MSA-BANDWIDTH-2023",
		"billing.payment_token", "v1.2.3", "2026-11-01", "INV-123456"} {
		ev := withData(`{"category":"billing.payment_token","data_subject":"customer","purpose":"payment_processing","legal_basis":"contract","retention":"P7Y","activity":"` + s + `"}`)
		if _, err := events.NewValidator(taxonomy.Default()).Decode([]byte(ev)); err != nil {
			t.Errorf("activity %q rejected: %v", s, err)
		}
	}
}

// The JSON Schemas are the contract for other languages; the Go validator
// is the one that runs. They must agree on what is well-formed.
func TestJSONSchemasAgreeWithTheValidator(t *testing.T) {
	c := jsonschema.NewCompiler()
	compiled := map[events.Kind]*jsonschema.Schema{}
	for _, k := range events.Kinds {
		raw, err := schemas.EventSchema(string(k))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		url := string(k) + ".v1.json"
		if err := c.AddResource(url, doc); err != nil {
			t.Fatal(err)
		}
		if compiled[k], err = c.Compile(url); err != nil {
			t.Fatal(err)
		}
	}
	for _, ev := range []string{designExample, sharedExample, erasedExample} {
		doc, _ := jsonschema.UnmarshalJSON(strings.NewReader(ev))
		k, _ := events.KindOfType(doc.(map[string]any)["type"].(string))
		if err := compiled[k].Validate(doc); err != nil {
			t.Errorf("schema rejects an event the validator accepts: %v", err)
		}
	}
	// Shape errors (types, unknown fields, enums) must be refused by both.
	for _, bad := range []string{
		strings.Replace(designExample, `"count":1`, `"count":"1"`, 1),
		strings.Replace(designExample, `"legal_basis":"contract"`, `"legal_basis":"whim"`, 1),
		withData(`{"category":"billing.payment_token","data_subject":"customer","purpose":"payment_processing","legal_basis":"contract","retention":"P7Y","email":"x"}`),
		strings.Replace(sharedExample, `"role":"processor"`, `"role":"friend"`, 1),
	} {
		doc, _ := jsonschema.UnmarshalJSON(strings.NewReader(bad))
		k, _ := events.KindOfType(doc.(map[string]any)["type"].(string))
		if compiled[k].Validate(doc) == nil {
			t.Errorf("schema accepts %s", bad)
		}
		if _, err := events.NewValidator(taxonomy.Default()).Decode([]byte(bad)); err == nil {
			t.Errorf("validator accepts %s", bad)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{designExample, sharedExample, erasedExample, `{}`, `[]`, `{"data":[]}`, `null`} {
		f.Add([]byte(s))
	}
	v := events.NewValidator(taxonomy.Default())
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := v.Decode(raw)
		if (ev == nil) == (err == nil) {
			t.Fatalf("Decode returned event %v and error %v", ev, err)
		}
		if err != nil {
			var ve *events.ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("error without problems: %v", err)
			}
			return
		}
		// A valid event re-encodes to a valid event with the same identity.
		again, err := events.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		back, err := v.Decode(again)
		if err != nil || back.Identity() != ev.Identity() || back.Data.Count != ev.Data.Count {
			t.Fatalf("re-encoded event differs or fails: %v", err)
		}
	})
}
