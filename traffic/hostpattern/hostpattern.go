// Package hostpattern matches network host names against the patterns a
// registry recipient or a vendor lists under hosts:. A pattern is either a
// host name ("api.stripe.com"), which matches that host only, or a
// wildcard ("*.stripe.com"), which matches every host below stripe.com
// however many labels deep ("a.b.stripe.com") but not stripe.com itself.
// Matching is case-insensitive and ignores a trailing dot.
package hostpattern

import (
	"fmt"
	"strings"
)

// Check says what is wrong with a pattern, or "" when nothing is. It is
// what a registry's and a vendor catalogue's parsers run on hosts: entries.
func Check(pattern string) string {
	p := strings.TrimSuffix(strings.ToLower(pattern), ".")
	base, wildcard := strings.CutPrefix(p, "*.")
	switch {
	case p == "":
		return "is empty; write a host such as api.example.com or *.example.com"
	case strings.Contains(base, "*"):
		return fmt.Sprintf("%q: only a leading *. is allowed, as in *.example.com", pattern)
	case strings.ContainsAny(p, "/:@?#"):
		return fmt.Sprintf("%q is not a host name: write the host alone, without scheme, port or path", pattern)
	case wildcard && !strings.Contains(base, "."):
		return fmt.Sprintf("%q would match a whole top-level domain; name the organisation's domain, as in *.example.com", pattern)
	}
	for _, label := range strings.Split(base, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Sprintf("%q has an empty or over-long label", pattern)
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Sprintf("%q: a label may hold letters, digits, - and _ (write an international name in its xn-- form)", pattern)
			}
		}
	}
	return ""
}

// Table finds, for a host, the value of the most specific pattern that
// matches it: an exact host first, then the wildcard with the longest
// suffix, so that *.eu-west-1.amazonaws.com wins over *.amazonaws.com.
// A lookup costs one map access per label of the host. The zero value is
// empty; a Table is not safe for concurrent Add, but is for Lookup once
// filled.
type Table[V any] struct {
	exact  map[string]V
	suffix map[string]V // "stripe.com" for *.stripe.com
}

// Add registers a pattern. Patterns are expected to have passed Check. A
// pattern already present keeps its first value, so that the earlier
// source (the registry before the vendor catalogue) wins.
func (t *Table[V]) Add(pattern string, v V) {
	if t.exact == nil {
		t.exact, t.suffix = map[string]V{}, map[string]V{}
	}
	p := strings.TrimSuffix(strings.ToLower(pattern), ".")
	m := t.exact
	if base, ok := strings.CutPrefix(p, "*."); ok {
		m, p = t.suffix, base
	}
	if _, dup := m[p]; !dup {
		m[p] = v
	}
}

// Len is the number of patterns.
func (t *Table[V]) Len() int { return len(t.exact) + len(t.suffix) }

// Lookup returns the value of the most specific pattern matching host,
// which must already be lower case without a trailing dot (see
// traffic.NormalizeHost).
func (t *Table[V]) Lookup(host string) (V, bool) {
	if v, ok := t.exact[host]; ok {
		return v, true
	}
	for i := strings.IndexByte(host, '.'); i >= 0; {
		if v, ok := t.suffix[host[i+1:]]; ok {
			return v, true
		}
		next := strings.IndexByte(host[i+1:], '.')
		if next < 0 {
			break
		}
		i += 1 + next
	}
	var zero V
	return zero, false
}
