package events

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// TestAppendEventMatchesEncode: the Publisher's fast encoder and the
// CloudEvents SDK's (Encode) produce the same document. (One deliberate
// difference: the SDK percent-encodes a source that is not a valid URI
// reference, e.g. with spaces; AppendEvent keeps it as given, so that it
// matches the Nats-Msg-Id and what the consumer decodes.)
func TestAppendEventMatchesEncode(t *testing.T) {
	at := time.Date(2026, 11, 1, 10, 0, 0, 123456789, time.UTC)
	cases := []Event{
		{ID: "01934f7e-7c1a-7b3e-9d2a-5f0c8e1b2a43", Source: "billing-api", Kind: KindCollected, Time: at,
			Data: Data{Category: "billing.payment_token", DataSubject: "customer", Purpose: "payment_processing",
				LegalBasis: "contract", Retention: "P7Y", Origin: "data_subject", Location: "US", Activity: "billing", Count: 1}},
		{ID: "x", Source: "sms-gateway", Kind: KindShared, Time: at, TraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", TraceState: "a=b",
			Data: Data{Category: "telephony.sms_metadata", DataSubject: "customer", Purpose: "call_message_routing",
				LegalBasis: "contract", Activity: "sms <gw> & \"co\" ü\tsend", Count: 42,
				Recipient: &Recipient{Name: "Twilio", Role: "processor", Country: "US", Safeguard: "scc", Contract: "DPA-9"}}},
		{ID: "y", Source: "crm", Kind: KindErased, Time: at.Truncate(time.Second),
			Data: Data{Category: "support.tickets", DataSubject: "customer", Reason: "retention", Count: 7}},
	}
	for _, ev := range cases {
		want, err := Encode(&ev)
		if err != nil {
			t.Fatal(err)
		}
		got := AppendEvent(nil, &ev, trace.SpanContext{})
		var w, g map[string]any
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("AppendEvent wrote invalid JSON %s: %v", got, err)
		}
		if !reflect.DeepEqual(w, g) {
			t.Errorf("AppendEvent differs from Encode:\n got %s\nwant %s", got, want)
		}
	}
}
