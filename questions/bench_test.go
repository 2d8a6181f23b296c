package questions_test

import (
	"context"
	"maps"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/catalog/rollup"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/lineage"
	"github.com/back-trace/datamap/questions"
)

func TestMain(m *testing.M) { testservers.Main(m) }

// generate inserts events number from to from+count-1 of a catalog of n
// synthetic events, in one INSERT … SELECT FROM numbers; the benchmark
// then re-inserts 1% of them in a second INSERT — redeliveries in another part, the case FINAL must
// collapse at query time. The shape: 11 systems plus an instrumented processor
// "Vendor" and sub-processor "SubCloud", so reach goes
// system → Vendor → SubCloud → CDN; two years of times; 65% collections,
// 30% disclosures, 5% erasures; categories, purposes and subjects from the
// default taxonomy.
const generate = `INSERT INTO events (source, id, kind, time, category, data_subject, purpose, legal_basis,
	retention, retention_days, activity, recipient_name, recipient_role, recipient_country, recipient_safeguard,
	recipient_contract, count)
WITH
	number % 13 AS s,
	number % 20 AS k,
	['billing.invoice','billing.payment_token','billing.transaction','support.tickets','support.chat','support.email',
	 'telephony.call_detail_records','telephony.sms_metadata','account.profile','account.contact','web.analytics',
	 'web.cookies','service.usage','device.identifiers','integrations.cxone'] AS cats,
	['Stripe','Twilio','Bandwidth','Deutsche Telekom','HubSpot','Google Analytics','Belastingdienst','Intrum',
	 'Microsoft 365','NICE CXone','AdTracker','Vendor'] AS recipients,
	['US','US','US','DE','US','US','NL','SE','IE','US','IN','US'] AS countries,
	['scc','scc','scc','','dpf','dpf','','','','scc','none','scc'] AS safeguards
SELECT
	multiIf(s = 11, 'Vendor', s = 12, 'SubCloud', concat('system-', leftPad(toString(s), 2, '0'))),
	concat(leftPad(toString(intDiv(number, 13)), 12, '0'), '-', toString(s)),
	CAST(multiIf(k < 13, 'collected', k < 19, 'shared', 'erased') AS Enum8('collected' = 1, 'shared' = 2, 'erased' = 3)),
	toDateTime64('2025-01-01 00:00:00', 3, 'UTC') + toIntervalMillisecond(intDiv(number * 63072000000, {n:UInt64})),
	if(s >= 11, 'support.tickets', cats[(intDiv(number, 13) % length(cats)) + 1]),
	['customer','end_user','call_party'][number % 3 + 1],
	['support','invoicing','service_delivery','payment_processing'][number % 4 + 1],
	['contract','consent','legal_obligation'][number % 3 + 1],
	['P7Y','P24M','P12M','P90D'][intDiv(number, 7) % 4 + 1],
	[2557, 730, 365, 90][intDiv(number, 7) % 4 + 1],
	'generated',
	if(k BETWEEN 13 AND 18, multiIf(s = 11, 'SubCloud', s = 12, 'CDN', recipients[(intDiv(number, 7) % length(recipients)) + 1]), ''),
	if(k BETWEEN 13 AND 18, if(s >= 11, 'sub_processor', 'processor'), ''),
	if(k BETWEEN 13 AND 18, if(s >= 11, 'US', countries[(intDiv(number, 7) % length(countries)) + 1]), ''),
	if(k BETWEEN 13 AND 18, if(s >= 11, 'dpf', safeguards[(intDiv(number, 7) % length(safeguards)) + 1]), ''),
	'',
	1 + number % 50
FROM numbers({from:UInt64}, {count:UInt64})`

// BenchmarkDataMapQueries measures the questions on a large catalog, from
// the rollups. It needs DATAMAP_BENCH_EVENTS (1000000, 10000000 or
// 100000000) and the engine; 10 million events take a few minutes
// from load to last answer, 100 million about twelve, so `make test` never runs it:
//
//	DATAMAP_BENCH_EVENTS=10000000 go test ./questions -run '^$' -bench DataMap -benchtime 20x -timeout 3h
//
// The catalog is loaded, its rollups folded (the backfill), merged; then
// 1% of the events are delivered again in a part of their own and merges
// are stopped, so those duplicates stay pending in the raw table while
// measured; the redelivered days are folded again, and the rollup tables
// merged. Two states are
// measured: "folded" (every day folded) and "last-day-dirty" (events
// arrived for the last day and are not folded yet, as on a catalog that is
// being written: the hours of that day that received them are read from
// the raw events, its other hours from their hourly rows). Every
// sub-benchmark reports its p50 and p95 in ms.
func BenchmarkDataMapQueries(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("DATAMAP_BENCH_EVENTS"))
	if n <= 0 {
		b.Skip("set DATAMAP_BENCH_EVENTS, e.g. 10000000, to load that many events and benchmark the data map queries")
	}
	conn := testservers.ClickHouse(b)
	loadDataMap(b, conn, n)
	b.Run("folded", func(b *testing.B) { benchQuestions(b, conn) })
	// New events for the last day: it is dirty, so every question reads
	// that day from the raw events, as while the catalog is being written.
	dirtyLastDay(b, conn)
	b.Run("last-day-dirty", func(b *testing.B) { benchQuestions(b, conn) })
}

// loadDataMap loads n generated events into the catalog, folds them, and
// leaves 1% of them redelivered and pending in the raw table, as
// BenchmarkDataMapQueries describes.
func loadDataMap(b *testing.B, conn driver.Conn, n int) {
	b.Helper()
	ctx := context.Background()
	exec := func(stmt string) {
		b.Helper()
		if err := conn.Exec(ctx, stmt); err != nil {
			b.Fatalf("%s: %v", stmt, err)
		}
	}
	start := time.Now()
	// In chunks of ten million: one INSERT of a hundred million rows
	// outlasts the driver's read timeout.
	const chunk = 10_000_000
	for from := 0; from < n; from += chunk {
		params := ch.Parameters{"n": strconv.Itoa(n), "from": strconv.Itoa(from), "count": strconv.Itoa(min(chunk, n-from))}
		if err := conn.Exec(ch.Context(ctx, ch.WithParameters(params)), generate); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("loaded %d events in %s", n, time.Since(start).Round(time.Millisecond))
	fold(b, conn, "backfill of every day")
	exec("OPTIMIZE TABLE events FINAL")
	exec("OPTIMIZE TABLE rollups FINAL")
	exec("SYSTEM STOP MERGES events")
	exec("INSERT INTO events SELECT * FROM events WHERE cityHash64(id) % 100 = 0")
	fold(b, conn, "refold of the days the 1% redeliveries touched")
	for _, table := range []string{"rollups", "retention_rollups", "hourly_rollups"} {
		exec("OPTIMIZE TABLE " + table + " FINAL")
	}
	var rows, distinct uint64
	_ = conn.QueryRow(ctx, "SELECT count() FROM events").Scan(&rows)
	_ = conn.QueryRow(ctx, "SELECT count() FROM events FINAL").Scan(&distinct)
	b.Logf("%d rows, %d distinct events (1%% redeliveries pending)", rows, distinct)
	if distinct != uint64(n) {
		b.Fatalf("FINAL counts %d distinct events, want %d", distinct, n)
	}
	disk, err := conn.Query(ctx, `SELECT table, sum(rows), sum(bytes_on_disk) FROM system.parts
		WHERE database = currentDatabase() AND active GROUP BY table ORDER BY table`)
	if err != nil {
		b.Fatal(err)
	}
	for disk.Next() {
		var table string
		var rows, bytes uint64
		_ = disk.Scan(&table, &rows, &bytes)
		b.Logf("disk: %-18s %11d rows %9.1f MiB", table, rows, float64(bytes)/(1<<20))
	}
	disk.Close()
}

// dirtyLastDay writes 100 new events for the last day, not folded.
func dirtyLastDay(b *testing.B, conn driver.Conn) {
	b.Helper()
	ctx := context.Background()
	if err := conn.Exec(ctx, `INSERT INTO events SELECT * REPLACE (concat('late-', id) AS id) FROM events
		WHERE toDate(time) = (SELECT max(toDate(time)) FROM events) LIMIT 100`); err != nil {
		b.Fatal(err)
	}
	var dirtyHours uint64
	_ = conn.QueryRow(ctx, `SELECT count() FROM (SELECT hour FROM rollup_arrivals
		WHERE toDate(hour) = (SELECT max(toDate(hour)) FROM rollup_arrivals) GROUP BY hour HAVING sum(arrived) > max(folded))`).Scan(&dirtyHours)
	b.Logf("last day dirty: %d of its hours read raw, the others from their hourly rows", dirtyHours)
}

// fold folds every dirty day and logs how long it took.
func fold(b *testing.B, conn driver.Conn, what string) {
	b.Helper()
	t0 := time.Now()
	r, err := rollup.New(conn, rollup.Options{}).FoldAll(context.Background(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: %d days folded in %s", what, r.Folded, time.Since(t0).Round(time.Millisecond))
}

// benchCases are the questions measured: each unfiltered, filtered, and as
// of mid-range (a date: whole days from the rollups; an instant: that
// day's first half from the raw events).
var benchCases = []struct {
	name   string
	params map[string]string
}{
	{"inventory", nil},
	{"inventory", map[string]string{"category": "billing", "purpose": "invoicing"}},
	{"inventory", map[string]string{"as_of": "2026-01-01"}},
	{"inventory", map[string]string{"as_of": "2026-01-01T12:00:00Z"}},
	{"flows", nil},
	{"flows", map[string]string{"recipient": "Stripe"}},
	{"flows", map[string]string{"as_of": "2026-01-01"}},
	{"flows", map[string]string{"group_by": "recipient"}},
	{"transfers", nil},
	{"transfers", map[string]string{"country": "US", "system": "system-03"}},
	{"transfers", map[string]string{"as_of": "2026-01-01T12:00:00Z"}},
	{"retention", nil},
	{"retention", map[string]string{"system": "system-03"}},
	{"retention", map[string]string{"as_of": "2026-01-01"}},
	{"lineage reach", map[string]string{"from": "system-00", "category": "support"}},
	{"lineage reach", map[string]string{"from": "system-00", "category": "support", "as_of": "2026-01-01"}},
	{"lineage blast", map[string]string{"recipient": "SubCloud"}},
	{"lineage blast", map[string]string{"recipient": "SubCloud", "as_of": "2026-01-01T12:00:00Z"}},
	{"lineage export", map[string]string{"format": "json"}},
	{"search", map[string]string{"q": "stripe"}},
	{"search", map[string]string{"q": "stripe", "as_of": "2026-01-01"}},
}

func benchQuestions(b *testing.B, conn driver.Conn) {
	ctx := context.Background()
	load, _ := os.ReadFile("/proc/loadavg")
	b.Logf("load average: %s", load)
	tax := taxonomy.Default()
	for _, c := range benchCases {
		q, _ := questions.Lookup(c.name)
		name := c.name
		for _, k := range slices.Sorted(maps.Keys(c.params)) {
			name += " " + k + "=" + c.params[k]
		}
		b.Run(name, func(b *testing.B) {
			var took []time.Duration
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				a, err := q.Ask(ctx, conn, tax, c.params)
				if err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(t0))
				if i == 0 && c.name == "lineage reach" {
					hops := 0
					for _, r := range questions.RowsOf[lineage.ReachRow](a) {
						hops = max(hops, r.Hops)
					}
					if hops < 3 {
						b.Fatalf("reach goes %d hops, want 3 (system → Vendor → SubCloud → CDN)", hops)
					}
				}
			}
			// Which answer was the slowest (1 is the first after the load,
			// or after the last day became dirty): a cold cost shows as 1.
			slowest := slices.Index(took, slices.Max(took)) + 1
			slices.Sort(took)
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			b.ReportMetric(float64(slowest), "slowest-ask")
			b.ReportMetric(ms(took[(len(took)-1)/2]), "p50-ms")
			b.ReportMetric(ms(took[(len(took)*95+99)/100-1]), "p95-ms")
		})
	}
}
