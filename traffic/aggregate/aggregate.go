// Package aggregate keeps observed calls as day aggregates in memory and
// writes them to the catalog every few seconds. Memory is bounded by the
// number of distinct aggregates (system × destination × day), not by the
// number of spans: a burst of a million spans to the same hosts costs no
// more than one span each.
package aggregate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/back-trace/datamap/traffic"
)

// Writer stores day aggregates; rows of the same key add up (see the
// traffic table's migration).
type Writer interface {
	WriteTraffic(ctx context.Context, rows []traffic.Observation) error
}

// ErrFull is returned by Add while the aggregator holds MaxKeys
// aggregates that are not written yet: the sender should retry later.
var ErrFull = errors.New("traffic aggregates are full until the next write to the catalog; retry later")

// Options tune an Aggregator; zero values take the defaults.
type Options struct {
	// Interval between writes (default 5s).
	Interval time.Duration
	// MaxKeys bounds the aggregates held between writes (default 100 000,
	// about 30 MB).
	MaxKeys int
	// Logger for failed writes (default slog.Default()).
	Logger *slog.Logger
}

type counts struct {
	spans, errors uint64
	first, last   int64
}

// Aggregator is a traffic.Sink that writes its aggregates periodically.
// It is safe for concurrent use.
type Aggregator struct {
	w    Writer
	opts Options

	mu   sync.Mutex
	rows map[traffic.Key]*counts

	flushMu sync.Mutex // one write at a time
}

// New aggregates into w.
func New(w Writer, opts Options) *Aggregator {
	if opts.Interval <= 0 {
		opts.Interval = 5 * time.Second
	}
	if opts.MaxKeys <= 0 {
		opts.MaxKeys = 100_000
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Aggregator{w: w, opts: opts, rows: map[traffic.Key]*counts{}}
}

// Add counts calls. It refuses all of them (ErrFull) when one would need a
// new aggregate and MaxKeys are held, so that a request is taken whole or
// not at all and a retry counts nothing twice.
func (a *Aggregator) Add(calls []traffic.Call) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.rows)+len(calls) > a.opts.MaxKeys {
		fresh := 0
		for i := range calls {
			if _, ok := a.rows[calls[i].Key]; !ok {
				fresh++ // may count a key twice: errs on the side of refusing
			}
		}
		if len(a.rows)+fresh > a.opts.MaxKeys {
			return ErrFull
		}
	}
	for i := range calls {
		c := &calls[i]
		r := a.rows[c.Key]
		if r == nil {
			r = &counts{first: c.At, last: c.At}
			// The key's strings may be slices of a span's attribute (a
			// host cut from a URL): copies keep no more than the key alive.
			k := c.Key
			k.System, k.Host = strings.Clone(k.System), strings.Clone(k.Host)
			a.rows[k] = r
		}
		r.spans++
		if c.Failed {
			r.errors++
		}
		r.first = min(r.first, c.At)
		r.last = max(r.last, c.At)
	}
	return nil
}

// Len is the number of aggregates not written yet.
func (a *Aggregator) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.rows)
}

// Flush writes every aggregate held. On failure they are kept (merged with
// what arrived meanwhile) for the next Flush.
func (a *Aggregator) Flush(ctx context.Context) error {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	a.mu.Lock()
	held := a.rows
	a.rows = make(map[traffic.Key]*counts, len(held))
	a.mu.Unlock()
	if len(held) == 0 {
		return nil
	}
	rows := make([]traffic.Observation, 0, len(held))
	for k, c := range held {
		rows = append(rows, traffic.Observation{Key: k, Spans: c.spans, Errors: c.errors,
			First: time.Unix(0, c.first).UTC(), Last: time.Unix(0, c.last).UTC()})
	}
	if err := a.w.WriteTraffic(ctx, rows); err != nil {
		a.mu.Lock()
		for k, c := range held {
			if r := a.rows[k]; r != nil {
				r.spans += c.spans
				r.errors += c.errors
				r.first, r.last = min(r.first, c.first), max(r.last, c.last)
			} else {
				a.rows[k] = c
			}
		}
		a.mu.Unlock()
		return fmt.Errorf("writing %d traffic aggregates: %w", len(rows), err)
	}
	return nil
}

// Run writes every Interval until ctx is done, then once more with a
// short grace so that what was accepted is not lost on shutdown.
func (a *Aggregator) Run(ctx context.Context) error {
	t := time.NewTicker(a.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := a.Flush(ctx); err != nil {
				a.opts.Logger.Warn("traffic aggregates not written; kept for the next attempt", "err", err)
			}
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			return a.Flush(final)
		}
	}
}
