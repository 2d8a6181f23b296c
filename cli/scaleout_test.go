package cli_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/back-trace/datamap/cli"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/stack"
)

// startCommand runs a long-lived datamap command in-process until the test
// ends, and returns its stdout once it printed ready.
func startCommand(t *testing.T, ready string, args ...string) *syncBuffer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() { done <- cli.Main(ctx, args, strings.NewReader(""), &out, &errOut) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(out.String(), ready) {
		select {
		case code := <-done:
			t.Fatalf("%v exited %d: %s", args, code, errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v did not start: %s", args, errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &out
}

var storedMetric = regexp.MustCompile(`(?m)^datamap_consumer_events_stored(?:_total)?\{[^}]*\} (\d+)`)

func scrapeStored(t *testing.T, addr string) int {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := storedMetric.FindSubmatch(body)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

func TestConsumerOnlyProcessesSplitTheWorkAndCountsStayExact(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	dir := isolate(t)
	t.Setenv("DATAMAP_BATCH_SIZE", "50")
	startCommand(t, "is running", "serve")
	var workers []string
	for i := 0; i < 2; i++ {
		out := startCommand(t, "consumer is running", "serve", "--consumer-only")
		addr := regexp.MustCompile(`http://(\S+)`).FindStringSubmatch(out.String())
		workers = append(workers, addr[1])
	}
	var lines []string
	for i := 0; i < 3000; i++ {
		lines = append(lines, event(i, "billing.payment_token", fmt.Sprintf(`,"count":%d`, i%3+1)))
	}
	if code, out, errOut := run(t, strings.Join(lines, "\n"), "emit"); code != 0 {
		t.Fatalf("emit: %d %s %s", code, out, errOut)
	}
	rows := waitForInventoryRecords(t, 6000) // 1000 × (1+2+3)
	if rows[0].Events != 3000 {
		t.Errorf("inventory counts %d events, want 3000", rows[0].Events)
	}
	rt, _ := stack.FindRunning(dir)
	shares := []int{scrapeStored(t, rt.HTTPAddr)}
	for _, w := range workers {
		shares = append(shares, scrapeStored(t, w))
	}
	helped := 0
	for _, n := range shares[1:] {
		if n > 0 {
			helped++
		}
	}
	if helped == 0 {
		t.Errorf("the consumer-only processes stored nothing (per-process stored: %v)", shares)
	}
	t.Logf("events stored per process (serve, workers…): %v", shares)
	// The rollup metrics appear once serve's Folder has finished a round,
	// which on a busy machine may be after the events are queryable (the
	// answers are exact either way): wait for them, within a bound.
	names := []string{"datamap_consumer_lag", "datamap_consumer_batch_size", "datamap_consumer_insert_duration_seconds",
		"datamap_rollup_days_dirty", "datamap_rollup_rows_pending", "datamap_rollup_days_folded", "datamap_rollup_fold_duration_seconds"}
	var lacking []string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		resp, err := http.Get("http://" + rt.HTTPAddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		lacking = slices.DeleteFunc(slices.Clone(names), func(name string) bool { return strings.Contains(string(body), name) })
		if len(lacking) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, name := range lacking {
		t.Errorf("/metrics lacks %s 30 s after the events were queryable", name)
	}
}

func TestConsumerOnlyNeedsARunningStack(t *testing.T) {
	isolate(t)
	code, _, errOut := run(t, "", "serve", "--consumer-only")
	if code != cli.ExitUsage || !strings.Contains(errOut, "start 'datamap serve'") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}
