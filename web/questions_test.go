package web

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/back-trace/datamap/access"
	"github.com/back-trace/datamap/questions"
)

// Every question of the table that has a page is in the navigation of a
// login of its role, and its page is a route of the map (a visitor without
// a session is sent to the login, not passed on to the API).
func TestEveryQuestionPageIsInTheNavigation(t *testing.T) {
	s, err := New(Options{Credentials: access.Credentials{{Role: access.Full, Secret: "full-token"}}})
	if err != nil {
		t.Fatal(err)
	}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := s.Handler(api)
	for _, q := range questions.All() {
		if q.Page.Path == "" {
			continue
		}
		role := access.Read
		if q.Role == questions.RoleSubject {
			role = access.Subject
		}
		nav := pagesFor(role)
		var out bytes.Buffer
		if err := s.pages[nav[0].Name].ExecuteTemplate(&out, "page", pageData{Page: nav[0], Pages: nav, Access: roleLabel(role)}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), `href="`+q.Page.Path+`"`) {
			t.Errorf("%s: a %v login's navigation has no link to %s", q.Name, role, q.Page.Path)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", q.Page.Path, nil))
		if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/login") {
			t.Errorf("%s: GET %s without a session answers %d %s, want the login", q.Name, q.Page.Path, w.Code, w.Header().Get("Location"))
		}
	}
}
