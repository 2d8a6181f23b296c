package schema_test

import (
	"context"
	"strings"
	"testing"

	"github.com/back-trace/datamap/catalog/schema"
	"github.com/back-trace/datamap/internal/testkit/testservers"
)

// With fsync on, every table of the catalog is synced on insert: a table
// left out would lose acknowledged rows on power failure. (The migration
// log is written by migrations, not by INSERTs anyone waits on: a lost row
// reruns an idempotent migration. The copies of subject_refs are written
// again from it at start: TestRepairSubjectCopies.)
func TestInsertFsyncCoversEveryTable(t *testing.T) {
	conn := testservers.ClickHouse(t)
	ctx := context.Background()
	for _, on := range []bool{true, false} {
		if err := schema.SetInsertFsync(ctx, conn, schema.Dialect{}, on); err != nil {
			t.Fatal(err)
		}
		rows, err := conn.Query(ctx, `SELECT name, create_table_query FROM system.tables
			WHERE database = currentDatabase() AND engine LIKE '%MergeTree' AND name != 'schema_migrations'`)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var name, ddl string
			if err := rows.Scan(&name, &ddl); err != nil {
				t.Fatal(err)
			}
			n++
			want := "fsync_after_insert = 0"
			if on && name != "subject_rights" && name != "subject_holdings" {
				want = "fsync_after_insert = 1"
			}
			if !strings.Contains(ddl, want) {
				t.Errorf("fsync %v: table %s lacks %q:\n%s", on, name, want, ddl)
			}
		}
		rows.Close()
		if n < 7 {
			t.Errorf("found %d MergeTree tables, want every table of the catalog", n)
		}
	}
}
