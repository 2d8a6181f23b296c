// Package alerts announces drift findings as they open and as they are
// resolved: once each, to every target (CloudEvents on NATS, webhooks in
// the generic, Slack or Alertmanager format), never again after a
// restart.
//
// Every Interval the Alerter asks for the findings (the drift `datamap
// drift` answers, against the configured registry) and compares them, by
// key (kind, activity and what a finding is about — not its message or
// counts), with the findings it has announced as open. A new key opens an
// episode; a key gone from the answer resolves it. Each announcement is
// recorded in the catalog (table alerts) as pending for every target
// before anything is sent, then handed to the target's own sender, which
// retries with bounded exponential back-off and records the outcome. So
// the check never waits on a target, and a restart finds in the catalog
// what is open and what is still to deliver. A crash between a delivery
// and its record repeats that one delivery at the next start, with the
// same event id.
package alerts

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/report"
)

// DefaultInterval is how often findings are checked when Options.Interval
// is 0 (DATAMAP_ALERT_INTERVAL).
const DefaultInterval = 30 * time.Second

// Findings answers the drift findings as of a time.
type Findings func(ctx context.Context, asOf time.Time) ([]report.Finding, error)

// Retry bounds the back-off of a failing delivery: the first wait is
// Initial, each next one about twice as long, never longer than Max. A
// delivery is retried until it succeeds, the target refuses it for good,
// or the Alerter stops (it stays pending, retried at the next start).
type Retry struct {
	Initial, Max time.Duration
}

// DefaultRetry waits 1 s, 2 s, 4 s … up to 5 minutes between attempts.
var DefaultRetry = Retry{Initial: time.Second, Max: 5 * time.Minute}

// Options configure an Alerter.
type Options struct {
	Findings Findings    // required
	Catalog  driver.Conn // required: where announcements are recorded
	Targets  []Target
	Interval time.Duration // 0 means DefaultInterval
	Retry    Retry         // zero means DefaultRetry
	Log      *slog.Logger
}

// Alerter checks the findings and announces their changes.
type Alerter struct {
	opts    Options
	store   *store
	senders map[string]*sender
	// open are the episodes announced as open, by key; only check
	// touches it, and Run calls check from one goroutine.
	open map[string]*episode
}

// episode is one stretch of time a finding stays open.
type episode struct {
	latest  Announcement    // the finding as last seen, stated as opened
	targets map[string]bool // the targets its opened announcement went to
}

// New reads what was announced from the catalog and returns an Alerter
// that resumes from there: open findings stay open (not announced again),
// undelivered announcements are delivered when Run starts, and a target
// added since is told of the findings open now.
func New(ctx context.Context, o Options) (*Alerter, error) {
	if o.Findings == nil || o.Catalog == nil {
		return nil, errors.New("alerts: Options.Findings and Options.Catalog are required")
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Retry.Initial <= 0 || o.Retry.Max <= 0 {
		o.Retry = DefaultRetry
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	a := &Alerter{opts: o, store: &store{conn: o.Catalog}, senders: map[string]*sender{}, open: map[string]*episode{}}
	for _, t := range o.Targets {
		if _, dup := a.senders[t.Name()]; dup {
			return nil, fmt.Errorf("alerts: target %s is configured twice", t.Name())
		}
		a.senders[t.Name()] = &sender{target: t, store: a.store, retry: o.Retry, log: o.Log, wake: make(chan struct{}, 1)}
	}
	if err := a.resume(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// resume rebuilds the open episodes and the senders' queues from the
// catalog.
func (a *Alerter) resume(ctx context.Context) error {
	recs, err := Read(ctx, a.opts.Catalog)
	if err != nil {
		return err
	}
	type episodeID struct {
		key    string
		opened time.Time
	}
	resolved := map[episodeID]bool{}
	for _, r := range recs {
		if r.Announcement == Resolved {
			resolved[episodeID{r.Key, r.OpenedAt}] = true
		}
	}
	// Oldest first, opened before resolved: the order they were decided.
	slices.SortStableFunc(recs, func(x, y Record) int {
		return cmp.Or(x.AnnouncedAt.Compare(y.AnnouncedAt), cmp.Compare(x.Announcement, y.Announcement)) // opened < resolved
	})
	var added []queued
	for _, r := range recs {
		id := episodeID{r.Key, r.OpenedAt}
		if r.Announcement == Opened && !resolved[id] {
			ep := a.open[r.Key]
			if ep == nil || ep.latest.OpenedAt.Before(r.OpenedAt) {
				m, err := decodeMessage([]byte(r.Event))
				if err != nil {
					return err
				}
				ep = &episode{latest: m.Announcement, targets: map[string]bool{}}
				a.open[r.Key] = ep
			}
			ep.targets[r.Target] = true
		}
		if s := a.senders[r.Target]; s != nil && r.Status != Delivered {
			m, err := decodeMessage([]byte(r.Event))
			if err != nil {
				return err
			}
			s.add(queued{rec: r, msg: m})
		}
	}
	// A target configured since a finding opened is told of it now.
	for _, ep := range a.open {
		for name := range a.senders {
			if ep.targets[name] {
				continue
			}
			m, err := message(ep.latest)
			if err != nil {
				return err
			}
			added = append(added, queued{rec: record(m, name), msg: m})
			ep.targets[name] = true
		}
	}
	recs = recs[:0]
	for _, q := range added {
		recs = append(recs, q.rec)
	}
	if err := a.store.save(ctx, recs...); err != nil {
		return err
	}
	for _, q := range added {
		a.senders[q.rec.Target].add(q)
	}
	return nil
}

// Run checks the findings at once and then every Interval, and delivers,
// until ctx ends. A failed check is logged and tried again at the next
// tick; it resolves nothing.
func (a *Alerter) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, s := range a.senders {
		wg.Add(1)
		go func() { defer wg.Done(); s.run(ctx) }()
	}
	tick := time.NewTicker(a.opts.Interval)
	defer tick.Stop()
	for {
		if err := a.check(ctx); err != nil && ctx.Err() == nil {
			a.opts.Log.Warn("alerts: findings not checked; trying again at the next interval", "err", err)
		}
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil
		case <-tick.C:
		}
	}
}

// check compares the findings with the open episodes, records the
// announcements the difference calls for, and hands them to the senders.
// Nothing changes in memory unless the catalog has the records.
func (a *Alerter) check(ctx context.Context) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	findings, err := a.opts.Findings(ctx, now)
	if err != nil {
		return err
	}
	defer func() {
		a.opts.Log.Debug("alerts: findings checked", "findings", len(findings), "open", len(a.open), "took", time.Since(now))
	}()
	current := make(map[string]report.Finding, len(findings))
	for _, f := range findings {
		current[Key(f)] = f
	}
	type change struct {
		key string
		ep  *episode // nil: resolved
		out []queued
	}
	var changes []change
	var recs []Record
	for _, f := range findings {
		key := Key(f)
		if ep := a.open[key]; ep != nil {
			opened := ep.latest.OpenedAt
			ep.latest = announce(f, opened)
			continue
		}
		if slices.ContainsFunc(changes, func(c change) bool { return c.key == key }) {
			continue
		}
		m, err := message(announce(f, now))
		if err != nil {
			return err
		}
		c := change{key: key, ep: &episode{latest: m.Announcement, targets: map[string]bool{}}}
		for name := range a.senders {
			c.ep.targets[name] = true
			c.out = append(c.out, queued{rec: record(m, name), msg: m})
		}
		changes = append(changes, c)
	}
	for key, ep := range a.open {
		if _, still := current[key]; still {
			continue
		}
		m, err := message(ep.latest.resolve(now))
		if err != nil {
			return err
		}
		c := change{key: key}
		for name := range ep.targets {
			if a.senders[name] != nil {
				c.out = append(c.out, queued{rec: record(m, name), msg: m})
			}
		}
		changes = append(changes, c)
	}
	for _, c := range changes {
		for _, q := range c.out {
			recs = append(recs, q.rec)
		}
	}
	if err := a.store.save(ctx, recs...); err != nil {
		return err
	}
	for _, c := range changes {
		if c.ep != nil {
			a.open[c.key] = c.ep
		} else {
			delete(a.open, c.key)
		}
		for _, q := range c.out {
			a.senders[q.rec.Target].add(q)
		}
	}
	return nil
}

// record is the pending record of m for a target.
func record(m Message, target string) Record {
	a := m.Announcement
	at := a.OpenedAt
	if a.ResolvedAt != nil {
		at = *a.ResolvedAt
	}
	return Record{Key: a.Key, OpenedAt: a.OpenedAt, Announcement: a.Status, Target: target, Kind: a.Kind,
		Severity: a.Severity, AnnouncedAt: at, Event: string(m.Event), Status: Pending}
}
