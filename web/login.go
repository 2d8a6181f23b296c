package web

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/back-trace/datamap/access"
	"github.com/back-trace/datamap/catalog/deadletter"
)

// loginData is what the login template gets.
type loginData struct {
	Page    page
	CSRF    string
	Next    string
	Once    string
	Expired bool
	Error   string
}

// safeNext keeps a post-login redirect on this site: a path of this
// origin, or "/". Browsers drop tabs and newlines from a URL and read a
// backslash as a slash, so "/\t/evil.example" and "/\\evil.example" would
// leave the site as "//evil.example": a next with a control or format
// character or a backslash is refused, and what is left must resolve,
// against this site, to this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsFunc(next, func(r rune) bool { return r == '\\' || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	if resolved := thisSite.ResolveReference(u); resolved.Host != thisSite.Host || resolved.Scheme != thisSite.Scheme {
		return "/"
	}
	return next
}

// thisSite stands for the origin a next path is resolved against.
var thisSite = &url.URL{Scheme: "http", Host: "datamap.invalid"}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if sess, _ := s.sessions.lookup(r); sess != nil && r.URL.Query().Get("once") == "" {
		http.Redirect(w, r, landing(sess.role, next), http.StatusSeeOther)
		return
	}
	s.showLogin(w, r, http.StatusOK, loginData{Next: next, Once: r.URL.Query().Get("once"),
		Expired: r.URL.Query().Get("expired") != ""})
}

// showLogin renders the form with a fresh CSRF value, also set as a
// cookie: the POST must carry both, equal (double submit).
func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, status int, d loginData) {
	d.Page = page{Name: "login", Title: "Log in"}
	d.CSRF = randomString()
	setCookie(w, r, loginCookie, d.CSRF, "/login", oneTimeTTL)
	s.render(w, "login", status, d)
}

// maxLoginForm bounds the login form's body.
const maxLoginForm = 8 << 10

// LoginToken returns the token a POST /login presents, "" for any other
// request, for counting failed logins per token prefix (package
// access/attempts). It reads the form without using it up: the body is
// put back as it was, for the login to read.
func LoginToken(r *http.Request) string {
	if r.Method != http.MethodPost || r.URL.Path != "/login" || r.Body == nil {
		return ""
	}
	head, err := io.ReadAll(io.LimitReader(r.Body, maxLoginForm+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
	if err != nil {
		return ""
	}
	form, _ := url.ParseQuery(string(head))
	return strings.TrimSpace(form.Get("token"))
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginForm)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "the login form is too large or malformed", http.StatusBadRequest)
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	c, err := r.Cookie(loginCookie)
	if err != nil || !validCSRF(r.PostForm.Get("csrf"), c.Value) {
		s.showLogin(w, r, http.StatusForbidden, loginData{Next: next,
			Error: "The login form expired or did not come from this page; enter the token again."})
		return
	}
	var login access.Credential
	ok := false
	if once := r.PostForm.Get("once"); once != "" {
		login, ok = s.sessions.redeem(once)
	} else {
		login, ok = s.sessions.logins.Match(strings.TrimSpace(r.PostForm.Get("token")))
	}
	if !ok {
		s.opts.Log.Warn("web login refused", "remote", r.RemoteAddr)
		msg := "That is neither the API token nor a read token nor a subject token."
		if r.PostForm.Get("once") != "" {
			msg = "That login link was used already or has expired; log in with the API token (the api-token file in the data directory)."
		}
		s.showLogin(w, r, http.StatusUnauthorized, loginData{Next: next, Error: msg})
		return
	}
	s.sessions.end(r)
	id, _ := s.sessions.create(login)
	setCookie(w, r, sessionCookie, id, "/", s.opts.SessionTTL)
	clearCookie(w, r, loginCookie, "/login")
	// The subject token's name is logged (the audit trail records it too);
	// the token never is.
	s.opts.Log.Info("web login", "access", roleLabel(login.Role), "name", login.Name, "remote", r.RemoteAddr)
	http.Redirect(w, r, landing(login.Role, next), http.StatusSeeOther)
}

// landing is where a login goes: where it was going, except that the
// default (the map) becomes the person page for a subject login, which
// may not see the map.
func landing(role access.Role, next string) string {
	if next == "/" {
		return pagesFor(role)[0].Path
	}
	return next
}

// checkCSRF refuses a state-changing request without the session's CSRF
// token (cross-origin ones are refused before, by CrossOriginProtection).
func checkCSRF(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "malformed form", http.StatusBadRequest)
		return false
	}
	got := r.PostForm.Get("csrf")
	if got == "" {
		got = r.Header.Get("X-CSRF-Token")
	}
	if !validCSRF(got, sessionOf(r).csrf) {
		http.Error(w, "missing or wrong CSRF token: reload the page and try again", http.StatusForbidden)
		return false
	}
	return true
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if !checkCSRF(w, r) {
		return
	}
	s.sessions.end(r)
	clearCookie(w, r, sessionCookie, "/")
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// replay republishes dead letters: a writing route, for full access only.
// Like the CLI, it refuses letters that would fail again (409).
func (s *Server) replay(w http.ResponseWriter, r *http.Request) {
	if !checkCSRF(w, r) {
		return
	}
	if sessionOf(r).role != access.Full {
		http.Error(w, roleLabel(sessionOf(r).role)+" login: replaying dead letters needs the API token", http.StatusForbidden)
		return
	}
	if s.opts.Replay == nil {
		http.Error(w, "this server cannot replay dead letters", http.StatusNotFound)
		return
	}
	var ids []uint64
	for _, f := range strings.FieldsFunc(strings.Join(r.PostForm["ids"], ","), func(c rune) bool { return c == ',' || c == ' ' }) {
		id, err := strconv.ParseUint(f, 10, 64)
		if err != nil || id == 0 {
			http.Error(w, "ids: "+strconv.Quote(f)+" is not a dead-letter ID (a positive number)", http.StatusBadRequest)
			return
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		http.Error(w, "ids: name at least one dead-letter ID", http.StatusBadRequest)
		return
	}
	replayed, missing, err := s.opts.Replay(r.Context(), ids)
	var still *deadletter.StillFailsError
	switch {
	case errors.As(err, &still):
		// The same check as `datamap dlq replay`: replaying it would only
		// bring it back under a new ID.
		http.Error(w, still.Error()+"\nNothing was replayed. Fix the taxonomy or the sending service first; "+
			"to replay it anyway, run 'datamap dlq replay --id "+strconv.FormatUint(still.ID, 10)+" --force'.", http.StatusConflict)
		return
	case errors.Is(err, deadletter.ErrNotReplayable):
		http.Error(w, err.Error()+"\nNothing was replayed.", http.StatusConflict)
		return
	case err != nil:
		s.opts.Log.Error("web replay", "err", err)
		http.Error(w, "replay failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/deadletters?replayed="+strconv.Itoa(len(replayed))+"&missing="+strconv.Itoa(len(missing)), http.StatusSeeOther)
}
