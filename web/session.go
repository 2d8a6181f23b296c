package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	"github.com/back-trace/datamap/api"
)

// Access is what a login may do.
type Access int

// Reader sees the data map and changes nothing (a read token); Writer may
// also use the writing routes (the API token, or the demo's one-time link).
// Subject sees the pages about people — a person's data, open requests,
// the audit trail — and nothing else (a subject token): subject references
// are personal data, and the map's pages need none of them. Neither of the
// others sees those pages.
const (
	Reader Access = iota + 1
	Writer
	Subject
)

func (a Access) String() string {
	switch a {
	case Writer:
		return "full access"
	case Subject:
		return "subject role"
	}
	return "read-only"
}

// Cookie names. The session cookie holds only a random session ID; the
// login cookie holds the login form's CSRF value (double submit).
const (
	sessionCookie = "datamap_session"
	loginCookie   = "datamap_login"
)

// oneTimeTTL bounds how long a one-time login link works.
const oneTimeTTL = 15 * time.Minute

// maxSessions bounds memory: past it, the oldest session is dropped.
const maxSessions = 10000

// session is one login. The CSRF token is per session and goes with every
// state-changing request, besides the same-origin check.
type session struct {
	access Access
	// name is the subject token's name, for the audit trail; "" for the
	// other roles.
	name    string
	csrf    string
	expires time.Time
	created time.Time
}

// sessions is the in-memory session store: a restart logs everyone out,
// which for a loopback tool is a feature, not a loss.
type sessions struct {
	mu       sync.Mutex
	byID     map[string]*session
	once     map[string]time.Time // one-time login codes and their expiry
	ttl      time.Duration
	tokens   []string           // full-access tokens
	readers  []string           // read-only tokens
	subjects []api.SubjectToken // the subject role's tokens
	now      func() time.Time
}

func newSessions(ttl time.Duration, full string, readers []string, subjects []api.SubjectToken) *sessions {
	var tokens []string
	if full != "" {
		tokens = []string{full}
	}
	return &sessions{byID: map[string]*session{}, once: map[string]time.Time{}, ttl: ttl,
		tokens: tokens, readers: readers, subjects: subjects, now: time.Now}
}

// accessOf returns what a token opens, 0 for none, and for a subject token
// its name. Every candidate is compared in constant time, so timing tells
// neither which one matched nor how much of one.
func (s *sessions) accessOf(token string) (Access, string) {
	if token == "" {
		return 0, ""
	}
	var full, read, subject int
	name := ""
	for _, t := range s.tokens {
		full |= subtle.ConstantTimeCompare([]byte(token), []byte(t))
	}
	for _, t := range s.readers {
		read |= subtle.ConstantTimeCompare([]byte(token), []byte(t))
	}
	for _, t := range s.subjects {
		if t.Token == "" {
			continue
		}
		if subtle.ConstantTimeCompare([]byte(token), []byte(t.Token)) == 1 {
			subject, name = 1, t.Name
		}
	}
	switch {
	case full == 1:
		return Writer, ""
	case read == 1:
		return Reader, ""
	case subject == 1:
		return Subject, name
	}
	return 0, ""
}

// create starts a session and returns its ID; name is the subject token's
// name, "" for the other roles.
func (s *sessions) create(a Access, name string) (string, *session) {
	id, csrf := randomString(), randomString()
	now := s.now()
	sess := &session{access: a, name: name, csrf: csrf, created: now, expires: now.Add(s.ttl)}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.byID {
		if !now.Before(v.expires) {
			delete(s.byID, k)
		}
	}
	if len(s.byID) >= maxSessions {
		var oldest string
		for k, v := range s.byID {
			if oldest == "" || v.created.Before(s.byID[oldest].created) {
				oldest = k
			}
		}
		delete(s.byID, oldest)
	}
	s.byID[id] = sess
	return id, sess
}

// lookup returns the live session a request carries, or nil. present says
// whether it carried a session cookie at all (expired or not).
func (s *sessions) lookup(r *http.Request) (sess *session, present bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess = s.byID[c.Value]
	if sess == nil {
		return nil, true
	}
	if !s.now().Before(sess.expires) {
		delete(s.byID, c.Value)
		return nil, true
	}
	return sess, true
}

// end deletes the request's session.
func (s *sessions) end(r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.mu.Lock()
		delete(s.byID, c.Value)
		s.mu.Unlock()
	}
}

// oneTime returns a new one-time login code.
func (s *sessions) oneTime() string {
	code := randomString()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.once[code] = s.now().Add(oneTimeTTL)
	return code
}

// redeem uses up a one-time code; it reports whether it was valid.
func (s *sessions) redeem(code string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.once[code]
	delete(s.once, code)
	return ok && s.now().Before(exp)
}

// Admit reports whether the request carries a live session of the read
// role (a read or full-access login); the API's read routes consult it
// (api.Sessions). A subject login is not admitted: it opens the pages
// about people, not the data map's answers.
func (s *sessions) Admit(r *http.Request) bool {
	sess, _ := s.lookup(r)
	return sess != nil && (sess.access == Reader || sess.access == Writer)
}

// validCSRF compares a submitted CSRF token with the expected one.
func validCSRF(got, want string) bool {
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// secureCookies reports whether cookies must be Secure: the request came
// over TLS, directly or through a proxy that terminated it.
func secureCookies(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value, path string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: path, MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secureCookies(r)})
}

func clearCookie(w http.ResponseWriter, r *http.Request, name, path string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: path, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secureCookies(r)})
}
