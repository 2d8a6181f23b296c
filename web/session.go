package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	"github.com/back-trace/datamap/access"
)

// A login carries the role of the credential it logged in with (package
// access): read sees the data map and changes nothing; full may also use
// the writing routes (the API token, or the demo's one-time link);
// subject sees the pages about people — a person's data, open requests,
// the audit trail — and nothing else: subject references are personal
// data, and the map's pages need none of them. Neither of the others sees
// those pages.

// roleLabel is how the pages name a login's role.
func roleLabel(r access.Role) string {
	switch r {
	case access.Full:
		return "full access"
	case access.Subject:
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

// maxSessionsPerCredential bounds the sessions one credential may hold:
// past it, that credential's oldest session is dropped. The bound is per
// credential so that logging in over and over with one token ends only
// that token's sessions, never another's; memory stays bounded by the
// number of credentials the server accepts.
const maxSessionsPerCredential = 100

// session is one login. The CSRF token is per session and goes with every
// state-changing request, besides the same-origin check.
type session struct {
	role access.Role
	// name is the subject token's name, for the audit trail; "" for the
	// other roles.
	name    string
	csrf    string
	expires time.Time
	// created orders sessions by creation, which timestamps may not
	// (several in one clock tick).
	created uint64
	// owner identifies the credential logged in with (a hash of it, never
	// the secret); all one-time links share one owner.
	owner string
}

// sessions is the in-memory session store: a restart logs everyone out,
// which for a loopback tool is a feature, not a loss.
type sessions struct {
	mu   sync.Mutex
	byID map[string]*session
	once map[string]oneTimeCode // one-time login codes
	ttl  time.Duration
	// created counts the sessions created, to order them.
	created uint64
	logins  access.Credentials // the credentials a login may use: full, read and subject
	now     func() time.Time
}

func newSessions(ttl time.Duration, creds access.Credentials) *sessions {
	return &sessions{byID: map[string]*session{}, once: map[string]oneTimeCode{}, ttl: ttl,
		logins: creds.Only(access.Full, access.Read, access.Subject), now: time.Now}
}

// create starts a session of the credential c and returns its ID.
func (s *sessions) create(c access.Credential) (string, *session) {
	id, csrf := randomString(), randomString()
	now := s.now()
	sess := &session{role: c.Role, name: c.Name, csrf: csrf, expires: now.Add(s.ttl), owner: ownerOf(c)}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.created++
	sess.created = s.created
	var oldest string
	held := 0
	for k, v := range s.byID {
		switch {
		case !now.Before(v.expires):
			delete(s.byID, k)
		case v.owner == sess.owner:
			held++
			if oldest == "" || v.created < s.byID[oldest].created {
				oldest = k
			}
		}
	}
	if held >= maxSessionsPerCredential {
		delete(s.byID, oldest)
	}
	s.byID[id] = sess
	return id, sess
}

// ownerOf names a credential's sessions without keeping its secret.
func ownerOf(c access.Credential) string {
	sum := sha256.Sum256([]byte(c.Role.String() + "\x00" + c.Name + "\x00" + c.Secret))
	return string(sum[:])
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

// oneTimeCode is what a one-time login code opens, until when.
type oneTimeCode struct {
	login   access.Credential
	expires time.Time
}

// oneTime returns a new one-time login code for login.
func (s *sessions) oneTime(login access.Credential) string {
	code := randomString()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.once[code] = oneTimeCode{login, s.now().Add(oneTimeTTL)}
	return code
}

// redeem uses up a one-time code; it returns what the code opens and
// whether it was valid.
func (s *sessions) redeem(code string) (access.Credential, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.once[code]
	delete(s.once, code)
	if !ok || !s.now().Before(c.expires) {
		return access.Credential{}, false
	}
	return c.login, true
}

// Credential returns the credential of the request's live session (its
// role, and for a subject login its name), for the API's read routes
// (api.Sessions). The API admits only the roles that read: a subject
// login opens the pages about people, not the data map's answers.
func (s *sessions) Credential(r *http.Request) (access.Credential, bool) {
	sess, _ := s.lookup(r)
	if sess == nil {
		return access.Credential{}, false
	}
	return access.Credential{Role: sess.role, Name: sess.name}, true
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
