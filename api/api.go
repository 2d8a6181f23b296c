// Package api is datamap's HTTP JSON API: health, readiness, and the
// catalog queries under /api/v1/. Every /api/ route needs a bearer token.
package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/bearer"
)

// Readiness reports whether the pipeline can do its work right now.
type Readiness interface {
	Ready() bool
}

// Server serves the HTTP API.
type Server struct {
	catalog  driver.Conn
	ready    Readiness
	taxonomy *taxonomy.Taxonomy
	token    string
	readers  bearer.Tokens // the full-access token and the read-only ones: the query routes
	subjects subjectTokens // the subject role: the subject questions, and only those
	ingest   bearer.Tokens // recognised only to refuse them with 403
	sessions Sessions      // web data map sessions, as read tokens; may be nil
	evidence Evidence
	// deadLetters is the JetStream the dead-letter summary reads; nil
	// when this server has none.
	deadLetters jetstream.JetStream
	log         *slog.Logger
}

// New returns the API over a catalog connection. token is the bearer token
// /api/ routes require.
func New(conn driver.Conn, ready Readiness, tax *taxonomy.Taxonomy, token string, log *slog.Logger) *Server {
	return &Server{catalog: conn, ready: ready, taxonomy: tax, token: token, readers: bearer.New(token), log: log}
}

// Handler returns the routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	s.questionRoutes(mux)
	s.recordRoutes(mux)
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
