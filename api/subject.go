package api

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/back-trace/datamap/internal/bearer"
	"github.com/back-trace/datamap/questions"
)

// SubjectToken is a bearer token of the subject role and the name the
// audit trail records for it.
type SubjectToken struct {
	Name, Token string
}

// subjectTokens are the subject role's tokens.
type subjectTokens []SubjectToken

// match returns the name of the subject token r carries. Every token is
// compared, in constant time, so timing reveals neither which matched nor
// how much of one.
func (ts subjectTokens) match(r *http.Request) (string, bool) {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || got == "" {
		return "", false
	}
	name, found := "", 0
	for _, t := range ts {
		if t.Token == "" {
			continue
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(t.Token)) == 1 {
			name, found = t.Name, 1
		}
	}
	return name, found == 1
}

// WithSubjectTokens sets the subject role's tokens: they open the subject
// questions (a person's data, open requests, the audit trail), which no
// other token opens, and nothing else. Each asking is audited under the
// token's name.
func (s *Server) WithSubjectTokens(tokens []SubjectToken) *Server {
	s.subjects = subjectTokens(tokens)
	return s
}

// WithIngestTokens names the ingest role's tokens, so that the API can
// tell a caller with one that it has the wrong role (403) rather than no
// token (401). They open nothing here.
func (s *Server) WithIngestTokens(tokens []string) *Server {
	s.ingest = bearer.New(tokens...)
	return s
}

// subjectOnly admits the subject tokens and says who asks, for the audit
// trail. A read, full-access or ingest token gets 403 naming the role it
// needs; anything else 401.
func (s *Server) subjectOnly(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := s.subjects.match(r)
		switch {
		case ok:
			ctx := questions.WithAsker(r.Context(), questions.Asker{Who: name, Surface: "api"})
			h(w, r.WithContext(ctx))
		case s.readers.Allows(r) || s.ingest.Allows(r):
			writeError(w, http.StatusForbidden, "this question is about a person: it needs the subject role, a token from DATAMAP_SUBJECT_TOKENS; read, ingest and full-access tokens cannot ask it")
		default:
			w.Header().Set("WWW-Authenticate", `Bearer realm="datamap"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token; subject questions need 'Authorization: Bearer <token>' with a token from DATAMAP_SUBJECT_TOKENS")
		}
	})
}
