package query

import (
	"context"
	"slices"
	"testing"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/back-trace/datamap/internal/testservers"
)

// The server reads back exactly the strings stringArray rendered, quotes
// and backslashes included: a value can never end the literal early.
func TestStringArrayIsReadBackAsWritten(t *testing.T) {
	conn := testservers.ClickHouse(t)
	for _, values := range [][]string{
		{"sr1:abc"},
		{"it's", `back\slash`, `\'`, "'] , ['x", "", "ünïcode"},
	} {
		var got []string
		ctx := ch.Context(context.Background(), ch.WithParameters(ch.Parameters{"v": stringArray(values)}))
		if err := conn.QueryRow(ctx, `SELECT {v:Array(String)}`).Scan(&got); err != nil {
			t.Fatalf("%q: %v", values, err)
		}
		if !slices.Equal(got, values) {
			t.Errorf("rendered %q, read back %q", values, got)
		}
	}
}
