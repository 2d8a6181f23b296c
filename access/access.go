// Package access says who may do what on datamap's HTTP surfaces: the
// roles, the credentials that carry them, and the one place a presented
// secret is matched against them.
//
// The configuration (package config) produces the Credentials; the API,
// the web data map, the HTTP ingest and /metrics each ask Match which
// credential a caller presents, and decide by its Role.
package access

import (
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"
)

// Role is what a credential opens.
type Role int

const (
	// Ingest publishes events through POST /v1/events, and nothing else
	// (DATAMAP_INGEST_TOKENS).
	Ingest Role = iota + 1
	// Read opens the catalog's answers: the API's question routes and the
	// web data map (DATAMAP_READ_TOKENS).
	Read
	// Full opens what Read opens, the writing routes (replaying dead
	// letters) and ingest (DATAMAP_API_TOKEN, or the generated api-token).
	Full
	// Subject opens the questions about a person and the audit trail,
	// and nothing else; each asking is audited under the credential's
	// name (DATAMAP_SUBJECT_TOKENS).
	Subject
	// Metrics opens GET /metrics (DATAMAP_METRICS_TOKEN).
	Metrics
)

// String is the role's name, as messages and logs say it.
func (r Role) String() string {
	switch r {
	case Ingest:
		return "ingest"
	case Read:
		return "read"
	case Full:
		return "full"
	case Subject:
		return "subject"
	case Metrics:
		return "metrics"
	}
	return "none"
}

// Reads reports whether the role opens the catalog's answers: Read, and
// Full, which opens everything Read does.
func (r Role) Reads() bool { return r == Read || r == Full }

// Credential is a secret that carries a role. Name is what the catalog
// records of it, never the secret: the audit trail for a subject
// credential, the credential column of every event an ingest credential
// brings ("" for the other roles).
type Credential struct {
	Role   Role
	Name   string
	Secret string
	// Sources are the emitting systems an ingest credential may speak
	// for; the zero value means any (the API token, and ingest tokens of
	// the old unnamed form). Only the ingest reads it.
	Sources Sources
}

// SpeaksFor reports whether the credential may send events whose source is
// source.
func (c Credential) SpeaksFor(source string) bool {
	return c.Sources.Any() || slices.Contains(c.Sources.List(), source)
}

// Sources is a set of source names. It is comparable, as a Credential is
// (sessions compare them); the zero value is any source.
type Sources struct {
	joined string // the names, each followed by '\n', which no source holds
}

// SourcesOf is the set of the names given; none gives any source.
func SourcesOf(names ...string) Sources {
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte('\n')
	}
	return Sources{joined: b.String()}
}

// Any reports whether the set allows every source.
func (s Sources) Any() bool { return s.joined == "" }

// List returns the names, nil for any source.
func (s Sources) List() []string {
	if s.joined == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s.joined, "\n"), "\n")
}

// Credentials are every credential a server accepts.
type Credentials []Credential

// Match returns the credential whose secret equals secret. Every secret
// is compared, in constant time, so timing reveals neither which one
// matched nor how much of one. An empty secret matches nothing, and
// credentials with an empty secret are never matched, so an unset setting
// opens nothing. When one secret carries several roles the first
// credential in the list wins.
func (cs Credentials) Match(secret string) (Credential, bool) {
	var found Credential
	matched := 0
	for _, c := range cs {
		if c.Secret == "" {
			continue
		}
		eq := subtle.ConstantTimeCompare([]byte(secret), []byte(c.Secret))
		if eq == 1 && matched == 0 {
			found = c
		}
		matched |= eq
	}
	if secret == "" || matched == 0 {
		return Credential{}, false
	}
	return found, true
}

// Bearer matches the request's "Authorization: Bearer <secret>".
func (cs Credentials) Bearer(r *http.Request) (Credential, bool) {
	secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return Credential{}, false
	}
	return cs.Match(secret)
}

// Only returns the credentials of the given roles.
func (cs Credentials) Only(roles ...Role) Credentials {
	var out Credentials
	for _, c := range cs {
		for _, r := range roles {
			if c.Role == r {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// Has reports whether some credential of the role has a secret.
func (cs Credentials) Has(role Role) bool {
	for _, c := range cs {
		if c.Role == role && c.Secret != "" {
			return true
		}
	}
	return false
}
