// Package bearer checks the bearer token of an HTTP request against the
// tokens a route accepts. The query API and the ingest endpoint both use
// it, each with the tokens of its own role.
package bearer

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// Tokens are the bearer tokens a route accepts. The zero value accepts
// nothing.
type Tokens struct{ accepted [][]byte }

// New accepts the given tokens. Empty tokens are dropped, so an unset
// setting never opens a route.
func New(tokens ...string) Tokens {
	var ts Tokens
	for _, t := range tokens {
		if t != "" {
			ts.accepted = append(ts.accepted, []byte(t))
		}
	}
	return ts
}

// Len is how many tokens are accepted.
func (ts Tokens) Len() int { return len(ts.accepted) }

// Allows reports whether r carries "Authorization: Bearer <token>" with an
// accepted token. Every accepted token is compared, in constant time, so
// timing reveals neither which token matched nor how much of one.
func (ts Tokens) Allows(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || got == "" {
		return false
	}
	match := 0
	for _, t := range ts.accepted {
		match |= subtle.ConstantTimeCompare([]byte(got), t)
	}
	return match == 1
}
