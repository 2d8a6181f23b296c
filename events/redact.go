package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/back-trace/datamap/events/personal"
)

// Redact returns raw with every personal value found replaced by a mark
// naming its kind, e.g. "[redacted: e-mail]". Whatever keeps a refused
// event — a dead letter, a log line, an error message — keeps it
// redacted: events must never carry personal data, and a refused one may.
//
// A JSON document is redacted string by string, names included, so that
// escapes cannot hide a value, and written out again: what is kept is
// exactly what was checked, and a repeated member ({"source":"ann@…",
// "source":"x"}), which a decoder would read as its last value, is kept
// redacted like any other. Anything that is not one JSON value is redacted
// as text. raw itself is returned when nothing was found.
func Redact(raw []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tokens, ok := redactTokens(dec)
	if !ok {
		return []byte(RedactText(string(raw)))
	}
	if !tokens.changed {
		return raw
	}
	return tokens.out.Bytes()
}

// redactedDoc is a JSON document rewritten token by token.
type redactedDoc struct {
	out     bytes.Buffer
	changed bool
}

// redactTokens rewrites the document dec reads, token by token: unlike
// decoding into a map, it keeps every member, repeated ones included.
func redactTokens(dec *json.Decoder) (*redactedDoc, bool) {
	var doc redactedDoc
	// Per open container: whether it is an object, and whether the next
	// string in it is a member name; whether a comma is due.
	type level struct{ object, name, comma bool }
	var stack []level
	separate := func() {
		if n := len(stack); n > 0 {
			top := &stack[n-1]
			if top.comma && (!top.object || top.name) {
				doc.out.WriteByte(',')
			}
		}
	}
	after := func() {
		if n := len(stack); n > 0 {
			top := &stack[n-1]
			if top.object {
				if top.name {
					doc.out.WriteByte(':')
					top.name = false
					return
				}
				top.name = true
			}
			top.comma = true
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) && len(stack) == 0 && doc.out.Len() > 0 {
				return &doc, true
			}
			return nil, false
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				separate()
				doc.out.WriteByte(byte(t))
				stack = append(stack, level{object: t == '{', name: t == '{'})
			default:
				if len(stack) == 0 {
					return nil, false
				}
				stack = stack[:len(stack)-1]
				doc.out.WriteByte(byte(t))
				after()
			}
			continue
		case string:
			separate()
			r := RedactText(t)
			if r != t {
				doc.changed = true
			}
			b, _ := json.Marshal(r)
			doc.out.Write(b)
		case json.Number:
			separate()
			// A card number written as a JSON number becomes a string mark.
			if r := RedactText(t.String()); r != t.String() {
				doc.changed = true
				b, _ := json.Marshal(r)
				doc.out.Write(b)
			} else {
				doc.out.WriteString(t.String())
			}
		case bool:
			separate()
			if t {
				doc.out.WriteString("true")
			} else {
				doc.out.WriteString("false")
			}
		case nil:
			separate()
			doc.out.WriteString("null")
		}
		after()
		if len(stack) == 0 && dec.More() {
			return nil, false // more than one value: text
		}
	}
}

// RedactText replaces every personal value found in s by a mark naming its
// kind, e.g. "call [redacted: e-mail]".
func RedactText(s string) string { return personal.Redact(s) }
