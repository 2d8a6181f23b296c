package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
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
	s := newSessions(time.Hour, "full", []string{"read"})
	s.now = func() time.Time { return now }
	id, _ := s.create(Reader)
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
	s := newSessions(time.Hour, "full-token", []string{"read-1", "read-2"})
	for token, want := range map[string]Access{"full-token": Writer, "read-2": Reader, "read-1": Reader,
		"": 0, "full-toke": 0, "full-token ": 0, "read-3": 0} {
		if got := s.accessOf(token); got != want {
			t.Errorf("accessOf(%q) = %v, want %v", token, got, want)
		}
	}
	if got := newSessions(time.Hour, "", nil).accessOf(""); got != 0 {
		t.Errorf("an empty token opens a server without tokens: %v", got)
	}
}

func TestOneTimeCodesWorkOnce(t *testing.T) {
	now := time.Now()
	s := newSessions(time.Hour, "full", nil)
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
	s := newSessions(time.Hour, "full", nil)
	first, _ := s.create(Writer)
	for range maxSessions {
		s.create(Reader)
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
