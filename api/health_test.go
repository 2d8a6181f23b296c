package api_test

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/back-trace/datamap/api"
)

// /readyz, open to anyone who reaches the listener, says the catalog does
// not answer without naming its address or port; the log has the error.
func TestReadyzRevealsNoAddress(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var logged bytes.Buffer
	srv := httptest.NewServer(api.Health(conn, nil, slog.New(slog.NewTextHandler(&logged, nil))))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	_, port, _ := net.SplitHostPort(addr)
	if res.StatusCode != http.StatusServiceUnavailable || strings.Contains(string(body), port) || strings.Contains(string(body), "127.0.0.1") {
		t.Errorf("/readyz with the catalog down: %d %s, want 503 naming no address", res.StatusCode, body)
	}
	if !strings.Contains(logged.String(), port) {
		t.Errorf("the log lacks the error:\n%s", logged.String())
	}
}
