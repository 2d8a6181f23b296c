// Package clickhouse writes consumed events into the ClickHouse catalog.
package clickhouse

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/events"
)

// Writer inserts batches of events into the catalog's events table.
type Writer struct {
	conn      driver.Conn
	retention SubjectRetention // how long subject_refs keeps each row
}

// NewWriter returns a Writer over an open connection. The caller owns conn.
func NewWriter(conn driver.Conn) *Writer { return &Writer{conn: conn} }

// The columns of the events table the writer fills: the envelope's, one
// per payload field (events.Fields), retention_days derived from
// retention, the trace context, and the credential that brought the event
// (events.Event.Credential). ingested_at has a default.
var (
	envelopeColumns = []string{"source", "id", "kind", "time"}
	payloadFields   = payloadColumns()
	derivedColumns  = []string{"retention_days", "traceparent", "tracestate", "extensions", "credential"}
	insertEvents    = "INSERT INTO events (" + strings.Join(columnNames(), ", ") + ")"
)

// columnNames are the columns of the events table the writer fills, in its
// order; every other column must have a default.
func columnNames() []string {
	cols := slices.Clone(envelopeColumns)
	for _, f := range payloadFields {
		cols = append(cols, f.Column)
	}
	return append(cols, derivedColumns...)
}

func payloadColumns() []*events.Field {
	var fs []*events.Field
	for i := range events.Fields {
		if f := &events.Fields[i]; f.Column != "" {
			fs = append(fs, f)
		}
	}
	return fs
}

// Write inserts the batch — one INSERT into events, and one into
// subject_refs when some events are about a person — and returns nil only
// once ClickHouse has acknowledged both. Writing the same batch again is a
// no-op: each insert carries a deduplication token derived from the event
// identities, and both tables deduplicate by identity anyway.
func (w *Writer) Write(ctx context.Context, batch []*events.Event) error {
	// Events about the data go to the events table, without their subject
	// references; the facts about people (every event with a reference,
	// consents and requests included) go to subject_refs. Both are
	// written before Write returns, so the consumer acks after both.
	data := batch
	for _, ev := range batch {
		if !ev.Kind.AboutData() {
			data = dataEvents(batch)
			break
		}
	}
	if !aboutPeople(batch) {
		return w.writeEvents(ctx, data)
	}
	// The two INSERTs are independent (neither reads the other's table),
	// so they run at the same time, on two connections of the pool: a
	// batch waits for the slower one, not for both one after the other
	// (each waits for its parts to be fsynced). A failure of either fails
	// the batch; retrying it is harmless, the one that succeeded is
	// deduplicated by its token.
	subjects := make(chan error, 1)
	go func() { subjects <- w.writeSubjects(ctx, batch) }()
	err := w.writeEvents(ctx, data)
	if serr := <-subjects; err == nil {
		err = serr
	}
	return err
}

// aboutPeople reports whether some event of batch carries a subject
// reference.
func aboutPeople(batch []*events.Event) bool {
	for _, ev := range batch {
		if ev.Data.SubjectRef != "" {
			return true
		}
	}
	return false
}

// dataEvents are the events of batch about the data.
func dataEvents(batch []*events.Event) []*events.Event {
	out := make([]*events.Event, 0, len(batch))
	for _, ev := range batch {
		if ev.Kind.AboutData() {
			out = append(out, ev)
		}
	}
	return out
}

func (w *Writer) writeEvents(ctx context.Context, batch []*events.Event) error {
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
	source, id, kind        []string
	time                    []time.Time
	text                    [][]string // per payload field, in order; nil for an integer one
	numbers                 [][]uint64 // per payload field, in order; nil for a string one
	retentionDays           []uint32
	traceParent, traceState []string
	extensions              []map[string]string
	credential              []string
}

func newColumns(n int) *columns {
	s := func() []string { return make([]string, 0, n) }
	c := &columns{source: s(), id: s(), kind: s(), time: make([]time.Time, 0, n),
		text: make([][]string, len(payloadFields)), numbers: make([][]uint64, len(payloadFields)),
		retentionDays: make([]uint32, 0, n), traceParent: s(), traceState: s(),
		extensions: make([]map[string]string, 0, n), credential: s()}
	for i, f := range payloadFields {
		if f.Type == events.Integer {
			c.numbers[i] = make([]uint64, 0, n)
		} else {
			c.text[i] = s()
		}
	}
	return c
}

func (c *columns) add(ev *events.Event) {
	d := &ev.Data
	c.source = append(c.source, ev.Source)
	c.id = append(c.id, ev.ID)
	c.kind = append(c.kind, string(ev.Kind))
	c.time = append(c.time, ev.Time)
	for i, f := range payloadFields {
		if f.Type == events.Integer {
			c.numbers[i] = append(c.numbers[i], uint64(f.Number(d)))
		} else {
			c.text[i] = append(c.text[i], f.Text(d))
		}
	}
	c.retentionDays = append(c.retentionDays, uint32(events.RetentionLength(d.Retention)/(24*time.Hour)))
	c.traceParent = append(c.traceParent, ev.TraceParent)
	c.traceState = append(c.traceState, ev.TraceState)
	exts := ev.Extensions
	if exts == nil {
		exts = map[string]string{} // the driver wants a map, even an empty one
	}
	c.extensions = append(c.extensions, exts)
	c.credential = append(c.credential, ev.Credential)
}

// all returns the columns in the order of Columns.
func (c *columns) all() []any {
	cols := []any{c.source, c.id, c.kind, c.time}
	for i, f := range payloadFields {
		if f.Type == events.Integer {
			cols = append(cols, c.numbers[i])
		} else {
			cols = append(cols, c.text[i])
		}
	}
	return append(cols, c.retentionDays, c.traceParent, c.traceState, c.extensions, c.credential)
}

// Ping checks that ClickHouse answers, so the consumer can tell an outage
// from a batch ClickHouse refuses.
func (w *Writer) Ping(ctx context.Context) error { return w.conn.Ping(ctx) }
