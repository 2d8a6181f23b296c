// Package otlptest builds and posts OTLP/HTTP trace requests for tests of
// the traffic receiver: the request bodies in each encoding the receiver
// takes, and a POST to its handler.
package otlptest

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/back-trace/datamap/traffic/otlp"
)

// Protobuf is td as an ExportTraceServiceRequest in protobuf.
func Protobuf(t testing.TB, td ptrace.Traces) []byte {
	t.Helper()
	b, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// JSON is td as an ExportTraceServiceRequest in OTLP's JSON.
func JSON(t testing.TB, td ptrace.Traces) []byte {
	t.Helper()
	b, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Gzip is b compressed, for a Content-Encoding: gzip request.
func Gzip(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

// Post sends body to h at the receiver's path, with the content type, the
// content encoding and a bearer token (the last two left out when empty),
// and returns what h answered.
func Post(h http.Handler, contentType, encoding, token string, body []byte) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, otlp.Path, bytes.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	if encoding != "" {
		r.Header.Set("Content-Encoding", encoding)
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}
