package events_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
)

// withMember adds a top-level member to designExample.
func withMember(name, value string) []byte {
	return []byte(strings.Replace(designExample, `"datacontenttype"`, `"`+name+`":`+value+`,"datacontenttype"`, 1))
}

// Every attribute is checked, in both decoding paths and in Validate: no
// personal value, no free-form text where a standard says what goes.
func TestEveryAttributeIsChecked(t *testing.T) {
	v := events.NewValidator(taxonomy.Default())
	const consent = `"data_subject":"customer","subject_ref":"` + ref + `","purpose":"marketing","channel":"web_form"`
	for _, c := range []struct {
		name  string
		raw   []byte
		field string
		say   string
	}{
		{"traceparent with an e-mail", withMember("traceparent", `"ann@example.org"`), "traceparent", "W3C traceparent"},
		{"traceparent of 10 KB", withMember("traceparent", `"00-`+strings.Repeat("a", 10_000)+`"`), "traceparent", "longer"},
		{"traceparent with NUL", withMember("traceparent", `"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\u0000"`), "traceparent", ""},
		{"traceparent with ANSI", withMember("traceparent", `"\u001b[31m00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"`), "traceparent", ""},
		{"traceparent all zeros", withMember("traceparent", `"00-00000000000000000000000000000000-00f067aa0ba902b7-01"`), "traceparent", "all zeros"},
		{"tracestate with an e-mail", withMember("tracestate", `"user=ann@example.org,tel=+31201234567"`), "tracestate", ""},
		{"tracestate with a phone", withMember("tracestate", `"tel=+31201234567"`), "tracestate", "phone number"},
		{"tracestate with a national phone", withMember("tracestate", `"rojo=0612345678"`), "tracestate", "not a number that dials"},
		{"tracestate malformed", withMember("tracestate", `"no key value"`), "tracestate", "key=value"},
		{"dataschema with an e-mail", withMember("dataschema", `"mailto:ann@example.org"`), "dataschema", "e-mail"},
		{"dataschema not a URI", withMember("dataschema", `"schema"`), "dataschema", "absolute URI"},
		{"extension name of 16 digits", withMember("4111111111111111", `"x"`), "[redacted: payment card number]", "payment card"},
		{"extension value", withMember("partitionkey", `"ann@example.org"`), "partitionkey", "e-mail"},
		{"subject of a consent", []byte(strings.Replace(personEvent("consent_given", consent), `"time"`, `"subject":"ann@example.org","time"`, 1)), "subject", "e-mail"},
		{"subject of a request", []byte(strings.Replace(personEvent("request_received",
			`"data_subject":"customer","subject_ref":"`+ref+`","right":"erasure","channel":"email"`), `"time"`, `"subject":"+31 20 123 4567","time"`, 1)), "subject", "phone"},
	} {
		for path, decode := range map[string]func([]byte) (*events.Event, error){
			"Decode": v.Decode, "reference": v.DecodeReference, "two-pass": v.DecodeTwoPass,
		} {
			_, err := decode(c.raw)
			if err == nil {
				t.Errorf("%s (%s): accepted", c.name, path)
				continue
			}
			ve := asValidation(t, err)
			if msg := ve.Field(c.field); msg == "" || !strings.Contains(msg, c.say) {
				t.Errorf("%s (%s): %s: %q, want it to say %q (all: %v)", c.name, path, c.field, msg, c.say, err)
			}
			if strings.Contains(err.Error(), "ann@example.org") || strings.Contains(err.Error(), "1234567") {
				t.Errorf("%s (%s): the error repeats the value: %v", c.name, path, err)
			}
		}
	}
	// A valid trace context passes.
	raw := withMember("traceparent", `"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","tracestate":"rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"`)
	if _, err := v.Decode(raw); err != nil {
		t.Errorf("a W3C trace context is refused: %v", err)
	}
}

// Validate (the SDK's path) checks the attributes of a Go event as Decode
// does those of its wire form.
func TestValidateChecksAttributes(t *testing.T) {
	v := events.NewValidator(taxonomy.Default())
	good, err := v.Decode([]byte(designExample))
	if err != nil {
		t.Fatal(err)
	}
	for field, edit := range map[string]func(*events.Event){
		"traceparent": func(e *events.Event) { e.TraceParent = "ann@example.org" },
		"tracestate":  func(e *events.Event) { e.TraceState = "user=ann@example.org" },
		"dataschema":  func(e *events.Event) { e.DataSchema = "https://example.org/?mail=ann@example.org" },
		"time":        func(e *events.Event) { e.Time = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC) },
		"source":      func(e *events.Event) { e.Source = "billing-api\u200b" },
	} {
		ev := *good
		edit(&ev)
		err := v.Validate(&ev)
		if err == nil || asValidation(t, err).Field(field) == "" {
			t.Errorf("Validate with a bad %s: %v", field, err)
		}
	}
}

// Times outside DateTime64(3), or far ahead, were stored as other times
// (2300-01-01 as 1715-06-13); they are refused, naming the field.
func TestEventTimesTheCatalogCannotStore(t *testing.T) {
	v := events.NewValidator(taxonomy.Default())
	at := func(ts string) []byte {
		return []byte(strings.Replace(designExample, `"time":"2026-11-01T10:00:00Z"`, `"time":"`+ts+`"`, 1))
	}
	for _, ts := range []string{"2300-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "1899-12-31T23:59:59Z",
		time.Now().Add(49 * time.Hour).UTC().Format(time.RFC3339)} {
		_, err := v.Decode(at(ts))
		if err == nil {
			t.Errorf("time %s accepted", ts)
			continue
		}
		if msg := asValidation(t, err).Field("time"); msg == "" {
			t.Errorf("time %s: no problem on time: %v", ts, err)
		}
	}
	for _, ts := range []string{"1900-01-01T00:00:00Z", "2026-11-01T10:00:00Z", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)} {
		if _, err := v.Decode(at(ts)); err != nil {
			t.Errorf("time %s refused: %v", ts, err)
		}
	}
}

// Names that look like another: invisible characters, compatibility
// forms, look-alike letters of another script.
func TestNamesThatLookLikeOthers(t *testing.T) {
	v := events.NewValidator(taxonomy.Default())
	source := func(name string) []byte {
		b, _ := json.Marshal(name)
		return []byte(strings.Replace(designExample, `"source":"billing-api"`, `"source":`+string(b), 1))
	}
	for name, say := range map[string]string{
		"billing-api\u200b":        "invisible",
		"billing\u202e-api":        "invisible",
		"bill\u00ading-api":        "invisible",
		"ｂｉｌｌｉｎｇ-api":              `"billing-api"`,
		"b\u0456lling-api":         "Latin and Cyrillic",
		"\u0430pi.example":         "Cyrillic and Latin",
		"billing-\u03b1pi":         "Greek and Latin",
		"billing-api\u0007":        "control",
		"billing-api\u001b[31m":    "control",
		"billing-api\ufeff":        "invisible",
		"billing-api\u2066x\u2069": "invisible",
	} {
		_, err := v.Decode(source(name))
		if err == nil {
			t.Errorf("source %q accepted", name)
			continue
		}
		if msg := asValidation(t, err).Field("source"); !strings.Contains(msg, say) {
			t.Errorf("source %q: %q, want it to say %s", name, msg, say)
		}
		if events.CheckSource(name) == "" {
			t.Errorf("CheckSource(%q) finds nothing", name)
		}
	}
	for _, name := range []string{"billing-api", "Müller Logistik", "Яндекс Cloud", "Ζήτα-Λογιστική", "株式会社 Example"} {
		if _, err := v.Decode(source(name)); err != nil {
			t.Errorf("source %q refused: %v", name, err)
		}
	}
}
