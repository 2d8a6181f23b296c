// Package deadletter keeps events the catalog cannot store in a JetStream
// stream, with the reason, the original subject and headers, and the
// delivery count, so they can be inspected and replayed.
package deadletter

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/events"
)

// Headers added to a dead letter.
const (
	HeaderReason          = "Datamap-Reason"
	HeaderOriginalSubject = "Datamap-Original-Subject"
	HeaderDeliveries      = "Datamap-Deliveries"
	HeaderStreamSequence  = "Datamap-Stream-Sequence"
	HeaderFailedAt        = "Datamap-Failed-At"
	// HeaderRedactedName replaces a header name that held a personal
	// value; its values are kept under it, redacted.
	HeaderRedactedName = "Datamap-Redacted-Header"
)

// subjectToken is the part of a dead letter's subject that names the
// original one: the original subject, or, when it held a personal value
// (redacted differs from it), its leading tokens free of one followed by
// "redacted" — a mark with spaces cannot be part of a NATS subject.
func subjectToken(original, redacted string) string {
	if redacted == original {
		return original
	}
	tokens := strings.Split(original, ".")
	keep := 0
	for keep < len(tokens) && events.RedactText(strings.Join(tokens[:keep+1], ".")) == strings.Join(tokens[:keep+1], ".") &&
		events.RedactText(tokens[keep]) == tokens[keep] && keep < 3 {
		keep++
	}
	return strings.Join(append(tokens[:keep:keep], "redacted"), ".")
}

// Sink publishes dead letters to a stream.
type Sink struct {
	js     jetstream.JetStream
	prefix string
}

// NewSink returns a Sink publishing under subjectPrefix (e.g.
// "datamap.deadletter"), followed by the original subject.
func NewSink(js jetstream.JetStream, subjectPrefix string) *Sink {
	return &Sink{js: js, prefix: subjectPrefix}
}

// DeadLetter publishes msg with the reason and waits for the stream's ack.
// A refused event may hold personal data, which must not be kept: every
// personal value found in the body, the header names and values, the
// original subject or the reason is replaced by a mark naming its kind
// ("[redacted: e-mail]", see events.Redact); the body is stored as
// events.Redact writes it, every member of it checked, repeated ones too.
// The dead letter's Nats-Msg-Id is derived from the original's stream
// sequence, so dead-lettering the same message twice keeps one copy.
func (s *Sink) DeadLetter(ctx context.Context, msg jetstream.Msg, reason string) error {
	subject := events.RedactText(msg.Subject())
	out := nats.NewMsg(s.prefix + "." + subjectToken(msg.Subject(), subject))
	out.Data = events.Redact(msg.Data())
	for k, vs := range msg.Headers() {
		if strings.HasPrefix(k, "Nats-") {
			// JetStream publish controls (Nats-Expected-Stream, Nats-Rollup,
			// Nats-TTL…) were meant for the original publish; applied to
			// this one they can make it fail forever, and the consumer
			// would retry it forever.
			continue
		}
		if events.RedactText(k) != k {
			k = HeaderRedactedName
		}
		for _, v := range vs {
			out.Header.Add(k, events.RedactText(v))
		}
	}
	out.Header.Set(HeaderReason, events.RedactText(reason))
	out.Header.Set(HeaderOriginalSubject, subject)
	out.Header.Set(HeaderFailedAt, time.Now().UTC().Format(time.RFC3339Nano))
	if meta, err := msg.Metadata(); err == nil {
		out.Header.Set(HeaderDeliveries, strconv.FormatUint(meta.NumDelivered, 10))
		seq := strconv.FormatUint(meta.Sequence.Stream, 10)
		out.Header.Set(HeaderStreamSequence, seq)
		out.Header.Set(jetstream.MsgIDHeader, "deadletter/"+meta.Stream+"/"+seq)
	}
	if _, err := s.js.PublishMsg(ctx, out); err != nil {
		return fmt.Errorf("deadletter: publish: %w", err)
	}
	return nil
}
