package events_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
)

// withNote adds an unknown member to designExample's data.
func withNote(note string) []byte {
	return []byte(strings.Replace(designExample, `"count":1}`, `"count":1,"note":`+note+`}`, 1))
}

func TestUnknownFieldReportsOnlyItself(t *testing.T) {
	v := events.NewValidator(taxonomy.Default())
	_, err := v.Decode(withNote(`"internal"`))
	ve := asValidation(t, err)
	if len(ve.Problems) != 1 || ve.Problems[0].Field != "data.note" || !strings.Contains(ve.Problems[0].Message, "unknown field") {
		t.Errorf("want one problem, data.note unknown; got %v", err)
	}
	// A mistyped field is reported as mistyped, not also as missing.
	_, err = v.Decode([]byte(strings.Replace(designExample, `"purpose":"payment_processing"`, `"purpose":7`, 1)))
	ve = asValidation(t, err)
	if len(ve.Problems) != 1 || ve.Problems[0].Field != "data.purpose" || strings.Contains(err.Error(), "required") {
		t.Errorf("want one problem, data.purpose mistyped; got %v", err)
	}
}

func TestPersonalValueInUnknownFieldIsNamedAndRedacted(t *testing.T) {
	v := events.NewValidator(taxonomy.Default())
	_, err := v.Decode(withNote(`"call bob@example.com"`))
	ve := asValidation(t, err)
	if msg := ve.Field("data.note"); !strings.Contains(msg, "looks like an e-mail address") {
		t.Errorf("data.note: %q, want it to name the e-mail address", msg)
	}
	// A personal value in a key is one mistake, the leak, and is not repeated.
	_, err = v.Decode([]byte(strings.Replace(designExample, `"data_subject":"customer"`, `"data_subject":"bob@example.com"`, 1)))
	if err == nil || strings.Contains(err.Error(), "bob@example.com") || !strings.Contains(err.Error(), "looks like an e-mail address") {
		t.Errorf("error must redact the address: %v", err)
	}
}

func TestRedact(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`call bob@example.com now`, `call [redacted: e-mail] now`},
		{`from 203.0.113.9, card 4111 1111 1111 1111`, `from [redacted: IP address], card [redacted: payment card number]`},
		{`phone +44 20 7946 0958`, `phone [redacted: phone number]`},
		{`01934f7e-7c1a-7b3e-9d2a-5f0c8e1b2a43 at 2026-11-01T10:00:00Z`, `01934f7e-7c1a-7b3e-9d2a-5f0c8e1b2a43 at 2026-11-01T10:00:00Z`},
	} {
		if got := events.RedactText(c.in); got != c.want {
			t.Errorf("RedactText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// JSON: redacted string by string, escapes included, and still JSON.
	raw := events.Redact(withNote(`"call bob\u0040example.com"`))
	if !json.Valid(raw) || strings.Contains(string(raw), "example.com") || !strings.Contains(string(raw), `"call [redacted: e-mail]"`) {
		t.Errorf("Redact: %s", raw)
	}
	if got := events.Redact([]byte(designExample)); string(got) != designExample {
		t.Errorf("Redact changed an event without personal data:\n%s", got)
	}
	if got := events.Redact([]byte(`not json bob@example.com`)); string(got) != `not json [redacted: e-mail]` {
		t.Errorf("Redact of text: %s", got)
	}
}

func FuzzRedact(f *testing.F) {
	for _, s := range []string{designExample, string(withNote(`"call bob@example.com"`)), `{"a":4111111111111111}`, `x 10.0.0.1`} {
		f.Add([]byte(s))
	}
	v := events.NewValidator(taxonomy.Default())
	f.Fuzz(func(t *testing.T, raw []byte) {
		out := events.Redact(raw)
		if json.Valid(raw) && !json.Valid(out) {
			t.Fatalf("Redact broke JSON: %s", out)
		}
		// Whatever Decode refuses, its error holds no personal value.
		if _, err := v.Decode(raw); err != nil && events.RedactText(err.Error()) != err.Error() {
			t.Fatalf("error holds a personal value: %v", err)
		}
	})
}

// A repeated member is read by decoders as its last value; the first one
// was kept as sent. Every member is redacted, escaped or not.
func TestRedactRepeatedMembers(t *testing.T) {
	for _, raw := range []string{
		`{"source":"ann@example.org","id":"1","source":"x"}`,
		`{"source":"ann\u0040example.org","source":"x"}`,
		`{"data":{"category":"ann@example.org"},"data":{"category":"x"}}`,
		`{"a":[1,{"b":"+31 20 123 4567","b":null}],"c":true}`,
	} {
		out := string(events.Redact([]byte(raw)))
		if strings.Contains(out, "ann") || strings.Contains(out, "123 4567") || !json.Valid([]byte(out)) || !strings.Contains(out, "[redacted:") {
			t.Errorf("Redact(%s) = %s", raw, out)
		}
	}
	// Nothing to redact: the bytes as they were.
	for _, raw := range []string{designExample, `{"a":"x","a":"y"}`, ` [1, 2] `} {
		if out := events.Redact([]byte(raw)); string(out) != raw {
			t.Errorf("Redact(%s) = %s", raw, out)
		}
	}
}
