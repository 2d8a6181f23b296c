package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/back-trace/datamap/config"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/ingest"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/server"
	"github.com/back-trace/datamap/stack"
)

// syncBuffer is a log a server writes to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// clientFrom is an HTTP client whose connections come from the loopback
// address ip (127.0.0.0/8 is all loopback), so that each part of the test
// is one client to the server's limits.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func randomGuess() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// TestServerRefusesHostileRequests is an attacker's view of serve: other
// sites' Host headers, token guessing on every route that takes a token
// and on the web login, a body sent too slowly to finish.
func TestServerRefusesHostileRequests(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	ctx := context.Background()
	cfg := config.Config{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", StreamReplicas: 1,
		StreamDuplicates: time.Minute, BatchSize: 100, BatchWait: 50 * time.Millisecond, RollupInterval: time.Second,
		LogLevel: "info", LogFormat: "text", APIToken: fullToken, ReadTokens: readToken, IngestTokens: ingestToken,
		MetricsToken: metricsToken, HTTPHosts: "datamap.internal.example"}
	var logged syncBuffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	s, err := stack.Start(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	srv, err := server.New(ctx, server.Options{Stack: s, Config: cfg, Taxonomy: taxonomy.Default(), Version: "test", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	serving, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = srv.Run(serving) }()
	base := "http://" + srv.Addr()
	_, port, _ := net.SplitHostPort(srv.Addr())

	// A body that never finishes is cut off by the read timeout.
	slowClosed := make(chan time.Duration, 1)
	go func() {
		start := time.Now()
		c, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			slowClosed <- -1
			return
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ntoken=")
		_ = c.SetReadDeadline(time.Now().Add(40 * time.Second))
		_, _ = io.Copy(io.Discard, c) // returns when the server closes the connection
		slowClosed <- time.Since(start)
	}()

	// DNS rebinding: another site's name is refused on every route; this
	// server's address, localhost and the configured name are not.
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/login", "/api/v1/inventory"} {
		for host, want := range map[string]bool{"evil.example": false, "evil.example:" + port: false, "localhost.evil.example": false,
			"127.0.0.1:" + port: true, "localhost:" + port: true, "[::1]:" + port: true, "datamap.internal.example": true} {
			req, _ := http.NewRequest("GET", base+path, nil)
			req.Host = host
			req.Header.Set("Authorization", "Bearer "+readToken)
			if path == "/metrics" {
				req.Header.Set("Authorization", "Bearer "+metricsToken)
			}
			res, err := clientFrom("127.0.0.1").Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if refused := res.StatusCode == http.StatusMisdirectedRequest; refused == want {
				t.Errorf("GET %s with Host %s: %d", path, host, res.StatusCode)
			}
		}
	}

	// Guessing a bearer token: every route that takes one stops a client
	// after a burst of failures, and then refuses it even the right token.
	for i, route := range []struct{ method, path, right string }{
		{"GET", "/api/v1/inventory", readToken}, {"GET", "/api/v1/subject/requests", ""},
		{"POST", ingest.Path, ingestToken}, {"GET", "/metrics", metricsToken},
	} {
		client := clientFrom(fmt.Sprintf("127.0.0.%d", 10+i))
		status := func(token string) int {
			req, _ := http.NewRequest(route.method, base+route.path, strings.NewReader(collected))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", ingest.ContentTypeStructured)
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		refusedAfter := 0
		for n := 1; n <= 40 && refusedAfter == 0; n++ {
			if status(randomGuess()) == http.StatusTooManyRequests {
				refusedAfter = n
			}
		}
		if refusedAfter == 0 || refusedAfter > 25 {
			t.Errorf("%s %s: 40 guesses were not refused after a burst (refused after %d)", route.method, route.path, refusedAfter)
		}
		if route.right != "" {
			if code := status(route.right); code != http.StatusTooManyRequests {
				t.Errorf("%s %s: the right token from a client that guessed: %d, want 429", route.method, route.path, code)
			}
		}
	}

	// Guessing at the web login: the same.
	login := clientFrom("127.0.0.20")
	refusedAfter := 0
	for n := 1; n <= 40 && refusedAfter == 0; n++ {
		switch code := webLogin(t, login, base, randomGuess()); code {
		case http.StatusTooManyRequests:
			refusedAfter = n
		case http.StatusUnauthorized:
		default:
			t.Fatalf("a wrong login: %d, want 401", code)
		}
	}
	if refusedAfter == 0 || refusedAfter > 25 {
		t.Errorf("40 wrong logins were not refused after a burst (refused after %d)", refusedAfter)
	}
	// Another client is not slowed down by them, and logs in: the form
	// read for counting is still there for the login.
	if code, _ := call(t, "GET", base+"/api/v1/inventory", readToken, "", ""); code != 200 {
		t.Errorf("another client with the right token: %d, want 200", code)
	}
	if code := webLogin(t, clientFrom("127.0.0.21"), base, fullToken); code != http.StatusSeeOther {
		t.Errorf("a login with the right token from another client: %d, want 303", code)
	}

	text := logged.String()
	if n := strings.Count(text, "authentication failed"); n < 40 {
		t.Errorf("%d failed attempts logged, want every one:\n%s", n, text)
	}
	for _, secret := range []string{readToken, ingestToken, metricsToken, fullToken} {
		if strings.Contains(text, secret) {
			t.Errorf("the log shows a token")
		}
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if strings.Contains(sc.Text(), "authentication failed") && !strings.Contains(sc.Text(), "token_prefix_hash=") {
			t.Errorf("a failure logged without the token's prefix hash: %s", sc.Text())
			break
		}
	}

	select {
	case d := <-slowClosed:
		if d < 0 || d > 30*time.Second {
			t.Errorf("a slow body held its connection %s", d)
		}
	case <-time.After(40 * time.Second):
		t.Error("a slow body held its connection past 40 s")
	}
}

// webLogin logs in at the web login form as a browser does, with its CSRF
// value, and returns the status of the POST.
func webLogin(t *testing.T, client *http.Client, base, token string) int {
	t.Helper()
	res, err := client.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var csrf string
	for _, c := range res.Cookies() {
		if c.Name == "datamap_login" {
			csrf = c.Value
		}
	}
	if res.StatusCode == http.StatusTooManyRequests {
		return res.StatusCode
	}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"csrf": {csrf}, "token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.AddCookie(&http.Cookie{Name: "datamap_login", Value: csrf})
	if res, err = client.Do(req); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}
