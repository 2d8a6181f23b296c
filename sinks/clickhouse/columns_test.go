package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/internal/testkit/testservers"
)

func TestMain(m *testing.M) { testservers.Main(m) }

// The migrated events table and the writer, which follows events.Fields,
// agree: every column the writer fills exists, every other column has a
// default, and each payload field lands in its own column. A field added
// to events.Fields without its migration fails here.
func TestWriterFillsTheColumnsOfTheMigratedTable(t *testing.T) {
	conn := testservers.ClickHouse(t)
	ctx := context.Background()
	rows, err := conn.Query(ctx, `SELECT name, default_kind FROM system.columns
		WHERE database = currentDatabase() AND table = 'events' ORDER BY position`)
	if err != nil {
		t.Fatal(err)
	}
	defaults := map[string]bool{}
	for rows.Next() {
		var name, kind string
		if err := rows.Scan(&name, &kind); err != nil {
			t.Fatal(err)
		}
		defaults[name] = kind != ""
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	written := columnNames()
	for _, c := range written {
		if _, ok := defaults[c]; !ok {
			t.Errorf("the writer fills column %s, which the migrated events table lacks: add a migration", c)
		}
	}
	for c, hasDefault := range defaults {
		if !hasDefault && !slices.Contains(written, c) {
			t.Errorf("column %s of the events table has no default and the writer does not fill it: describe its field in events.Fields", c)
		}
	}

	// One event of each kind about data, every field of the payload set to
	// a value of its own, read back column by column. (Events about a
	// person go to subject_refs: see subjects_test.go.)
	var batch []*events.Event
	for i, k := range events.Kinds {
		if !k.AboutData() {
			continue
		}
		ev := &events.Event{ID: fmt.Sprint("e", i), Source: "billing-api", Kind: k,
			Time: time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC), Data: events.Data{Recipient: new(events.Recipient)}}
		// Distinct values that also parse as the ISO 8601 duration
		// retention_days is derived from; the writer does not validate.
		for j, f := range payloadFields {
			f.SetText(&ev.Data, fmt.Sprint("P", 10*i+j+1, "Y"))
			f.SetNumber(&ev.Data, int64(100*i+j))
		}
		batch = append(batch, ev)
	}
	if err := NewWriter(conn).Write(ctx, batch); err != nil {
		t.Fatal(err)
	}
	for _, ev := range batch {
		for _, f := range payloadFields {
			var got string
			q := fmt.Sprintf("SELECT toString(%s) FROM events FINAL WHERE source = ? AND id = ?", f.Column)
			if err := conn.QueryRow(ctx, q, ev.Source, ev.ID).Scan(&got); err != nil {
				t.Fatalf("%s: %v", f.Column, err)
			}
			want := f.Text(&ev.Data)
			if f.Type == events.Integer {
				want = fmt.Sprint(f.Number(&ev.Data))
			}
			if got != want {
				t.Errorf("%s event: column %s holds %q, want %q (data.%s)", ev.Kind, f.Column, got, want, f.Key)
			}
		}
	}
}

// Extension attributes land in the extensions map; events without any
// get an empty one.
func TestWriterKeepsExtensionAttributes(t *testing.T) {
	conn := testservers.ClickHouse(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	evs := []*events.Event{
		{Source: "relay", ID: "with", Kind: events.KindCollected, Time: at, Extensions: map[string]string{"partitionkey": "tenant-7"},
			Data: events.Data{Category: "billing.invoice", DataSubject: "customer", Count: 1}},
		{Source: "relay", ID: "without", Kind: events.KindCollected, Time: at,
			Data: events.Data{Category: "billing.invoice", DataSubject: "customer", Count: 1}},
	}
	if err := NewWriter(conn).Write(ctx, evs); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"with": "tenant-7", "without": ""} {
		var got string
		var n uint64
		if err := conn.QueryRow(ctx, `SELECT extensions['partitionkey'], length(extensions) FROM events FINAL WHERE id = ?`, id).Scan(&got, &n); err != nil {
			t.Fatal(err)
		}
		if got != want || (want == "") != (n == 0) {
			t.Errorf("%s: extensions['partitionkey'] = %q (%d entries), want %q", id, got, n, want)
		}
	}
}
