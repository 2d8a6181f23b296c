// Package ingest is the HTTP endpoint through which services in other
// languages send datamap events: POST /v1/events in the CloudEvents HTTP
// binding — binary, structured and batch modes. Every event is validated
// with the same events.Validator as the consumer's; the valid ones are
// published through an sdk.Publisher (the same queue, retries and spool
// as the Go SDK), and the answer lists the outcome of each event by index.
package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"github.com/back-trace/datamap/access"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/sdk"
)

// Path is where the handler is mounted.
const Path = "/v1/events"

// Content types of the CloudEvents HTTP binding.
const (
	ContentTypeStructured = "application/cloudevents+json"
	ContentTypeBatch      = "application/cloudevents-batch+json"
)

// Defaults of Options.
const (
	DefaultMaxBodyBytes = 4 << 20
	DefaultMaxBatch     = 10_000
)

// Publisher queues validated events for JetStream. *sdk.Publisher is
// one. PublishEvent must be safe for concurrent use; it returns once the
// event is queued, or an error when it could not be (queue full, closed).
type Publisher interface {
	PublishEvent(ctx context.Context, ev *events.Event) error
}

var _ Publisher = (*sdk.Publisher)(nil)

// Options configure a Handler.
type Options struct {
	// Credentials are who may publish: the ingest role's and the full
	// role's credentials open POST /v1/events, no other. Required: at
	// least one of those.
	Credentials access.Credentials
	// MaxBodyBytes bounds a request body (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// MaxBatch bounds the events of one batch (default DefaultMaxBatch).
	MaxBatch int
	// Logger; default slog.Default().
	Logger *slog.Logger
	// MeterProvider records the handler's metrics (MetricEvents,
	// MetricRequestDuration); default the global one.
	MeterProvider metric.MeterProvider
}

// Handler serves POST /v1/events. It is safe for concurrent use.
type Handler struct {
	pub       Publisher
	validator *events.Validator
	allowed   access.Credentials // the ingest and full roles' credentials
	known     access.Credentials // every credential: a known one in another role is told so (403)
	maxBody   int64
	maxBatch  int
	log       *slog.Logger
	metrics   *handlerMetrics
}

// New returns a Handler publishing through pub and validating with v.
func New(pub Publisher, v *events.Validator, o Options) (*Handler, error) {
	if pub == nil || v == nil {
		return nil, errors.New("ingest.New: needs a Publisher and a Validator")
	}
	h := &Handler{pub: pub, validator: v, maxBody: o.MaxBodyBytes, maxBatch: o.MaxBatch, log: o.Logger}
	h.allowed, h.known = o.Credentials.Only(access.Ingest, access.Full), o.Credentials
	if !h.allowed.Has(access.Ingest) && !h.allowed.Has(access.Full) {
		return nil, errors.New("ingest.New: no token; set DATAMAP_INGEST_TOKENS or DATAMAP_API_TOKEN")
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	if h.maxBatch <= 0 {
		h.maxBatch = DefaultMaxBatch
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	mp := o.MeterProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	var err error
	if h.metrics, err = newHandlerMetrics(mp); err != nil {
		return nil, fmt.Errorf("ingest.New: metrics: %w", err)
	}
	return h, nil
}

// Outcomes of one event (Result.Status).
const (
	StatusAccepted = "accepted" // queued for the catalog
	StatusRejected = "rejected" // invalid: see the problems; do not retry as is
	// StatusForbidden: the token may not speak for the event's source;
	// see DATAMAP_INGEST_TOKENS.
	StatusForbidden = "forbidden"
	StatusFailed    = "failed" // could not be queued: retry later with the same id
)

// Result is the outcome of one event of a request.
type Result struct {
	Index    int              `json:"index"`
	ID       string           `json:"id,omitempty"`
	Status   string           `json:"status"` // accepted, rejected (invalid: see problems), forbidden (another source's) or failed (retry later)
	Problems []events.Problem `json:"problems,omitempty"`
	Error    string           `json:"error,omitempty"`
}

// Response is the body of every answer to POST /v1/events.
type Response struct {
	Accepted int `json:"accepted"`
	Rejected int `json:"rejected"`
	// Forbidden counts events for a source the token may not speak for.
	Forbidden int      `json:"forbidden"`
	Failed    int      `json:"failed"`
	Error     string   `json:"error,omitempty"` // the request as a whole
	Results   []Result `json:"results"`
}

// ServeHTTP answers 202 when every event was accepted; 403 when the token
// may not speak for the source of some, 400 when some were invalid (the
// other events of the batch are still published; see the results by
// index); 503 when some could not be queued (retry them: ids make retries
// idempotent); 401 (no or unknown token), 403 (a token of a role that
// cannot publish), 413 and 415 for the request as a whole.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	started := time.Now()
	rec := &statusRecorder{ResponseWriter: w}
	defer func() { h.metrics.request(r.Context(), r.Method, rec.status, time.Since(started)) }()
	h.serve(rec, r)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(w, http.StatusMethodNotAllowed, Response{Error: "POST CloudEvents to " + Path})
		return
	}
	cred, ok := h.allowed.Bearer(r)
	if !ok {
		if c, known := h.known.Bearer(r); known {
			reply(w, http.StatusForbidden, Response{Error: fmt.Sprintf("this token has the %s role, which cannot publish; use an ingest token (DATAMAP_INGEST_TOKENS) or the API token", c.Role)})
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="datamap-ingest"`)
		reply(w, http.StatusUnauthorized, Response{Error: "missing or wrong bearer token; send 'Authorization: Bearer <token>' with one of DATAMAP_INGEST_TOKENS or the API token (DATAMAP_API_TOKEN, or the api-token file in the data directory)"})
		return
	}
	body, err := readBody(w, r, h.maxBody)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			reply(w, http.StatusRequestEntityTooLarge, Response{Error: fmt.Sprintf("body over %d bytes; send smaller batches", h.maxBody)})
			return
		}
		reply(w, http.StatusBadRequest, Response{Error: "reading the body: " + err.Error()})
		return
	}
	docs, status, err := Split(r.Header, body, h.maxBatch)
	if err != nil {
		reply(w, status, Response{Error: err.Error()})
		return
	}
	resp := Response{Results: make([]Result, len(docs))}
	for i, doc := range docs {
		resp.Results[i] = h.handle(r.Context(), cred, i, doc)
		switch resp.Results[i].Status {
		case StatusAccepted:
			resp.Accepted++
		case StatusRejected:
			resp.Rejected++
		case StatusForbidden:
			resp.Forbidden++
		default:
			resp.Failed++
		}
	}
	mode := Mode(r.Header)
	h.metrics.countEvents(r.Context(), mode, StatusAccepted, resp.Accepted)
	h.metrics.countEvents(r.Context(), mode, StatusRejected, resp.Rejected)
	h.metrics.countEvents(r.Context(), mode, StatusForbidden, resp.Forbidden)
	h.metrics.countEvents(r.Context(), mode, StatusFailed, resp.Failed)
	switch {
	case resp.Forbidden > 0:
		status = http.StatusForbidden
	case resp.Rejected > 0:
		status = http.StatusBadRequest
	case resp.Failed > 0:
		w.Header().Set("Retry-After", "1")
		status = http.StatusServiceUnavailable
	default:
		status = http.StatusAccepted
	}
	reply(w, status, resp)
}

func (h *Handler) handle(ctx context.Context, cred access.Credential, i int, doc []byte) Result {
	ev, err := h.validator.Decode(withTime(doc, time.Now()))
	if err != nil {
		res := Result{Index: i, Status: StatusRejected, Error: err.Error()}
		var ve *events.ValidationError
		if errors.As(err, &ve) {
			res.ID, res.Problems, res.Error = ve.ID, ve.Problems, ""
		}
		return res
	}
	if !cred.SpeaksFor(ev.Source) {
		return Result{Index: i, ID: ev.ID, Status: StatusForbidden, Error: fmt.Sprintf(
			"the token %q may not send events for source %q (it speaks for %s); send them with a token bound to %q in DATAMAP_INGEST_TOKENS",
			credentialName(cred), ev.Source, strings.Join(cred.Sources.List(), ", "), ev.Source)}
	}
	ev.Credential = CredentialPrefix + credentialName(cred)
	if err := h.pub.PublishEvent(ctx, ev); err != nil {
		h.log.Warn("ingest: could not queue an event", "id", ev.ID, "source", ev.Source, "err", err)
		return Result{Index: i, ID: ev.ID, Status: StatusFailed, Error: err.Error()}
	}
	return Result{Index: i, ID: ev.ID, Status: StatusAccepted}
}

// withTime returns doc with "time" set to now when it has none: an event
// without a time happened when it is sent, as the SDK assumes.
func withTime(doc []byte, now time.Time) []byte {
	var attrs struct {
		Time json.RawMessage `json:"time"`
	}
	trimmed := bytes.TrimSpace(doc)
	if len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(trimmed, &attrs) != nil || attrs.Time != nil {
		return doc // malformed, or with a time (even a wrong one): Decode explains
	}
	out := make([]byte, 0, len(trimmed)+40)
	out = append(out, `{"time":"`...)
	out = now.UTC().AppendFormat(out, time.RFC3339Nano)
	out = append(out, '"')
	if rest := bytes.TrimSpace(trimmed[1:]); len(rest) > 0 && rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, trimmed[1:]...)
}

// CredentialPrefix starts the credential recorded for the events a token
// brings: "http:" and the token's name.
const CredentialPrefix = "http:"

// credentialName is what the catalog records of a token: its name, or its
// role when it has none.
func credentialName(c access.Credential) string {
	if c.Name != "" {
		return c.Name
	}
	return c.Role.String()
}

func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	return buf.Bytes(), err
}

// Modes of the CloudEvents HTTP binding.
const (
	ModeBinary     = "binary"     // attributes in ce-* headers, data as the body
	ModeStructured = "structured" // one event as application/cloudevents+json
	ModeBatch      = "batch"      // a JSON array as application/cloudevents-batch+json
)

// Mode says which mode of the CloudEvents HTTP binding a request uses, or
// "" when none.
func Mode(header http.Header) string {
	mediaType, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	switch {
	case mediaType == ContentTypeBatch:
		return ModeBatch
	case mediaType == ContentTypeStructured:
		return ModeStructured
	case header.Get("Ce-Specversion") != "":
		return ModeBinary
	}
	return ""
}

// Split turns a request in any mode of the CloudEvents HTTP binding into
// structured-mode JSON documents, one per event, for events.Validator.Decode.
// It decides nothing about the events themselves: a malformed event is still
// returned, for Decode to explain. An error concerns the request as a whole,
// with the HTTP status to answer.
func Split(header http.Header, body []byte, maxBatch int) ([][]byte, int, error) {
	ct := header.Get("Content-Type")
	mediaType, _, err := mime.ParseMediaType(ct)
	if ct != "" && err != nil {
		return nil, http.StatusUnsupportedMediaType, fmt.Errorf("Content-Type %q: %v", ct, err)
	}
	switch Mode(header) {
	case ModeBatch:
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) == 0 || trimmed[0] != '[' {
			return nil, http.StatusBadRequest, errors.New("a batch is a JSON array of structured-mode CloudEvents")
		}
		var docs []json.RawMessage
		if err := json.Unmarshal(trimmed, &docs); err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("malformed batch: %v", err)
		}
		if len(docs) == 0 {
			return nil, http.StatusBadRequest, errors.New("empty batch; send at least one event")
		}
		if len(docs) > maxBatch {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("%d events in one batch; at most %d", len(docs), maxBatch)
		}
		out := make([][]byte, len(docs))
		for i, d := range docs {
			out[i] = d
		}
		return out, 0, nil
	case ModeStructured:
		return [][]byte{body}, 0, nil
	case ModeBinary:
		doc, err := binaryToStructured(header, mediaType, body)
		if err != nil {
			return nil, http.StatusBadRequest, err
		}
		return [][]byte{doc}, 0, nil
	default:
		return nil, http.StatusUnsupportedMediaType, fmt.Errorf(
			"send structured mode (Content-Type: %s), batch mode (Content-Type: %s), or binary mode (ce-specversion, ce-id, ce-source, ce-type, ce-time headers and a JSON data body)",
			ContentTypeStructured, ContentTypeBatch)
	}
}

// binaryToStructured rebuilds the structured-mode document of a binary-mode
// request: every ce-* header is an attribute (percent-decoded, as the HTTP
// binding says), Content-Type is datacontenttype, the body is data. The
// W3C traceparent/tracestate headers carry the distributed-tracing
// extension when no ce-traceparent is given.
func binaryToStructured(header http.Header, mediaType string, body []byte) ([]byte, error) {
	doc := map[string]any{}
	for name, values := range header {
		attr, ok := strings.CutPrefix(strings.ToLower(name), "ce-")
		if !ok || len(values) == 0 {
			continue
		}
		v, err := url.PathUnescape(values[0])
		if err != nil {
			v = values[0]
		}
		doc[attr] = v
	}
	for _, attr := range []string{"traceparent", "tracestate"} {
		if _, ok := doc[attr]; !ok && header.Get(attr) != "" {
			doc[attr] = header.Get(attr)
		}
	}
	if mediaType != "" {
		doc["datacontenttype"] = mediaType
	}
	body = bytes.TrimSpace(body)
	if len(body) > 0 {
		if !json.Valid(body) {
			return nil, errors.New("binary mode: the body (data) is not JSON")
		}
		doc["data"] = json.RawMessage(body)
	}
	return json.Marshal(doc)
}

func reply(w http.ResponseWriter, status int, resp Response) {
	if resp.Results == nil {
		resp.Results = []Result{}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(resp)
}
