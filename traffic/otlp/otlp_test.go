package otlp_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/back-trace/datamap/access"
	"github.com/back-trace/datamap/internal/testkit/otlptest"
	"github.com/back-trace/datamap/traffic"
	"github.com/back-trace/datamap/traffic/aggregate"
	"github.com/back-trace/datamap/traffic/otlp"
)

// tokens: "billing-token" speaks for billing-api, "ops-token" for anything.
func authorize(r *http.Request) (func(string) bool, bool) {
	c, ok := access.Credentials{{Role: access.Ingest, Name: "billing", Secret: "billing-token"}, {Role: access.Ingest, Name: "ops", Secret: "ops-token"}}.Bearer(r)
	switch {
	case !ok:
		return nil, false
	case c.Name == "billing":
		return func(s string) bool { return s == "billing-api" }, true
	}
	return nil, true
}

type memory struct {
	mu    sync.Mutex
	calls []traffic.Call
	full  bool
}

func (m *memory) Add(calls []traffic.Call) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.full {
		return aggregate.ErrFull
	}
	m.calls = append(m.calls, calls...)
	return nil
}

func newReceiver(sink traffic.Sink, limits otlp.Limits) *otlp.Receiver {
	return otlp.New(traffic.NewObserver(traffic.NewClassifier(nil, nil, nil)), sink, authorize, limits, nil)
}

// traces has n client spans of billing-api to api.stripe.com and one of
// other-api, each full of personal values that must never be kept.
func traces(n int) ptrace.Traces {
	td := ptrace.NewTraces()
	for _, system := range []string{"billing-api", "other-api"} {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", system)
		spans := rs.ScopeSpans().AppendEmpty().Spans()
		for i := 0; i < n; i++ {
			s := spans.AppendEmpty()
			s.SetKind(ptrace.SpanKindClient)
			s.SetName("POST /v1/customers/jane.doe@example.com")
			s.SetStartTimestamp(pcommon.NewTimestampFromTime(time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)))
			s.Attributes().PutStr("url.full", "https://api.stripe.com/v1/customers?email=jane.doe@example.com")
			s.Attributes().PutStr("user.email", "jane.doe@example.com")
			if system == "other-api" {
				break
			}
		}
	}
	return td
}

func exportResponse(t *testing.T, w *httptest.ResponseRecorder) ptraceotlp.ExportResponse {
	t.Helper()
	resp := ptraceotlp.NewExportResponse()
	var err error
	if strings.HasPrefix(w.Header().Get("Content-Type"), otlp.ContentTypeJSON) {
		err = resp.UnmarshalJSON(w.Body.Bytes())
	} else {
		err = resp.UnmarshalProto(w.Body.Bytes())
	}
	if err != nil {
		t.Fatalf("the answer is not an ExportTraceServiceResponse: %v", err)
	}
	return resp
}

func statusOf(t *testing.T, w *httptest.ResponseRecorder) *spb.Status {
	t.Helper()
	st := &spb.Status{}
	var err error
	if strings.HasPrefix(w.Header().Get("Content-Type"), otlp.ContentTypeJSON) {
		err = protojson.Unmarshal(w.Body.Bytes(), st)
	} else {
		err = proto.Unmarshal(w.Body.Bytes(), st)
	}
	if err != nil {
		t.Fatalf("the error body is not a google.rpc.Status: %v\n%q", err, w.Body.String())
	}
	return st
}

func TestDecodesProtobufJSONAndGzip(t *testing.T) {
	for _, tc := range []struct {
		name, contentType, encoding string
		body                        func(testing.TB, ptrace.Traces) []byte
	}{
		{"protobuf", otlp.ContentTypeProtobuf, "", otlptest.Protobuf},
		{"json", otlp.ContentTypeJSON, "", otlptest.JSON},
		{"protobuf gzip", otlp.ContentTypeProtobuf, "gzip", func(t testing.TB, td ptrace.Traces) []byte { return otlptest.Gzip(otlptest.Protobuf(t, td)) }},
		{"json gzip", otlp.ContentTypeJSON + "; charset=utf-8", "gzip", func(t testing.TB, td ptrace.Traces) []byte { return otlptest.Gzip(otlptest.JSON(t, td)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sink memory
			w := otlptest.Post(newReceiver(&sink, otlp.Limits{}), tc.contentType, tc.encoding, "billing-token", tc.body(t, traces(3)))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			resp := exportResponse(t, w)
			// other-api is not billing-token's to speak for.
			if got := resp.PartialSuccess().RejectedSpans(); got != 1 {
				t.Errorf("rejected %d spans, want 1", got)
			}
			if msg := resp.PartialSuccess().ErrorMessage(); !strings.Contains(msg, "may speak for") || strings.Contains(msg, "other-api") {
				t.Errorf("partial success message %q", msg)
			}
			if len(sink.calls) != 3 || sink.calls[0].Host != "api.stripe.com" || sink.calls[0].System != "billing-api" {
				t.Errorf("calls = %+v", sink.calls)
			}
		})
	}
}

func TestFullSuccessHasNoPartialSuccess(t *testing.T) {
	var sink memory
	w := otlptest.Post(newReceiver(&sink, otlp.Limits{}), otlp.ContentTypeProtobuf, "", "ops-token", otlptest.Protobuf(t, traces(2)))
	resp := exportResponse(t, w)
	if w.Code != http.StatusOK || resp.PartialSuccess().RejectedSpans() != 0 || resp.PartialSuccess().ErrorMessage() != "" {
		t.Errorf("status %d, partial success %d %q", w.Code, resp.PartialSuccess().RejectedSpans(), resp.PartialSuccess().ErrorMessage())
	}
	if len(sink.calls) != 3 {
		t.Errorf("%d calls, want 3", len(sink.calls))
	}
}

func TestBadRequests(t *testing.T) {
	good := otlptest.Protobuf(t, traces(1))
	bomb := otlptest.Gzip(bytes.Repeat([]byte{0}, 2<<20)) // 2 MiB of zeros in a few kB
	cases := []struct {
		name, contentType, encoding, token string
		body                               []byte
		want                               int
		msg                                string
	}{
		{"no token", otlp.ContentTypeProtobuf, "", "", good, http.StatusUnauthorized, "Bearer"},
		{"wrong token", otlp.ContentTypeProtobuf, "", "nope", good, http.StatusUnauthorized, "Bearer"},
		{"other content type", "text/plain", "", "ops-token", good, http.StatusUnsupportedMediaType, ""},
		{"other encoding", otlp.ContentTypeProtobuf, "br", "ops-token", good, http.StatusUnsupportedMediaType, "gzip"},
		{"malformed protobuf", otlp.ContentTypeProtobuf, "", "ops-token", []byte{0x0a, 0xff, 0xff, 0xff, 0x0f, 1, 2}, http.StatusBadRequest, "ExportTraceServiceRequest"},
		{"malformed JSON", otlp.ContentTypeJSON, "", "ops-token", []byte(`{"resourceSpans":[{`), http.StatusBadRequest, "ExportTraceServiceRequest"},
		{"JSON of the wrong shape", otlp.ContentTypeJSON, "", "ops-token", []byte(`{"resourceSpans":"x"}`), http.StatusBadRequest, ""},
		{"broken gzip", otlp.ContentTypeProtobuf, "gzip", "ops-token", []byte("not gzip"), http.StatusBadRequest, ""},
		{"oversized", otlp.ContentTypeProtobuf, "", "ops-token", make([]byte, 64<<10+1), http.StatusRequestEntityTooLarge, "smaller batches"},
		{"gzip bomb", otlp.ContentTypeProtobuf, "gzip", "ops-token", bomb, http.StatusRequestEntityTooLarge, "decompressed"},
		{"deeply nested protobuf", otlp.ContentTypeProtobuf, "", "ops-token", nestedProto(10000), http.StatusBadRequest, ""},
		{"deeply nested JSON", otlp.ContentTypeJSON, "", "ops-token", nestedJSON(10000), http.StatusBadRequest, "nested more than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var sink memory
			limits := otlp.Limits{MaxBodyBytes: 64 << 10, MaxDecodedBytes: 1 << 20}
			if strings.HasPrefix(tc.name, "deeply nested") {
				limits = otlp.Limits{} // the defaults
			}
			h := newReceiver(&sink, limits)
			w := otlptest.Post(h, tc.contentType, tc.encoding, tc.token, tc.body)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.want, w.Body)
			}
			if tc.want != http.StatusUnsupportedMediaType || tc.msg != "" {
				if st := statusOf(t, w); !strings.Contains(st.GetMessage(), tc.msg) {
					t.Errorf("message %q lacks %q", st.GetMessage(), tc.msg)
				}
			}
			if len(sink.calls) != 0 {
				t.Errorf("a refused request was counted: %+v", sink.calls)
			}
		})
	}
	r := httptest.NewRequest(http.MethodGet, otlp.Path, nil)
	w := httptest.NewRecorder()
	newReceiver(&memory{}, otlp.Limits{}).ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d", w.Code)
	}
}

// nestedProto is a request whose one span has an attribute value nested
// depth kvlists deep.
func nestedProto(depth int) []byte {
	// AnyValue{kvlist_value(6): KeyValueList{values(1): KeyValue{key(1), value(2): AnyValue…}}}
	inner := []byte{0x0a, 0x01, 'x'} // AnyValue{string_value: "x"}
	for i := 0; i < depth; i++ {
		kv := append([]byte{0x0a, 0x01, 'k', 0x12}, varint(len(inner))...)
		kv = append(kv, inner...)
		list := append([]byte{0x0a}, varint(len(kv))...)
		list = append(list, kv...)
		inner = append([]byte{0x32}, varint(len(list))...)
		inner = append(inner, list...)
	}
	attr := append([]byte{0x0a, 0x01, 'a', 0x12}, varint(len(inner))...)
	attr = append(attr, inner...)
	span := append([]byte{0x4a}, varint(len(attr))...) // Span.attributes = 9
	span = append(span, attr...)
	scope := append([]byte{0x12}, varint(len(span))...) // ScopeSpans.spans = 2
	scope = append(scope, span...)
	rs := append([]byte{0x12}, varint(len(scope))...) // ResourceSpans.scope_spans = 2
	rs = append(rs, scope...)
	req := append([]byte{0x0a}, varint(len(rs))...)
	return append(req, rs...)
}

func varint(n int) []byte {
	var b []byte
	for n >= 0x80 {
		b = append(b, byte(n)|0x80)
		n >>= 7
	}
	return append(b, byte(n))
}

func nestedJSON(depth int) []byte {
	var b strings.Builder
	b.WriteString(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"a","value":`)
	for i := 0; i < depth; i++ {
		b.WriteString(`{"kvlistValue":{"values":[{"key":"k","value":`)
	}
	b.WriteString(`{"stringValue":"x"}`)
	for i := 0; i < depth; i++ {
		b.WriteString(`}]}}`)
	}
	b.WriteString(`}]}]}]}]}`)
	return []byte(b.String())
}

func TestFullAggregatesAskForARetry(t *testing.T) {
	sink := &memory{full: true}
	w := otlptest.Post(newReceiver(sink, otlp.Limits{}), otlp.ContentTypeProtobuf, "", "ops-token", otlptest.Protobuf(t, traces(1)))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("status %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	if st := statusOf(t, w); st.GetCode() != int32(codes.Unavailable) {
		t.Errorf("status code %d", st.GetCode())
	}
}

func TestGRPC(t *testing.T) {
	var sink memory
	srv := otlp.NewGRPCServer(newReceiver(&sink, otlp.Limits{}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	cc, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	client := ptraceotlp.NewGRPCClient(cc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := ptraceotlp.NewExportRequestFromTraces(traces(2))
	if _, err := client.Export(ctx, req); status.Code(err) != codes.Unauthenticated {
		t.Errorf("without a token: %v", err)
	}
	authed := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer billing-token")
	resp, err := client.Export(authed, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.PartialSuccess().RejectedSpans() != 1 || len(sink.calls) != 2 {
		t.Errorf("rejected %d, calls %d", resp.PartialSuccess().RejectedSpans(), len(sink.calls))
	}
}
