package schemas

import (
	"bytes"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Examples of the consent and request types, as docs/subjects.md shows them.
const (
	exampleRef       = "sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a"
	consentWithdrawn = `{"specversion":"1.0","id":"01934f7e-7c1a-7b3e-9d2a-5f0c8e1b2b01","source":"sms-gateway",
 "type":"com.back-trace.datamap.data.consent_withdrawn.v1","time":"2026-11-01T10:00:00Z",
 "data":{"data_subject":"customer","subject_ref":"` + exampleRef + `","purpose":"marketing","channel":"sms_stop"}}`
	consentGiven = `{"specversion":"1.0","id":"01934f7e-7c1a-7b3e-9d2a-5f0c8e1b2b02","source":"customer-portal",
 "type":"com.back-trace.datamap.data.consent_given.v1","time":"2026-10-01T10:00:00Z",
 "data":{"data_subject":"customer","subject_ref":"` + exampleRef + `","purpose":"marketing","channel":"web_form","count":1}}`
	requestReceived = `{"specversion":"1.0","id":"01934f7e-7c1a-7b3e-9d2a-5f0c8e1b2b03","source":"privacy-desk",
 "type":"com.back-trace.datamap.data.request_received.v1","time":"2026-11-02T09:00:00Z",
 "data":{"data_subject":"customer","subject_ref":"` + exampleRef + `","right":"erasure","channel":"email"}}`
	requestCompleted = `{"specversion":"1.0","id":"01934f7e-7c1a-7b3e-9d2a-5f0c8e1b2b04","source":"privacy-desk",
 "type":"com.back-trace.datamap.data.request_completed.v1","time":"2026-11-20T09:00:00Z",
 "data":{"data_subject":"customer","subject_ref":"` + exampleRef + `","right":"erasure"}}`
	requestRefused = `{"specversion":"1.0","id":"01934f7e-7c1a-7b3e-9d2a-5f0c8e1b2b05","source":"privacy-desk",
 "type":"com.back-trace.datamap.data.request_refused.v1","time":"2026-11-20T09:00:00Z",
 "data":{"data_subject":"customer","subject_ref":"` + exampleRef + `","right":"erasure","grounds":"legal_obligation"}}`
)

var subjectExamples = map[string]string{
	"consent_given": consentGiven, "consent_withdrawn": consentWithdrawn,
	"request_received": requestReceived, "request_completed": requestCompleted, "request_refused": requestRefused,
}

func compileFile(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	raw, err := FS.ReadFile(name + ".v1.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: not JSON: %v", name, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(name+".v1.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(name + ".v1.json")
	if err != nil {
		t.Fatalf("%s: schema does not compile: %v", name, err)
	}
	return s
}

func TestSubjectExamplesValidate(t *testing.T) {
	for name, ev := range subjectExamples {
		s := compileFile(t, name)
		if err := validate(t, s, ev); err != nil {
			t.Errorf("%s example rejected: %v", name, err)
		}
		for other, ev := range subjectExamples {
			if other != name && validate(t, s, ev) == nil {
				t.Errorf("%s event accepted by the %s schema", other, name)
			}
		}
	}
}

func TestSubjectBadEventsFail(t *testing.T) {
	cases := []struct{ schema, name, example, old, new string }{
		{"consent_withdrawn", "malformed ref", consentWithdrawn, exampleRef, "sr1:abc"},
		{"consent_withdrawn", "ref that is an e-mail", consentWithdrawn, exampleRef, "ann@example.org"},
		{"consent_withdrawn", "ref not canonical", consentWithdrawn, exampleRef, exampleRef[:len(exampleRef)-1] + "b"},
		{"consent_withdrawn", "upper-case ref", consentWithdrawn, exampleRef, strings.ToUpper(exampleRef)},
		{"consent_withdrawn", "withdrawal without purpose", consentWithdrawn, `"purpose":"marketing",`, ``},
		{"consent_withdrawn", "withdrawal without ref", consentWithdrawn, `"subject_ref":"` + exampleRef + `",`, ``},
		{"consent_withdrawn", "unknown channel", consentWithdrawn, `"sms_stop"`, `"carrier_pigeon"`},
		{"consent_withdrawn", "count > 1", consentWithdrawn, `"channel":"sms_stop"`, `"channel":"sms_stop","count":2`},
		{"consent_withdrawn", "personal value field", consentWithdrawn, `"channel":"sms_stop"`, `"channel":"sms_stop","phone":"+31201234567"`},
		{"consent_given", "legal basis given", consentGiven, `"count":1`, `"count":1,"legal_basis":"consent"`},
		{"request_received", "request without ref", requestReceived, `"subject_ref":"` + exampleRef + `",`, ``},
		{"request_received", "unknown right", requestReceived, `"erasure"`, `"to_be_forgotten_quickly"`},
		{"request_received", "no right", requestReceived, `"right":"erasure",`, ``},
		{"request_received", "unknown channel", requestReceived, `"email"}`, `"fax"}`},
		{"request_completed", "ref that is a phone number", requestCompleted, exampleRef, "+31201234567"},
		{"request_refused", "refusal without grounds", requestRefused, `,"grounds":"legal_obligation"`, ``},
		{"request_refused", "unknown grounds", requestRefused, `"legal_obligation"`, `"busy"`},
	}
	for _, c := range cases {
		ev := strings.Replace(c.example, c.old, c.new, 1)
		if ev == c.example {
			t.Fatalf("%s: replacement %q not found", c.name, c.old)
		}
		if err := validate(t, compileFile(t, c.schema), ev); err == nil {
			t.Errorf("%s/%s: accepted\n%s", c.schema, c.name, ev)
		}
	}
}
