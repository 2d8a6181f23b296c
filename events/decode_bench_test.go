package events_test

import (
	"reflect"
	"testing"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
)

// The decoding benchmarks and the fuzz tests that hold Decode's fast paths
// to encoding/json. They validate against the default taxonomy, so they
// live outside package events; export_test.go lends them the internals.

var benchEvent = events.BenchEvent

// BenchmarkDecode is the consumer's per-event CPU: `go test ./events
// -run '^$' -bench Decode -benchmem`.
func BenchmarkDecode(b *testing.B) {
	v := events.NewValidator(taxonomy.Default())
	b.SetBytes(int64(len(benchEvent)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Decode(benchEvent); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeTwoPass is Decode without its one-pass fast path.
func BenchmarkDecodeTwoPass(b *testing.B) {
	v := events.NewValidator(taxonomy.Default())
	b.SetBytes(int64(len(benchEvent)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.DecodeTwoPass(benchEvent); err != nil {
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
	v := events.NewValidator(taxonomy.Default())
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) > events.MaxEventSize {
			return
		}
		ev1, err1 := v.Decode(raw)
		ev2, err2 := v.DecodeTwoPass(raw)
		if !reflect.DeepEqual(ev1, ev2) || (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
			t.Fatalf("one pass: %+v, %v\ntwo passes: %+v, %v", ev1, err1, ev2, err2)
		}
	})
}

// BenchmarkDecodeReference is Decode without its hand-written fast path
// (encoding/json only).
func BenchmarkDecodeReference(b *testing.B) {
	v := events.NewValidator(taxonomy.Default())
	b.SetBytes(int64(len(benchEvent)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.DecodeReference(benchEvent); err != nil {
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
	v := events.NewValidator(taxonomy.Default())
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) > events.MaxEventSize {
			return
		}
		if problem := events.FastDecodeDisagrees(raw); problem != "" {
			t.Fatal(problem)
		}
		ev1, err1 := v.Decode(raw)
		ev2, err2 := v.DecodeReference(raw)
		if !reflect.DeepEqual(ev1, ev2) || (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
			t.Fatalf("Decode: %+v, %v\nreference: %+v, %v", ev1, err1, ev2, err2)
		}
	})
}
