package sdk

import (
	"sync"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/trace"

	"github.com/back-trace/datamap/events"
)

// record is a validated event waiting in the queue. It is a value, so
// queueing it costs no allocation; the pump encodes it.
type record struct {
	flow   flow
	ref    string // the subject reference, kept out of the flow (see flowOf)
	count  int64
	id     uuid.UUID
	at     time.Time         // the event time
	sc     trace.SpanContext // the caller's span, for traceparent
	queued time.Time         // when it was accepted, for the latency metric
	ext    *external         // set for events built elsewhere (PublishEvent)
}

// external is what an event published with PublishEvent keeps of its own.
type external struct {
	id, source, traceParent, traceState string
	extensions                          map[string]string
	credential                          string // relayed by the HTTP ingest: events.Event.Credential
}

// flow is everything that identifies what happened, except when and how
// many times: the aggregation key. It is comparable: the payload without
// its count, and the recipient held by value.
type flow struct {
	kind         events.Kind
	data         events.Data // Count 0, Recipient nil
	recipient    events.Recipient
	hasRecipient bool
}

// flowOf is the flow of a payload. The subject reference is not part of
// it: a flow is what many events share (the validation cache's key), a
// reference what one person's events have; records carry it.
func flowOf(kind events.Kind, d *events.Data) flow {
	f := flow{kind: kind, data: *d}
	f.data.Count, f.data.Recipient, f.data.SubjectRef = 0, nil, ""
	if d.Recipient != nil {
		f.recipient, f.hasRecipient = *d.Recipient, true
	}
	return f
}

func (f flow) event(id string, at time.Time, count int64) events.Event {
	ev := events.Event{ID: id, Kind: f.kind, Time: at, Data: f.data}
	ev.Data.Count = count
	if f.hasRecipient {
		r := f.recipient
		ev.Data.Recipient = &r
	}
	return ev
}

// validationID stands in for a new event's id while its flow is validated:
// a v7 UUID always passes the id checks.
const validationID = "00000000-0000-7000-8000-000000000000"

// validFlows remembers flows that passed validation. A service emits a
// handful of distinct flows, over and over: validating each once keeps the
// personal-value scan (regular expressions, microseconds) off the hot path.
// Its size is bounded; it starts over when full.
type validFlows struct {
	mu    sync.RWMutex
	flows map[flow]struct{}
}

const maxValidFlows = 4096

func (v *validFlows) has(f *flow) bool {
	v.mu.RLock()
	_, ok := v.flows[*f]
	v.mu.RUnlock()
	return ok
}

func (v *validFlows) add(f *flow) {
	v.mu.Lock()
	if v.flows == nil || len(v.flows) >= maxValidFlows {
		v.flows = make(map[flow]struct{}, 64)
	}
	v.flows[*f] = struct{}{}
	v.mu.Unlock()
}
