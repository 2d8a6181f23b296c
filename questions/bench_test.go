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

	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/testservers"
	"github.com/back-trace/datamap/lineage"
	"github.com/back-trace/datamap/questions"
)

func TestMain(m *testing.M) { testservers.Main(m) }

// generate fills the events table with n synthetic events in one INSERT …
// SELECT FROM numbers(n); the benchmark then re-inserts 1% of them in a
// second INSERT — redeliveries in another part, the case FINAL must
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
FROM numbers({n:UInt64})`

// BenchmarkDataMapQueries measures the questions on a large catalog. It
// needs DATAMAP_BENCH_EVENTS (e.g. 10000000) and the engine; loading 10
// million events takes about 20 s, so `make test` never runs it:
//
//	DATAMAP_BENCH_EVENTS=10000000 go test ./questions -run '^$' -bench DataMap -benchtime 20x
//
// Every sub-benchmark reports its p95 in ms besides the mean.
func BenchmarkDataMapQueries(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("DATAMAP_BENCH_EVENTS"))
	if n <= 0 {
		b.Skip("set DATAMAP_BENCH_EVENTS, e.g. 10000000, to load that many events and benchmark the data map queries")
	}
	conn := testservers.ClickHouse(b)
	ctx := context.Background()
	start := time.Now()
	if err := conn.Exec(ch.Context(ctx, ch.WithParameters(ch.Parameters{"n": strconv.Itoa(n)})), generate); err != nil {
		b.Fatal(err)
	}
	// The steady state: the load merged into one part. Then 1% of the
	// events delivered again, in a part of their own that overlaps every
	// key range, with merges stopped so that it stays pending while
	// measured (and no background merge competes for the CPU).
	for _, stmt := range []string{
		"OPTIMIZE TABLE events FINAL",
		"SYSTEM STOP MERGES events",
		"INSERT INTO events SELECT * FROM events WHERE cityHash64(id) % 100 = 0",
	} {
		if err := conn.Exec(ctx, stmt); err != nil {
			b.Fatalf("%s: %v", stmt, err)
		}
	}
	var rows, distinct, parts uint64
	_ = conn.QueryRow(ctx, "SELECT count() FROM events").Scan(&rows)
	_ = conn.QueryRow(ctx, "SELECT count() FROM events FINAL").Scan(&distinct)
	_ = conn.QueryRow(ctx, "SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'events' AND active").Scan(&parts)
	b.Logf("loaded %d rows (%d distinct events, %d active parts) in %s", rows, distinct, parts, time.Since(start).Round(time.Millisecond))
	if distinct != uint64(n) {
		b.Fatalf("FINAL counts %d distinct events, want %d", distinct, n)
	}
	// Two states: right after the load, with 1% redeliveries in a part of
	// their own that overlaps every key range (FINAL must merge it all); and
	// after the background merges have folded them (OPTIMIZE … FINAL here),
	// the steady state of a catalog that is not being flooded.
	b.Run("pending-duplicates", func(b *testing.B) { benchQuestions(b, conn) })
	for _, stmt := range []string{"SYSTEM START MERGES events", "OPTIMIZE TABLE events FINAL"} {
		if err := conn.Exec(ctx, stmt); err != nil {
			b.Fatalf("%s: %v", stmt, err)
		}
	}
	b.Run("merged", func(b *testing.B) { benchQuestions(b, conn) })
}

func benchQuestions(b *testing.B, conn driver.Conn) {
	ctx := context.Background()
	load, _ := os.ReadFile("/proc/loadavg")
	b.Logf("load average: %s", load)
	tax := taxonomy.Default()
	for _, c := range []struct {
		name   string
		params map[string]string
	}{
		{"inventory", nil},
		{"inventory", map[string]string{"category": "billing", "as_of": "2026-01-01"}},
		{"flows", nil},
		{"flows", map[string]string{"group_by": "recipient"}},
		{"transfers", nil},
		{"retention", nil},
		{"lineage reach", map[string]string{"from": "system-00", "category": "support"}},
		{"lineage blast", map[string]string{"recipient": "SubCloud"}},
		{"search", map[string]string{"q": "stripe"}},
	} {
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
					for _, r := range a.Rows.([]lineage.ReachRow) {
						hops = max(hops, r.Hops)
					}
					if hops < 3 {
						b.Fatalf("reach goes %d hops, want 3 (system → Vendor → SubCloud → CDN)", hops)
					}
				}
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[(len(took)*95+99)/100-1].Microseconds())/1000, "p95-ms")
		})
	}
}
