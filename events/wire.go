package events

import (
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
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
	b = append(b, `.v1"`...)
	// subject is the data category; consent and request events have none.
	b = appendOptional(b, `,"subject":`, ev.Data.Category)
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
	if len(ev.Extensions) > 0 {
		b = appendExtensions(b, ev.Extensions)
	}
	// The payload, member by member in the order of Fields, written out
	// rather than read through Fields' accessors: calls through them would
	// move ev to the heap, an allocation per event on the SDK's pump.
	// TestFieldList encodes every field and decodes it back.
	d := &ev.Data
	b = append(b, `,"data":{`...)
	if d.Category != "" {
		b = append(b, `"category":`...)
		b = appendString(b, d.Category)
		b = append(b, ',')
	}
	b = append(b, `"data_subject":`...)
	b = appendString(b, d.DataSubject)
	b = appendOptional(b, `,"purpose":`, d.Purpose)
	b = appendOptional(b, `,"legal_basis":`, d.LegalBasis)
	b = appendOptional(b, `,"special_condition":`, d.SpecialCondition)
	b = appendOptional(b, `,"retention":`, d.Retention)
	b = appendOptional(b, `,"origin":`, d.Origin)
	b = appendOptional(b, `,"location":`, d.Location)
	b = appendOptional(b, `,"activity":`, d.Activity)
	if r := d.Recipient; r != nil {
		b = append(b, `,"recipient":{"name":`...)
		b = appendString(b, r.Name)
		b = append(b, `,"role":`...)
		b = appendString(b, r.Role)
		b = append(b, `,"country":`...)
		b = appendString(b, r.Country)
		b = appendOptional(b, `,"safeguard":`, r.Safeguard)
		b = appendOptional(b, `,"contract":`, r.Contract)
		b = append(b, '}')
	}
	b = appendOptional(b, `,"reason":`, d.Reason)
	b = appendOptional(b, `,"subject_ref":`, d.SubjectRef)
	b = appendOptional(b, `,"right":`, d.Right)
	b = appendOptional(b, `,"channel":`, d.Channel)
	b = appendOptional(b, `,"grounds":`, d.Grounds)
	b = append(b, `,"count":`...)
	b = strconv.AppendInt(b, d.Count, 10)
	return append(b, "}}"...)
}

// appendExtensions writes the extension attributes as string members, in
// name order. Rare (events relayed through ingest), so not allocation-free.
func appendExtensions(b []byte, exts map[string]string) []byte {
	for _, name := range slices.Sorted(maps.Keys(exts)) {
		b = append(b, ',')
		b = appendString(b, name)
		b = append(b, ':')
		b = appendString(b, exts[name])
	}
	return b
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

func appendOptional(b []byte, key, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, key...)
	return appendString(b, value)
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
