package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/cli"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/stack"
)

// When this variable is set, the test binary is a standalone NATS server:
// the external-server test needs NATS in a separate process.
const natsServerMode = "DATAMAP_TEST_NATS_SERVER_DIR"

// When this variable is set, the test binary is the datamap command line:
// the completion test runs it from a shell, as "datamap".
const cliMode = "DATAMAP_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(cliMode) != "" {
		os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	if dir := os.Getenv(natsServerMode); dir != "" {
		ns, err := stack.StartNATSServer(stack.NATSServerOptions{StoreDir: dir, Token: os.Getenv("DATAMAP_TEST_NATS_TOKEN")})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(ns.ClientURL())
		buf := make([]byte, 1)
		os.Stdin.Read(buf) // lives as long as the test keeps stdin open
		os.Exit(0)
	}
	testservers.Main(m)
}

// syncBuffer is a bytes.Buffer safe to read while a command writes to it.
type syncBuffer = testservers.SyncBuffer

// run runs one datamap command line in-process.
func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut syncBuffer
	code = cli.Main(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// serve starts `datamap serve` in-process and waits until it runs.
func serve(t *testing.T) *syncBuffer {
	t.Helper()
	return testservers.Serve(t, cli.Main)
}

func isolate(t *testing.T) string {
	dir := t.TempDir()
	t.Setenv("DATAMAP_DATA_DIR", dir)
	t.Setenv("DATAMAP_HTTP_ADDR", "127.0.0.1:0")
	t.Setenv("DATAMAP_OTLP_ADDR", "127.0.0.1:0")
	t.Setenv("DATAMAP_NATS_URL", "")
	t.Setenv("DATAMAP_CLICKHOUSE_DSN", "")
	return dir
}

func event(i int, category, extra string) string {
	return fmt.Sprintf(`{"specversion":"1.0","id":"cli-%d","source":"billing-api","type":"com.back-trace.datamap.data.collected.v1","time":"2026-11-01T10:00:00Z","data":{"category":%q,"data_subject":"customer","purpose":"payment_processing","legal_basis":"contract","retention":"P7Y"%s}}`, i, category, extra)
}

func waitForInventoryRecords(t *testing.T, want uint64) []query.InventoryRow {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, out, errOut := run(t, "", "inventory", "--format", "json")
		if code != 0 {
			t.Fatalf("inventory exited %d: %s", code, errOut)
		}
		var rows []query.InventoryRow
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatalf("inventory --format json printed %q: %v", out, err)
		}
		var total uint64
		for _, r := range rows {
			total += r.Records
		}
		if total == want {
			return rows
		}
		if time.Now().After(deadline) {
			t.Fatalf("inventory holds %d records, want %d", total, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestEmitWithoutServeSaysWhereTheEventsWait: with no serve running, emit
// says the events wait in the stream and what will store them; serve then
// does.
func TestEmitWithoutServeSaysWhereTheEventsWait(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	isolate(t)
	code, out, errOut := run(t, event(1, "billing.payment_token", ""), "emit")
	if code != 0 || !strings.Contains(out, "1 events published") {
		t.Fatalf("emit: exit %d, %q %s", code, out, errOut)
	}
	if !strings.Contains(errOut, "wait in the stream") || !strings.Contains(errOut, "'datamap serve'") {
		t.Errorf("emit without serve does not say where the events are:\n%s", errOut)
	}
	serve(t)
	waitForInventoryRecords(t, 1)
}

func TestServeEmitInventoryOnTheEmbeddedStack(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	dir := isolate(t)
	serve(t)

	var lines []string
	for i := 0; i < 20; i++ {
		lines = append(lines, event(i, "billing.payment_token", ""))
	}
	lines = append(lines, `{broken`, event(99, "billing.cvv", ""), event(100, "billing.invoice", `,"count":-1`))
	lines = append(lines, event(0, "billing.payment_token", "")) // the same event again
	lines = append(lines, event(101, "billing.invoice", `,"note":"call bob@example.com"`))
	code, out, errOut := run(t, strings.Join(lines, "\n"), "emit")
	if code != cli.ExitRejected {
		t.Errorf("emit exit code = %d, want %d (some rejected)", code, cli.ExitRejected)
	}
	if !strings.Contains(out, "21 events published, 4 rejected") {
		t.Errorf("emit summary = %q", out)
	}
	if strings.Contains(errOut, "wait in the stream") {
		t.Errorf("emit with serve running says the events wait:\n%s", errOut)
	}
	for _, want := range []string{"stdin:21: rejected", "stdin:22: rejected: invalid event \"cli-99\": data.category", "stdin:23: rejected: invalid event \"cli-100\": data.count"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("emit stderr lacks %q:\n%s", want, errOut)
		}
	}
	// The unknown field is the one problem of its event, named for what it
	// holds, and the address is not repeated.
	_, line, _ := strings.Cut(errOut, "stdin:25: ")
	line, _, _ = strings.Cut(line, "\n")
	if !strings.HasPrefix(line, `rejected: invalid event "cli-101": data.note: unknown field`) ||
		!strings.Contains(line, "looks like an e-mail address") || strings.Contains(errOut, "bob@example.com") ||
		strings.Contains(line, "required") {
		t.Errorf("emit stderr on an unknown field holding an address:\n%s", errOut)
	}
	rows := waitForInventoryRecords(t, 20)
	if len(rows) != 1 || rows[0].Events != 20 || rows[0].System != "billing-api" {
		t.Errorf("inventory = %+v", rows)
	}

	// The HTTP API answers the same, with the token from the data directory.
	rt, ok := stack.FindRunning(dir)
	if !ok {
		t.Fatal("serve published no runtime file")
	}
	token := stack.ReadSecret(dir, stack.APITokenFile)
	req, _ := http.NewRequest("GET", "http://"+rt.HTTPAddr+"/api/v1/inventory?category=billing", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Items []query.InventoryRow }
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(body.Items) != 1 || body.Items[0].Records != 20 {
		t.Errorf("API: %d %+v", resp.StatusCode, body)
	}
	resp, err = http.Get("http://" + rt.HTTPAddr + "/api/v1/inventory")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("API without token: %d, want 401", resp.StatusCode)
	}
	if code, _, errOut := run(t, "", "serve"); code != cli.ExitFailure || !strings.Contains(errOut, "already runs") {
		t.Errorf("second serve on the same directory: %d %s", code, errOut)
	}
}

func TestExternalNATSAndClickHouse(t *testing.T) {
	ch := testservers.SharedClickHouse(t)
	isolate(t)
	// NATS in a separate process: this test binary in NATS-server mode.
	natsDir := t.TempDir()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), natsServerMode+"="+natsDir, "DATAMAP_TEST_NATS_TOKEN=s3cret")
	lifeline, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lifeline.Close(); cmd.Wait() })
	buf := make([]byte, 256)
	n, err := stdout.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	natsURL := strings.TrimSpace(string(buf[:n]))

	// ClickHouse: the embedded engine is its own process; use a fresh
	// database on it through a DSN, exactly as an external server.
	db := fmt.Sprintf("external_%d", time.Now().UnixNano())
	admin := testservers.Connect(t, ch.Addr(), ch.Password(), "default")
	if err := admin.Exec(context.Background(), "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DATAMAP_NATS_URL", natsURL)
	t.Setenv("DATAMAP_NATS_TOKEN", "s3cret")
	t.Setenv("DATAMAP_CLICKHOUSE_DSN", fmt.Sprintf("clickhouse://%s:%s@%s/%s", "datamap", ch.Password(), ch.Addr(), db))

	code, out, _ := run(t, "", "config")
	if code != 0 || strings.Contains(out, ch.Password()) || strings.Contains(out, "s3cret") {
		t.Errorf("config printed a secret or failed (%d):\n%s", code, out)
	}
	serve(t)
	code, out, errOut := run(t, event(1, "billing.invoice", `,"count":7`), "emit")
	if code != 0 {
		t.Fatalf("emit: %d %s %s", code, out, errOut)
	}
	rows := waitForInventoryRecords(t, 7)
	if rows[0].Category != "billing.invoice" {
		t.Errorf("inventory = %+v", rows)
	}
	// A wrong token is refused with an error that names the variable.
	t.Setenv("DATAMAP_NATS_TOKEN", "wrong")
	t.Setenv("DATAMAP_DATA_DIR", t.TempDir()) // no running serve to attach to
	code, _, errOut = run(t, event(2, "billing.invoice", ""), "emit")
	if code != cli.ExitFailure || !strings.Contains(errOut, "DATAMAP_NATS_URL") {
		t.Errorf("emit with a wrong NATS token: %d %s", code, errOut)
	}
}

func TestBadUsageExitsTwoWithAHint(t *testing.T) {
	isolate(t)
	cases := []struct {
		args    []string
		mention string
	}{
		{[]string{"inventroy"}, `did you mean "inventory"`},
		{[]string{"inventory", "--format", "xml"}, "table, wide, json or csv"},
		{[]string{"inventory", "--category", "billing.cvv"}, "datamap taxonomy"},
		{[]string{"flows", "--country", "Germany"}, "ISO 3166-1"},
		{[]string{"flows", "--nope"}, "unknown flag --nope"},
		{[]string{"inventory", "billing"}, "unexpected argument"},
		{[]string{"demo", "--events", "0"}, "at least 1"},
		{[]string{"emit", filepath.Join(t.TempDir(), "missing.jsonl")}, "no such file"},
	}
	for _, c := range cases {
		code, _, errOut := run(t, "", c.args...)
		if code != cli.ExitUsage || !strings.Contains(errOut, c.mention) {
			t.Errorf("datamap %s: exit %d, stderr %q; want exit 2 mentioning %q", strings.Join(c.args, " "), code, errOut, c.mention)
		}
	}
}

func TestInvalidConfigurationListsEveryProblem(t *testing.T) {
	isolate(t)
	t.Setenv("DATAMAP_BATCH_SIZE", "0")
	t.Setenv("DATAMAP_LOG_LEVEL", "loud")
	t.Setenv("DATAMAP_HTTP_ADDR", ":8470")
	code, _, errOut := run(t, "", "inventory")
	if code != cli.ExitUsage {
		t.Errorf("exit %d, want 2", code)
	}
	for _, v := range []string{"DATAMAP_BATCH_SIZE", "DATAMAP_LOG_LEVEL", "DATAMAP_HTTP_ADDR"} {
		if !strings.Contains(errOut, v) {
			t.Errorf("error does not name %s:\n%s", v, errOut)
		}
	}
	t.Setenv("DATAMAP_BATCH_SIZE", "many")
	if code, _, errOut := run(t, "", "inventory"); code != cli.ExitUsage || !strings.Contains(errOut, "BATCH_SIZE") {
		t.Errorf("non-numeric batch size: %d %s", code, errOut)
	}
}

func TestEmitReadsJSONArraysAndDryRuns(t *testing.T) {
	isolate(t)
	file := filepath.Join(t.TempDir(), "events.json")
	os.WriteFile(file, []byte("["+event(1, "billing.invoice", "")+",\n"+event(2, "billing.nope", "")+"]"), 0o600)
	code, out, errOut := run(t, "", "emit", "--dry-run", file)
	if code != cli.ExitRejected || !strings.Contains(out, "1 events valid") || !strings.Contains(errOut, "events.json[1]: rejected") {
		t.Errorf("emit --dry-run: %d %q %q", code, out, errOut)
	}
}

func TestHelpTeaches(t *testing.T) {
	code, out, _ := run(t, "", "--help")
	if code != 0 || !strings.Contains(out, "datamap demo") || !strings.Contains(out, "Exit codes") {
		t.Errorf("--help: %d %s", code, out)
	}
	for _, c := range []string{"serve", "emit", "inventory", "flows", "demo", "config", "taxonomy"} {
		code, out, _ := run(t, "", c, "--help")
		if code != 0 || !strings.Contains(out, "Usage: datamap "+c) {
			t.Errorf("%s --help: %d %s", c, code, out)
		}
	}
}
