// Package otlp is datamap's OpenTelemetry traces receiver: OTLP/HTTP
// (POST /v1/traces, protobuf or JSON, optionally gzip) and OTLP/gRPC,
// decoded with the OpenTelemetry Collector's own pdata. It answers as the
// OTLP specification says, so a collector's otlphttp or otlp exporter and
// every SDK exporter understand it: a partial success naming how many
// spans were refused and why, 400 for a malformed payload, 413 for an
// oversized one, 415 for another content type, 503 (retryable) while the
// aggregates are full.
package otlp

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"sync"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/back-trace/datamap/traffic"
	"github.com/back-trace/datamap/traffic/aggregate"
)

// Path is where OTLP/HTTP exporters send traces.
const Path = "/v1/traces"

// Content types of OTLP/HTTP.
const (
	ContentTypeProtobuf = "application/x-protobuf"
	ContentTypeJSON     = "application/json"
)

// Authorize says whether a request may send traces and, when it may, for
// which systems (resource service.name values) it may speak: spans of any
// other system are refused. A nil speaksFor allows every system.
type Authorize func(r *http.Request) (speaksFor func(system string) bool, ok bool)

// Limits bound what one request may cost; zero values take the defaults.
type Limits struct {
	// MaxBodyBytes is the largest body as sent, compressed or not (default
	// 4 MiB, the gRPC default message size collectors batch to).
	MaxBodyBytes int64
	// MaxDecodedBytes is the largest body once decompressed (default
	// 16 MiB): a small gzip bomb is refused, not inflated.
	MaxDecodedBytes int64
}

// Receiver receives traces and hands the calls in them to a sink.
type Receiver struct {
	observer  *traffic.Observer
	sink      traffic.Sink
	authorize Authorize
	limits    Limits
	log       *slog.Logger
	buffers   sync.Pool
}

// New receives into sink through observer. authorize must not be nil: the
// receiver is never open.
func New(observer *traffic.Observer, sink traffic.Sink, authorize Authorize, limits Limits, log *slog.Logger) *Receiver {
	if limits.MaxBodyBytes <= 0 {
		limits.MaxBodyBytes = 4 << 20
	}
	if limits.MaxDecodedBytes <= 0 {
		limits.MaxDecodedBytes = 16 << 20
	}
	if log == nil {
		log = slog.Default()
	}
	return &Receiver{observer: observer, sink: sink, authorize: authorize, limits: limits, log: log,
		buffers: sync.Pool{New: func() any { return new(bytes.Buffer) }}}
}

// errTooLarge is a body beyond the limits, sent or decompressed.
var errTooLarge = errors.New("too large")

// ServeHTTP answers POST /v1/traces.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "OTLP/HTTP: POST traces to "+Path, http.StatusMethodNotAllowed)
		return
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != ContentTypeProtobuf && mediaType != ContentTypeJSON {
		http.Error(w, fmt.Sprintf("OTLP/HTTP: Content-Type must be %s or %s", ContentTypeProtobuf, ContentTypeJSON),
			http.StatusUnsupportedMediaType)
		return
	}
	speaksFor, ok := rc.authorize(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="datamap traces"`)
		rc.status(w, mediaType, http.StatusUnauthorized, codes.Unauthenticated,
			"send an ingest token as Authorization: Bearer <token> (the collector's otlphttp exporter: headers)")
		return
	}
	buf := rc.buffers.Get().(*bytes.Buffer)
	defer rc.buffers.Put(buf)
	buf.Reset()
	if err := rc.read(w, r, buf); err != nil {
		switch {
		case errors.Is(err, errTooLarge):
			rc.status(w, mediaType, http.StatusRequestEntityTooLarge, codes.InvalidArgument, fmt.Sprintf(
				"the body is over %d bytes as sent or %d decompressed; send smaller batches (batch processor: send_batch_max_size)",
				rc.limits.MaxBodyBytes, rc.limits.MaxDecodedBytes))
		case errors.Is(err, errEncoding):
			rc.status(w, mediaType, http.StatusUnsupportedMediaType, codes.InvalidArgument, err.Error())
		default:
			rc.status(w, mediaType, http.StatusBadRequest, codes.InvalidArgument, "the body could not be read: "+err.Error())
		}
		return
	}
	req := ptraceotlp.NewExportRequest()
	var err error
	if mediaType == ContentTypeJSON {
		if jsonDepth(buf.Bytes()) > maxJSONDepth {
			rc.status(w, mediaType, http.StatusBadRequest, codes.InvalidArgument, fmt.Sprintf(
				"the JSON is nested more than %d levels deep; an OTLP request needs about 20", maxJSONDepth))
			return
		}
		err = req.UnmarshalJSON(buf.Bytes())
	} else {
		err = req.UnmarshalProto(buf.Bytes())
	}
	if err != nil {
		// The decoder's message names a position or a field, never a value.
		rc.status(w, mediaType, http.StatusBadRequest, codes.InvalidArgument,
			"not an OTLP ExportTraceServiceRequest in "+mediaType+": "+err.Error())
		return
	}
	resp, code, msg := rc.export(req, speaksFor)
	if code != codes.OK {
		w.Header().Set("Retry-After", "5")
		rc.status(w, mediaType, http.StatusServiceUnavailable, code, msg)
		return
	}
	var body []byte
	if mediaType == ContentTypeJSON {
		body, err = resp.MarshalJSON()
	} else {
		body, err = resp.MarshalProto()
	}
	if err != nil {
		rc.status(w, mediaType, http.StatusInternalServerError, codes.Internal, "encoding the response failed")
		return
	}
	w.Header().Set("Content-Type", mediaType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// export observes a decoded request: the response (with its partial
// success), or a status code other than OK and its message.
func (rc *Receiver) export(req ptraceotlp.ExportRequest, speaksFor func(string) bool) (ptraceotlp.ExportResponse, codes.Code, string) {
	resp := ptraceotlp.NewExportResponse()
	out, err := rc.observer.Observe(req.Traces(), speaksFor, rc.sink)
	if err != nil {
		if errors.Is(err, aggregate.ErrFull) {
			return resp, codes.Unavailable, err.Error()
		}
		rc.log.Warn("traces not taken", "err", err)
		return resp, codes.Unavailable, "the spans could not be counted now; retry later"
	}
	if out.Rejected > 0 {
		resp.PartialSuccess().SetRejectedSpans(out.Rejected)
		resp.PartialSuccess().SetErrorMessage(out.Message)
	}
	return resp, codes.OK, ""
}

// maxJSONDepth bounds the nesting of a JSON body. The JSON decoder
// recurses without a limit of its own (the protobuf one stops at 100), so
// a 16 MiB body of brackets would cost a deep stack; a real request nests
// about 20 levels, a little more with attribute values that are lists.
const maxJSONDepth = 128

// jsonDepth is the deepest nesting of objects and arrays in b, ignoring
// brackets within strings. It does not validate: the decoder does.
func jsonDepth(b []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inString:
			if c == '\\' {
				i++
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

var errEncoding = errors.New("Content-Encoding must be gzip or none")

// read reads the body into buf, decompressing gzip, within the limits.
func (rc *Receiver) read(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer) error {
	body := io.Reader(http.MaxBytesReader(w, r.Body, rc.limits.MaxBodyBytes))
	switch r.Header.Get("Content-Encoding") {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return tooLarge(err)
		}
		defer zr.Close()
		body = zr
	default:
		return errEncoding
	}
	n, err := buf.ReadFrom(io.LimitReader(body, rc.limits.MaxDecodedBytes+1))
	if err != nil {
		return tooLarge(err)
	}
	if n > rc.limits.MaxDecodedBytes {
		return errTooLarge
	}
	return nil
}

// tooLarge tells a body cut by MaxBytesReader from one that is broken.
func tooLarge(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errTooLarge
	}
	return err
}

// status writes a google.rpc.Status, as OTLP/HTTP answers errors, in the
// request's encoding.
func (rc *Receiver) status(w http.ResponseWriter, mediaType string, httpCode int, code codes.Code, msg string) {
	st := &spb.Status{Code: int32(code), Message: msg}
	var body []byte
	var err error
	if mediaType == ContentTypeJSON {
		body, err = protojson.Marshal(st)
	} else {
		body, err = proto.Marshal(st)
	}
	if err != nil {
		http.Error(w, msg, httpCode)
		return
	}
	w.Header().Set("Content-Type", mediaType)
	w.WriteHeader(httpCode)
	_, _ = w.Write(body)
}
