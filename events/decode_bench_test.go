package events

import "testing"

// benchEvent is a ~500-byte shared event like those `datamap bench` sends:
// a traceparent and a long (digit-free) processing-activity description.
var benchEvent = []byte(`{"specversion":"1.0","id":"019ac5e2-3f4b-7c1d-9e2a-5f0c8e1b2a43","source":"sms-gateway",` +
	`"type":"com.back-trace.datamap.data.shared.v1","subject":"telephony.sms_metadata","time":"2026-11-01T10:00:00.123456Z",` +
	`"datacontenttype":"application/json","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",` +
	`"data":{"category":"telephony.sms_metadata","data_subject":"call_party","purpose":"call_message_routing",` +
	`"legal_basis":"contract","activity":"SMS delivery — processing activity recorded in the BackTrace register under the operations and billing domain",` +
	`"recipient":{"name":"Twilio","role":"processor","country":"US","safeguard":"scc","contract":"DPA-TWILIO-2023"},"count":120}}`)

// BenchmarkDecode is the consumer's per-event CPU: `go test ./events
// -run '^$' -bench Decode -benchmem`.
func BenchmarkDecode(b *testing.B) {
	v := NewValidator(nil)
	b.SetBytes(int64(len(benchEvent)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Decode(benchEvent); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPersonalValueText is the personal-value scan of one free-text
// field of prose, the common case.
func BenchmarkPersonalValueText(b *testing.B) {
	s := "SMS delivery — processing activity recorded in the BackTrace register under the operations and billing domain"
	for b.Loop() {
		if personalValue(s) != "" {
			b.Fatal("flagged")
		}
	}
}
