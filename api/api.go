// Package api is datamap's HTTP JSON API: health, readiness, and the
// catalog queries under /api/v1/. Every /api/ route needs a bearer token.
package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/catalog"
	"github.com/back-trace/datamap/events"
)

// Readiness reports whether the pipeline can do its work right now.
type Readiness interface {
	Ready() bool
}

// Server serves the HTTP API.
type Server struct {
	catalog  driver.Conn
	ready    Readiness
	taxonomy *events.Taxonomy
	token    string
	log      *slog.Logger
}

// New returns the API over a catalog connection. token is the bearer token
// /api/ routes require.
func New(conn driver.Conn, ready Readiness, tax *events.Taxonomy, token string, log *slog.Logger) *Server {
	return &Server{catalog: conn, ready: ready, taxonomy: tax, token: token, log: log}
}

// Handler returns the routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /api/v1/inventory", s.authorized(s.inventory))
	mux.Handle("GET /api/v1/flows", s.authorized(s.flows))
	return mux
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	problems := map[string]string{}
	if err := s.catalog.Ping(ctx); err != nil {
		problems["clickhouse"] = err.Error()
	}
	if s.ready != nil && !s.ready.Ready() {
		problems["consumer"] = "not consuming: the last fetch or insert failed, retrying"
	}
	if len(problems) > 0 {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "problems": problems})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// authorized checks the bearer token in constant time.
func (s *Server) authorized(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="datamap"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token; send 'Authorization: Bearer <token>' (the token is DATAMAP_API_TOKEN or the api-token file in the data directory)")
			return
		}
		h(w, r)
	})
}

func (s *Server) inventory(w http.ResponseWriter, r *http.Request) {
	f, ok := s.filter(w, r, "system", "category")
	if !ok {
		return
	}
	rows, err := catalog.Inventory(r.Context(), s.catalog, f)
	s.respond(w, rows, err)
}

func (s *Server) flows(w http.ResponseWriter, r *http.Request) {
	f, ok := s.filter(w, r, "system", "category", "recipient", "country")
	if !ok {
		return
	}
	rows, err := catalog.Flows(r.Context(), s.catalog, f)
	s.respond(w, rows, err)
}

// filter reads the query parameters into a Filter, refusing unknown
// parameters and values that can never match.
func (s *Server) filter(w http.ResponseWriter, r *http.Request, allowed ...string) (catalog.Filter, bool) {
	q := r.URL.Query()
	for name := range q {
		known := false
		for _, a := range allowed {
			known = known || a == name
		}
		if !known {
			writeError(w, http.StatusBadRequest, "unknown parameter "+name+"; allowed: "+strings.Join(allowed, ", "))
			return catalog.Filter{}, false
		}
	}
	f := catalog.Filter{System: q.Get("system"), Category: q.Get("category"),
		Recipient: q.Get("recipient"), Country: q.Get("country")}
	if f.Category != "" && len(s.taxonomy.Subtree(f.Category)) == 0 {
		writeError(w, http.StatusBadRequest, "category "+f.Category+" is not in the taxonomy")
		return f, false
	}
	if f.Country != "" {
		if _, ok := events.LookupCountry(f.Country); !ok {
			writeError(w, http.StatusBadRequest, "country "+f.Country+" is not an ISO 3166-1 alpha-2 code such as DE or US")
			return f, false
		}
	}
	return f, true
}

func (s *Server) respond(w http.ResponseWriter, rows any, err error) {
	if err != nil {
		s.log.Error("query failed", "err", err)
		writeError(w, http.StatusServiceUnavailable, "the catalog could not answer; see the server log")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": rows})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
