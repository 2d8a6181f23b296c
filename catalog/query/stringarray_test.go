package query

import (
	"context"
	"slices"
	"testing"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/back-trace/datamap/internal/testkit/testservers"
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

// A String parameter is read back as given: escapes in it are not
// interpreted, and a lone backslash is no error.
func TestStringParamIsReadBackAsWritten(t *testing.T) {
	conn := testservers.ClickHouse(t)
	for _, v := range []string{"dpo", `dp\x6f`, `\`, `a\\b`, "tab\there", "new\nline", `it's`, `\N`, ""} {
		var got string
		ctx := ch.Context(context.Background(), ch.WithParameters(ch.Parameters{"v": stringParam(v)}))
		if err := conn.QueryRow(ctx, `SELECT {v:String}`).Scan(&got); err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if got != v {
			t.Errorf("rendered %q, read back %q", v, got)
		}
	}
}

// The audit trail's who matches a name exactly: "dp\x6f" is not "dpo".
func TestAuditWhoMatchesExactly(t *testing.T) {
	conn := testservers.ClickHouse(t)
	ctx := context.Background()
	if err := conn.Exec(ctx, `INSERT INTO subject_audit (at, who, surface, question, ref, outcome) VALUES (now64(3), 'dpo', 'api', 'subject show', '', 'answered')`); err != nil {
		t.Fatal(err)
	}
	for who, want := range map[string]int{"dpo": 1, `dp\x6f`: 0, `\`: 0, `dp\o`: 0} {
		got, err := Audit(ctx, conn, AuditFilter{Who: who})
		if err != nil || len(got) != want {
			t.Errorf("audit --who %q: %d entries, %v; want %d", who, len(got), err, want)
		}
	}
}
