// Package api is datamap's HTTP JSON API: health, readiness, and the
// catalog queries under /api/v1/. Every /api/ route needs a bearer token.
package api

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/access"
	"github.com/back-trace/datamap/events/taxonomy"
)

// Readiness reports whether the pipeline can do its work right now.
type Readiness interface {
	Ready() bool
}

// Options configure the API.
type Options struct {
	// Catalog is the connection every answer is read from. Required.
	Catalog driver.Conn
	// Ready says whether the consumer is consuming; nil means /readyz
	// asks only the catalog.
	Ready    Readiness
	Taxonomy *taxonomy.Taxonomy
	// Credentials say who may ask what: the read and full roles open the
	// question routes, the subject role only the subject questions; an
	// ingest credential is recognised only to be told it has the wrong
	// role (403, not 401).
	Credentials access.Credentials
	// Sessions finds the credential of a browser logged in to the web
	// data map; nil admits bearer tokens only.
	Sessions Sessions
	// Evidence serves drift and the Article 30 record against a registry.
	Evidence Evidence
	// DeadLetters is the JetStream the dead-letter summary reads; nil
	// when this server has none.
	DeadLetters jetstream.JetStream
	// CursorKey signs the cursors of list answers; nil draws a random
	// one, so a restart ends the paging of answers begun before it.
	CursorKey []byte
	Log       *slog.Logger
}

// Server serves the HTTP API.
type Server struct {
	catalog     driver.Conn
	ready       Readiness
	taxonomy    *taxonomy.Taxonomy
	credentials access.Credentials
	sessions    Sessions
	evidence    Evidence
	deadLetters jetstream.JetStream
	cursors     cursors
	log         *slog.Logger
}

// New returns the API the options describe.
func New(o Options) *Server {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.CursorKey == nil {
		o.CursorKey = make([]byte, 32)
		_, _ = rand.Read(o.CursorKey) // crypto/rand.Read never fails (Go 1.24+)
	}
	return &Server{catalog: o.Catalog, ready: o.Ready, taxonomy: o.Taxonomy, credentials: o.Credentials,
		sessions: o.Sessions, evidence: o.Evidence, deadLetters: o.DeadLetters, cursors: cursors{key: o.CursorKey}, log: o.Log}
}

// Handler returns the routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	s.questionRoutes(mux)
	s.recordRoutes(mux)
	return jsonMisses(mux)
}

// jsonMisses answers a request no route takes — an unknown path (404) or a
// known one with another method (405) — in the API's JSON error shape
// instead of the mux's plain text.
func jsonMisses(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			h.ServeHTTP(w, r)
			return
		}
		probe := &statusProbe{header: http.Header{}}
		h.ServeHTTP(probe, r)
		switch probe.status {
		case http.StatusMethodNotAllowed:
			allow := probe.header.Get("Allow")
			w.Header().Set("Allow", allow)
			writeError(w, probe.status, "this route does not answer "+r.Method+"; it answers "+allow)
		case http.StatusNotFound:
			writeError(w, probe.status, "no such route; the routes are described at /api/v1/openapi.json")
		default: // a redirect the mux makes (a cleaned path, a trailing slash)
			h.ServeHTTP(w, r)
		}
	})
}

// statusProbe records the status and headers the mux's own answer would
// have, and drops its body.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header         { return p.header }
func (p *statusProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *statusProbe) WriteHeader(status int)      { p.status = status }

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	problems := map[string]string{}
	// The error stays in the log: it names internal addresses and ports,
	// which /readyz, open to anyone who reaches the listener, must not.
	if err := s.catalog.Ping(ctx); err != nil {
		s.log.Warn("not ready: the catalog does not answer", "err", err)
		problems["clickhouse"] = "the catalog does not answer; see the server log"
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
