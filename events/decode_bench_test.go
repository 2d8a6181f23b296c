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

// BenchmarkDecodeReference is Decode without its hand-written fast path
// (encoding/json only).
func BenchmarkDecodeReference(b *testing.B) {
	v := NewValidator(nil)
	b.SetBytes(int64(len(benchEvent)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.decodeReference(benchEvent); err != nil {
			b.Fatal(err)
		}
	}
}

// fastDecodeSeeds are inputs at the edges of what fastDecode takes.
var fastDecodeSeeds = []string{string(benchEvent), ``, ` `, `{}`, `null`, `[]`, `{"data":{}}`, `{"data":null}`,
	`{"data":{}} `, `{"data":{}}}`, `{"data":{}}]`, `{"data":{}} x`, `{"data":{}}{}`, " \t\r\n{ \"data\" : { } } \n",
	`{"data":{},}`, `{,"data":{}}`, `{"data":{}"id":"x"}`, `{"data":{},"data":{}}`, `{"data":{"count":1,"count":2}}`,
	`{"Data":{}}`, `{"DATA":{}}`, `{"data":{"Category":"a"}}`, `{"d\u0061ta":{}}`, `{"id":"a\"b","data":{}}`,
	`{"id":"a\u00e9","data":{}}`, `{"id":"é","data":{}}`, "{\"id\":\"\xff\",\"data\":{}}", "{\"id\":\"a\tb\",\"data\":{}}",
	"{\"id\":\"\x7f\",\"data\":{}}", `{"id":null,"data":{}}`, `{"id":1,"data":{}}`, `{"subject":null,"data":{}}`,
	`{"data":{"count":0}}`, `{"data":{"count":-0}}`, `{"data":{"count":-1}}`, `{"data":{"count":01}}`,
	`{"data":{"count":1.0}}`, `{"data":{"count":1e2}}`, `{"data":{"count":1E2}}`, `{"data":{"count":-}}`,
	`{"data":{"count":999999999999999999}}`, `{"data":{"count":9999999999999999999}}`,
	`{"data":{"count":9223372036854775807}}`, `{"data":{"count":"1"}}`, `{"data":{"count":null}}`,
	`{"data":{"recipient":{}}}`, `{"data":{"recipient":null}}`, `{"data":{"recipient":{"name":"x","name":"y"}}}`,
	`{"data":{"recipient":{"name":"x","extra":"y"}}}`, `{"data":{"recipient":"x"}}`, `{"extra":"x","data":{}}`,
	`{"specversion":"1.0","id":"x","source":"s","type":"com.back-trace.datamap.data.erased.v1","time":"2026-11-01T10:00:00Z","data":{"category":"support.tickets","data_subject":"customer","reason":"retention"}}`,
	`{"specversion":"1.0","id":"x","source":"s","type":"com.back-trace.datamap.data.erased.v1","time":"2026-11-01T10:00:00Z","subject":"billing.invoices","data":{"category":"support.tickets","data_subject":"customer","reason":"retention","count":0}}`}

// fastDecode must return exactly what encoding/json decodes, whenever it
// takes an input at all, and Decode must agree with the encoding/json-only
// reference, event or error, on any input:
// go test ./events -run '^$' -fuzz FuzzFastDecodeAgrees
func FuzzFastDecodeAgrees(f *testing.F) {
	for _, s := range fastDecodeSeeds {
		f.Add([]byte(s))
	}
	v := NewValidator(nil)
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) > v.maxSize {
			return
		}
		if fast, ok := fastDecode(raw); ok {
			var ref wireEventDecoded
			if err := strictUnmarshal(raw, &ref); err != nil {
				t.Fatalf("fast path took %q, encoding/json refuses it: %v", raw, err)
			}
			if !reflect.DeepEqual(fast, ref) {
				t.Fatalf("fast path: %+v\nencoding/json: %+v", fast, ref)
			}
		}
		ev1, err1 := v.Decode(raw)
		ev2, err2 := v.decodeReference(raw)
		if !reflect.DeepEqual(ev1, ev2) || (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
			t.Fatalf("Decode: %+v, %v\nreference: %+v, %v", ev1, err1, ev2, err2)
		}
	})
}

// The seeds the fast path takes are the ones a valid event's plain form
// would; the fuzz test above checks the rest.
func TestFastDecodeTakesPlainEvents(t *testing.T) {
	if _, ok := fastDecode(benchEvent); !ok {
		t.Fatal("fast path refuses the bench event")
	}
	for _, s := range []string{`{"data":{}}`, " \t\r\n{ \"data\" : { } } \n", `{"id":"é","data":{}}`,
		`{"data":{"count":-0}}`, `{"data":{"count":999999999999999999}}`, `{"data":{"recipient":{}}}`} {
		if _, ok := fastDecode([]byte(s)); !ok {
			t.Errorf("fast path refuses %s", s)
		}
	}
	for _, s := range []string{`{"data":{}}}`, `{"data":{},}`, `{"Data":{}}`, `{"id":null,"data":{}}`, `{"data":{"count":01}}`,
		`{"data":{"count":1.0}}`, `{"data":{"count":9999999999999999999}}`, "{\"id\":\"\xff\",\"data\":{}}", `{"id":"a\"b","data":{}}`,
		`{"data":{},"data":{}}`, `{"id":"x"}`} {
		if _, ok := fastDecode([]byte(s)); ok {
			t.Errorf("fast path takes %s", s)
		}
	}
}
