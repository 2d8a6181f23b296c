package schema_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/back-trace/datamap/catalog/schema"
	"github.com/back-trace/datamap/internal/testkit/testservers"
)

var update = flag.Bool("update", false, "rewrite catalog/schema/testdata/*.golden.sql from the current migrations")

const testCluster = "datamap_cluster"

// renderSchema renders schema_migrations and every migration file, as
// MigrateWith runs them, into one SQL document.
func renderSchema(t *testing.T, d schema.Dialect) (string, []string) {
	t.Helper()
	var b strings.Builder
	var all []string
	mode := "a single server"
	if d.Cluster != "" {
		mode = "cluster " + d.Cluster
	}
	if d.Unreplicated {
		mode += " without Keeper (Unreplicated; run on every server)"
	}
	fmt.Fprintf(&b, "-- The catalog schema as MigrateWith runs it for %s.\n", mode)
	b.WriteString("-- Generated from catalog/schema/migrations by TestGoldenDDL; do not edit. After changing\n")
	b.WriteString("-- a migration or catalog/schema/cluster.go: go test ./catalog/schema -run TestGoldenDDL -update\n")
	section := func(title string, stmts []string) {
		fmt.Fprintf(&b, "\n-- ===== %s =====\n", title)
		for _, s := range stmts {
			b.WriteString("\n" + s + ";\n")
		}
		all = append(all, stmts...)
	}
	book, err := d.Bookkeeping()
	if err != nil {
		t.Fatal(err)
	}
	section("schema_migrations (bookkeeping)", book)
	ms, err := schema.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		r, err := d.Render(m)
		if err != nil {
			t.Fatal(err) // names the migration and the statement
		}
		section(fmt.Sprintf("%04d_%s", m.Version, m.Name), r.Statements)
	}
	return b.String(), all
}

// TestGoldenDDL keeps the cluster rendering under review. The single-server
// DDL is the migrations themselves (TestSingleNodeRenderingIsIdentity); its
// reviewed copy is deploy/clickhouse/schema.sql.
func TestGoldenDDL(t *testing.T) {
	for file, d := range map[string]schema.Dialect{
		"cluster_ddl.golden.sql":              {Cluster: testCluster},
		"cluster_unreplicated_ddl.golden.sql": {Cluster: testCluster, Unreplicated: true},
	} {
		t.Run(file, func(t *testing.T) {
			got, _ := renderSchema(t, d)
			path := filepath.Join("testdata", file)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run: go test ./catalog/schema -run TestGoldenDDL -update)", err)
			}
			if got != string(want) {
				t.Errorf("rendered DDL differs from %s; review, then run go test ./catalog/schema -run TestGoldenDDL -update\n%s",
					path, firstDifference(string(want), got))
			}
		})
	}
}

func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n  golden:   %s\n  rendered: %s", i+1, wl, gl)
		}
	}
	return ""
}

// The single-server dialect must change nothing: the statements that run
// are the migration files' statements, byte for byte.
func TestSingleNodeRenderingIsIdentity(t *testing.T) {
	ms, err := schema.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		r, err := schema.Dialect{}.Render(m)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(r, m) {
			t.Errorf("migration %04d changed:\n%#v\n%#v", m.Version, m.Statements, r.Statements)
		}
	}
	book, err := schema.Dialect{}.Bookkeeping()
	if err != nil || len(book) != 1 || strings.Contains(book[0], "CLUSTER") || strings.Contains(book[0], "Replicated") {
		t.Errorf("single-node bookkeeping: %q %v", book, err)
	}
}

// The events table must shard by its identity, so that every copy of one
// event lands on one shard and FINAL there collapses it.
func TestEventsShardByIdentity(t *testing.T) {
	ms, err := schema.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	r, err := schema.Dialect{Cluster: testCluster}.Render(ms[0])
	if err != nil {
		t.Fatal(err)
	}
	want := "ENGINE = Distributed(datamap_cluster, currentDatabase(), events_local, cityHash64(source, id))"
	if !strings.Contains(strings.Join(r.Statements, "\n"), want) {
		t.Errorf("events is not sharded by cityHash64(source, id):\n%s", strings.Join(r.Statements, ";\n"))
	}
}

func render(t *testing.T, stmt string) []string {
	t.Helper()
	r, err := schema.Dialect{Cluster: "c"}.Render(schema.Migration{Version: 7, Name: "test", Statements: []string{stmt}})
	if err != nil {
		t.Fatalf("%s\n%v", stmt, err)
	}
	return r.Statements
}

var transformerCases = []struct {
	name, in string
	want     []string
}{
	{"engine with version argument, no IF NOT EXISTS",
		"CREATE TABLE t (a UInt8, v UInt64) ENGINE = ReplacingMergeTree(v) ORDER BY a",
		[]string{
			"CREATE TABLE t_local ON CLUSTER c (a UInt8, v UInt64) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/t_local', '{replica}', v) ORDER BY a",
			"CREATE TABLE IF NOT EXISTS t ON CLUSTER c AS t_local\nENGINE = Distributed(c, currentDatabase(), t_local, cityHash64(a))"}},
	{"engine with empty parentheses and several arguments",
		"CREATE TABLE IF NOT EXISTS t (a UInt8, s Int8, v UInt8) ENGINE=VersionedCollapsingMergeTree( s , v ) ORDER BY (a, toDate(now()))",
		[]string{
			"CREATE TABLE IF NOT EXISTS t_local ON CLUSTER c (a UInt8, s Int8, v UInt8) ENGINE = ReplicatedVersionedCollapsingMergeTree('/clickhouse/tables/{shard}/{database}/t_local', '{replica}', s , v) ORDER BY (a, toDate(now()))",
			"CREATE TABLE IF NOT EXISTS t ON CLUSTER c AS t_local\nENGINE = Distributed(c, currentDatabase(), t_local, cityHash64(a, toDate(now())))"}},
	{"MergeTree() with no arguments, PRIMARY KEY only",
		"CREATE TABLE t (a UInt8) ENGINE = MergeTree() PRIMARY KEY a",
		[]string{
			"CREATE TABLE t_local ON CLUSTER c (a UInt8) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/t_local', '{replica}') PRIMARY KEY a",
			"CREATE TABLE IF NOT EXISTS t ON CLUSTER c AS t_local\nENGINE = Distributed(c, currentDatabase(), t_local, cityHash64(a))"}},
	{"SETTINGS: non-replicated dedup dropped, others kept, COMMENT copied",
		"CREATE TABLE t (a UInt8) ENGINE = ReplacingMergeTree ORDER BY tuple(a)\nSETTINGS index_granularity = 1024, non_replicated_deduplication_window = 1000\nCOMMENT 'a (test) table, ENGINE = Memory'",
		[]string{
			"CREATE TABLE t_local ON CLUSTER c (a UInt8) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/t_local', '{replica}') ORDER BY tuple(a)\nSETTINGS index_granularity = 1024\nCOMMENT 'a (test) table, ENGINE = Memory'",
			"CREATE TABLE IF NOT EXISTS t ON CLUSTER c AS t_local\nENGINE = Distributed(c, currentDatabase(), t_local, cityHash64(a))\nCOMMENT 'a (test) table, ENGINE = Memory'"}},
	{"SETTINGS clause removed when only non-replicated settings",
		"CREATE TABLE t (a UInt8) ENGINE = ReplacingMergeTree ORDER BY a SETTINGS non_replicated_deduplication_window = 100",
		[]string{
			"CREATE TABLE t_local ON CLUSTER c (a UInt8) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/t_local', '{replica}') ORDER BY a",
			"CREATE TABLE IF NOT EXISTS t ON CLUSTER c AS t_local\nENGINE = Distributed(c, currentDatabase(), t_local, cityHash64(a))"}},
	{"column comments and inline comments that look like clauses",
		"CREATE TABLE t\n(\n  a String COMMENT 'ENGINE = Log ORDER BY (x) SETTINGS y = 1', -- ENGINE = Memory (\n  b Array(UInt8) DEFAULT [1, 2] /* ORDER BY b */\n)\nENGINE = SummingMergeTree((b)) -- sums b\nPARTITION BY tuple()\nORDER BY (a, -- the key\n b)",
		[]string{
			"CREATE TABLE t_local ON CLUSTER c\n(\n  a String COMMENT 'ENGINE = Log ORDER BY (x) SETTINGS y = 1', -- ENGINE = Memory (\n  b Array(UInt8) DEFAULT [1, 2] /* ORDER BY b */\n)\nENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/{database}/t_local', '{replica}', (b)) -- sums b\nPARTITION BY tuple()\nORDER BY (a, -- the key\n b)",
			"CREATE TABLE IF NOT EXISTS t ON CLUSTER c AS t_local\nENGINE = Distributed(c, currentDatabase(), t_local, cityHash64(a, b))"}},
	{"view",
		"CREATE VIEW IF NOT EXISTS v AS SELECT count() FROM t FINAL",
		[]string{"CREATE VIEW IF NOT EXISTS v ON CLUSTER c AS SELECT count() FROM t FINAL"}},
	{"or replace view",
		"create or replace view v as select 1",
		[]string{"create or replace view v ON CLUSTER c as select 1"}},
	{"materialized view TO a table",
		"CREATE MATERIALIZED VIEW IF NOT EXISTS mv TO totals AS SELECT source, count() AS n FROM t GROUP BY source",
		[]string{"CREATE MATERIALIZED VIEW IF NOT EXISTS mv ON CLUSTER c TO totals AS SELECT source, count() AS n FROM t GROUP BY source"}},
	{"alter: column change goes to both tables, local first",
		"ALTER TABLE t ADD COLUMN IF NOT EXISTS b UInt8 DEFAULT 0 AFTER a, MODIFY TTL toDateTime(time) + INTERVAL 1 YEAR",
		[]string{
			"ALTER TABLE t_local ON CLUSTER c ADD COLUMN IF NOT EXISTS b UInt8 DEFAULT 0 AFTER a, MODIFY TTL toDateTime(time) + INTERVAL 1 YEAR",
			"ALTER TABLE t ON CLUSTER c ADD COLUMN IF NOT EXISTS b UInt8 DEFAULT 0 AFTER a"}},
	{"alter: dropped column leaves the Distributed table first",
		"ALTER TABLE t DROP COLUMN IF EXISTS b",
		[]string{"ALTER TABLE t ON CLUSTER c DROP COLUMN IF EXISTS b", "ALTER TABLE t_local ON CLUSTER c DROP COLUMN IF EXISTS b"}},
	{"alter: mutation only on local tables",
		"ALTER TABLE t DELETE WHERE kind = 'a, b'",
		[]string{"ALTER TABLE t_local ON CLUSTER c DELETE WHERE kind = 'a, b'"}},
	{"drop table drops both",
		"DROP TABLE IF EXISTS t SYNC",
		[]string{"DROP TABLE IF EXISTS t ON CLUSTER c SYNC", "DROP TABLE IF EXISTS t_local ON CLUSTER c SYNC"}},
	{"drop view",
		"DROP VIEW IF EXISTS v",
		[]string{"DROP VIEW IF EXISTS v ON CLUSTER c"}},
	{"insert passes through",
		"INSERT INTO t (a) VALUES (1)",
		[]string{"INSERT INTO t (a) VALUES (1)"}},
}

func TestClusterTransformer(t *testing.T) {
	for _, c := range transformerCases {
		t.Run(c.name, func(t *testing.T) {
			got := render(t, c.in)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("\n in: %s\ngot:\n%s\nwant:\n%s", c.in, strings.Join(got, ";\n"), strings.Join(c.want, ";\n"))
			}
		})
	}
}

func TestClusterTransformerRefuses(t *testing.T) {
	cases := []struct{ in, want string }{
		{"CREATE TABLE t (a UInt8) ENGINE = Memory", "not of the MergeTree family"},
		{"CREATE TABLE t (a UInt8) ENGINE = ReplicatedMergeTree ORDER BY a", "already replicated"},
		{"CREATE TABLE t ON CLUSTER x (a UInt8) ENGINE = MergeTree ORDER BY a", "already has ON CLUSTER"},
		{"CREATE TABLE db.t (a UInt8) ENGINE = MergeTree ORDER BY a", "qualified with a database"},
		{"CREATE TABLE t (a UInt8) ENGINE = MergeTree ORDER BY tuple()", "no columns to shard by"},
		{"CREATE TABLE t (a UInt8) ENGINE = MergeTree ORDER BY a DESC", "ASC/DESC"},
		{"CREATE TABLE t (a UInt8) ORDER BY a", "no ENGINE clause"},
		{"CREATE TABLE t (a UInt8) ENGINE = MergeTree", "no ORDER BY"},
		{"CREATE TABLE t ENGINE = MergeTree ORDER BY a AS SELECT 1 AS a", "without a column list"},
		{"CREATE TABLE t (a UInt8) ENGINE = MergeTree ORDER BY a AS SELECT 1", "AS SELECT is not supported"},
		{"CREATE MATERIALIZED VIEW mv ENGINE = SummingMergeTree ORDER BY a AS SELECT a FROM t", "must write TO a table"},
		{"CREATE DICTIONARY d (a UInt8) PRIMARY KEY a SOURCE(NULL()) LAYOUT(FLAT()) LIFETIME(0)", "not supported in cluster mode"},
		{"RENAME TABLE a TO b", "not supported in cluster mode"},
		{"ALTER TABLE v MODIFY QUERY SELECT 1", "targets a view"},
		{"CREATE OR REPLACE TABLE t (a UInt8) ENGINE = MergeTree ORDER BY a", "not supported in cluster mode"},
		{"CREATE TEMPORARY TABLE t (a UInt8)", "not supported in cluster mode"},
		{"CREATE TABLE t (a String DEFAULT 'x) ENGINE = MergeTree ORDER BY a", "unterminated ' quote"},
	}
	for _, c := range cases {
		_, err := schema.Dialect{Cluster: "c"}.Render(schema.Migration{Version: 3, Name: "future", Statements: []string{"SELECT 1", c.in}})
		if err == nil {
			t.Errorf("%s: rendered without error", c.in)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) || !strings.Contains(msg, "migration 0003_future, statement 2") || !strings.Contains(msg, c.in[:12]) {
			t.Errorf("%s:\n error %q\n does not say %q, nor name the migration and statement", c.in, msg, c.want)
		}
	}
	if _, err := (schema.Dialect{Cluster: "bad name;"}).Render(schema.Migration{}); err == nil {
		t.Error("a cluster name that is not an identifier was accepted")
	}
}

// A real cluster cannot run here, but the embedded ClickHouse parses every
// rendered statement: EXPLAIN AST parses a query without executing it, and
// accepts ON CLUSTER on a server that has no such cluster.
func TestRenderedDDLParses(t *testing.T) {
	srv := testservers.SharedClickHouse(t)
	conn := testservers.Connect(t, srv.Addr(), srv.Password(), "default")
	ctx := context.Background()
	explain := func(stmt string) error {
		rows, err := conn.Query(ctx, "EXPLAIN AST "+stmt)
		if err != nil {
			return err
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			n++
		}
		if n == 0 {
			return fmt.Errorf("empty AST")
		}
		return rows.Err()
	}
	// The check has teeth: a syntax error is reported.
	if err := explain("CREATE TABLE x ON CLUSTER c (a UInt8) ENGINE = "); err == nil {
		t.Fatal("EXPLAIN AST accepted a broken statement")
	}
	for _, d := range []schema.Dialect{{}, {Cluster: testCluster}} {
		_, stmts := renderSchema(t, d)
		for _, stmt := range stmts {
			if err := explain(stmt); err != nil {
				t.Errorf("cluster %q: ClickHouse does not parse:\n%s\n%v", d.Cluster, stmt, err)
			}
		}
	}
	for _, c := range transformerCases {
		for _, stmt := range c.want {
			if err := explain(stmt); err != nil {
				t.Errorf("%s: ClickHouse does not parse:\n%s\n%v", c.name, stmt, err)
			}
		}
	}
	// The setting MigrateWith uses for its synchronous insert exists.
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.settings WHERE name = 'insert_distributed_sync'").Scan(&n); err != nil || n != 1 {
		t.Errorf("insert_distributed_sync: %d %v", n, err)
	}
}

func FuzzClusterRenderNeverPanics(f *testing.F) {
	for _, c := range transformerCases {
		f.Add(c.in)
	}
	f.Add("CREATE TABLE t (a ] ENGINE = MergeTree( ORDER BY a")
	f.Fuzz(func(t *testing.T, stmt string) {
		_, _ = schema.Dialect{Cluster: "c"}.Render(schema.Migration{Statements: []string{stmt}})
	})
}

// The views of migration 0002 are dropped by 0003: a migrated catalog holds
// the events table, the rollups and their bookkeeping (0005), the subject tables (0006),
// the traffic aggregates (0009), what alerts announced (0010) and the
// record of applied migrations, nothing else.
func TestMigratedCatalogTables(t *testing.T) {
	conn := testservers.ClickHouse(t)
	rows, err := conn.Query(context.Background(),
		"SELECT name, engine FROM system.tables WHERE database = currentDatabase() ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var name, engine string
		if err := rows.Scan(&name, &engine); err != nil {
			t.Fatal(err)
		}
		got = append(got, name+" "+engine)
	}
	if want := "alerts ReplacingMergeTree, events ReplacingMergeTree, hourly_rollups ReplacingMergeTree, retention_rollups ReplacingMergeTree, " +
		"rollup_arrivals AggregatingMergeTree, rollup_arrivals_mv MaterializedView, rollup_folded AggregatingMergeTree, " +
		"rollup_to_date MergeTree, " +
		"rollups ReplacingMergeTree, schema_migrations ReplacingMergeTree, subject_audit MergeTree, " +
		"subject_holdings MergeTree, subject_holdings_feed MaterializedView, subject_refs ReplacingMergeTree, " +
		"subject_rights ReplacingMergeTree, subject_rights_feed MaterializedView, traffic AggregatingMergeTree"; strings.Join(got, ", ") != want {
		t.Errorf("tables after migration: %s, want %s", strings.Join(got, ", "), want)
	}
}
