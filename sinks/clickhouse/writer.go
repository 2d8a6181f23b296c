// Package clickhouse writes consumed events into the ClickHouse catalog.
package clickhouse

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/events"
)

// Writer inserts batches of events into the catalog's events table.
type Writer struct {
	conn driver.Conn
}

// NewWriter returns a Writer over an open connection. The caller owns conn.
func NewWriter(conn driver.Conn) *Writer { return &Writer{conn: conn} }

const insertEvents = `INSERT INTO events (source, id, kind, time, category, data_subject, purpose,
	legal_basis, special_condition, retention, retention_days, origin, location, activity,
	recipient_name, recipient_role, recipient_country, recipient_safeguard, recipient_contract,
	reason, count, traceparent, tracestate)`

// Write inserts the batch as one INSERT and returns nil only once ClickHouse
// has acknowledged it. Writing the same batch again is a no-op: the insert
// carries a deduplication token derived from the event identities, and the
// table deduplicates by identity anyway.
func (w *Writer) Write(ctx context.Context, batch []*events.Event) error {
	if len(batch) == 0 {
		return nil
	}
	ctx = ch.Context(ctx, ch.WithSettings(ch.Settings{"insert_deduplication_token": DeduplicationToken(batch)}))
	b, err := w.conn.PrepareBatch(ctx, insertEvents)
	if err != nil {
		return fmt.Errorf("clickhouse: prepare insert: %w", err)
	}
	defer b.Abort()
	cols := newColumns(len(batch))
	for _, ev := range batch {
		cols.add(ev)
	}
	for i, col := range cols.all() {
		if err := b.Column(i).Append(col); err != nil {
			return fmt.Errorf("clickhouse: append column %d: %w", i, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("clickhouse: insert %d events: %w", len(batch), err)
	}
	return nil
}

// DeduplicationToken identifies a batch by the ordered identities of its
// events, so a retry of the same batch is recognised by ClickHouse.
func DeduplicationToken(batch []*events.Event) string {
	h := sha256.New()
	for _, ev := range batch {
		h.Write([]byte(ev.Source))
		h.Write([]byte{0})
		h.Write([]byte(ev.ID))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// columns holds a batch column by column: appending whole columns avoids
// per-row reflection in the driver.
type columns struct {
	source, id, kind                                        []string
	time                                                    []time.Time
	category, dataSubject, purpose, legalBasis, special     []string
	retention                                               []string
	retentionDays                                           []uint32
	origin, location, activity                              []string
	recName, recRole, recCountry, recSafeguard, recContract []string
	reason                                                  []string
	count                                                   []uint64
	traceParent, traceState                                 []string
}

func newColumns(n int) *columns {
	s := func() []string { return make([]string, 0, n) }
	return &columns{source: s(), id: s(), kind: s(), time: make([]time.Time, 0, n),
		category: s(), dataSubject: s(), purpose: s(), legalBasis: s(), special: s(),
		retention: s(), retentionDays: make([]uint32, 0, n), origin: s(), location: s(), activity: s(),
		recName: s(), recRole: s(), recCountry: s(), recSafeguard: s(), recContract: s(),
		reason: s(), count: make([]uint64, 0, n), traceParent: s(), traceState: s()}
}

func (c *columns) add(ev *events.Event) {
	d := &ev.Data
	var r events.Recipient
	if d.Recipient != nil {
		r = *d.Recipient
	}
	c.source = append(c.source, ev.Source)
	c.id = append(c.id, ev.ID)
	c.kind = append(c.kind, string(ev.Kind))
	c.time = append(c.time, ev.Time)
	c.category = append(c.category, d.Category)
	c.dataSubject = append(c.dataSubject, d.DataSubject)
	c.purpose = append(c.purpose, d.Purpose)
	c.legalBasis = append(c.legalBasis, d.LegalBasis)
	c.special = append(c.special, d.SpecialCondition)
	c.retention = append(c.retention, d.Retention)
	c.retentionDays = append(c.retentionDays, retentionDays(d.Retention))
	c.origin = append(c.origin, d.Origin)
	c.location = append(c.location, d.Location)
	c.activity = append(c.activity, d.Activity)
	c.recName = append(c.recName, r.Name)
	c.recRole = append(c.recRole, r.Role)
	c.recCountry = append(c.recCountry, r.Country)
	c.recSafeguard = append(c.recSafeguard, r.Safeguard)
	c.recContract = append(c.recContract, r.Contract)
	c.reason = append(c.reason, d.Reason)
	c.count = append(c.count, uint64(d.Count))
	c.traceParent = append(c.traceParent, ev.TraceParent)
	c.traceState = append(c.traceState, ev.TraceState)
}

// all returns the columns in the order of insertEvents.
func (c *columns) all() []any {
	return []any{c.source, c.id, c.kind, c.time, c.category, c.dataSubject, c.purpose,
		c.legalBasis, c.special, c.retention, c.retentionDays, c.origin, c.location, c.activity,
		c.recName, c.recRole, c.recCountry, c.recSafeguard, c.recContract,
		c.reason, c.count, c.traceParent, c.traceState}
}

func retentionDays(iso string) uint32 {
	if iso == "" {
		return 0
	}
	d, err := events.ParseISODuration(iso)
	if err != nil {
		return 0 // validated upstream; an unparsable value cannot get here
	}
	return uint32(d.Approx() / (24 * time.Hour))
}

// Ping checks that ClickHouse answers, so the consumer can tell an outage
// from a batch ClickHouse refuses.
func (w *Writer) Ping(ctx context.Context) error { return w.conn.Ping(ctx) }
