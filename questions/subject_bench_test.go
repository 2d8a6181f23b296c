package questions_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/people"
	"github.com/back-trace/datamap/questions"
)

// generateFacts fills subject_refs with n facts about n/10 people in one
// INSERT … SELECT FROM numbers(n). A person's reference is a well-formed
// sr1: value derived from their number. Their facts: collections and
// disclosures across 11 systems over two years; 1 person in 1000 made a
// request (a third of them erasures, half of those answered), 1 in 50
// withdrew a consent, with a quarter of them still sent marketing; some
// erasures on request. Rows carry keep_until far ahead, as the consumer
// writes them, so the TTL deletes nothing while measured.
const generateFacts = `INSERT INTO subject_refs (ref, source, id, kind, time, category, data_subject, purpose, legal_basis,
	recipient_name, recipient_role, recipient_country, reason, request_right, channel, grounds, keep_until)
WITH
	intDiv(number, 10) AS person,
	number % 10 AS nth,
	concat('sr1:', substring(translate(lower(hex(SHA256(toString(person)))), '0123456789', 'qrstuvwxyz'), 1, 51), 'a') AS ref,
	person % 1000 = 7 AS requester,
	person % 50 = 3 AS withdrew,
	['access','erasure','portability'][person % 3 + 1] AS right
SELECT
	ref,
	multiIf(nth = 9 AND requester, 'support-desk', nth = 9 AND withdrew, 'sms-gateway', concat('system-', leftPad(toString((person + nth) % 11), 2, '0'))),
	concat(toString(person), '-', toString(nth)),
	multiIf(nth = 9 AND requester, 'request_received',
	        nth = 8 AND requester AND person % 2 = 0, 'request_completed',
	        nth = 9 AND withdrew, 'consent_withdrawn',
	        nth = 7 AND requester AND right = 'erasure', 'erased',
	        nth % 3 = 2, 'shared', 'collected'),
	toDateTime64('2025-01-01 00:00:00', 3, 'UTC') + toIntervalSecond((person * 7919 + nth * 86400 * 30) % 63072000),
	['billing.invoice','support.tickets','account.contact','telephony.sms_metadata','web.analytics'][(person + nth) % 5 + 1],
	['customer','end_user','call_party'][person % 3 + 1],
	if(nth = 9 AND withdrew, 'marketing', ['support','invoicing','marketing','service_delivery'][nth % 4 + 1]),
	['contract','consent','legitimate_interests'][nth % 3 + 1],
	if(nth % 3 = 2, ['Stripe','Twilio','Zendesk','HubSpot'][person % 4 + 1], ''),
	if(nth % 3 = 2, 'processor', ''),
	if(nth % 3 = 2, 'US', ''),
	if(nth = 7 AND requester AND right = 'erasure', 'subject_request', ''),
	if(nth IN (8, 9) AND requester, right, ''),
	if(nth = 9 AND (requester OR withdrew), if(withdrew, 'sms_stop', 'email'), ''),
	'',
	toDateTime('2100-01-01 00:00:00', 'UTC')
FROM numbers({from:UInt64}, {n:UInt64})`

// BenchmarkSubjectQueries measures the subject questions on a large
// subject table. It needs DATAMAP_BENCH_SUBJECT_FACTS (e.g. 20000000: 20
// million facts about 2 million people) and the engine, so `make test`
// never runs it:
//
//	DATAMAP_BENCH_SUBJECT_FACTS=20000000 go test ./questions -run '^$' -bench SubjectQueries -benchtime 200x
//
// subject show asks about a different person each time; each sub-benchmark
// reports its p95 in ms. The events table is not read by these questions,
// so its size does not matter to them.
func BenchmarkSubjectQueries(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("DATAMAP_BENCH_SUBJECT_FACTS"))
	if n <= 0 {
		b.Skip("set DATAMAP_BENCH_SUBJECT_FACTS, e.g. 20000000, to load that many facts and benchmark the subject questions")
	}
	conn := testservers.ClickHouse(b)
	refs := loadSubjects(b, conn, n)
	ctx := questions.WithAsker(context.Background(), questions.Asker{Who: "bench", Surface: "cli"})
	tax := taxonomy.Default()
	asOf := map[string]string{"as_of": "2027-01-01"}
	for _, c := range []struct {
		name   string
		params func(i int) map[string]string
	}{
		{"subject show", func(i int) map[string]string {
			return map[string]string{"ref": refs[i%len(refs)], "as_of": "2027-01-01"}
		}},
		{"subject requests", func(int) map[string]string { return asOf }},
	} {
		q, _ := questions.Lookup(c.name)
		b.Run(c.name, func(b *testing.B) {
			var took []time.Duration
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				a, err := q.Ask(ctx, conn, tax, c.params(i))
				if err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(t0))
				if i == 0 && c.name == "subject requests" && len(questions.RowsOf[people.Request](a)) == 0 {
					b.Fatal("no open requests in the generated data")
				}
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[(len(took)*95+99)/100-1].Microseconds())/1000, "p95-ms")
		})
	}
}

// loadSubjects fills subject_refs with n generated facts (generateFacts,
// in chunks of a million), merges them, and returns up to 1000 of the
// people's references. It logs how many parts subject_holdings is in,
// since the cost of subject requests follows that number.
func loadSubjects(b *testing.B, conn driver.Conn, n int) []string {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	// In chunks of a million: one INSERT of tens of millions of rows
	// outlasts the driver's read timeout on a loaded machine.
	for from := 0; from < n; from += 1_000_000 {
		params := ch.Parameters{"from": strconv.Itoa(from), "n": strconv.Itoa(min(1_000_000, n-from))}
		if err := conn.Exec(ch.Context(ctx, ch.WithParameters(params)), generateFacts); err != nil {
			b.Fatal(err)
		}
	}
	if err := conn.Exec(ctx, "OPTIMIZE TABLE subject_refs FINAL"); err != nil {
		b.Fatal(err)
	}
	var rows, persons uint64
	_ = conn.QueryRow(ctx, "SELECT count(), uniqExact(ref) FROM subject_refs").Scan(&rows, &persons)
	b.Logf("loaded %d facts about %d people in %s", rows, persons, time.Since(start).Round(time.Millisecond))
	var refs []string
	r, err := conn.Query(ctx, "SELECT DISTINCT ref FROM subject_refs WHERE cityHash64(ref) % 1000 = 1 LIMIT 1000")
	if err != nil {
		b.Fatal(err)
	}
	for r.Next() {
		var ref string
		_ = r.Scan(&ref)
		refs = append(refs, ref)
	}
	r.Close()
	// The merges the load set off are waited for (up to five minutes), so
	// that the questions are timed against the catalog at rest, not
	// against the tail of loading 20 million facts in two minutes.
	settled := time.Now()
	for time.Since(settled) < 5*time.Minute {
		var merging uint64
		_ = conn.QueryRow(ctx, "SELECT count() FROM system.merges WHERE database = currentDatabase()").Scan(&merging)
		if merging == 0 {
			break
		}
		time.Sleep(time.Second)
	}
	var holdingParts uint64
	_ = conn.QueryRow(ctx, "SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'subject_holdings' AND active").Scan(&holdingParts)
	b.Logf("subject_holdings in %d parts, the merges waited for %s", holdingParts, time.Since(settled).Round(time.Second))
	load, _ := os.ReadFile("/proc/loadavg")
	b.Logf("load average: %s", load)
	return refs
}
