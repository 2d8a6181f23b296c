package api

import (
	"net/http"

	"github.com/back-trace/datamap/access"
)

// Sessions finds the credential of a browser logged in to the web data
// map, which sends a session cookie instead of a bearer token. Only the
// read routes consult it, and admit a session whose role reads.
type Sessions interface {
	Credential(r *http.Request) (access.Credential, bool)
}

// readable admits the read role: a read or full-access bearer token, or a
// web session of one (matched in constant time by package access).
func (s *Server) readable(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.sessions != nil && r.Header.Get("Authorization") == "" {
			if c, ok := s.sessions.Credential(r); ok && c.Role.Reads() {
				h(w, r)
				return
			}
		}
		c, ok := s.credentials.Bearer(r)
		switch {
		case ok && c.Role.Reads():
			h(w, r)
		case ok && c.Role == access.Subject:
			writeError(w, http.StatusForbidden, "a subject token opens only the subject questions (/api/v1/subject/…, /api/v1/audit); this route needs the read role: DATAMAP_API_TOKEN or one of DATAMAP_READ_TOKENS")
		default:
			w.Header().Set("WWW-Authenticate", `Bearer realm="datamap"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token; send 'Authorization: Bearer <token>' (DATAMAP_API_TOKEN, the api-token file in the data directory, or one of DATAMAP_READ_TOKENS)")
		}
	})
}
