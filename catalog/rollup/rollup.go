// Package rollup keeps the catalog's rollups current. Every INSERT into
// the events table counts its rows per hour in rollup_arrivals (a
// materialized view, migration 0013); a Folder recomputes the rollup rows
// of the days that received events since their last recomputation, a month
// at a time, and, when raw events expire (a raw-event TTL), seals the days
// that are about to lose them. Queries are exact whether or not a day is
// folded yet (package catalog/query reads its raw events until it is);
// folding only makes them fast. docs/catalog.md ("Rollups") explains why this is exact
// under every fault the consumer survives.
package rollup

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/catalog/schema"
)

// Options tune a Folder.
type Options struct {
	// Interval is how long Run waits between looks for dirty days when
	// there is nothing to fold; default DefaultInterval.
	Interval time.Duration
	// Pace bounds the time Run spends folding: after a round that took d,
	// it waits Pace×d before the next one, so folding
	// uses at most 1/(1+Pace) of one connection's time while ingestion goes
	// on. Default DefaultPace.
	Pace float64
	// RawTTLDays is how many days the events table is to keep raw events
	// (0: forever). Days are sealed the day before their raw events expire,
	// and the Folder sets the table's TTL once every day it would expire is
	// folded and sealed.
	RawTTLDays int
	// Dialect renders the TTL statement for a cluster.
	Dialect schema.Dialect
	// Logger receives progress and errors; nil discards them.
	Logger *slog.Logger
	// Metrics records folding; nil records nothing.
	Metrics *Metrics
	// Now is the clock that decides which days are sealed; nil is
	// time.Now.
	Now func() time.Time
}

// Defaults of Options.
const (
	DefaultInterval = 5 * time.Second
	DefaultPace     = 4.0
)

// Folder folds dirty days into the rollups. Several Folders over one
// catalog (several serve processes) are harmless: folding is idempotent
// and needs no coordination; they only duplicate work.
type Folder struct {
	conn driver.Conn
	opts Options

	dirtyDays   atomic.Int64 // last seen, for the gauges
	pendingRows atomic.Int64
	warmed      atomic.Bool // by a first Warm of a catalog with events, which compiled
}

// New returns a Folder over conn, which the caller owns.
func New(conn driver.Conn, o Options) *Folder {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Pace <= 0 {
		o.Pace = DefaultPace
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	f := &Folder{conn: conn, opts: o}
	f.dirtyDays.Store(-1) // unknown until the first round
	return f
}

// Round is what one round of folding did.
type Round struct {
	Folded    int       // days recomputed
	Sealed    int       // days sealed
	LateRows  uint64    // rows that arrived for days sealed without recomputation: not counted
	Remaining int       // dirty days left after the round
	Month     time.Time // the month folded, zero when none
	ToDate    bool      // the rows to date were computed again
}

// Fold runs one round: it seals the days whose raw events are about to
// expire (recomputing the last of them first if it is dirty), then folds
// the dirty days of the oldest month that has any. Oldest first, so that a
// stream of new events cannot starve a backfill.
func (f *Folder) Fold(ctx context.Context) (Round, error) {
	var r Round
	started := time.Now()
	if err := f.seal(ctx, &r); err != nil {
		return r, err
	}
	dirty, err := query.DirtyDays(ctx, f.conn)
	if err != nil {
		return r, err
	}
	var month []query.Day
	for _, d := range dirty {
		if len(month) > 0 && !sameMonth(d.Day, month[0].Day) {
			break
		}
		month = append(month, d)
	}
	if len(month) > 0 {
		if err := FoldDays(ctx, f.conn, month); err != nil {
			return r, err
		}
		r.Folded, r.Month = len(month), month[0].Day
	}
	r.Remaining = len(dirty) - len(month)
	if r.ToDate, err = FoldToDate(ctx, f.conn); err != nil {
		return r, err
	}
	if (r.Folded > 0 && r.Remaining == 0) || r.ToDate {
		// New rollup rows: the next question would be the first to read
		// them (a backfill warms once, at its end). Not worth failing the
		// round for.
		if err := f.warm(ctx); err != nil {
			f.opts.Logger.Warn("warming the catalog after folding failed", "err", err)
		}
	}
	var pending uint64
	for _, d := range dirty[len(month):] {
		pending += d.Pending()
	}
	f.dirtyDays.Store(int64(r.Remaining))
	f.pendingRows.Store(int64(pending))
	f.opts.Metrics.round(ctx, r, time.Since(started))
	return r, nil
}

// seal seals every unsealed day up to the day before the raw events of the
// oldest kept day expire, then sets the table's TTL if it is not the one
// asked for. Days whose raw events are all there (under the TTL in force)
// are folded first if dirty; older ones may have lost some, so they are
// sealed as they are, and what arrived for them since their last folding
// is reported as late. Without a TTL asked for, nothing is sealed and a
// TTL in force is removed.
func (f *Folder) seal(ctx context.Context, r *Round) error {
	inForce, err := schema.RawEventsTTL(ctx, f.conn, f.opts.Dialect)
	if err != nil {
		return err
	}
	want := f.opts.RawTTLDays
	if want > 0 {
		now := f.opts.Now()
		through := SealedThrough(now, want)
		days, err := query.UnsealedDays(ctx, f.conn, through)
		if err != nil {
			return err
		}
		var whole time.Time // days after it still have every raw event
		if inForce > 0 {
			whole = SealedThrough(now, inForce).AddDate(0, 0, -1)
		}
		var fold []query.Day
		for i, d := range days {
			if d.Dirty() && d.Day.After(whole) {
				fold = append(fold, d)
				days[i].Folded = d.Arrived
			}
		}
		for len(fold) > 0 {
			n := 1
			for n < len(fold) && sameMonth(fold[n].Day, fold[0].Day) {
				n++
			}
			if err := FoldDays(ctx, f.conn, fold[:n]); err != nil {
				return err
			}
			r.Folded += n
			fold = fold[n:]
		}
		r.Sealed = len(days)
		late, err := query.LateDays(ctx, f.conn)
		if err != nil {
			return err
		}
		days = append(days, late...) // recorded again, so that they are reported once
		for _, d := range days {
			r.LateRows += d.Pending()
		}
		if err := SealDays(ctx, f.conn, days); err != nil {
			return err
		}
		if r.LateRows > 0 {
			f.opts.Logger.Warn("events arrived for days whose raw events expired; the rollups do not count them",
				"rows", r.LateRows, "through", through.Format(time.DateOnly), "raw_events_ttl_days", want)
		}
	}
	if inForce != want {
		if err := schema.SetRawEventsTTL(ctx, f.conn, f.opts.Dialect, want); err != nil {
			return err
		}
		f.opts.Logger.Info("raw events TTL set", "days", want, "was", inForce)
	}
	return nil
}

// SealedThrough is the last day sealed at now when raw events are kept
// ttlDays days: a day's raw events expire at its start plus ttlDays days,
// and it is sealed one day before.
func SealedThrough(now time.Time, ttlDays int) time.Time {
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	return today.AddDate(0, 0, 1-ttlDays)
}

func sameMonth(a, b time.Time) bool { return a.Year() == b.Year() && a.Month() == b.Month() }

// FoldAll folds until no day is dirty, calling progress (if set) after
// every round with the days folded so far and the total, which grows if
// events arrive meanwhile. It is the backfill of a catalog migrated to
// rollups, and the repair after MarkAllDirty.
func (f *Folder) FoldAll(ctx context.Context, progress func(done, total int)) (Round, error) {
	var sum Round
	for {
		r, err := f.Fold(ctx)
		sum.Folded += r.Folded
		sum.Sealed += r.Sealed
		sum.LateRows += r.LateRows
		sum.Remaining = r.Remaining
		if err != nil {
			return sum, err
		}
		if progress != nil {
			progress(sum.Folded, sum.Folded+r.Remaining)
		}
		if r.Remaining == 0 {
			return sum, nil
		}
	}
}

// warm warms the catalog (query.Warm): the first time it holds events
// often enough for ClickHouse to compile what the questions run, once
// after that. An empty catalog is not warmed: it has nothing to load or
// compile, and on a first start the work would only compete with the
// first events' ingestion; the first folding warms it.
func (f *Folder) warm(ctx context.Context) error {
	if !f.warmed.Load() {
		if n, err := query.CountRows(ctx, f.conn); err != nil || n == 0 {
			return err
		}
	}
	times := 1
	if f.warmed.CompareAndSwap(false, true) {
		times = query.Compiled
	}
	return query.Warm(ctx, f.conn, times)
}

// Run warms the catalog (query.Warm), then folds until ctx ends: a round
// whenever there are dirty days, paced so that folding never takes more
// than its share of the time (Pace), and a look every Interval otherwise.
// Errors are logged and retried; Run returns nil when ctx ends.
func (f *Folder) Run(ctx context.Context) error {
	ctx = inBackground(ctx)
	if err := f.warm(ctx); err != nil && ctx.Err() == nil {
		f.opts.Logger.Warn("warming the catalog at start failed", "err", err)
	}
	backoff := f.opts.Interval
	lastReport := time.Time{}
	for {
		started := time.Now()
		r, err := f.Fold(ctx)
		took := time.Since(started)
		wait := f.opts.Interval
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			f.opts.Logger.Warn("folding events into the rollups failed; queries read the raw events of the days not folded, and folding is retried",
				"err", err, "retry_in", backoff)
			wait, backoff = backoff, min(2*backoff, time.Minute)
		case r.Folded > 0:
			backoff = f.opts.Interval
			wait = max(time.Duration(f.opts.Pace*float64(took)), 10*time.Millisecond)
			if r.Remaining > 0 && time.Since(lastReport) > 30*time.Second {
				f.opts.Logger.Info("folding events into the rollups", "month", r.Month.Format("2006-01"),
					"dirty_days_left", r.Remaining)
				lastReport = time.Now()
			}
			if r.Remaining > 0 {
				break // more to do: only the pace
			}
			wait = max(wait, f.opts.Interval)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// backgroundNice is the Linux nice value of the engine's threads while
// they run Run's statements: folding yields the CPU to ingestion and to
// questions, and still has all of it when they are idle. The engine
// applies it only where it may (as root, or with CAP_SYS_NICE); elsewhere
// folding runs at the same priority as the rest.
const backgroundNice = 10

// inBackground marks the statements run with ctx as background work.
func inBackground(ctx context.Context) context.Context {
	return ch.Context(ctx, ch.WithSettings(ch.Settings{"os_threads_nice_value_query": backgroundNice}))
}

// Status is the state of a catalog's rollups.
type Status struct {
	DirtyDays   int       `json:"dirty_days"`   // days whose events are not all folded
	PendingRows uint64    `json:"pending_rows"` // rows inserted into those days since their last folding
	OldestDirty time.Time `json:"oldest_dirty,omitzero"`
	Days        int       `json:"days"` // days with events
	SealedDays  int       `json:"sealed_days"`
}

// ReadStatus reads the state of the rollups.
func ReadStatus(ctx context.Context, conn driver.Conn) (Status, error) {
	days, err := query.RollupDays(ctx, conn)
	if err != nil {
		return Status{}, err
	}
	var s Status
	for _, d := range days {
		s.Days++
		if d.Sealed {
			s.SealedDays++
		}
		if d.Dirty() {
			if s.DirtyDays == 0 {
				s.OldestDirty = d.Day
			}
			s.DirtyDays++
			s.PendingRows += d.Pending()
		}
	}
	return s, nil
}
