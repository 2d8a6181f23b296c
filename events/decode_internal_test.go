package events

import (
	"testing"

	"github.com/back-trace/datamap/events/personal"
)

// benchEvent is a ~500-byte shared event like those `datamap bench` sends:
// a traceparent and a long (digit-free) processing-activity description.
var benchEvent = []byte(`{"specversion":"1.0","id":"019ac5e2-3f4b-7c1d-9e2a-5f0c8e1b2a43","source":"sms-gateway",` +
	`"type":"com.back-trace.datamap.data.shared.v1","subject":"telephony.sms_metadata","time":"2026-11-01T10:00:00.123456Z",` +
	`"datacontenttype":"application/json","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",` +
	`"data":{"category":"telephony.sms_metadata","data_subject":"call_party","purpose":"call_message_routing",` +
	`"legal_basis":"contract","activity":"SMS delivery — processing activity recorded in the BackTrace register under the operations and billing domain",` +
	`"recipient":{"name":"Twilio","role":"processor","country":"US","safeguard":"scc","contract":"DPA-TWILIO-2023"},"count":120}}`)

// BenchmarkPersonalValueText is the personal-value scan of one free-text
// field of prose, the common case.
func BenchmarkPersonalValueText(b *testing.B) {
	s := "SMS delivery — processing activity recorded in the BackTrace register under the operations and billing domain"
	for b.Loop() {
		if personal.Find(s) != "" {
			b.Fatal("flagged")
		}
	}
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
