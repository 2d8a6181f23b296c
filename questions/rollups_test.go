package questions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/catalog/rollup"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/lineage"
	"github.com/back-trace/datamap/questions"
	"github.com/back-trace/datamap/sinks/clickhouse"
)

// randomCatalog is the vocabulary of a random catalog: systems, of which
// "crm" and "mailer" are also recipients (so flows go system → crm →
// mailer → Mailgun), categories with their parents, and times packed
// around day and month boundaries.
var (
	sources      = []string{"billing-api", "web-shop", "crm", "mailer"}
	categories   = []string{"billing.invoice", "billing.payment_token", "support.tickets", "support.email", "web.cookies"}
	dataSubjects = []string{"customer", "end_user"}
	purposes     = []string{"invoicing", "support", "marketing"}
	bases        = []string{"contract", "consent", "legal_obligation"}
	retentions   = []string{"P1Y", "P12M", "P90D", "P7Y", ""} // P1Y and P12M are the same number of days
	activities   = []string{"billing", "care", ""}
	recipients   = []events.Recipient{
		{Name: "crm", Role: "processor", Country: "DE"},
		{Name: "mailer", Role: "sub_processor", Country: "IE", Contract: "DPA-1"},
		{Name: "mailer", Role: "sub_processor", Country: "IE", Contract: "DPA-2"},
		{Name: "Mailgun", Role: "sub_processor", Country: "US", Safeguard: "scc", Contract: "DPA-9"},
		{Name: "Stripe", Role: "processor", Country: "US", Safeguard: "dpf"},
		{Name: "AdTracker", Role: "controller", Country: "IN", Safeguard: "none"},
	}
	// boundaries are instants events cluster around: ends of days and
	// months, in UTC.
	boundaries = []time.Time{
		time.Date(2025, 12, 31, 23, 59, 59, 999e6, time.UTC),
		time.Date(2026, 1, 31, 23, 59, 59, 999e6, time.UTC),
		time.Date(2026, 2, 28, 23, 59, 59, 999e6, time.UTC),
		time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 4, 30, 12, 0, 0, 0, time.UTC),
	}
	// zones are where publishers say their times are: the catalog stores
	// UTC, and a day is a UTC day.
	zones = []*time.Location{time.UTC, time.FixedZone("CEST", 2*3600), time.FixedZone("EST", -5*3600),
		time.FixedZone("IST", 5*3600+1800)}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// randomTime is near a boundary: within a few milliseconds, hours or
// days of it, in some publisher's zone.
func randomTime(r *rand.Rand) time.Time {
	b := pick(r, boundaries)
	var d time.Duration
	switch r.IntN(3) {
	case 0:
		d = time.Duration(r.IntN(5)-2) * time.Millisecond
	case 1:
		d = time.Duration(r.IntN(48)-24) * time.Hour
	default:
		d = time.Duration(r.Int64N(int64(40*24*time.Hour))) - 20*24*time.Hour
	}
	return b.Add(d).Truncate(time.Millisecond).In(pick(r, zones))
}

func randomEvent(r *rand.Rand, i int) *events.Event {
	ev := &events.Event{ID: fmt.Sprintf("ev-%05d", i), Source: pick(r, sources), Time: randomTime(r),
		Data: events.Data{Category: pick(r, categories), DataSubject: pick(r, dataSubjects), Count: int64(1 + r.IntN(20))}}
	switch n := r.IntN(10); {
	case n < 5:
		ev.Kind = events.KindCollected
		ev.Data.Purpose, ev.Data.LegalBasis = pick(r, purposes), pick(r, bases)
		ev.Data.Retention, ev.Data.Activity = pick(r, retentions), pick(r, activities)
	case n < 9:
		ev.Kind = events.KindShared
		ev.Data.Purpose, ev.Data.LegalBasis, ev.Data.Activity = pick(r, purposes), pick(r, bases), pick(r, activities)
		rec := pick(r, recipients)
		// multi-hop: what crm received, crm passes on to mailer, and mailer to Mailgun
		switch ev.Source {
		case "crm":
			rec = recipients[1+r.IntN(2)]
		case "mailer":
			rec = recipients[3]
		}
		ev.Data.Recipient = &rec
	default:
		ev.Kind = events.KindErased
		ev.Data.Reason = "retention"
	}
	return ev
}

// TestRollupsAnswerLikeTheRawEvents builds random catalogs — duplicates
// in other batches, erasures, multi-hop recipients, times across day and
// month boundaries in several zones — folds some of their days and not
// others, and asks every question with many filter combinations twice:
// from the rollups, and from the raw events alone. The answers must be
// identical.
func TestRollupsAnswerLikeTheRawEvents(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed-", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 0x5eed))
			conn := testservers.ClickHouse(t)
			distinct := loadRandomCatalog(t, conn, r)
			ctx := context.Background()
			raw := query.FromEventsOnly(ctx)

			// The rollups hold most days, and a few are dirty: both paths
			// of a plan are exercised.
			state, err := rollup.ReadStatus(ctx, conn)
			if err != nil {
				t.Fatal(err)
			}
			if state.DirtyDays == 0 || state.DirtyDays == state.Days {
				t.Fatalf("%d dirty days of %d: the test needs some folded and some not", state.DirtyDays, state.Days)
			}
			t.Logf("%d distinct events over %d days, %d of them dirty", len(distinct), state.Days, state.DirtyDays)

			// An anchor outside both paths: the totals of what was written.
			var want query.Totals
			for _, ev := range distinct {
				want.Events++
				want.Records += uint64(ev.Data.Count)
			}
			for _, c := range []context.Context{ctx, raw} {
				got, err := query.CountEvents(c, conn)
				if err != nil || got != want {
					t.Fatalf("CountEvents = %+v, %v; want %+v", got, err, want)
				}
			}

			// Drift and the record read the evidence, compared below.
			asked := slices.DeleteFunc(questions.All(), func(q questions.Question) bool { return q.Shape == questions.Record })
			compared := 0
			for i := 0; i < 100; i++ {
				q := pick(r, asked)
				values := randomParams(r, q)
				a, errA := q.Ask(ctx, conn, taxonomy.Default(), values)
				b, errB := q.Ask(raw, conn, taxonomy.Default(), values)
				if fmt.Sprint(errA) != fmt.Sprint(errB) {
					t.Fatalf("%s %v: rollups say %v, raw events say %v", q.Name, values, errA, errB)
				}
				if errA == nil {
					compared++
				}
				same(t, fmt.Sprintf("%s %v", q.Name, values), a, b)
			}
			if compared < 50 {
				t.Fatalf("only %d of 100 questions had an answer to compare", compared)
			}
			for _, asOf := range []string{"2026-02-28", "2026-03-01T00:00:00Z", "2026-02-01T01:30:00+02:00", "2027-01-01"} {
				at, _ := questions.ParseTime("as_of", asOf, true)
				a, errA := query.Observations(ctx, conn, at)
				b, errB := query.Observations(raw, conn, at)
				if errA != nil || errB != nil {
					t.Fatal(errA, errB)
				}
				same(t, "evidence as of "+asOf, a, b)
			}
			a, _ := query.Systems(ctx, conn)
			b, _ := query.Systems(raw, conn)
			same(t, "systems", a, b)

			// The comparison has teeth: a rollup row that counts one event
			// too many changes the answer, whether it is a row to date, a
			// year's row or a month's (once the rows to date are not
			// trusted: recorded as computed from other foldings).
			for _, period := range []string{"span = 'to_date'", "span = 'year' AND period = '2025-01-01'", "span = 'month' AND period = '2026-02-01'"} {
				if period == "span = 'year' AND period = '2025-01-01'" {
					if err := conn.Exec(ctx, `INSERT INTO rollup_to_date SELECT through, folded + 1 FROM rollup_to_date
						ORDER BY through DESC, folded DESC LIMIT 1`); err != nil {
						t.Fatal(err)
					}
				}
				before, _ := query.CountEvents(ctx, conn)
				if err := conn.Exec(ctx, `INSERT INTO rollups SELECT span, period, kind, source, category, data_subject,
					purpose, legal_basis, special_condition, retention, retention_days, activity, recipient_name,
					recipient_role, recipient_country, recipient_safeguard, recipient_contract, events + 1, records,
					first_seen, last_seen FROM rollups FINAL WHERE `+period+` ORDER BY period DESC LIMIT 1`); err != nil {
					t.Fatal(err)
				}
				if after, _ := query.CountEvents(ctx, conn); after.Events != before.Events+1 {
					t.Fatalf("a corrupted row (%s) did not change the totals (%d, then %d): the rollups were not read", period, before.Events, after.Events)
				}
			}
		})
	}
}

// loadRandomCatalog writes 600 random events in batches, a fifth of them
// again in other batches (redeliveries), folding the catalog after some
// batches, so that days are folded, then dirty again, then folded again.
// Once all is folded, a last batch of new events and redeliveries around
// the end of April leaves those days dirty: earlier months are whole and
// clean (month rows), April has clean days (day rows) and dirty ones (raw
// events). It returns the distinct events.
func loadRandomCatalog(t *testing.T, conn driver.Conn, r *rand.Rand) []*events.Event {
	t.Helper()
	ctx := context.Background()
	w := clickhouse.NewWriter(conn)
	var all []*events.Event
	for i := range 600 {
		all = append(all, randomEvent(r, i))
	}
	redeliver := func(evs []*events.Event) []*events.Event {
		out := slices.Clone(evs)
		for _, ev := range evs {
			if r.IntN(5) == 0 {
				out = append(out, ev)
			}
		}
		return out
	}
	lateApril := func(ev *events.Event) bool { return ev.Time.After(boundaries[4].Add(-2 * 24 * time.Hour)) }
	early := slices.DeleteFunc(slices.Clone(all), lateApril)
	last := slices.DeleteFunc(slices.Clone(all), func(ev *events.Event) bool { return !lateApril(ev) })
	folder := rollup.New(conn, rollup.Options{})
	for writes := redeliver(early); len(writes) > 0; {
		n := min(len(writes), 20+r.IntN(80))
		if err := w.Write(ctx, writes[:n]); err != nil {
			t.Fatal(err)
		}
		writes = writes[n:]
		if r.IntN(3) == 0 {
			if _, err := folder.FoldAll(ctx, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := folder.FoldAll(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, redeliver(last)); err != nil {
		t.Fatal(err)
	}
	return all
}

// randomParams gives a question a random subset of its parameters, with
// values that exist in the random catalog and dates at and between day
// and month boundaries.
func randomParams(r *rand.Rand, q questions.Question) map[string]string {
	dates := []string{"2025-12-31", "2026-01-01", "2026-01-31", "2026-02-01", "2026-02-28", "2026-03-01", "2026-03-15", "2026-04-30",
		"2026-01-31T23:59:59.999Z", "2026-02-01T00:00:00Z", "2026-02-15T12:34:56.789Z",
		"2026-03-01T01:30:00+02:00", "2026-04-30T18:00:00-05:00", "2026-03-14T23:59:59.998Z"}
	values := map[string]string{}
	for _, p := range q.Params {
		name := p.Name
		if !p.Required && r.IntN(3) != 0 {
			continue
		}
		var v string
		switch name {
		case "system", "from":
			v = pick(r, sources)
		case "category":
			v = pick(r, append([]string{"billing", "support", "web"}, categories...))
		case "data_subject":
			v = pick(r, dataSubjects)
		case "purpose":
			v = pick(r, purposes)
		case "legal_basis":
			v = pick(r, bases)
		case "activity":
			v = pick(r, []string{"billing", "care"})
		case "recipient":
			v = pick(r, recipients).Name
		case "role":
			v = pick(r, []string{"processor", "sub_processor", "controller"})
		case "country":
			v = pick(r, []string{"DE", "IE", "US", "IN"})
		case "safeguard":
			v = pick(r, []string{"scc", "dpf", "none"})
		case "since", "until", "as_of":
			v = pick(r, dates)
		case "group_by":
			v = pick(r, query.GroupBy)
		case "format":
			v = pick(r, lineage.Formats)
		case "q":
			v = pick(r, []string{"mail", "billing", "e", "crm"})
		}
		values[name] = v
	}
	return values
}

// same fails the test when two answers differ, showing both.
func same(t *testing.T, what string, a, b any) {
	t.Helper()
	if reflect.DeepEqual(a, b) {
		return
	}
	ja, _ := json.MarshalIndent(a, "", " ")
	jb, _ := json.MarshalIndent(b, "", " ")
	t.Fatalf("%s: the rollups and the raw events disagree\nrollups:\n%s\nraw events:\n%s", what, ja, jb)
}
