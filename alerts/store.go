package alerts

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Delivery states of an announcement to one target.
const (
	// Pending: decided, not delivered yet (retrying, or waiting its turn).
	Pending = "pending"
	// Delivered: the target accepted it.
	Delivered = "delivered"
	// Failed: the target refused it for good (an HTTP 4xx, say); the
	// next start retries it, after the configuration was fixed.
	Failed = "failed"
)

// Record is what the catalog keeps of one announcement to one target
// (table alerts).
type Record struct {
	Key          string    `json:"key"`
	OpenedAt     time.Time `json:"opened_at"`
	Announcement string    `json:"announcement"` // opened or resolved
	Target       string    `json:"target"`
	Kind         string    `json:"kind"`
	Severity     string    `json:"severity"`
	AnnouncedAt  time.Time `json:"announced_at"`
	Event        string    `json:"-"`
	Status       string    `json:"status"`
	Attempts     uint32    `json:"attempts"`
	LastError    string    `json:"last_error,omitempty"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// store writes and reads the table alerts. A record is rewritten as its
// delivery progresses; each version has a later updated_at, and reads
// take the latest.
type store struct {
	conn driver.Conn
	mu   sync.Mutex
	last time.Time
}

// stamp is a strictly increasing version time, so that two versions of a
// record written in the same microsecond still order.
func (s *store) stamp() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := time.Now().UTC().Truncate(time.Microsecond)
	if !t.After(s.last) {
		t = s.last.Add(time.Microsecond)
	}
	s.last = t
	return t
}

// save writes records in one INSERT.
func (s *store) save(ctx context.Context, recs ...Record) error {
	if len(recs) == 0 {
		return nil
	}
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO alerts (finding_key, opened_at, announcement, target, kind, severity, announced_at, event, status, attempts, last_error, updated_at)")
	if err != nil {
		return fmt.Errorf("alerts: record announcements: %w", err)
	}
	defer b.Abort()
	for _, r := range recs {
		if err := b.Append(r.Key, r.OpenedAt, r.Announcement, r.Target, r.Kind, r.Severity, r.AnnouncedAt,
			r.Event, r.Status, r.Attempts, r.LastError, s.stamp()); err != nil {
			return fmt.Errorf("alerts: record announcements: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("alerts: record announcements: %w", err)
	}
	return nil
}

// Read returns the latest state of every announcement to every target,
// the newest findings first: what `datamap alerts` lists.
func Read(ctx context.Context, conn driver.Conn) ([]Record, error) {
	rows, err := conn.Query(ctx, `
		SELECT finding_key, opened_at, announcement, target,
		       argMax(kind, updated_at), argMax(severity, updated_at), argMax(announced_at, updated_at),
		       argMax(event, updated_at), argMax(status, updated_at), argMax(attempts, updated_at),
		       argMax(last_error, updated_at), max(updated_at)
		FROM alerts
		GROUP BY finding_key, opened_at, announcement, target
		ORDER BY opened_at DESC, finding_key, announcement = 'resolved', target`)
	if err != nil {
		return nil, fmt.Errorf("alerts: read announcements: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		if err := rows.Scan(&r.Key, &r.OpenedAt, &r.Announcement, &r.Target, &r.Kind, &r.Severity, &r.AnnouncedAt,
			&r.Event, &r.Status, &r.Attempts, &r.LastError, &r.UpdatedAt); err != nil {
			return nil, fmt.Errorf("alerts: read announcements: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alerts: read announcements: %w", err)
	}
	return out, nil
}
