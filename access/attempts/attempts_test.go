package attempts

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const goodToken = "9f2c4e7a1b3d5f60718293a4b5c6d7e8"

// guarded serves 200 to the good token and 401 to anything else, behind
// a Limiter of burst 5 whose attempts come back every every.
func guarded(every time.Duration, log *bytes.Buffer) (*Limiter, http.Handler) {
	l := New(Options{Burst: 5, Every: every, Log: slog.New(slog.NewTextHandler(log, nil)),
		Secret: func(r *http.Request) string { return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") }})
	return l, l.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+goodToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
}

func call(t *testing.T, url, token string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// A client guessing over loopback gets five tries, then 429 with
// Retry-After, even with the right token, until its allowance refills.
func TestAGuessingClientIsRefused(t *testing.T) {
	var log bytes.Buffer
	_, h := guarded(200*time.Millisecond, &log)
	srv := httptest.NewServer(h)
	defer srv.Close()
	var codes []int
	for i := range 25 {
		res := call(t, srv.URL, fmt.Sprintf("guess-%02d-0123456789abcdefghijklmnop", i))
		codes = append(codes, res.StatusCode)
		if res.StatusCode == http.StatusTooManyRequests && res.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	want := []int{401, 401, 401, 401, 401}
	for range 20 {
		want = append(want, 429)
	}
	if fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Errorf("25 guesses answered %v, want %v", codes, want)
	}
	if res := call(t, srv.URL, goodToken); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the right token from a locked-out client: %d, want 429", res.StatusCode)
	}
	time.Sleep(250 * time.Millisecond)
	if res := call(t, srv.URL, goodToken); res.StatusCode != http.StatusOK {
		t.Errorf("the right token once the allowance refilled: %d, want 200", res.StatusCode)
	}
	if strings.Contains(log.String(), "guess-") || strings.Contains(log.String(), goodToken) {
		t.Errorf("the log shows a token:\n%s", log.String())
	}
	if n := strings.Count(log.String(), "authentication failed"); n != 5 {
		t.Errorf("%d failures logged, want 5:\n%s", n, log.String())
	}
}

// Many clients guessing tokens that start alike are refused together; a
// client with another token is not.
func TestGuessesWithOnePrefixAreRefusedFromAnyClient(t *testing.T) {
	var log bytes.Buffer
	_, h := guarded(time.Hour, &log)
	from := func(addr, token string) int {
		req := httptest.NewRequest("GET", "/api/v1/inventory", nil)
		req.RemoteAddr = addr + ":40000"
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for i := range 5 {
		if code := from(fmt.Sprintf("10.0.0.%d", i+1), fmt.Sprintf("abcd-guess-%d", i)); code != 401 {
			t.Fatalf("guess %d: %d, want 401", i, code)
		}
	}
	if code := from("10.0.1.1", "abcd-another-guess"); code != 429 {
		t.Errorf("a sixth client guessing with the same prefix: %d, want 429", code)
	}
	if code := from("10.0.1.2", goodToken); code != 200 {
		t.Errorf("a fresh client with the right token: %d, want 200", code)
	}
}

// A flood of distinct clients does not grow memory without bound.
func TestTrackedClientsAreBounded(t *testing.T) {
	var log bytes.Buffer
	l, h := guarded(time.Hour, &log)
	l.opts.Log = slog.New(slog.DiscardHandler)
	for i := range 3 * maxTracked {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1", i>>16&255, i>>8&255, i&255)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	if n := len(l.by); n > maxTracked {
		t.Errorf("%d keys tracked, the bound is %d", n, maxTracked)
	}
}
