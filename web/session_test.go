package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/back-trace/datamap/api"
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
	s := newSessions(time.Hour, "full", []string{"read"}, nil)
	s.now = func() time.Time { return now }
	id, _ := s.create(Reader, "")
	if sess, _ := s.lookup(requestWith(id)); sess == nil || sess.access != Reader {
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
	if s.Admit(requestWith(id)) || s.Admit(requestWith("forged")) {
		t.Error("the API admits an expired or forged session")
	}
}

func TestTokensGrantTheirAccess(t *testing.T) {
	s := newSessions(time.Hour, "full-token", []string{"read-1", "read-2"},
		[]api.SubjectToken{{Name: "dpo", Token: "subject-token-1"}, {Name: "legal", Token: "subject-token-2"}, {Name: "blank"}})
	type grant struct {
		access Access
		name   string
	}
	for token, want := range map[string]grant{"full-token": {Writer, ""}, "read-2": {Reader, ""}, "read-1": {Reader, ""},
		"subject-token-1": {Subject, "dpo"}, "subject-token-2": {Subject, "legal"},
		"": {}, "full-toke": {}, "full-token ": {}, "read-3": {}, "subject-token-": {}, "dpo": {}} {
		if access, name := s.accessOf(token); access != want.access || name != want.name {
			t.Errorf("accessOf(%q) = %v %q, want %v %q", token, access, name, want.access, want.name)
		}
	}
	if got, _ := newSessions(time.Hour, "", nil, []api.SubjectToken{{Name: "blank"}}).accessOf(""); got != 0 {
		t.Errorf("an empty token opens a server without tokens: %v", got)
	}
}

// TestAPIAdmitsOnlyReadSessions: the API's read routes take a read or
// full-access login's cookie, never a subject login's, which opens the
// pages about people and nothing of the data map.
func TestAPIAdmitsOnlyReadSessions(t *testing.T) {
	s := newSessions(time.Hour, "full", []string{"read"}, []api.SubjectToken{{Name: "dpo", Token: "subject"}})
	for access, want := range map[Access]bool{Reader: true, Writer: true, Subject: false} {
		id, _ := s.create(access, "")
		if got := s.Admit(requestWith(id)); got != want {
			t.Errorf("the API admits a %v session: %v, want %v", access, got, want)
		}
	}
}

func TestEachLoginSeesOnlyItsRolesPages(t *testing.T) {
	for _, a := range []Access{Reader, Writer, Subject} {
		for _, p := range pagesFor(a) {
			if (p.Role == questions.RoleSubject) != (a == Subject) {
				t.Errorf("a %v login's navigation has %s (role %q)", a, p.Path, p.Role)
			}
		}
	}
	if landing(Subject, "/") != "/subject" || landing(Reader, "/") != "/" || landing(Subject, "/subject/audit") != "/subject/audit" {
		t.Error("a subject login does not land on the person page, or a read login not on the map")
	}
}

func TestOneTimeCodesWorkOnce(t *testing.T) {
	now := time.Now()
	s := newSessions(time.Hour, "full", nil, nil)
	s.now = func() time.Time { return now }
	code := s.oneTime()
	if !s.redeem(code) || s.redeem(code) {
		t.Error("a one-time code must work exactly once")
	}
	late := s.oneTime()
	now = now.Add(oneTimeTTL)
	if s.redeem(late) || s.redeem("made-up") {
		t.Error("an expired or made-up code works")
	}
}

func TestSessionsAreBounded(t *testing.T) {
	s := newSessions(time.Hour, "full", nil, nil)
	first, _ := s.create(Writer, "")
	for range maxSessions {
		s.create(Reader, "")
	}
	if len(s.byID) > maxSessions {
		t.Errorf("%d sessions kept, the bound is %d", len(s.byID), maxSessions)
	}
	if sess, _ := s.lookup(requestWith(first)); sess != nil {
		t.Error("the oldest session survived past the bound")
	}
}

func TestSafeNextStaysOnThisSite(t *testing.T) {
	for in, want := range map[string]string{
		"/flows?category=billing": "/flows?category=billing", "": "/", "//evil.example/x": "/",
		"/\\evil.example": "/", "https://evil.example": "/", "flows": "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "//x", "/\\x", "https://x", "/flows?x=1", "\t/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.HasPrefix(got, "/\\") {
			t.Errorf("safeNext(%q) = %q leaves the site", next, got)
		}
		if got != "/" && got != next {
			t.Errorf("safeNext(%q) = %q changes a local path", next, got)
		}
	})
}
