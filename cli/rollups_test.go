package cli_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/back-trace/datamap/catalog/rollup"
	"github.com/back-trace/datamap/cli"
	"github.com/back-trace/datamap/internal/testkit/testservers"
)

func TestRollupsBadUsageExitsTwo(t *testing.T) {
	isolate(t)
	for _, c := range []struct {
		args    []string
		mention string
	}{
		{[]string{"rollups", "--format", "csv"}, "table or json"},
		{[]string{"rollups", "now"}, `unexpected argument "now"`},
		{[]string{"rollups", "--fold", "--rebuild"}, "run 'datamap rollups rebuild' alone"},
		{[]string{"rollups", "fold", "--fold"}, "--fold repeats the subcommand"},
		{[]string{"rollups", "--folds"}, "unknown flag --folds; did you mean --fold?"},
	} {
		code, _, errOut := run(t, "", c.args...)
		if code != cli.ExitUsage || !strings.Contains(errOut, c.mention) {
			t.Errorf("datamap %s: exit %d, stderr %q; want exit 2 mentioning %q", strings.Join(c.args, " "), code, errOut, c.mention)
		}
	}
	if code, out, _ := run(t, "", "rollups", "--help"); code != 0 || !strings.Contains(out, "rollups rebuild") || !strings.Contains(out, "Examples:") {
		t.Errorf("rollups --help: %d %s", code, out)
	}
}

// rollupStatus runs `datamap rollups [subcommand] --format json`.
func rollupStatus(t *testing.T, args ...string) (rollup.Status, string) {
	t.Helper()
	code, out, errOut := run(t, "", append(append([]string{"rollups"}, args...), "--format", "json")...)
	if code != 0 {
		t.Fatalf("rollups %v exited %d: %s", args, code, errOut)
	}
	var s rollup.Status
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("rollups printed %q: %v", out, err)
	}
	return s, errOut
}

// Events of twelve days arrive while serve does not fold (a long
// DATAMAP_ROLLUP_INTERVAL): `datamap rollups` shows them dirty, `fold` folds
// them (no progress bar: stderr is not a terminal), `rebuild` recomputes
// them, and the inventory is the same throughout.
func TestRollupsFoldAndRebuildOnARunningServe(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	isolate(t)
	t.Setenv("DATAMAP_ROLLUP_INTERVAL", "1h")
	serve(t)
	var lines []string
	for i := range 24 {
		lines = append(lines, strings.Replace(event(i, "billing.payment_token", ""), "2026-11-01T10", fmt.Sprintf("2026-11-%02dT10", 1+i/2), 1))
	}
	if code, _, errOut := run(t, strings.Join(lines, "\n"), "emit"); code != 0 {
		t.Fatalf("emit: %d %s", code, errOut)
	}
	before := waitForInventoryRecords(t, 24)
	// An INSERT's arrivals are counted as it is acknowledged, just after
	// its events are visible: the inventory may see them a moment first.
	deadline := time.Now().Add(10 * time.Second)
	for s, _ := rollupStatus(t); s.Days != 12 || s.DirtyDays != 12 || s.PendingRows != 24; s, _ = rollupStatus(t) {
		if time.Now().After(deadline) {
			t.Fatalf("before folding: %+v, want 12 dirty days, 24 rows pending", s)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s, errOut := rollupStatus(t, "fold")
	if s.DirtyDays != 0 || !strings.Contains(errOut, "folded 12 days") || strings.Contains(errOut, "[") {
		t.Fatalf("after fold: %+v; stderr %q", s, errOut)
	}
	if after := waitForInventoryRecords(t, 24); !reflect.DeepEqual(after, before) {
		t.Errorf("the inventory changed when folded:\n%+v\n%+v", after, before)
	}
	s, errOut = rollupStatus(t, "--rebuild") // the old flag still works, with a note
	if s.DirtyDays != 0 || !strings.Contains(errOut, "folded 12 days") || !strings.Contains(errOut, "--rebuild is deprecated") {
		t.Fatalf("after --rebuild: %+v; stderr %q", s, errOut)
	}
	if after := waitForInventoryRecords(t, 24); !reflect.DeepEqual(after, before) {
		t.Errorf("the inventory changed when rebuilt:\n%+v\n%+v", after, before)
	}
	if code, out, _ := run(t, "", "rollups"); code != 0 || !strings.Contains(out, "dirty days         0") {
		t.Errorf("rollups: %d %s", code, out)
	}
}
