// Package attempts limits failed attempts to present a credential: wrong
// bearer tokens on the API, the ingest and /metrics, and wrong tokens typed
// into the web login. A client that keeps failing is answered 429 until
// its allowance refills, so guessing a token online takes longer than the
// token's lifetime; a client that presents the right token never fails,
// and is never slowed down unless its address or its token's first
// characters were used to guess.
//
// Failures are counted per client address and per token prefix (a keyed
// hash of a presented token's first four characters): the first stops one
// client guessing quickly, the second many clients guessing tokens that
// start alike. Each failure is logged with the address, the route and
// that hash, never with the token.
package attempts

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Defaults of Options.
const (
	DefaultBurst = 20
	DefaultEvery = time.Second
)

// maxTracked bounds how many clients and prefixes are remembered; past it,
// those with their whole allowance back are forgotten first.
const maxTracked = 10_000

// Options configure a Limiter.
type Options struct {
	// Burst is how many failed attempts a client, or a token prefix, may
	// make in a row before it is refused; 0 means DefaultBurst.
	Burst int
	// Every is how often one more attempt is allowed back; 0 means
	// DefaultEvery.
	Every time.Duration
	// Secret returns the token a request presents, "" when it presents
	// none; nil counts failures per client address only.
	Secret func(*http.Request) string
	// Failed reports whether a response status is a failed attempt; nil
	// means 401 Unauthorized.
	Failed func(status int) bool
	Log    *slog.Logger
}

// Limiter counts failed attempts and refuses clients that made too many.
// It is safe for concurrent use.
type Limiter struct {
	opts Options
	key  []byte // keys the prefix hash, so the log cannot be reversed
	mu   sync.Mutex
	by   map[string]*rate.Limiter
}

// New returns a Limiter with the options' defaults filled in.
func New(o Options) *Limiter {
	if o.Burst <= 0 {
		o.Burst = DefaultBurst
	}
	if o.Every <= 0 {
		o.Every = DefaultEvery
	}
	if o.Secret == nil {
		o.Secret = func(*http.Request) string { return "" }
	}
	if o.Failed == nil {
		o.Failed = func(status int) bool { return status == http.StatusUnauthorized }
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go 1.24+)
	return &Limiter{opts: o, key: key, by: map[string]*rate.Limiter{}}
}

// Handler refuses, with 429 and Retry-After, a request whose client or
// token prefix has no failed attempt left, and counts the failures of the
// others.
func (l *Limiter) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		client := clientAddr(r)
		prefix := l.prefixHash(l.opts.Secret(r))
		keys := []string{"client " + client}
		if prefix != "" {
			keys = append(keys, "prefix "+prefix)
		}
		if wait := l.wait(keys); wait > 0 {
			l.opts.Log.Warn("authentication refused: too many failed attempts", "remote", client, "method", r.Method,
				"path", r.URL.Path, "token_prefix_hash", prefix)
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			http.Error(w, "too many failed attempts from this client or with tokens like this one; wait and try again with the right token", http.StatusTooManyRequests)
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if l.opts.Failed(rec.status) {
			l.fail(keys)
			l.opts.Log.Warn("authentication failed", "remote", client, "method", r.Method, "path", r.URL.Path,
				"status", rec.status, "token_prefix_hash", prefix)
		}
	})
}

// wait is how long until every key has an attempt left; 0 when they have.
func (l *Limiter) wait(keys []string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	var longest time.Duration
	for _, k := range keys {
		lim := l.by[k]
		if lim == nil {
			continue
		}
		if missing := 1 - lim.TokensAt(now); missing > 0 {
			longest = max(longest, time.Duration(missing*float64(l.opts.Every)))
		}
	}
	return longest
}

// fail uses up one attempt of each key.
func (l *Limiter) fail(keys []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	for _, k := range keys {
		lim := l.by[k]
		if lim == nil {
			if len(l.by) >= maxTracked {
				l.forget(now)
			}
			lim = rate.NewLimiter(rate.Every(l.opts.Every), l.opts.Burst)
			l.by[k] = lim
		}
		lim.AllowN(now, 1)
	}
}

// forget drops the keys whose allowance is whole again, or, if none is,
// half of them: a flood of distinct clients cannot grow memory without
// bound, at worst it gives some of them their allowance back early.
func (l *Limiter) forget(now time.Time) {
	for k, lim := range l.by {
		if lim.TokensAt(now) >= float64(l.opts.Burst) {
			delete(l.by, k)
		}
	}
	for k := range l.by {
		if len(l.by) < maxTracked/2 {
			break
		}
		delete(l.by, k)
	}
}

// prefixHash is a keyed hash of the token's first four characters, "" for
// no token: enough to tell the log's failures apart and to count them,
// and nothing an attacker reading the log could turn back into
// characters of a token.
func (l *Limiter) prefixHash(secret string) string {
	if secret == "" {
		return ""
	}
	prefix := secret
	if r := []rune(secret); len(r) > 4 {
		prefix = string(r[:4])
	}
	h := hmac.New(sha256.New, l.key)
	h.Write([]byte(prefix))
	return hex.EncodeToString(h.Sum(nil)[:6])
}

// clientAddr is the client's IP address: the connection's peer. Headers
// such as X-Forwarded-For are not read; a client could set them.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// statusRecorder remembers the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader {
		s.status, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wroteHeader = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
