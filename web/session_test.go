package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/back-trace/datamap/access"
	"github.com/back-trace/datamap/questions"
)

func requestWith(cookie string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
	}
	return r
}

func TestSessionExpires(t *testing.T) {
	now := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	s := newSessions(time.Hour, nil)
	s.now = func() time.Time { return now }
	id, _ := s.create(access.Credential{Role: access.Read, Secret: "read-1"})
	if sess, _ := s.lookup(requestWith(id)); sess == nil || sess.role != access.Read {
		t.Fatalf("fresh session not found: %+v", sess)
	}
	now = now.Add(time.Hour)
	sess, present := s.lookup(requestWith(id))
	if sess != nil || !present {
		t.Errorf("a session past its TTL is still valid (%+v, present %v)", sess, present)
	}
	if sess, present := s.lookup(requestWith("")); sess != nil || present {
		t.Error("no cookie reads as a session")
	}
	if _, ok := s.Credential(requestWith(id)); ok {
		t.Error("the API admits an expired session")
	}
	if _, ok := s.Credential(requestWith("forged")); ok {
		t.Error("the API admits an expired or forged session")
	}
}

// TestLoginsAreTheFullReadAndSubjectCredentials: a web login takes the
// full, read and subject roles' tokens, never an ingest or metrics one.
func TestLoginsAreTheFullReadAndSubjectCredentials(t *testing.T) {
	s := newSessions(time.Hour, access.Credentials{{Role: access.Full, Secret: "full-token"}, {Role: access.Read, Secret: "read-1"},
		{Role: access.Subject, Name: "dpo", Secret: "subject-token-1"}, {Role: access.Ingest, Secret: "ingest-1"},
		{Role: access.Metrics, Secret: "metrics-1"}})
	for token, want := range map[string]access.Role{"full-token": access.Full, "read-1": access.Read, "subject-token-1": access.Subject,
		"ingest-1": 0, "metrics-1": 0} {
		if c, _ := s.logins.Match(token); c.Role != want {
			t.Errorf("login with %q: %v, want %v", token, c.Role, want)
		}
	}
}

// TestSessionsTellTheirCredential: the API asks a session's role and
// name (api.Sessions), and admits only the roles that read.
func TestSessionsTellTheirCredential(t *testing.T) {
	s := newSessions(time.Hour, nil)
	for _, c := range []access.Credential{{Role: access.Read}, {Role: access.Full}, {Role: access.Subject, Name: "dpo"}} {
		id, _ := s.create(c)
		if got, ok := s.Credential(requestWith(id)); !ok || got != c {
			t.Errorf("a %v session tells %+v %v", c.Role, got, ok)
		}
	}
}

func TestEachLoginSeesOnlyItsRolesPages(t *testing.T) {
	for _, a := range []access.Role{access.Read, access.Full, access.Subject} {
		for _, p := range pagesFor(a) {
			if (p.Role == questions.RoleSubject) != (a == access.Subject) {
				t.Errorf("a %v login's navigation has %s (role %q)", a, p.Path, p.Role)
			}
		}
	}
	if landing(access.Subject, "/") != "/subject" || landing(access.Read, "/") != "/" || landing(access.Subject, "/subject/audit") != "/subject/audit" {
		t.Error("a subject login does not land on the person page, or a read login not on the map")
	}
}

func TestOneTimeCodesWorkOnce(t *testing.T) {
	now := time.Now()
	s := newSessions(time.Hour, nil)
	s.now = func() time.Time { return now }
	subject := access.Credential{Role: access.Subject, Name: "demo"}
	code := s.oneTime(subject)
	if got, ok := s.redeem(code); !ok || got != subject {
		t.Errorf("redeem = %v, %v; want the subject login it was made for", got, ok)
	}
	if _, ok := s.redeem(code); ok {
		t.Error("a one-time code must work exactly once")
	}
	late := s.oneTime(access.Credential{Role: access.Full})
	now = now.Add(oneTimeTTL)
	if _, ok := s.redeem(late); ok {
		t.Error("an expired code works")
	}
	if _, ok := s.redeem("made-up"); ok {
		t.Error("a made-up code works")
	}
}

// One credential logging in over and over drops only its own oldest
// sessions: a read token cannot log the others out.
func TestSessionsAreBoundedPerCredential(t *testing.T) {
	s := newSessions(time.Hour, nil)
	full := access.Credential{Role: access.Full, Secret: "full-token"}
	dpo := access.Credential{Role: access.Subject, Name: "dpo", Secret: "subject-token"}
	reader := access.Credential{Role: access.Read, Secret: "read-1"}
	other, _ := s.create(full)
	person, _ := s.create(dpo)
	firstRead, _ := s.create(reader)
	for range 10_000 {
		s.create(reader)
	}
	if len(s.byID) > maxSessionsPerCredential+2 {
		t.Errorf("%d sessions kept, the bound is %d per credential", len(s.byID), maxSessionsPerCredential)
	}
	for name, id := range map[string]string{"full": other, "subject": person} {
		if sess, _ := s.lookup(requestWith(id)); sess == nil {
			t.Errorf("the %s session was logged out by another token's logins", name)
		}
	}
	if sess, _ := s.lookup(requestWith(firstRead)); sess != nil {
		t.Error("the read token's oldest session survived past its bound")
	}
}

func TestSafeNextStaysOnThisSite(t *testing.T) {
	for in, want := range map[string]string{
		"/flows?category=billing": "/flows?category=billing", "": "/", "//evil.example/x": "/",
		"/\\evil.example": "/", "https://evil.example": "/", "flows": "/",
		"/\t/evil.example": "/", "/\n/evil.example": "/", "/\r\n/evil.example": "/", "/\x00/evil.example": "/",
		"/\u200b/evil.example": "/", "/%09/evil.example": "/%09/evil.example", "/a\\b": "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "//x", "/\\x", "https://x", "/flows?x=1", "\t/x", "/\t/x", "/\n/x", "/.//x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		// What a browser does with it: drop tabs and newlines, read a
		// backslash as a slash, then resolve it against this site.
		browser := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(got)
		u, err := url.Parse(browser)
		if err != nil || !strings.HasPrefix(got, "/") || strings.HasPrefix(browser, "//") ||
			thisSite.ResolveReference(u).Host != thisSite.Host {
			t.Errorf("safeNext(%q) = %q leaves the site", next, got)
		}
		if got != "/" && got != next {
			t.Errorf("safeNext(%q) = %q changes a local path", next, got)
		}
	})
}
