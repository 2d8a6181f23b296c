package api

import (
	"log/slog"
	"net/http"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Health serves only /healthz and /readyz, for processes that run the
// consumer without the catalog API (`datamap serve --consumer-only`).
func Health(conn driver.Conn, ready Readiness, log *slog.Logger) http.Handler {
	s := New(Options{Catalog: conn, Ready: ready, Log: log})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	return mux
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
