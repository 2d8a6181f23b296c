package rollup_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/catalog/rollup"
	"github.com/back-trace/datamap/catalog/schema"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/sinks/clickhouse"
)

func TestMain(m *testing.M) { testservers.Main(m) }

// dailyEvents makes n events per day for the days [from, from+days), one
// collection and one share to Stripe in turn, with ids that say the day.
func dailyEvents(from time.Time, days, n int, idPrefix string) []*events.Event {
	var out []*events.Event
	for d := range days {
		for i := range n {
			ev := &events.Event{ID: fmt.Sprintf("%s-%03d-%02d", idPrefix, d, i), Source: "billing-api",
				Time: from.AddDate(0, 0, d).Add(time.Duration(i) * time.Hour),
				Data: events.Data{Category: "billing.invoice", DataSubject: "customer", Purpose: "invoicing",
					LegalBasis: "legal_obligation", Count: int64(1 + i)}}
			if i%2 == 0 {
				ev.Kind, ev.Data.Retention = events.KindCollected, "P7Y"
			} else {
				ev.Kind, ev.Data.Recipient = events.KindShared, &events.Recipient{Name: "Stripe", Role: "processor", Country: "US", Safeguard: "scc"}
			}
			out = append(out, ev)
		}
	}
	return out
}

func write(t *testing.T, conn driver.Conn, evs []*events.Event) {
	t.Helper()
	w := clickhouse.NewWriter(conn)
	for i := 0; i < len(evs); i += 50 {
		if err := w.Write(context.Background(), evs[i:min(i+50, len(evs))]); err != nil {
			t.Fatal(err)
		}
	}
}

// answers is what the checks compare: the inventory, the flows and the
// totals, from the rollups or (raw) from the events alone.
type answers struct {
	Inventory []query.InventoryRow
	Flows     []query.FlowRow
	Totals    query.Totals
}

func ask(t *testing.T, ctx context.Context, conn driver.Conn, f query.Filter) answers {
	t.Helper()
	var a answers
	var err error
	if a.Inventory, err = query.Inventory(ctx, conn, f); err != nil {
		t.Fatal(err)
	}
	if a.Flows, err = query.Flows(ctx, conn, f); err != nil {
		t.Fatal(err)
	}
	if f == (query.Filter{}) {
		if a.Totals, err = query.CountEvents(ctx, conn); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

func status(t *testing.T, conn driver.Conn) rollup.Status {
	t.Helper()
	s, err := rollup.ReadStatus(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A catalog that existed before the rollups is migrated and backfilled
// while events keep arriving; the backfill is interrupted and resumed; the
// answers are those of the raw events throughout.
func TestBackfillOfAnExistingCatalogIsResumableAndRunsDuringIngestion(t *testing.T) {
	db := testservers.NewDatabase(t)
	ctx := context.Background()
	// The catalog as it was: the rollups' migrations never ran.
	if err := db.Conn.Exec(ctx, "DROP VIEW rollup_arrivals_mv"); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{"DROP TABLE rollup_arrivals", "DROP TABLE rollup_folded", "DROP TABLE rollups",
		"DROP TABLE rollup_to_date", "ALTER TABLE events DROP INDEX time_minmax",
		"ALTER TABLE schema_migrations DELETE WHERE version IN (5, 12, 13, 14) SETTINGS mutations_sync = 1"} {
		if err := db.Conn.Exec(ctx, stmt); err != nil {
			t.Fatal(stmt, err)
		}
	}
	start := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	old := dailyEvents(start, 90, 6, "old")
	write(t, db.Conn, old)
	write(t, db.Conn, old[:100]) // redeliveries

	ran, err := schema.Migrate(ctx, db.Conn)
	if err != nil || !reflect.DeepEqual(ran, []int{5, 12, 13, 14}) {
		t.Fatalf("migrate: ran %v, %v", ran, err)
	}
	if s := status(t, db.Conn); s.DirtyDays != 90 || s.Days != 90 {
		t.Fatalf("after the migration: %+v, want 90 dirty days of 90", s)
	}
	raw := query.FromEventsOnly(ctx)
	if got, want := ask(t, ctx, db.Conn, query.Filter{}), ask(t, raw, db.Conn, query.Filter{}); !reflect.DeepEqual(got, want) {
		t.Fatalf("before the backfill, the answers differ from the raw events")
	}

	// Interrupted after its first round…
	folder := rollup.New(db.Conn, rollup.Options{})
	stop, cancel := context.WithCancel(ctx)
	var calls []int
	_, err = folder.FoldAll(stop, func(done, total int) {
		calls = append(calls, done)
		cancel()
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted backfill returned %v", err)
	}
	partly := status(t, db.Conn)
	if partly.DirtyDays == 0 || partly.DirtyDays >= 90 {
		t.Fatalf("after one round: %+v, want some days folded and some not", partly)
	}
	if got, want := ask(t, ctx, db.Conn, query.Filter{}), ask(t, raw, db.Conn, query.Filter{}); !reflect.DeepEqual(got, want) {
		t.Fatalf("half-way through the backfill, the answers differ from the raw events")
	}

	// …resumed while new events and redeliveries keep arriving.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w := clickhouse.NewWriter(db.Conn)
		for i, ev := range dailyEvents(start.AddDate(0, 0, 80), 30, 4, "new") {
			if err := w.Write(ctx, []*events.Event{ev, old[i%len(old)]}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var progress []string
	if _, err := folder.FoldAll(ctx, func(done, total int) { progress = append(progress, fmt.Sprint(done, "/", total)) }); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if len(progress) < 2 {
		t.Errorf("progress reported %v, want one call per month folded", progress)
	}
	if _, err := folder.FoldAll(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if s := status(t, db.Conn); s.DirtyDays != 0 || s.Days != 110 {
		t.Fatalf("after the backfill: %+v, want 110 days, none dirty", s)
	}
	want := ask(t, raw, db.Conn, query.Filter{})
	if got := ask(t, ctx, db.Conn, query.Filter{}); !reflect.DeepEqual(got, want) {
		t.Fatalf("after the backfill, the answers differ from the raw events:\n%+v\n%+v", got, want)
	}
	if want.Totals.Events != uint64(90*6+30*4) {
		t.Errorf("totals %+v, want %d events", want.Totals, 90*6+30*4)
	}
}

// Two folders on one catalog, folding the same days at once, give the
// answers of the raw events.
func TestConcurrentFoldersAgree(t *testing.T) {
	conn := testservers.ClickHouse(t)
	ctx := context.Background()
	write(t, conn, dailyEvents(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), 45, 8, "a"))
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := rollup.New(conn, rollup.Options{}).FoldAll(ctx, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if s := status(t, conn); s.DirtyDays != 0 {
		t.Fatalf("%+v", s)
	}
	if got, want := ask(t, ctx, conn, query.Filter{}), ask(t, query.FromEventsOnly(ctx), conn, query.Filter{}); !reflect.DeepEqual(got, want) {
		t.Fatalf("answers differ from the raw events:\n%+v\n%+v", got, want)
	}
}

// With a raw-event TTL, the days about to lose their raw events are folded
// and sealed before the TTL is set; once ClickHouse has deleted their raw
// events, the answers for whole days are unchanged, a late event for a
// sealed day is not counted (and is reported), refolding everything cannot
// wipe a sealed day, and an instant inside a sealed day is refused.
func TestRawEventsTTLKeepsTheAnswersInTheRollups(t *testing.T) {
	conn := testservers.ClickHouse(t)
	ctx := context.Background()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	start := today.AddDate(0, 0, -59)
	write(t, conn, dailyEvents(start, 60, 4, "e"))
	raw := query.FromEventsOnly(ctx)
	before := ask(t, raw, conn, query.Filter{})

	// Nothing folded yet: the first round folds what expires before it
	// seals it, then sets the TTL.
	folder := rollup.New(conn, rollup.Options{RawTTLDays: 30})
	r, err := folder.Fold(ctx)
	if err != nil {
		t.Fatal(err)
	}
	through := rollup.SealedThrough(time.Now(), 30)
	if wantSealed := int(through.Sub(start).Hours()/24) + 1; r.Sealed != wantSealed || r.LateRows != 0 {
		t.Fatalf("first round %+v, want %d days sealed, nothing late", r, wantSealed)
	}
	if days, err := schema.RawEventsTTL(ctx, conn, schema.Dialect{}); err != nil || days != 30 {
		t.Fatalf("TTL in force: %d, %v", days, err)
	}
	if _, err := folder.FoldAll(ctx, nil); err != nil {
		t.Fatal(err)
	}

	// ClickHouse deletes the expired raw events at a merge.
	if err := conn.Exec(ctx, "OPTIMIZE TABLE events FINAL"); err != nil {
		t.Fatal(err)
	}
	var rows uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM events").Scan(&rows); err != nil || rows >= 240 {
		t.Fatalf("%d raw events left of 240 (%v): the TTL deleted nothing", rows, err)
	}
	if got := ask(t, ctx, conn, query.Filter{}); !reflect.DeepEqual(got, before) {
		t.Fatalf("after the raw events expired, the answers changed:\n%+v\nwant\n%+v", got, before)
	}

	// A late event for a sealed day, and one for today.
	late := dailyEvents(start.AddDate(0, 0, 5), 1, 1, "late")
	fresh := dailyEvents(today, 1, 1, "fresh")
	write(t, conn, append(late, fresh...))
	r, err = folder.Fold(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.LateRows != 1 {
		t.Errorf("round after a late event: %+v, want 1 late row", r)
	}
	got := ask(t, ctx, conn, query.Filter{})
	if got.Totals.Events != before.Totals.Events+1 {
		t.Errorf("totals %+v, want %d events: the late event is not counted, today's is", got.Totals, before.Totals.Events+1)
	}

	// Marking every day dirty (the repair) refolds the days that still
	// have raw events and leaves the sealed ones alone.
	if err := rollup.MarkAllDirty(ctx, conn); err != nil {
		t.Fatal(err)
	}
	if _, err := folder.FoldAll(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if again := ask(t, ctx, conn, query.Filter{}); !reflect.DeepEqual(again, got) {
		t.Fatalf("refolding every day changed the answers:\n%+v\nwant\n%+v", again, got)
	}

	// Whole days of a sealed range are answered; an instant inside one is
	// refused with what to do instead.
	day := start.AddDate(0, 0, 10)
	if _, err := query.Inventory(ctx, conn, query.Filter{AsOf: day.Add(24*time.Hour - time.Millisecond)}); err != nil {
		t.Errorf("as of the end of a sealed day: %v", err)
	}
	_, err = query.Inventory(ctx, conn, query.Filter{AsOf: day.Add(12 * time.Hour)})
	var ie *query.ValueError
	if !errors.As(err, &ie) || ie.Param != "as_of" || !strings.Contains(ie.Msg, "give a date YYYY-MM-DD") {
		t.Errorf("as of noon of a sealed day: %v, want a ValueError on as_of", err)
	}

	// Back to keeping raw events forever: the TTL goes, sealed days stay.
	if _, err := rollup.New(conn, rollup.Options{}).Fold(ctx); err != nil {
		t.Fatal(err)
	}
	if days, err := schema.RawEventsTTL(ctx, conn, schema.Dialect{}); err != nil || days != 0 {
		t.Fatalf("TTL in force after removing it: %d, %v", days, err)
	}
	if s := status(t, conn); s.SealedDays == 0 {
		t.Errorf("%+v: sealed days were unsealed", s)
	}
}

// The exactness of the rollups rests on two things the engine does, checked
// here so that an engine upgrade that changes them fails a test: a day's
// arrivals are committed after its events (a folding that sees the count
// also sees the events), and an INSERT that ClickHouse deduplicates (a
// consumer retrying a batch whose first attempt was committed, maybe without
// its count, when ClickHouse died in between) counts its rows again.
func TestDayCountsCommitAfterTheirEventsAndEveryRetryCountsAgain(t *testing.T) {
	conn := testservers.ClickHouse(t)
	ctx := context.Background()
	day := time.Date(2026, 5, 5, 0, 0, 0, 0, time.UTC)
	batch := dailyEvents(day, 1, 10, "retry")
	w := clickhouse.NewWriter(conn)
	arrived := func() (rows, counted uint64) {
		t.Helper()
		if err := conn.QueryRow(ctx, "SELECT count() FROM events WHERE toDate(time) = ?", date(day)).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(ctx, "SELECT sum(arrived) FROM rollup_arrivals WHERE toDate(hour) = ?", date(day)).Scan(&counted); err != nil {
			t.Fatal(err)
		}
		return rows, counted
	}
	if err := w.Write(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if _, err := rollup.New(conn, rollup.Options{}).FoldAll(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, batch); err != nil { // the same batch: same deduplication token
		t.Fatal(err)
	}
	if rows, counted := arrived(); rows != 10 || counted != 20 {
		t.Fatalf("after a retried batch: %d rows (want 10: deduplicated), counted %d (want 20: the day is dirty again)", rows, counted)
	}
	if s := status(t, conn); s.DirtyDays != 1 {
		t.Fatalf("%+v: the retried day is not dirty", s)
	}

	// A slow INSERT of 20 blocks: its events become visible block by
	// block, and at no moment is more counted than visible.
	other := day.AddDate(0, 0, 1)
	done := make(chan error, 1)
	go func() {
		done <- conn.Exec(ctx, `INSERT INTO events (source, id, kind, time, category, data_subject, count)
			SELECT 'slow', toString(number), 'collected', toDateTime64(?, 3, 'UTC'), 'billing.invoice', 'customer',
				1 + sleepEachRow(0.0003) FROM numbers(20000)
			SETTINGS max_block_size = 1000, min_insert_block_size_rows = 1000, max_insert_block_size = 1000, max_threads = 1`,
			chTime(other.Add(time.Hour)))
	}()
	polls, partial := 0, 0
	for finished := false; !finished; polls++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			finished = true
		case <-time.After(50 * time.Millisecond):
		}
		var counted, rows uint64
		if err := conn.QueryRow(ctx, "SELECT sum(arrived) FROM rollup_arrivals WHERE toDate(hour) = ?", date(other)).Scan(&counted); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(ctx, "SELECT count() FROM events WHERE toDate(time) = ?", date(other)).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if counted > rows {
			t.Fatalf("poll %d: %d rows counted for the day, %d visible: a count committed before its events", polls, counted, rows)
		}
		if rows > 0 && rows < 20000 {
			partial++
		}
	}
	if partial == 0 {
		t.Fatalf("no poll of %d saw the insert half done: the check saw nothing", polls)
	}
}

func date(t time.Time) string { return t.Format(time.DateOnly) }

func chTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") }

// The rows to date hold every day before the newest; a late event for one
// of those days is counted at once (its day is dirty, read raw), and still
// after another Folder folds that day without computing the rows to date
// again: they were computed from an earlier folding of it, so no query
// trusts them until the next round computes them again.
func TestRowsToDateAreNotTrustedOnceADayTheyHoldIsFoldedAgain(t *testing.T) {
	db := testservers.NewDatabase(t)
	ctx := context.Background()
	raw := query.FromEventsOnly(ctx)
	start := time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)
	write(t, db.Conn, dailyEvents(start, 30, 4, "day"))
	folder := rollup.New(db.Conn, rollup.Options{})
	if _, err := folder.FoldAll(ctx, nil); err != nil {
		t.Fatal(err)
	}
	var through time.Time
	if err := db.Conn.QueryRow(ctx, "SELECT max(through) FROM rollup_to_date").Scan(&through); err != nil {
		t.Fatal(err)
	}
	if want := start.AddDate(0, 0, 28); !through.Equal(want) {
		t.Fatalf("rows to date through %s, want %s (the day before the newest)", date(through), date(want))
	}
	var toDateRows uint64
	if err := db.Conn.QueryRow(ctx, "SELECT count() FROM rollups WHERE span = 'to_date'").Scan(&toDateRows); err != nil || toDateRows == 0 {
		t.Fatalf("%d rows to date, %v", toDateRows, err)
	}
	check := func(when string) {
		t.Helper()
		if got, want := ask(t, ctx, db.Conn, query.Filter{}), ask(t, raw, db.Conn, query.Filter{}); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: the answers differ from the raw events:\n%+v\n%+v", when, got.Totals, want.Totals)
		}
	}
	check("folded")

	late := dailyEvents(start.AddDate(0, 0, 5), 1, 2, "late")
	write(t, db.Conn, late)
	check("a late event for a day the rows to date hold")
	dirty, err := query.DirtyDays(ctx, db.Conn)
	if err != nil || len(dirty) != 1 {
		t.Fatalf("dirty days %v, %v; want the late event's day", dirty, err)
	}
	if err := rollup.FoldDays(ctx, db.Conn, dirty); err != nil { // another Folder, between two rounds
		t.Fatal(err)
	}
	check("its day folded again, the rows to date not yet")
	if _, err := folder.Fold(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Conn.QueryRow(ctx, "SELECT count() FROM rollup_to_date").Scan(&toDateRows); err != nil || toDateRows != 2 {
		t.Fatalf("%d computations of the rows to date recorded, %v; want the round to compute them again", toDateRows, err)
	}
	check("the rows to date computed again")
}

// The newest two days are folded by the hour: once they are, a late event
// makes only its hour dirty, and the answers — read from the clean hours'
// rows and the dirty hours' raw events — are those of the raw events; a
// redelivery into the day before is caught the same way; a rebuild
// recomputes a corrupted hour.
func TestTheNewestDaysAreFoldedByTheHour(t *testing.T) {
	db := testservers.NewDatabase(t)
	ctx := context.Background()
	raw := query.FromEventsOnly(ctx)
	now := time.Now().UTC()
	yesterday := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	evs := dailyEvents(yesterday, 2, 24, "hour") // one event an hour
	write(t, db.Conn, evs)
	folder := rollup.New(db.Conn, rollup.Options{})
	if _, err := folder.FoldAll(ctx, nil); err != nil {
		t.Fatal(err)
	}
	var hourRows, hoursFolded uint64
	if err := db.Conn.QueryRow(ctx, `SELECT (SELECT count() FROM hourly_rollups FINAL),
		(SELECT countIf(f > 0) FROM (SELECT max(folded) AS f FROM rollup_arrivals GROUP BY hour))`).Scan(&hourRows, &hoursFolded); err != nil {
		t.Fatal(err)
	}
	if hourRows != 48 || hoursFolded != 48 {
		t.Fatalf("%d hourly rows, %d hours folded; want 48 of each (one flow an hour, two days)", hourRows, hoursFolded)
	}
	check := func(when string) {
		t.Helper()
		if got, want := ask(t, ctx, db.Conn, query.Filter{}), ask(t, raw, db.Conn, query.Filter{}); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: the answers differ from the raw events:\n%+v\n%+v", when, got.Totals, want.Totals)
		}
	}
	check("folded by the hour")

	late := dailyEvents(yesterday.AddDate(0, 0, 1).Add(5*time.Hour), 1, 1, "late")
	write(t, db.Conn, append(late, evs[7])) // a new event today, a redelivery yesterday
	dirty, err := query.DirtyHours(ctx, db.Conn, []time.Time{yesterday, yesterday.AddDate(0, 0, 1)})
	if err != nil || len(dirty) != 2 {
		t.Fatalf("dirty hours %v, %v; want the two that received events", dirty, err)
	}
	check("two hours dirty")

	// The clean hours are read from their rows: one counted twice shows.
	before, _ := query.CountEvents(ctx, db.Conn)
	if err := db.Conn.Exec(ctx, `INSERT INTO hourly_rollups SELECT * REPLACE (events + 1 AS events) FROM hourly_rollups FINAL
		WHERE hour = ?`, yesterday.AddDate(0, 0, 1).Add(9*time.Hour).Format(time.DateTime)); err != nil {
		t.Fatal(err)
	}
	if after, _ := query.CountEvents(ctx, db.Conn); after.Events != before.Events+1 {
		t.Fatalf("a corrupted hourly row did not change the totals (%d, then %d): the clean hours were not read from it", before.Events, after.Events)
	}
	// A rebuild recomputes the hours too, from the events: rows lost (as
	// a power failure without fsync can lose them) come back.
	if err := db.Conn.Exec(ctx, `ALTER TABLE hourly_rollups DELETE WHERE hour = ? SETTINGS mutations_sync = 2`,
		yesterday.AddDate(0, 0, 1).Add(9*time.Hour).Format(time.DateTime)); err != nil {
		t.Fatal(err)
	}
	if lost, _ := query.CountEvents(ctx, db.Conn); lost.Events != before.Events-1 {
		t.Fatalf("with an hour's rows lost the totals say %d events, want %d", lost.Events, before.Events-1)
	}
	if err := rollup.MarkAllDirty(ctx, db.Conn); err != nil {
		t.Fatal(err)
	}
	if _, err := folder.FoldAll(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if dirty, _ := query.DirtyHours(ctx, db.Conn, []time.Time{yesterday, yesterday.AddDate(0, 0, 1)}); len(dirty) != 0 {
		t.Fatalf("after folding, dirty hours %v", dirty)
	}
	check("rebuilt")
}

// A catalog whose arrivals were counted by the day and by the hour (two
// views, before migration 0013) is upgraded to one count by the hour: its
// sealed day stays sealed, every other day is folded again once (the
// arrivals its foldings covered were counted another way), the answers
// are those of the raw events throughout, and an event that arrives for
// the sealed day afterwards is reported as late.
func TestUpgradeToArrivalsByTheHourKeepsSealedDaysAndRefoldsTheOthers(t *testing.T) {
	db := testservers.NewDatabase(t)
	ctx := context.Background()
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	write(t, db.Conn, dailyEvents(start, 3, 6, "upgrade"))
	if _, err := rollup.New(db.Conn, rollup.Options{}).FoldAll(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// The bookkeeping as it was: rollup_days and rollup_hours with their
	// views, as migrations 0005 and 0012 created them, saying that the
	// first day is folded and sealed, the second folded, the third not.
	for _, stmt := range []string{"DROP VIEW rollup_arrivals_mv", "DROP TABLE rollup_arrivals", "DROP TABLE rollup_folded",
		"ALTER TABLE schema_migrations DELETE WHERE version IN (13, 14) SETTINGS mutations_sync = 1"} {
		if err := db.Conn.Exec(ctx, stmt); err != nil {
			t.Fatal(stmt, err)
		}
	}
	migrations, err := schema.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations {
		for _, stmt := range m.Statements {
			creates := strings.HasPrefix(stmt, "CREATE") && (strings.Contains(stmt, "rollup_days") || strings.Contains(stmt, "rollup_hours"))
			if (m.Version == 5 || m.Version == 12) && creates {
				if err := db.Conn.Exec(ctx, stmt); err != nil {
					t.Fatal(stmt, err)
				}
			}
		}
	}
	// An event for the third day that the rollups do not hold yet.
	write(t, db.Conn, dailyEvents(start.AddDate(0, 0, 2), 1, 1, "unfolded"))
	if err := db.Conn.Exec(ctx, `INSERT INTO rollup_days (day, arrived, folded, sealed)
		SELECT toDate(time) AS day, count(), if(day <= ?, count(), 0), day = ? FROM events GROUP BY day`,
		date(start.AddDate(0, 0, 1)), date(start)); err != nil {
		t.Fatal(err)
	}
	ran, err := schema.Migrate(ctx, db.Conn)
	if err != nil || !reflect.DeepEqual(ran, []int{13, 14}) {
		t.Fatalf("migrate: ran %v, %v", ran, err)
	}
	var left uint64
	if err := db.Conn.QueryRow(ctx, `SELECT count() FROM system.tables WHERE database = currentDatabase()
		AND name IN ('rollup_days', 'rollup_days_mv', 'rollup_hours', 'rollup_hours_mv')`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d of the old bookkeeping tables and views left (%v)", left, err)
	}
	if s := status(t, db.Conn); s.Days != 3 || s.SealedDays != 1 || s.DirtyDays != 2 {
		t.Fatalf("after the upgrade: %+v, want 3 days, 1 sealed, the 2 others dirty", s)
	}
	raw := query.FromEventsOnly(ctx)
	if got, want := ask(t, ctx, db.Conn, query.Filter{}), ask(t, raw, db.Conn, query.Filter{}); !reflect.DeepEqual(got, want) {
		t.Fatalf("after the upgrade, before folding:\n got %+v\nwant %+v", got, want)
	}
	folder := rollup.New(db.Conn, rollup.Options{})
	if _, err := folder.FoldAll(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if s := status(t, db.Conn); s.DirtyDays != 0 || s.SealedDays != 1 {
		t.Fatalf("after folding: %+v", s)
	}
	if got, want := ask(t, ctx, db.Conn, query.Filter{}), ask(t, raw, db.Conn, query.Filter{}); !reflect.DeepEqual(got, want) {
		t.Fatalf("after folding:\n got %+v\nwant %+v", got, want)
	}
	write(t, db.Conn, dailyEvents(start, 1, 1, "late"))
	late, err := query.LateDays(ctx, db.Conn)
	if err != nil || len(late) != 1 || late[0].Pending() != 1 {
		t.Fatalf("late days after an event for the sealed day: %+v, %v; want the day, 1 row", late, err)
	}
}

// Folding is background work: every statement Run sends asks the engine to
// run it at a lower CPU priority (backgroundNice), so ingestion and
// questions go first when the CPU is short. Seen from the engine's list of
// running statements.
func TestTheFolderRunsItsStatementsAtALowerPriority(t *testing.T) {
	db := testservers.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	write(t, db.Conn, dailyEvents(time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC), 30, 6, "d"))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = rollup.New(db.Conn, rollup.Options{Interval: time.Millisecond, Pace: 0.01}).Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	for ctx.Err() == nil {
		var nice string
		err := db.Conn.QueryRow(ctx, `SELECT Settings['os_threads_nice_value_query'] FROM system.processes
			WHERE current_database = currentDatabase() AND query_id != queryID() AND query NOT LIKE '%system.processes%'
			ORDER BY elapsed DESC LIMIT 1`).Scan(&nice)
		switch {
		case err == nil && nice == "10":
			return
		case err == nil:
			t.Fatalf("a folding statement runs with os_threads_nice_value_query %q, want 10", nice)
		}
	}
	t.Fatal("saw no folding statement running within 30 s")
}
