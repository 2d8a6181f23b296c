package chembed

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// The engine's log holds warnings and errors only, never a query or the
// values bound to it (a subject reference deleted by `subject forget`
// survived in it), and the server keeps no query log of its own.
func TestEngineLogKeepsNoQuery(t *testing.T) {
	requireEngine(t)
	dir := t.TempDir()
	s := startServer(t, dir)
	conn := connect(t, s.Addr(), User, s.Password())
	ctx := clickhouse.Context(context.Background(), clickhouse.WithParameters(clickhouse.Parameters{"ref": "sr1:secretreferencevalue"}))
	const marker = "sr1:secretreferencevalue"
	if err := conn.Exec(ctx, "CREATE TABLE t (ref String) ENGINE = MergeTree ORDER BY ref"); err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(ctx, "INSERT INTO t VALUES ({ref:String})"); err != nil {
		t.Fatal(err)
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM t WHERE ref = {ref:String}").Scan(&n); err != nil || n != 1 {
		t.Fatalf("count = %d, %v", n, err)
	}
	// A failed query would be logged with its text and its parameters'
	// values.
	if err := conn.Exec(ctx, "SELECT throwIf(count() > 0, 'refused') FROM t WHERE ref = {ref:String}"); err == nil {
		t.Fatal("throwIf did not fail")
	}
	// What the server keeps about queries: no system.query_log, no
	// system.text_log.
	for _, table := range []string{"query_log", "text_log", "query_thread_log", "query_views_log"} {
		var exists uint64
		if err := conn.QueryRow(context.Background(), "SELECT count() FROM system.tables WHERE database = 'system' AND name = '"+table+"'").Scan(&exists); err != nil {
			t.Fatal(err)
		}
		if exists != 0 {
			t.Errorf("system.%s exists: the server keeps queries", table)
		}
	}
	// Files under the data directory, once the engine has flushed them:
	// no log holds the value or a query.
	s.Stop(context.Background())
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.Contains(info.Name(), "log") && !strings.HasSuffix(info.Name(), ".log") {
			return nil
		}
		b, _ := os.ReadFile(path)
		text := string(b)
		for _, leak := range []string{marker, "secretreferencevalue", "<Debug>", "<Trace>", "<Information>"} {
			if strings.Contains(text, leak) {
				i := strings.Index(text, leak)
				t.Errorf("%s holds %q: …%s…", path, leak, text[max(0, i-300):min(len(text), i+100)])
			}
		}
		return nil
	})
	// The engine writes its own log, which it rotates (10 MB, 3 files).
	if _, err := os.Stat(filepath.Join(dir, "engine.log")); err != nil {
		t.Errorf("the engine does not write its rotated log: %v", err)
	}
}
