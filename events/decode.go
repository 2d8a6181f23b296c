package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/back-trace/datamap/events/personal"
)

// MaxEventSize is the largest encoded event accepted, in bytes. An event is a
// few hundred bytes of metadata; anything near this limit is a mistake.
const MaxEventSize = 64 << 10

// SpecVersion is the only CloudEvents version datamap speaks.
const SpecVersion = "1.0"

// wireEvent is the structured-mode CloudEvent as it travels. Decoding into a
// struct (not a map) keeps the consumer's hot path cheap.
type wireEvent struct {
	SpecVersion     *string         `json:"specversion"`
	ID              *string         `json:"id"`
	Source          *string         `json:"source"`
	Type            *string         `json:"type"`
	Subject         string          `json:"subject,omitempty"`
	Time            string          `json:"time,omitempty"`
	DataContentType string          `json:"datacontenttype,omitempty"`
	DataSchema      string          `json:"dataschema,omitempty"`
	TraceParent     string          `json:"traceparent,omitempty"`
	TraceState      string          `json:"tracestate,omitempty"`
	Data            json.RawMessage `json:"data"`
	// Extensions are taken out of the document before it is decoded
	// strictly; see takeExtensions.
	Extensions map[string]string `json:"-"`
}

// wireEventDecoded is wireEvent with its payload decoded in the same pass:
// the fast path of Decode for well-formed events.
type wireEventDecoded struct {
	SpecVersion     *string   `json:"specversion"`
	ID              *string   `json:"id"`
	Source          *string   `json:"source"`
	Type            *string   `json:"type"`
	Subject         string    `json:"subject,omitempty"`
	Time            string    `json:"time,omitempty"`
	DataContentType string    `json:"datacontenttype,omitempty"`
	DataSchema      string    `json:"dataschema,omitempty"`
	TraceParent     string    `json:"traceparent,omitempty"`
	TraceState      string    `json:"tracestate,omitempty"`
	Data            *wireData `json:"data"`
}

// wireData is Data with a pointer count, to tell "absent" (means 1) from
// an explicit 0 (an error). Its outer count hides Data's for encoding/json.
type wireData struct {
	Data
	Count *int64 `json:"count"`
}

// The members of the envelope and their JSON types; the payload's are in
// Fields.
var envelopeTypes = map[string]FieldType{"specversion": String, "id": String, "source": String,
	"type": String, "subject": String, "time": String, "datacontenttype": String,
	"dataschema": String, "traceparent": String, "tracestate": String, "data": Object}

// Decode parses one structured-mode CloudEvent and validates it. The error,
// if any, is a *ValidationError listing every problem found.
func (v *Validator) Decode(raw []byte) (*Event, error) {
	var ps problems
	if len(raw) > v.maxSize {
		ps.add("", "event is %d bytes, over the %d-byte limit; events carry metadata about personal data, not the data", len(raw), v.maxSize)
		return nil, ps.err("")
	}
	// Fastest path: the plain form of a well-formed event, scanned by hand
	// (fastdecode.go) into what encoding/json would give. It returns only
	// valid events: an event with any problem is decoded again below, so
	// every error comes from the encoding/json path.
	if fast, ok := fastDecode(raw); ok {
		if ev, err := v.decodedOnePass(&fast); err == nil {
			return ev, nil
		}
	}
	return v.decodeReference(raw)
}

// decodeReference is Decode with encoding/json only: the reference the
// hand-written fast path is checked against.
func (v *Validator) decodeReference(raw []byte) (*Event, error) {
	// Fast path: envelope and payload in one strict pass. Anything it does
	// not take (a decoding error, no data, input where a second "data"
	// key could hide) goes the two-pass way, which explains every problem.
	var fast wireEventDecoded
	if onePassSafe(raw) && strictUnmarshal(raw, &fast) == nil && fast.Data != nil {
		return v.decodedOnePass(&fast)
	}
	return v.decodeTwoPass(raw)
}

// decodedOnePass checks an envelope decoded with its payload.
func (v *Validator) decodedOnePass(fast *wireEventDecoded) (*Event, error) {
	w := wireEvent{SpecVersion: fast.SpecVersion, ID: fast.ID, Source: fast.Source, Type: fast.Type,
		Subject: fast.Subject, Time: fast.Time, DataContentType: fast.DataContentType,
		DataSchema: fast.DataSchema, TraceParent: fast.TraceParent, TraceState: fast.TraceState}
	return v.decoded(&w, nil, func(ev *Event, ps *problems) { setData(ev, fast.Data, ps) })
}

// decodeTwoPass decodes the envelope, then the payload, so that it can
// name every problem of either.
func (v *Validator) decodeTwoPass(raw []byte) (*Event, error) {
	var ps problems
	var w wireEvent
	raw, w.Extensions = takeExtensions(raw, &ps)
	if err := strictUnmarshal(raw, &w); err != nil {
		shapeProblems(raw, "", envelopeTypes, err, &ps)
		return nil, ps.err(idOf(raw))
	}
	return v.decoded(&w, ps, func(ev *Event, ps *problems) { v.decodeData(w.Data, ev, ps) })
}

// onePassSafe reports whether the one-pass decoding gives exactly what the
// two-pass one would. The only difference is a repeated "data" key: the
// two-pass decoding keeps the last object, the one-pass merges them. So
// the input must name "data" once (in any ASCII case, as encoding/json
// matches names case-insensitively) and hold no \u escape, which could
// spell the name differently.
func onePassSafe(raw []byte) bool {
	if bytes.Contains(raw, []byte(`\u`)) {
		return false
	}
	n := 0
	for i := bytes.IndexByte(raw, '"'); i >= 0 && i+5 < len(raw); {
		if raw[i+5] == '"' && bytes.EqualFold(raw[i+1:i+5], []byte("data")) {
			n++
		}
		next := bytes.IndexByte(raw[i+1:], '"')
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return n == 1
}

// decoded checks a decoded envelope; data fills in the payload. ps holds
// the problems found so far.
func (v *Validator) decoded(w *wireEvent, ps problems, data func(*Event, *problems)) (*Event, error) {
	ev := &Event{DataSchema: w.DataSchema, TraceParent: w.TraceParent, TraceState: w.TraceState, Extensions: w.Extensions}
	if w.SpecVersion == nil {
		ps.add("specversion", "required; set it to %q", SpecVersion)
	} else if *w.SpecVersion != SpecVersion {
		ps.add("specversion", "%q is not supported; datamap speaks CloudEvents %q", *w.SpecVersion, SpecVersion)
	}
	if w.ID != nil {
		ev.ID = *w.ID
	}
	if w.Source != nil {
		ev.Source = *w.Source
	}
	if w.Type == nil || *w.Type == "" {
		ps.add("type", "required; one of %s", strings.Join(typeNames(), ", "))
	} else if k, ok := KindOfType(*w.Type); ok {
		ev.Kind = k
	} else {
		ps.add("type", "unknown type %q; one of %s", *w.Type, strings.Join(typeNames(), ", "))
	}
	if w.DataContentType != "" && w.DataContentType != "application/json" {
		ps.add("datacontenttype", "%q is not supported; use application/json", w.DataContentType)
	}
	if w.Time == "" {
		ps.add("time", "required: when the data was processed, RFC 3339, e.g. 2026-11-01T10:00:00Z")
	} else if t, err := time.Parse(time.RFC3339Nano, w.Time); err != nil {
		ps.add("time", "%q is not an RFC 3339 timestamp such as 2026-11-01T10:00:00Z", w.Time)
	} else {
		ev.Time = t.UTC()
		if ev.Time.IsZero() {
			checkTime(&ps, ev.Time, time.Now()) // 0001-01-01: check skips a zero time
		}
	}
	data(ev, &ps)
	if w.Subject != ev.Data.Category { // equal, it is checked as the category, a taxonomy key
		checkSubject(&ps, w.Subject)
	}
	if w.Subject != "" && ev.Data.Category != "" && w.Subject != ev.Data.Category {
		ps.add("subject", "%q differs from data.category %q; the subject is the data category", w.Subject, ev.Data.Category)
	}
	// What decoding found wrong is the problem of those fields; the checks
	// below would only add noise about them ("required" for a field that
	// is there but could not be read), and about the whole payload when
	// it could not be read at all.
	decodeProblems := len(ps)
	v.check(ev, &ps)
	ps = ps.withoutEchoes(decodeProblems)
	if err := ps.err(ev.ID); err != nil {
		return nil, err
	}
	return ev, nil
}

func (v *Validator) decodeData(raw json.RawMessage, ev *Event, ps *problems) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		ps.add("data", "required: a JSON object describing the data category, purpose and legal basis")
		return
	}
	if raw[0] != '{' {
		ps.add("data", "must be a JSON object, not %s", describeJSON(raw))
		return
	}
	var d wireData
	if err := strictUnmarshal(raw, &d); err != nil {
		shapeProblems(raw, "data.", dataTypes, err, ps)
		// Keep what can be read, so that the fields that are there are
		// checked, and not reported missing.
		if json.Unmarshal(raw, &d) != nil {
			var probe map[string]json.RawMessage
			if json.Unmarshal(raw, &probe) != nil {
				return // not even an object: nothing to check
			}
		}
	}
	setData(ev, &d, ps)
}

func setData(ev *Event, d *wireData, ps *problems) {
	ev.Data = d.Data
	ev.Data.Count = 1
	if d.Count != nil {
		ev.Data.Count = *d.Count
		if *d.Count < 1 && !ps.has("data.count") { // a count that could not be read is one mistake, said once
			ps.add("data.count", "%d records is not possible; count must be 1 or more (omit it for 1)", *d.Count)
		}
	}
}

func strictUnmarshal(raw []byte, into any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("unexpected data after the JSON value")
	}
	return nil
}

// shapeProblems explains why strict decoding failed, one problem per field,
// by looking at the document as a map. It runs only for bad input, so the
// good path never pays for it.
func shapeProblems(raw []byte, prefix string, fields map[string]FieldType, decodeErr error, ps *problems) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		if prefix == "" {
			ps.add("", "malformed JSON: %v", err)
		} else {
			ps.add(strings.TrimSuffix(prefix, "."), "malformed JSON: %v", err)
		}
		return
	}
	before := len(*ps)
	for _, name := range slices.Sorted(maps.Keys(m)) {
		want, known := fields[name]
		if !known {
			hint := ""
			if prefix == "" {
				hint = "; or an extension attribute, named with at most 20 lowercase letters and digits"
			}
			if kind := personal.Find(string(m[name])); kind != "" {
				hint += fmt.Sprintf("; its value looks like %s, and events describe personal data and must not contain it", kind.Describe())
			}
			ps.add(prefix+name, "unknown field; allowed: %s%s", strings.Join(slices.Sorted(maps.Keys(fields)), ", "), hint)
			continue
		}
		value := bytes.TrimSpace(m[name])
		if bytes.Equal(value, []byte("null")) {
			continue
		}
		if !hasKind(value, want) {
			ps.add(prefix+name, "must be %s, not %s", want, describeJSON(value))
			continue
		}
		if name == "recipient" {
			var r Recipient
			if err := strictUnmarshal(value, &r); err != nil {
				shapeProblems(value, prefix+"recipient.", recipientTypes, err, ps)
			}
		}
	}
	if len(*ps) == before {
		ps.add(strings.TrimSuffix(prefix, "."), "cannot be decoded: %v", decodeErr)
	}
}

func hasKind(value []byte, want FieldType) bool {
	switch want {
	case String:
		return value[0] == '"'
	case Object:
		return value[0] == '{'
	default:
		var n int64
		return json.Unmarshal(value, &n) == nil
	}
}

func describeJSON(value []byte) string {
	switch value[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "the number " + string(value)
	}
}

// idOf digs the id out of an event that failed to decode, so the error can
// name it.
func idOf(raw []byte) string {
	var probe struct {
		ID any `json:"id"`
	}
	if json.Unmarshal(raw, &probe) == nil {
		if s, ok := probe.ID.(string); ok {
			return s
		}
	}
	return ""
}

func typeNames() []string {
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = k.Type()
	}
	return names
}
