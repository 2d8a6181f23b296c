// Package web is the web data map that `datamap serve` and `datamap demo`
// serve at /: the lineage graph, the inventory, flows, transfers,
// retention, drift, the Article 30 record and the dead letters, in a
// browser, behind a login with the API's tokens; and, for a login with a
// subject token only, the pages about people: a person's data, the open
// requests and the audit trail.
//
// The map's pages hold no answers of their own. Their scripts fetch them
// from the HTTP API (/api/v1/…), which answers from package questions — the
// same definitions as the CLI — so the browser, the API and the terminal
// agree. A logged-in browser reaches the API with its session cookie
// instead of a bearer token (api.Sessions), with a read token's rights.
// The pages about people are rendered on the server from the same
// questions (subject.go), so that a subject reference travels only in a
// POST body, never in an address.
//
// Everything the pages load is embedded (go:embed): templates, scripts,
// styles and the vendored Cytoscape.js; nothing comes from a CDN.
package web

import (
	"cmp"
	"context"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/access"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/questions"
	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/words"
)

//go:embed templates/*.html
var templateFS embed.FS

// Options configure the web data map.
type Options struct {
	// Credentials are the server's (the API's): a full or read one logs
	// in with the rights it has on the API; a subject one sees the pages
	// about people and nothing else, and every question it asks is
	// audited under the credential's name.
	Credentials access.Credentials
	// Catalog answers the pages about people; nil hides them (a subject
	// token then cannot log in).
	Catalog driver.Conn
	// SessionTTL is how long a login lasts; 0 means 8 hours.
	SessionTTL time.Duration
	Taxonomy   *taxonomy.Taxonomy
	// Registry names the declared registry the drift and Article 30 pages
	// use, "" when serve has none (the pages then say how to set one).
	Registry string
	// Declared is that registry, read: a person's Art. 15 statement takes
	// the controller, legal bases, retention and sources from it (nil
	// leaves those parts out).
	Declared *registry.Registry
	// Replay republishes dead letters; nil hides the replay button. It
	// refuses letters that would fail again (deadletter.ReplayChecked):
	// the page then says why, with 409.
	Replay func(ctx context.Context, ids []uint64) (replayed, missing []uint64, err error)
	// PDF says whether the server can print PDF records (Chromium).
	PDF bool
	Log *slog.Logger
}

// Server serves the web data map.
type Server struct {
	opts     Options
	sessions *sessions
	assets   *assets
	pages    map[string]*template.Template
	filters  []filter
	// glossaryJSON is the words of every key the pages show.
	glossaryJSON []byte
}

// page is one page of the map.
type page struct {
	Path, Name, Title string
	Question          string   // the API name of the question whose table the page shows, if any
	Params            []string // the filters that apply to it
	// Role is the role the page needs: questions.RoleRead (a read or
	// full-access login) or questions.RoleSubject (a subject login).
	Role string
	row  reflect.Type // the rows of its table, nil when it has none
}

// questionPage is the page of a question, as its entry describes it.
func questionPage(q questions.Question) page {
	p := page{Path: q.Page.Path, Name: q.Page.Name, Title: q.Page.Title, Role: q.Role}
	switch {
	case q.Role == questions.RoleSubject:
		// Rendered on the server from its answer (subject.go).
		p.Question = q.Name
	case q.Shape == questions.List:
		p.Question, p.Params, p.row = q.Name, q.ParamNames(), q.Row
	default:
		p.Params = q.ParamNames()
	}
	if q.Page.Filters != nil {
		p.Params = q.Page.Filters
	}
	return p
}

// questionPages are the pages of the questions that have one, in the
// table's order, for a login of this role.
func questionPages(role string) []page {
	var out []page
	for _, q := range questions.All() {
		if q.Page.Path != "" && cmp.Or(q.Role, questions.RoleRead) == role {
			out = append(out, questionPage(q))
		}
	}
	return out
}

// pages are the data map's pages, in navigation order: the map, the
// questions' pages, the dead letters.
func pages() []page {
	out := []page{{Path: "/", Name: "map", Title: "Map", Params: questions.Transfers.ParamNames()}}
	out = append(out, questionPages(questions.RoleRead)...)
	return append(out, page{Path: "/deadletters", Name: "deadletters", Title: "Dead letters"})
}

// subjectPages are the pages about people, in navigation order: the
// subject role's, and only theirs.
func subjectPages() []page { return questionPages(questions.RoleSubject) }

// questionRole is the role of the questions a login may ask.
func questionRole(r access.Role) string {
	if r == access.Subject {
		return questions.RoleSubject
	}
	return questions.RoleRead
}

// pagesFor are the pages a login of this access may open, for its
// navigation.
func pagesFor(r access.Role) []page {
	if r == access.Subject {
		return subjectPages()
	}
	return pages()
}

// New returns the web data map.
func New(o Options) (*Server, error) {
	if o.SessionTTL == 0 {
		o.SessionTTL = 8 * time.Hour
	}
	if o.Taxonomy == nil {
		o.Taxonomy = taxonomy.Default()
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	a, err := loadAssets()
	if err != nil {
		return nil, err
	}
	logins := o.Credentials
	if o.Catalog == nil {
		logins = logins.Only(access.Full, access.Read) // nothing to answer the pages about people
	}
	g, err := newGlossary(o)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: o, sessions: newSessions(o.SessionTTL, logins), assets: a,
		pages: map[string]*template.Template{}, filters: filters(o.Taxonomy), glossaryJSON: g}
	names := words.Of(o.Taxonomy)
	funcs := template.FuncMap{"asset": a.url, "join": strings.Join, "day": day, "stamp": stamp, "due": due,
		"meaning": func(kind string) string { return findingMeaning[kind] }, "requestsTable": newRequestsTable, "plural": words.Count,
		// Words for the person pages, which the server renders: names for
		// keys (the key stays in the cell's title), kinds without underscores.
		"category": names.Category, "purpose": names.Purpose, "dataSubject": names.DataSubject, "role": words.Role,
		"purposes":     func(keys []string) string { return joinWords(keys, names.Purpose) },
		"dataSubjects": func(keys []string) string { return joinWords(keys, names.DataSubject) },
		"topic": func(key string) string { // a finding's topic: a category, else a purpose
			if n := names.Category(key); n != key {
				return n
			}
			return names.Purpose(key)
		},
		"spaced": func(key string) string { return strings.ReplaceAll(key, "_", " ") }}
	all := append(append(pages(), subjectPages()...), page{Name: "login"}, page{Name: "forbidden"})
	for _, p := range all {
		files := []string{"templates/layout.html", "templates/" + p.Name + ".html"}
		if p.Role == questions.RoleSubject {
			files = append(files, "templates/subject.html") // what the pages about people share
		}
		t, err := template.New("page").Funcs(funcs).ParseFS(templateFS, files...)
		if err != nil {
			return nil, err
		}
		s.pages[p.Name] = t
	}
	return s, nil
}

// Sessions is what the API consults to admit logged-in browsers
// (api.Sessions).
func (s *Server) Sessions() interface {
	Credential(*http.Request) (access.Credential, bool)
} {
	return s.sessions
}

// OneTimeLogin returns a login link for base (http://host:port) that works
// once, within 15 minutes, with full access: what `datamap demo` prints
// for the person at the terminal. It carries a single-use code, never a
// token.
func (s *Server) OneTimeLogin(base string) string {
	return strings.TrimRight(base, "/") + "/login?once=" + s.sessions.oneTime(access.Credential{Role: access.Full})
}

// OneTimeSubjectLogin is OneTimeLogin for the subject role, in the name
// the audit trail records: the pages about people, which a full-access
// login does not open.
func (s *Server) OneTimeSubjectLogin(base, name string) string {
	return strings.TrimRight(base, "/") + "/login?once=" + s.sessions.oneTime(access.Credential{Role: access.Subject, Name: name})
}

// Handler serves the web data map and passes every other request (the
// API, health, ingest) to next.
func (s *Server) Handler(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	for _, p := range pages() {
		path := p.Path
		if path == "/" {
			path = "/{$}"
		}
		mux.Handle("GET "+path, s.loggedIn(s.allowed(p, s.page(p))))
	}
	s.subjectRoutes(mux)
	mux.HandleFunc("GET /login", s.loginForm)
	mux.HandleFunc("POST /login", s.login)
	mux.Handle("POST /logout", s.loggedIn(s.logout))
	mux.Handle("POST /deadletters/replay", s.loggedIn(s.replay))
	mux.Handle("GET /assets/", s.assets)
	mux.Handle("GET "+glossaryPath, s.loggedIn(s.glossary))
	web := secure(http.NewCrossOriginProtection().Handler(mux))
	root := http.NewServeMux()
	root.Handle("/", next)
	for _, p := range append(pages(), subjectPages()...) {
		if p.Path != "/" {
			root.Handle(p.Path, web)
		}
	}
	root.Handle("/{$}", web)
	for _, p := range []string{"/login", "/logout", "/deadletters/replay", statementPath, "/assets/", glossaryPath} {
		root.Handle(p, web)
	}
	return root
}

// ctxKey keys the session in a request's context.
type ctxKey struct{}

// loggedIn sends a request without a live session to the login page,
// remembering where it was going.
func (s *Server) loggedIn(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, present := s.sessions.lookup(r)
		if sess == nil {
			q := url.Values{"next": {r.URL.RequestURI()}}
			if present {
				q.Set("expired", "1")
				clearCookie(w, r, sessionCookie, "/")
			}
			if r.Method != http.MethodGet {
				http.Error(w, "not logged in, or the session expired: log in again at /login", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/login?"+q.Encode(), http.StatusSeeOther)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, sess)))
	})
}

func sessionOf(r *http.Request) *session { return r.Context().Value(ctxKey{}).(*session) }

// allowed lets a session open p only with the role p needs: a read or
// full-access login never sees a page about people, a subject login never
// sees the data map. Refused, it gets a page that says which role the page
// needs and how to get it.
func (s *Server) allowed(p page, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if questionRole(sessionOf(r).role) == cmp.Or(p.Role, questions.RoleRead) {
			h(w, r)
			return
		}
		msg := "This page is the data map: it needs the read role. Log out and log in with the API token (DATAMAP_API_TOKEN, or the api-token file in the data directory) or a read token (DATAMAP_READ_TOKENS). A subject token opens only the pages about people."
		if p.Role == questions.RoleSubject {
			msg = "This page is about people: it needs the subject role. Log out and log in with a subject token (one of DATAMAP_SUBJECT_TOKENS on the server; whoever runs datamap issues them, each under a name the audit trail records). Read and full-access tokens do not open it."
		}
		d := s.data(r, page{Name: "forbidden", Title: "Not with this login"})
		d.Forbidden = msg
		s.render(w, "forbidden", http.StatusForbidden, d)
	}
}

// pageData is what a page template gets.
type pageData struct {
	Page     page
	Pages    []page
	Home     string // where the brand link goes: the login's first page
	Access   string // the login's role, as the pages name it
	Full     bool   // the login has the full role: the writing routes
	CSRF     string
	Filters  []filter
	Columns  []column
	Registry string
	PDF      bool
	Replay   bool
	Query    string // the current filters, for links between pages
	// InventoryParams and FlowParams are what the node panel may ask.
	InventoryParams, FlowParams []string
	// Forbidden says why the page was refused and what login it needs.
	Forbidden string
	// Subject is the answer of a page about people.
	Subject subjectView
}

// data is what every page of a logged-in session shows: its navigation,
// its role and its CSRF token.
func (s *Server) data(r *http.Request, p page) pageData {
	sess := sessionOf(r)
	nav := pagesFor(sess.role)
	return pageData{Page: p, Pages: nav, Home: nav[0].Path, Access: roleLabel(sess.role), Full: sess.role == access.Full, CSRF: sess.csrf}
}

func (s *Server) page(p page) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d := s.data(r, p)
		d.Registry, d.PDF, d.Replay, d.Query = s.opts.Registry, s.opts.PDF, s.opts.Replay != nil, r.URL.RawQuery
		for _, f := range s.filters {
			f.Applies = slices.Contains(p.Params, f.Name)
			d.Filters = append(d.Filters, f)
		}
		d.InventoryParams, d.FlowParams = questions.Inventory.ParamNames(), questions.Flows.ParamNames()
		if p.row != nil {
			d.Columns = columnsOf(p.row)
		}
		s.render(w, p.Name, http.StatusOK, d)
	}
}

func (s *Server) render(w http.ResponseWriter, name string, status int, d any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := s.pages[name].ExecuteTemplate(w, "page", d); err != nil {
		s.opts.Log.Error("web page", "page", name, "err", err)
	}
}

// csp allows scripts, styles and connections to this origin only: no
// inline script or style, no framing, no plugins, forms only to here.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// secure sets the security headers of every web response.
func secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

// joinWords says a list of keys in words, comma separated.
func joinWords(keys []string, say func(string) string) string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = say(k)
	}
	return strings.Join(out, ", ")
}
