package events

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
)

// Redaction marks, one per kind of personal value the detectors know.
const (
	redactedEmail = "[redacted: e-mail]"
	redactedIP    = "[redacted: IP address]"
	redactedPhone = "[redacted: phone number]"
	redactedCard  = "[redacted: payment card number]"
)

// Redact returns raw with every personal value the detectors find replaced
// by a mark naming its kind, e.g. "[redacted: e-mail]". Whatever keeps a
// refused event — a dead letter, a log line, an error message — keeps it
// redacted: events must never carry personal data, and a refused one may.
// A JSON document is redacted string by string (names included), so that
// escapes cannot hide a value and the result stays JSON; anything else is
// redacted as text. raw itself is returned when nothing was found.
func Redact(raw []byte) []byte {
	if !mayHoldPersonal(string(raw)) && !bytes.Contains(raw, []byte(`\u`)) {
		return raw
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil || dec.More() {
		return []byte(RedactText(string(raw)))
	}
	changed := false
	doc = redactJSON(doc, &changed)
	if !changed {
		return raw
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return []byte(RedactText(string(raw)))
	}
	return out
}

func redactJSON(v any, changed *bool) any {
	switch v := v.(type) {
	case string:
		r := RedactText(v)
		if r != v {
			*changed = true
		}
		return r
	case []any:
		for i := range v {
			v[i] = redactJSON(v[i], changed)
		}
		return v
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			rk := RedactText(k)
			if rk != k {
				*changed = true
			}
			out[rk] = redactJSON(x, changed)
		}
		return out
	default:
		// A number cannot be redacted in place: a card number written as
		// a JSON number becomes a string mark.
		if n, ok := v.(json.Number); ok {
			if r := RedactText(n.String()); r != n.String() {
				*changed = true
				return r
			}
		}
		return v
	}
}

// mayHoldPersonal is a cheap pre-check: no '@', no IP separator and fewer
// digits than a phone number means nothing to redact.
func mayHoldPersonal(s string) bool {
	return strings.IndexByte(s, '@') >= 0 || strings.ContainsAny(s, ".:") || countDigits(s) >= minPhoneDigits
}

// RedactText replaces every personal value found in s by a mark naming its
// kind, e.g. "call [redacted: e-mail]".
func RedactText(s string) string {
	if !mayHoldPersonal(s) {
		return s
	}
	if strings.IndexByte(s, '@') >= 0 {
		s = emailPattern.ReplaceAllString(s, redactedEmail)
	}
	s = redactIPs(s)
	if countDigits(s) >= minCardDigits {
		s = redactCards(s)
	}
	if countDigits(s) >= minPhoneDigits {
		s = phonePattern.ReplaceAllString(s, redactedPhone)
	}
	return s
}

func redactIPs(s string) string {
	if !strings.ContainsAny(s, ".:") {
		return s
	}
	isIPChar := func(c byte) bool {
		return c == '.' || c == ':' || c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if !isIPChar(s[i]) {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := i
		for j < len(s) && isIPChar(s[j]) {
			j++
		}
		tok := s[i:j]
		if strings.Count(tok, ".") == 3 || strings.Count(tok, ":") >= 2 {
			if _, err := netip.ParseAddr(tok); err == nil {
				b.WriteString(redactedIP)
				i = j
				continue
			}
		}
		b.WriteString(tok)
		i = j
	}
	return b.String()
}

func redactCards(s string) string {
	locs := digitRun.FindAllStringIndex(s, -1)
	if len(locs) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, loc := range locs {
		if standsAlone(s, loc[0], loc[1]) && luhnValid(s[loc[0]:loc[1]]) {
			b.WriteString(s[last:loc[0]])
			b.WriteString(redactedCard)
			last = loc[1]
		}
	}
	b.WriteString(s[last:])
	return b.String()
}
