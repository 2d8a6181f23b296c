package report_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/catalog/rollup"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/questions"
	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/report"
)

// benchActivities is the registry size of the benchmark.
const benchActivities = 200

// benchEvents reads DATAMAP_BENCH_EVENTS (default 100k, so `make bench`
// stays quick); docs/benchmarks.md uses 10,000,000.
func benchEvents(b *testing.B) int {
	if v := os.Getenv("DATAMAP_BENCH_EVENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("DATAMAP_BENCH_EVENTS=%q", v)
		}
		return n
	}
	return 100_000
}

// benchRegistry declares benchActivities activities, activity i run by
// system sys-i for one purpose, one category and one recipient.
func benchRegistry(b *testing.B) *registry.Registry {
	tax := taxonomy.Default()
	var sb strings.Builder
	sb.WriteString("version: 1\ncontroller: {name: Bench, contact: {name: Privacy}}\nactivities:\n")
	for i := range benchActivities {
		fmt.Fprintf(&sb, `  - id: act-%d
    name: Activity %d
    business_function: Function %d
    purposes: [%s]
    legal_bases: [contract]
    data_subjects: [customer]
    data_categories: [%s]
    systems: [sys-%d]
    recipients:
      - {name: vendor-%d, role: processor, country: US, safeguard: scc}
    retention:
      - {category: %s, period: P7Y}
    security_measures: [encryption in transit, access controls]
`, i, i, i%12, tax.Purposes[i%len(tax.Purposes)].Key, benchCategory(tax, i), i, i%20, benchCategory(tax, i))
	}
	reg, err := registry.Parse([]byte(sb.String()), "bench.yaml", tax)
	if err != nil {
		b.Fatal(err)
	}
	return reg
}

func benchCategory(tax *taxonomy.Taxonomy, i int) string {
	var keys []string
	for _, c := range tax.Categories {
		if !c.Special {
			keys = append(keys, c.Key)
		}
	}
	return keys[i%len(keys)]
}

// BenchmarkArticle30 measures the whole report: the evidence query (from
// the rollups, every day folded), building the record with drift, and
// writing XLSX and HTML. Events are generated inside ClickHouse (INSERT …
// SELECT FROM numbers), one in a thousand for an undeclared purpose.
func BenchmarkArticle30(b *testing.B) {
	conn := testservers.ClickHouse(b)
	ctx := context.Background()
	tax := taxonomy.Default()
	reg := benchRegistry(b)
	n := benchEvents(b)
	var purposes, categories []string
	for i := range benchActivities {
		purposes = append(purposes, "'"+tax.Purposes[i%len(tax.Purposes)].Key+"'")
		categories = append(categories, "'"+benchCategory(tax, i)+"'")
	}
	start := time.Now()
	insert := fmt.Sprintf(`INSERT INTO events (source, id, kind, time, category, data_subject, purpose, legal_basis,
		retention, retention_days, origin, location, activity, recipient_name, recipient_role, recipient_country,
		recipient_safeguard, recipient_contract, count)
	SELECT 'sys-' || toString(number %% %[1]d), toString(number), if(number %% 3 = 0, 'shared', 'collected'),
		toDateTime64('2026-09-01 00:00:00', 3, 'UTC') + toIntervalSecond(number %% 7776000),
		[%[2]s][number %% %[1]d + 1], 'customer',
		if(number %% 1000 = 3, 'marketing', [%[3]s][number %% %[1]d + 1]), 'contract',
		if(number %% 3 = 0, '', 'P7Y'), if(number %% 3 = 0, 0, 2556), 'observed', 'NL', '',
		if(number %% 3 = 0, 'vendor-' || toString(number %% %[1]d %% 20), ''), if(number %% 3 = 0, 'processor', ''),
		if(number %% 3 = 0, 'US', ''), if(number %% 3 = 0, 'scc', ''), '', 1 + number %% 50
	FROM numbers({from:UInt64}, {count:UInt64})`, benchActivities, strings.Join(categories, ","), strings.Join(purposes, ","))
	// In chunks of ten million: one INSERT of a hundred million rows
	// outlasts the driver's read timeout.
	const chunk = 10_000_000
	for from := 0; from < n; from += chunk {
		params := ch.Parameters{"from": strconv.Itoa(from), "count": strconv.Itoa(min(chunk, n-from))}
		if err := conn.Exec(ch.Context(ctx, ch.WithParameters(params)), insert); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("loaded %d events in %s", n, time.Since(start).Round(time.Millisecond))
	// Measure the catalog in its steady state, not while ClickHouse is
	// still merging the parts of a bulk load it received a second ago
	// (that first query takes about three times longer; see
	// docs/benchmarks.md).
	settle := time.Now()
	for time.Since(settle) < 3*time.Minute {
		var merging uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM system.merges WHERE database = currentDatabase()").Scan(&merging); err != nil {
			b.Fatal(err)
		}
		if merging == 0 {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	var parts uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'events' AND active").Scan(&parts); err != nil {
		b.Fatal(err)
	}
	b.Logf("merges settled after %s; %d active parts", time.Since(settle).Round(time.Millisecond), parts)
	asOf, _ := questions.ParseTime("as_of", "2026-11-30", true)
	if n <= 10_000_000 { // the evidence from the raw events alone, for comparison
		t0 := time.Now()
		if _, err := query.Observations(query.FromEventsOnly(ctx), conn, asOf); err != nil {
			b.Fatal(err)
		}
		b.Logf("evidence query from the raw events alone: %s", time.Since(t0).Round(time.Millisecond))
	}
	// The rollups as serve keeps them: every day folded.
	folding := time.Now()
	if _, err := rollup.New(conn, rollup.Options{}).FoldAll(ctx, nil); err != nil {
		b.Fatal(err)
	}
	b.Logf("rollups folded in %s", time.Since(folding).Round(time.Millisecond))
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		obs, err := query.Observations(ctx, conn, asOf)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		rec, err := report.Build(reg, tax, obs, report.Options{AsOf: asOf, Version: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		for _, f := range []string{"xlsx", "html", "json"} {
			if err := report.Write(io.Discard, rec, f); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(t1.Sub(t0).Seconds(), "query-s")
		b.ReportMetric(t2.Sub(t1).Seconds(), "build-s")
		b.ReportMetric(time.Since(t2).Seconds(), "write-s")
		b.ReportMetric(float64(len(obs)), "rows")
		b.Logf("report in %s (query %s, build %s, write %s)", time.Since(t0).Round(time.Millisecond),
			t1.Sub(t0).Round(time.Millisecond), t2.Sub(t1).Round(time.Millisecond), time.Since(t2).Round(time.Millisecond))
		if len(rec.Activities) != benchActivities {
			b.Fatalf("%d activities", len(rec.Activities))
		}
	}
}
