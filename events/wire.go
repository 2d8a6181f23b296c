package events

import (
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/trace"
)

// AppendEvent appends ev in the v1 wire format to b, as Encode renders it,
// without reflection: the SDK's pump encodes every event, so this is on
// the throughput path. TestAppendEventMatchesEncode keeps the two
// identical after decoding. The traceparent and tracestate come from sc
// when it is valid, else from ev. ev is not validated.
func AppendEvent(b []byte, ev *Event, sc trace.SpanContext) []byte {
	b = append(b, `{"specversion":"1.0","id":`...)
	b = appendString(b, ev.ID)
	b = append(b, `,"source":`...)
	b = appendString(b, ev.Source)
	b = append(b, `,"type":"`...)
	b = append(b, typePrefix...)
	b = append(b, ev.Kind...)
	b = append(b, `.v1","subject":`...)
	b = appendString(b, ev.Data.Category)
	b = append(b, `,"time":"`...)
	b = ev.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","datacontenttype":"application/json"`...)
	if sc.IsValid() {
		b = append(b, `,"traceparent":"`...)
		b = appendTraceParent(b, sc)
		b = append(b, '"')
		if ts := sc.TraceState(); ts.Len() > 0 {
			b = append(b, `,"tracestate":`...)
			b = appendString(b, ts.String())
		}
	} else if ev.TraceParent != "" {
		b = append(b, `,"traceparent":`...)
		b = appendString(b, ev.TraceParent)
		if ev.TraceState != "" {
			b = append(b, `,"tracestate":`...)
			b = appendString(b, ev.TraceState)
		}
	}
	b = append(b, `,"data":`...)
	b = appendData(b, &ev.Data)
	return append(b, '}')
}

// appendData appends the payload, its members in the order of Fields;
// empty ones are left out unless they are Always written, as Data's
// omitempty tags say for Encode.
func appendData(b []byte, d *Data) []byte {
	b = append(b, '{')
	n := 0
	for _, f := range dataFields {
		switch f.Type {
		case String:
			v := *f.str(d)
			if v == "" && !f.Always {
				continue
			}
			b = appendString(appendKey(b, n, f.Key), v)
		case Integer: // count, the only one (TestFieldList)
			b = strconv.AppendInt(appendKey(b, n, f.Key), d.Count, 10)
		case Object: // recipient, the only one
			if d.Recipient == nil {
				continue
			}
			b = appendRecipient(appendKey(b, n, f.Key), d.Recipient)
		}
		n++
	}
	return append(b, '}')
}

func appendRecipient(b []byte, r *Recipient) []byte {
	b = append(b, '{')
	n := 0
	for _, f := range recipientFields {
		v := *f.recipient(r)
		if v == "" && !f.Always {
			continue
		}
		b = appendString(appendKey(b, n, f.Name()), v)
		n++
	}
	return append(b, '}')
}

// appendKey appends the n-th key of an object; keys are plain ASCII names
// (TestFieldList), so they need no escaping.
func appendKey(b []byte, n int, key string) []byte {
	if n > 0 {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

// TraceParent renders a span context as a W3C traceparent header value.
func TraceParent(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return ""
	}
	return string(appendTraceParent(nil, sc))
}

func appendTraceParent(b []byte, sc trace.SpanContext) []byte {
	tid, sid := sc.TraceID(), sc.SpanID()
	b = append(b, "00-"...)
	b = hex.AppendEncode(b, tid[:])
	b = append(b, '-')
	b = hex.AppendEncode(b, sid[:])
	if sc.IsSampled() {
		return append(b, "-01"...)
	}
	return append(b, "-00"...)
}

// appendString appends s as a JSON string, escaped as encoding/json does.
func appendString(b []byte, s string) []byte {
	simple := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= utf8.RuneSelf {
			simple = false
			break
		}
	}
	if simple {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	q, _ := json.Marshal(s) // rare: values are taxonomy keys and names
	return append(b, q...)
}
