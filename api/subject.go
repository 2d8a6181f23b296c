package api

import (
	"net/http"

	"github.com/back-trace/datamap/access"
	"github.com/back-trace/datamap/questions"
)

// subjectOnly admits the subject role's bearer tokens and says who asks,
// for the audit trail. A read, full-access or ingest token gets 403 naming
// the role it needs; anything else 401. No answer is kept by a browser or
// a proxy: it names a person.
func (s *Server) subjectOnly(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		c, ok := s.credentials.Bearer(r)
		switch {
		case ok && c.Role == access.Subject:
			ctx := questions.WithAsker(r.Context(), questions.Asker{Who: c.Name, Surface: "api"})
			ctx = questions.WithRegistry(ctx, s.evidence.Registry) // the statement's declared parts
			h(w, r.WithContext(ctx))
		case ok && (c.Role.Reads() || c.Role == access.Ingest):
			writeError(w, http.StatusForbidden, "this question is about a person: it needs the subject role, a token from DATAMAP_SUBJECT_TOKENS; read, ingest and full-access tokens cannot ask it")
		default:
			w.Header().Set("WWW-Authenticate", `Bearer realm="datamap"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token; subject questions need 'Authorization: Bearer <token>' with a token from DATAMAP_SUBJECT_TOKENS")
		}
	})
}
