package personal

import "strings"

// Redact replaces every personal value in s by a mark naming its kind,
// e.g. "call [redacted: e-mail]". A value Find sees only once unveiled or
// decoded (full-width, percent-encoded, base64) has no place in s to be
// cut out of: then the whole of s becomes the mark. Whatever Redact
// returns, Find finds nothing in it.
func Redact(s string) string {
	if len(s) < minLen {
		return s
	}
	out := s
	if strings.IndexByte(out, '@') >= 0 {
		out = emailPattern.ReplaceAllString(out, Email.mark())
	}
	out = replaceAll(out, IP, func(s string, from int) (int, int) { return nextIP(s, from) })
	out = replaceAll(out, IBAN, nextIBAN)
	out = replaceNumbers(out)
	if k := Find(out); k != "" {
		return k.mark()
	}
	return out
}

// replaceAll replaces each span next finds by kind's mark.
func replaceAll(s string, kind Kind, next func(s string, from int) (int, int)) string {
	var b strings.Builder
	last := 0
	for from := 0; from < len(s); {
		start, end := next(s, from)
		if start < 0 {
			break
		}
		b.WriteString(s[last:start])
		b.WriteString(kind.mark())
		last, from = end, end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func replaceNumbers(s string) string {
	var b strings.Builder
	last := 0
	for from := 0; from < len(s); {
		kind, start, end := nextNumber(s, from)
		if kind == "" {
			break
		}
		b.WriteString(s[last:start])
		b.WriteString(kind.mark())
		last, from = end, end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}
