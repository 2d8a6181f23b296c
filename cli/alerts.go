package cli

import (
	"context"
	"strings"
	"time"

	"github.com/back-trace/datamap/alerts"
)

func runAlerts(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "alerts", "[--pending] [flags]", `
What serve announced about the drift findings: each finding once when it
opened and once when it was resolved, to each target (nats, and every
webhook of DATAMAP_ALERT_WEBHOOKS, named format:host#hash, never by its
URL), with the delivery status: delivered, pending (retrying, or waiting
its turn), or failed (refused by the receiver; serve retries it at its
next start). Newest findings first. See docs/alerts.md.`, `
  datamap alerts
  datamap alerts --pending
  datamap alerts --format json`)
	pending := fs.Bool("pending", false, "only announcements not delivered yet (pending or failed)")
	format := new(string)
	formatFlag(fs, format)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	s, closeStack, err := attach(ctx, e)
	if err != nil {
		return err
	}
	defer closeStack()
	recs, err := alerts.Read(ctx, s.ClickHouse)
	if err != nil {
		return err
	}
	rows := make([]alertRow, 0, len(recs))
	for _, r := range recs {
		if *pending && r.Status == alerts.Delivered {
			continue
		}
		_, about, _ := strings.Cut(strings.TrimPrefix(r.Key, r.Kind+"|"), "|")
		rows = append(rows, alertRow{OpenedAt: r.OpenedAt, Announcement: r.Announcement, Severity: r.Severity, Kind: r.Kind,
			About: about, Target: r.Target, Status: r.Status, Attempts: r.Attempts, LastError: r.LastError, Key: r.Key})
	}
	return render(e.stdout, *format, rows)
}

// alertRow is one announcement to one target, for render.
type alertRow struct {
	OpenedAt     time.Time `json:"opened_at"`
	Announcement string    `json:"announcement"`
	Severity     string    `json:"severity"`
	Kind         string    `json:"kind"`
	About        string    `json:"about"`
	Target       string    `json:"target"`
	Status       string    `json:"status"`
	Attempts     uint32    `json:"attempts"`
	LastError    string    `json:"last_error"`
	Key          string    `json:"key"`
}
