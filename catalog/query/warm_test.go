package query_test

import (
	"context"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/catalog/query"
)

// After Warm, the questions it stands for find every mark they read in
// the mark cache; without it, a cold catalog loads them on the first
// question (which this test checks too, so that it can fail).
func TestWarmLoadsWhatTheFirstQuestionReads(t *testing.T) {
	conn := loadFixture(t)
	ctx := context.Background()
	misses := func() uint64 {
		t.Helper()
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT sum(value) FROM system.events WHERE event = 'MarkCacheMisses'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	ask := func(conn driver.Conn) {
		t.Helper()
		c := query.OneState(ctx)
		if _, err := query.Inventory(c, conn, query.Filter{}); err != nil {
			t.Fatal(err)
		}
		if _, err := query.Flows(c, conn, query.Filter{}); err != nil {
			t.Fatal(err)
		}
		if _, err := query.Retention(c, conn, query.Filter{}); err != nil {
			t.Fatal(err)
		}
	}
	drop := func() {
		t.Helper()
		if err := conn.Exec(ctx, "SYSTEM DROP MARK CACHE"); err != nil {
			t.Fatal(err)
		}
	}

	drop()
	before := misses()
	ask(conn)
	if cold := misses() - before; cold == 0 {
		t.Fatal("a cold catalog loaded no marks: the mark cache is not in use, and this test proves nothing")
	}

	drop()
	if err := query.Warm(ctx, conn); err != nil {
		t.Fatal(err)
	}
	before = misses()
	ask(conn)
	if warm := misses() - before; warm != 0 {
		t.Errorf("after Warm, the first questions still loaded %d marks", warm)
	}
}
