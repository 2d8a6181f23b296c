// Package web is the web data map that `datamap serve` and `datamap demo`
// serve at /: the lineage graph, the inventory, flows, transfers,
// retention, drift, the Article 30 record and the dead letters, in a
// browser, behind a login with the API's tokens.
//
// The pages hold no answers of their own. Their scripts fetch them from the
// HTTP API (/api/v1/…), which answers from package questions — the same
// definitions as the CLI — so the browser, the API and the terminal agree.
// A logged-in browser reaches the API with its session cookie instead of a
// bearer token (api.Sessions), with a read token's rights.
//
// Everything the pages load is embedded (go:embed): templates, scripts,
// styles and the vendored Cytoscape.js; nothing comes from a CDN.
package web

import (
	"context"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/questions"
)

//go:embed templates/*.html
var templateFS embed.FS

// Options configure the web data map.
type Options struct {
	// Token is the full-access API token; ReadTokens the read-only ones.
	// Either logs in, with the same rights it has on the API.
	Token      string
	ReadTokens []string
	// SessionTTL is how long a login lasts; 0 means 8 hours.
	SessionTTL time.Duration
	Taxonomy   *taxonomy.Taxonomy
	// Registry names the declared registry the drift and Article 30 pages
	// use, "" when serve has none (the pages then say how to set one).
	Registry string
	// Replay republishes dead letters; nil hides the replay button.
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
}

// page is one page of the map.
type page struct {
	Path, Name, Title string
	Question          string   // the question whose table the page shows, if any
	Params            []string // the filters that apply to it
}

// pages are the pages, in navigation order.
func pages() []page {
	lookup := func(name string) []string {
		q, _ := questions.Lookup(name)
		return q.Params
	}
	return []page{
		{Path: "/", Name: "map", Title: "Map", Params: lookup("transfers")},
		{Path: "/inventory", Name: "inventory", Title: "Inventory", Question: "inventory", Params: lookup("inventory")},
		{Path: "/flows", Name: "flows", Title: "Flows", Question: "flows", Params: lookup("flows")},
		{Path: "/transfers", Name: "transfers", Title: "Transfers", Question: "transfers", Params: lookup("transfers")},
		{Path: "/retention", Name: "retention", Title: "Retention", Question: "retention", Params: lookup("retention")},
		{Path: "/drift", Name: "drift", Title: "Drift", Params: questions.DriftParams},
		// The record's own role (controller, processor) is a control of the
		// page, not the shared recipient-role filter.
		{Path: "/article30", Name: "article30", Title: "Article 30", Params: []string{"as_of"}},
		{Path: "/deadletters", Name: "deadletters", Title: "Dead letters"},
	}
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
	s := &Server{opts: o, sessions: newSessions(o.SessionTTL, o.Token, o.ReadTokens), assets: a,
		pages: map[string]*template.Template{}, filters: filters(o.Taxonomy)}
	funcs := template.FuncMap{"asset": a.url, "join": strings.Join}
	for _, p := range append(pages(), page{Name: "login"}) {
		t, err := template.New("page").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+p.Name+".html")
		if err != nil {
			return nil, err
		}
		s.pages[p.Name] = t
	}
	return s, nil
}

// Sessions is what the API consults to admit logged-in browsers.
func (s *Server) Sessions() interface{ Admit(*http.Request) bool } { return s.sessions }

// OneTimeLogin returns a login link for base (http://host:port) that works
// once, within 15 minutes, with full access: what `datamap demo` prints
// for the person at the terminal. It carries a single-use code, never a
// token.
func (s *Server) OneTimeLogin(base string) string {
	return strings.TrimRight(base, "/") + "/login?once=" + s.sessions.oneTime()
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
		mux.Handle("GET "+path, s.loggedIn(s.page(p)))
	}
	mux.HandleFunc("GET /login", s.loginForm)
	mux.HandleFunc("POST /login", s.login)
	mux.Handle("POST /logout", s.loggedIn(s.logout))
	mux.Handle("POST /deadletters/replay", s.loggedIn(s.replay))
	mux.Handle("GET /assets/", s.assets)
	web := secure(http.NewCrossOriginProtection().Handler(mux))
	root := http.NewServeMux()
	root.Handle("/", next)
	for _, p := range pages() {
		if p.Path != "/" {
			root.Handle(p.Path, web)
		}
	}
	root.Handle("/{$}", web)
	for _, p := range []string{"/login", "/logout", "/deadletters/replay", "/assets/"} {
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

// pageData is what a page template gets.
type pageData struct {
	Page     page
	Pages    []page
	Access   Access
	Writer   bool
	CSRF     string
	Filters  []filter
	Columns  []column
	Registry string
	PDF      bool
	Replay   bool
	Query    string // the current filters, for links between pages
	// InventoryParams and FlowParams are what the node panel may ask.
	InventoryParams, FlowParams []string
}

func (s *Server) page(p page) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess := sessionOf(r)
		d := pageData{Page: p, Pages: pages(), Access: sess.access, Writer: sess.access == Writer, CSRF: sess.csrf,
			Registry: s.opts.Registry, PDF: s.opts.PDF, Replay: s.opts.Replay != nil, Query: r.URL.RawQuery}
		for _, f := range s.filters {
			f.Applies = slices.Contains(p.Params, f.Name)
			d.Filters = append(d.Filters, f)
		}
		if q, ok := questions.Lookup("inventory"); ok {
			d.InventoryParams = q.Params
		}
		if q, ok := questions.Lookup("flows"); ok {
			d.FlowParams = q.Params
		}
		if t, ok := tableRows[p.Question]; ok {
			d.Columns = columnsOf(t)
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
