package events_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"go.opentelemetry.io/otel/trace"
)

// withMembers inserts top-level members into designExample.
func withMembers(members string) []byte {
	return []byte(strings.Replace(designExample, `"source":"billing-api",`, `"source":"billing-api",`+members+`,`, 1))
}

func TestDecodeKeepsExtensionAttributes(t *testing.T) {
	v := events.NewValidator(taxonomy.Default())
	ev, err := v.Decode(withMembers(`"partitionkey":"tenant-7","knativearrivaltime":"2026-11-01T10:00:01Z","sequence":42,"replayed":true`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"partitionkey": "tenant-7", "knativearrivaltime": "2026-11-01T10:00:01Z", "sequence": "42", "replayed": "true"}
	if len(ev.Extensions) != len(want) {
		t.Fatalf("extensions %v, want %v", ev.Extensions, want)
	}
	for k, w := range want {
		if ev.Extensions[k] != w {
			t.Errorf("extension %s = %q, want %q", k, ev.Extensions[k], w)
		}
	}
	// They survive the SDK's encoder and the CloudEvents SDK's one.
	for name, raw := range map[string][]byte{"AppendEvent": events.AppendEvent(nil, ev, noSpan), "Encode": mustEncode(t, ev)} {
		again, err := v.Decode(raw)
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, raw)
		}
		if again.Extensions["partitionkey"] != "tenant-7" || again.Extensions["sequence"] != "42" {
			t.Errorf("%s lost extensions: %v", name, again.Extensions)
		}
	}
}

func TestDecodeRefusesBadExtensionAttributes(t *testing.T) {
	v := events.NewValidator(taxonomy.Default())
	for _, c := range []struct{ members, field, want string }{
		{`"PartitionKey":"x"`, "PartitionKey", "20 lowercase letters and digits"},
		{`"partition_key":"x"`, "partition_key", "unknown field"},
		{`"averyveryverylongname1":"x"`, "averyveryverylongname1", "unknown field"},
		{`"routing":{"a":1}`, "routing", "must be a string, number or boolean, not an object"},
		{`"owner":"bob@example.com"`, "owner", "looks like an e-mail address"},
		{`"note":"` + strings.Repeat("x", 201) + `"`, "note", "at most 200"},
		{`"note":"a\u0007b"`, "note", "control characters"},
	} {
		_, err := v.Decode(withMembers(c.members))
		ve := asValidation(t, err)
		if got := ve.Field(c.field); !strings.Contains(got, c.want) {
			t.Errorf("%s: %s = %q, want it to say %q (all: %v)", c.members, c.field, got, c.want, err)
		}
		if strings.Contains(err.Error(), "bob@example.com") {
			t.Errorf("%s: the error repeats the address: %v", c.members, err)
		}
	}
	many := make([]string, events.MaxExtensions+1)
	for i := range many {
		many[i] = `"ext` + string(rune('a'+i)) + `":"v"`
	}
	_, err := v.Decode(withMembers(strings.Join(many, ",")))
	if ve := asValidation(t, err); !strings.Contains(ve.Field(""), "at most 20") {
		t.Errorf("too many extensions: %v", err)
	}
}

var noSpan trace.SpanContext

func mustEncode(t *testing.T, ev *events.Event) []byte {
	t.Helper()
	raw, err := events.Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func asValidation(t *testing.T, err error) *events.ValidationError {
	t.Helper()
	var ve *events.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a *ValidationError, got %v", err)
	}
	return ve
}
