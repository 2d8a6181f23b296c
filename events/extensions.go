package events

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
)

// Limits on CloudEvents extension attributes. Brokers and relays add a few
// (Knative, Dapr, partitionkey); more, or longer ones, are a mistake.
const (
	MaxExtensions         = 20
	MaxExtensionNameLen   = 20 // the CloudEvents spec's advice
	MaxExtensionValueSize = maxText
)

// IsExtensionName reports whether name follows the CloudEvents naming rules
// for attributes: 1 to 20 lowercase ASCII letters and digits.
func IsExtensionName(name string) bool {
	if name == "" || len(name) > MaxExtensionNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// takeExtensions takes the extension attributes — top-level members that
// are not CloudEvents or datamap attributes and are named by the
// CloudEvents rules — out of a structured-mode document, and returns the
// document without them. A string, number or boolean value is kept in its
// JSON text form (a string unquoted); null means absent; an object or an
// array is a problem. Names that break the rules stay in the document, for
// the strict decoding to name as unknown fields.
func takeExtensions(raw []byte, ps *problems) ([]byte, map[string]string) {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return raw, nil // malformed: the strict decoding explains it
	}
	var exts map[string]string
	taken := false
	for _, name := range slices.Sorted(maps.Keys(m)) {
		if _, known := envelopeTypes[name]; known || !IsExtensionName(name) {
			continue
		}
		value := bytes.TrimSpace(m[name])
		delete(m, name)
		taken = true
		var text string
		switch {
		case bytes.Equal(value, []byte("null")):
			continue
		case value[0] == '"':
			if json.Unmarshal(value, &text) != nil {
				ps.add(name, "extension attribute: malformed JSON string")
				continue
			}
		case value[0] == '{' || value[0] == '[':
			ps.add(name, "extension attribute must be a string, number or boolean, not %s", describeJSON(value))
			continue
		default:
			text = string(value)
		}
		if exts == nil {
			exts = map[string]string{}
		}
		exts[name] = text
	}
	if len(exts) > MaxExtensions {
		ps.add("", "%d extension attributes; at most %d: strip the ones the catalog does not need before relaying", len(exts), MaxExtensions)
	}
	if !taken {
		return raw, nil
	}
	rest, err := json.Marshal(m)
	if err != nil {
		return raw, nil
	}
	return rest, exts
}

// checkExtensions checks extension values as free text: bounded, no
// control characters, no personal data; and their names, which are kept
// as keys, for personal data too (sixteen digits make a valid name).
func checkExtensions(ps *problems, exts map[string]string) {
	for _, name := range slices.Sorted(maps.Keys(exts)) {
		value := exts[name]
		lookPersonal(ps, name, name)
		checkText(ps, name, value, false) // at most MaxExtensionValueSize bytes
		lookPersonal(ps, name, value)
	}
}
