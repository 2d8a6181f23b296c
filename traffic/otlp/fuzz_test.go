package otlp_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/back-trace/datamap/events/personal"
	"github.com/back-trace/datamap/internal/testkit/otlptest"
	"github.com/back-trace/datamap/traffic"
	"github.com/back-trace/datamap/traffic/otlp"
)

// FuzzExport posts arbitrary bodies as protobuf and as JSON: the receiver
// answers 200 or 400 and never panics, and whatever it counts is a clean
// host of a named system, never a personal value.
func FuzzExport(f *testing.F) {
	td := traces(2)
	f.Add(otlptest.Protobuf(f, td), false)
	f.Add(otlptest.JSON(f, td), true)
	f.Add(nestedProto(50), false)
	f.Add([]byte(`{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"a"}}]},"scopeSpans":[{"spans":[{"kind":3,"attributes":[{"key":"server.address","value":{"stringValue":"[::1]:80"}}]}]}]}]}`), true)
	f.Fuzz(func(t *testing.T, body []byte, asJSON bool) {
		contentType := otlp.ContentTypeProtobuf
		if asJSON {
			contentType = otlp.ContentTypeJSON
		}
		var sink memory
		w := otlptest.Post(newReceiver(&sink, otlp.Limits{}), contentType, "", "ops-token", body)
		if w.Code != http.StatusOK && w.Code != http.StatusBadRequest {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		for _, c := range sink.calls {
			if c.System == "" || c.Host == "" || personal.Find(c.Host) != "" || personal.Find(c.System) != "" {
				t.Fatalf("counted %+v", c.Key)
			}
			broker := strings.Contains(c.Host, "/") // a destination within a messaging system
			if c.Host != traffic.PrivateAddress && c.Host != traffic.PublicAddress && !broker {
				if h, _, ok := traffic.NormalizeHost(c.Host); !ok || h != c.Host {
					t.Fatalf("host %q is not normalised (%q, %v)", c.Host, h, ok)
				}
			}
		}
	})
}
