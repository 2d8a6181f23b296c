package events

import (
	"reflect"
	"testing"
)

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

// BenchmarkDecodeTwoPass is Decode without its one-pass fast path.
func BenchmarkDecodeTwoPass(b *testing.B) {
	v := NewValidator(nil)
	b.SetBytes(int64(len(benchEvent)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.decodeTwoPass(benchEvent); err != nil {
			b.Fatal(err)
		}
	}
}

// Decode's one-pass fast path must give exactly what the two-pass
// decoding gives, event or error, on any input:
// go test ./events -run '^$' -fuzz FuzzDecodeOnePassAgrees
func FuzzDecodeOnePassAgrees(f *testing.F) {
	for _, s := range []string{string(benchEvent), `{}`, `{"data":null}`, `{"data":{},"data":{}}`,
		`{"data":{"category":"a"},"DATA":{"purpose":"b"}}`, `{"d\u0061ta":{"category":"a"},"data":{"purpose":"b"}}`,
		`{"specversion":"1.0","id":"x","source":"s","type":"com.back-trace.datamap.data.erased.v1","time":"2026-11-01T10:00:00Z","data":{"category":"support.tickets","data_subject":"customer","reason":"retention"}}`,
		`{"specversion":"1.0","data":{"count":0,"recipient":{"name":"x","extra":1}}}`} {
		f.Add([]byte(s))
	}
	v := NewValidator(nil)
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) > v.maxSize {
			return
		}
		ev1, err1 := v.Decode(raw)
		ev2, err2 := v.decodeTwoPass(raw)
		if !reflect.DeepEqual(ev1, ev2) || (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
			t.Fatalf("one pass: %+v, %v\ntwo passes: %+v, %v", ev1, err1, ev2, err2)
		}
	})
}
