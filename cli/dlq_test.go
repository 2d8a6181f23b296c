package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/catalog/consumer"
	"github.com/back-trace/datamap/catalog/deadletter"
	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/cli"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/schemas"
	"github.com/back-trace/datamap/sinks/clickhouse"
)

// dlqServers points the CLI at a test NATS and a fresh ClickHouse database,
// as if they were external servers, and returns them.
func dlqServers(t *testing.T) (jetstream.JetStream, driver.Conn) {
	t.Helper()
	ch := testservers.SharedClickHouse(t)
	isolate(t)
	ns, js := testservers.NATS(t)
	conn := testservers.ClickHouse(t)
	var db string
	if err := conn.QueryRow(context.Background(), "SELECT currentDatabase()").Scan(&db); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DATAMAP_NATS_URL", ns.ClientURL())
	t.Setenv("DATAMAP_CLICKHOUSE_DSN", fmt.Sprintf("clickhouse://%s:%s@%s/%s", "datamap", ch.Password(), ch.Addr(), db))
	return js, conn
}

// startCatalogConsumer runs the catalog consumer with a taxonomy until the
// returned function (or the end of the test) stops it.
func startCatalogConsumer(t *testing.T, js jetstream.JetStream, conn driver.Conn, tax *taxonomy.Taxonomy) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	durable, err := consumer.EnsureDurable(ctx, js, consumer.Settings{AckWait: time.Second, MaxDeliver: 20, MaxPending: 10000})
	if err != nil {
		t.Fatal(err)
	}
	c := consumer.New(durable, clickhouse.NewWriter(conn), deadletter.NewSink(js, deadletter.SubjectPrefix),
		events.NewValidator(tax), consumer.Options{BatchSize: 50, MaxWait: 50 * time.Millisecond})
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

// eventually waits until got() returns want, and for a moment after, so a
// late extra (a duplicate) is caught too.
func eventually(t *testing.T, what string, want uint64, got func() (uint64, error)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := got()
		if err != nil {
			t.Fatal(err)
		}
		if n == want {
			time.Sleep(300 * time.Millisecond)
			if again, _ := got(); again != want {
				t.Fatalf("%s went from %d to %d", what, want, again)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %d, want %d", what, n, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func publishRawEvent(t *testing.T, js jetstream.JetStream, body string) {
	t.Helper()
	msg := nats.NewMsg(events.Subject(events.KindCollected))
	msg.Data = []byte(body)
	msg.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("raw-%d", time.Now().UnixNano()))
	if _, err := js.PublishMsg(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
}

func listLetters(t *testing.T, args ...string) []map[string]any {
	t.Helper()
	code, out, errOut := run(t, "", append([]string{"dlq", "list", "--format", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("dlq list: exit %d: %s", code, errOut)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("dlq list --format json printed %q: %v", out, err)
	}
	return rows
}

func letterID(row map[string]any) string {
	return strconv.FormatFloat(row["id"].(float64), 'f', -1, 64)
}

// TestDeadLettersAreListedShownAndReplayedAfterATaxonomyFix is the dead-letter
// workflow end to end: invalid events are dead-lettered, inspected, refused for replay while
// they would still fail, replayed once the taxonomy knows their category,
// and land in the catalog exactly once.
func TestDeadLettersAreListedShownAndReplayedAfterATaxonomyFix(t *testing.T) {
	js, conn := dlqServers(t)
	ctx := context.Background()
	countEvents := func() (uint64, error) { c, err := query.CountEvents(ctx, conn); return c.Events, err }
	countLetters := func() (uint64, error) { return deadletter.Count(ctx, js) }

	// Two valid events, three in a category the default taxonomy lacks.
	publishRawEvent(t, js, event(1, "billing.invoice", ""))
	for i := 2; i <= 4; i++ {
		publishRawEvent(t, js, event(i, "crypto.wallet", ""))
	}
	publishRawEvent(t, js, event(5, "billing.invoice", ""))
	stopDefault := startCatalogConsumer(t, js, conn, taxonomy.Default())
	eventually(t, "dead letters", 3, countLetters)
	eventually(t, "catalog events", 2, countEvents)

	rows := listLetters(t)
	if len(rows) != 3 {
		t.Fatalf("dlq list: %v", rows)
	}
	first := rows[0]
	if first["subject"] != "datamap.events.collected" || first["source"] != "billing-api" || first["event_id"] != "cli-2" ||
		first["deliveries"] != 1.0 || !strings.Contains(first["reason"].(string), "data.category") {
		t.Errorf("first dead letter: %v", first)
	}
	code, out, errOut := run(t, "", "dlq", "list", "--limit", "2")
	if code != 0 || !strings.Contains(out, "REASON") || !strings.Contains(out, "cli-3") || strings.Contains(out, "cli-4") ||
		!strings.Contains(errOut, "oldest 2 of 3") {
		t.Errorf("dlq list --limit 2: %d\n%s\n%s", code, out, errOut)
	}

	id := letterID(first)
	code, out, _ = run(t, "", "dlq", "show", id)
	for _, want := range []string{"Dead letter " + id, "billing-api/cli-2", "deliveries   1", "data.category",
		"Datamap-Original-Subject: datamap.events.collected", `"category": "crypto.wallet"`} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("dlq show %s lacks %q (exit %d):\n%s", id, want, code, out)
		}
	}
	code, out, _ = run(t, "", "dlq", "show", id, "--format", "json")
	var shown struct {
		Reason  string
		Headers map[string][]string
		Body    struct{ Data struct{ Category string } }
	}
	if err := json.Unmarshal([]byte(out), &shown); code != 0 || err != nil || shown.Body.Data.Category != "crypto.wallet" ||
		shown.Headers[deadletter.HeaderDeliveries][0] != "1" {
		t.Errorf("dlq show --format json: %d %v\n%s", code, err, out)
	}
	for _, args := range [][]string{{"dlq", "show", "999"}, {"dlq", "replay", "--id", id + ",999"}} {
		if code, _, errOut := run(t, "", args...); code != cli.ExitUsage || !strings.Contains(errOut, "no dead letter 999") {
			t.Errorf("%v: exit %d, %s; want 2", args, code, errOut)
		}
	}

	// With the default taxonomy the events would fail again: kept.
	code, out, errOut = run(t, "", "dlq", "replay", "--all")
	if code != cli.ExitRejected || !strings.Contains(out, "0 dead letters replayed") || !strings.Contains(errOut, "would still fail") {
		t.Errorf("replay with the default taxonomy: %d\n%s\n%s", code, out, errOut)
	}

	// The fix: a taxonomy that extends the default with the category.
	extended := strings.Replace(string(schemas.Taxonomy()), "\ncategories:\n",
		"\ncategories:\n  - key: crypto\n    name: Crypto assets\n  - key: crypto.wallet\n    name: Wallet addresses\n", 1)
	tax, err := taxonomy.Parse([]byte(extended), "extended.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "taxonomy.yaml")
	if err := os.WriteFile(file, []byte(extended), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DATAMAP_TAXONOMY", file)
	stopDefault()
	startCatalogConsumer(t, js, conn, tax)

	code, out, _ = run(t, "", "dlq", "replay", "--all", "--dry-run")
	if code != 0 || !strings.Contains(out, "3 dead letters would be replayed, 0 kept") {
		t.Errorf("replay --dry-run: %d %s", code, out)
	}
	if n, _ := countLetters(); n != 3 {
		t.Errorf("the dry run changed the dead letters: %d left", n)
	}
	code, out, errOut = run(t, "", "dlq", "replay", "--all")
	if code != 0 || !strings.Contains(out, "3 dead letters replayed") {
		t.Fatalf("replay --all: %d\n%s\n%s", code, out, errOut)
	}
	eventually(t, "catalog events", 5, countEvents)
	eventually(t, "dead letters", 0, countLetters)
	inv, err := query.Inventory(ctx, conn, query.Filter{Category: "crypto"})
	if err != nil || len(inv) != 1 || inv[0].Events != 3 || inv[0].Records != 3 {
		t.Errorf("crypto inventory after replay: %+v %v", inv, err)
	}
	if code, out, _ := run(t, "", "dlq", "replay", "--all"); code != 0 || !strings.Contains(out, "no dead letters") {
		t.Errorf("replay with nothing left: %d %s", code, out)
	}

	// A letter that is still broken: refused, then forced, it comes back
	// under a new ID that names the old one.
	publishRawEvent(t, js, `{broken`)
	eventually(t, "dead letters", 1, countLetters)
	broken := letterID(listLetters(t)[0])
	if code, _, errOut := run(t, "", "dlq", "replay", "--id", broken); code != cli.ExitRejected || !strings.Contains(errOut, "would still fail") {
		t.Errorf("replay of a broken event: %d %s", code, errOut)
	}
	if code, out, _ := run(t, "", "dlq", "replay", "--id", broken, "--force"); code != 0 || !strings.Contains(out, "1 dead letters replayed") {
		t.Errorf("replay --force: %d %s", code, out)
	}
	eventually(t, "dead letters", 1, countLetters)
	again := listLetters(t)[0]
	if letterID(again) == broken {
		t.Errorf("the forced replay kept ID %s", broken)
	}
	if _, out, _ := run(t, "", "dlq", "show", letterID(again)); !strings.Contains(out, deadletter.HeaderReplayOf+": "+broken) {
		t.Errorf("the returned dead letter does not name its predecessor:\n%s", out)
	}

	// Purge: a letter that failed 40 days ago goes, the recent one stays.
	old := nats.NewMsg(deadletter.SubjectPrefix + ".datamap.events.collected")
	old.Data = []byte(event(9, "crypto.wallet", ""))
	old.Header.Set(deadletter.HeaderOriginalSubject, "datamap.events.collected")
	old.Header.Set(deadletter.HeaderReason, "old")
	old.Header.Set(deadletter.HeaderFailedAt, time.Now().Add(-40*24*time.Hour).UTC().Format(time.RFC3339Nano))
	if _, err := js.PublishMsg(ctx, old); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := run(t, "", "dlq", "purge", "--older-than", "30d", "--dry-run"); code != 0 || !strings.Contains(out, "1 dead letters failed before") {
		t.Errorf("purge --dry-run: %d %s", code, out)
	}
	if code, out, _ := run(t, "", "dlq", "purge", "--older-than", "30d"); code != 0 || !strings.Contains(out, "1 dead letters that failed before") {
		t.Errorf("purge --older-than 30d: %d %s", code, out)
	}
	if rows := listLetters(t); len(rows) != 1 || letterID(rows[0]) != letterID(again) {
		t.Errorf("after purge: %v", rows)
	}
	eventually(t, "catalog events", 5, countEvents)
}

func TestDLQBadUsageExitsTwo(t *testing.T) {
	isolate(t)
	cases := []struct {
		args    []string
		mention string
	}{
		{[]string{"dlq"}, "missing subcommand"},
		{[]string{"dlq", "lst"}, "unknown subcommand"},
		{[]string{"dlq", "list", "--format", "xml"}, "table, wide, json or csv"},
		{[]string{"dlq", "list", "--limit", "-1"}, "--limit"},
		{[]string{"dlq", "show"}, "want one dead-letter ID"},
		{[]string{"dlq", "show", "abc"}, "not a dead-letter ID"},
		{[]string{"dlq", "show", "0"}, "not a dead-letter ID"},
		{[]string{"dlq", "show", "1", "--format", "yaml"}, "text or json"},
		{[]string{"dlq", "replay"}, "--id ID[,ID…] or --all"},
		{[]string{"dlq", "replay", "--id", "1", "--all"}, "exclude each other"},
		{[]string{"dlq", "replay", "--id", "1,x"}, "not a dead-letter ID"},
		{[]string{"dlq", "replay", "7"}, "--id 7"},
		{[]string{"dlq", "purge"}, "--older-than is required"},
		{[]string{"dlq", "purge", "--older-than", "30x"}, "not a duration"},
		{[]string{"dlq", "purge", "--older-than", "-1h"}, "not a duration"},
		{[]string{"dlq", "purge", "--older-than", "d"}, "not a duration"},
	}
	for _, c := range cases {
		code, _, errOut := run(t, "", c.args...)
		if code != cli.ExitUsage || !strings.Contains(errOut, c.mention) {
			t.Errorf("datamap %s: exit %d, stderr %q; want exit 2 mentioning %q", strings.Join(c.args, " "), code, errOut, c.mention)
		}
	}
}

func TestDLQHelpTeaches(t *testing.T) {
	for _, args := range [][]string{{"dlq", "--help"}, {"help", "dlq"}} {
		code, out, _ := run(t, "", args...)
		if code != 0 || !strings.Contains(out, "datamap dlq replay --id 17,18") || !strings.Contains(out, "purge") {
			t.Errorf("%v: %d %s", args, code, out)
		}
	}
	for _, sub := range []string{"list", "show", "replay", "purge"} {
		code, out, _ := run(t, "", "dlq", sub, "--help")
		if code != 0 || !strings.Contains(out, "Usage: datamap dlq "+sub) || !strings.Contains(out, "Examples:") {
			t.Errorf("dlq %s --help: %d %s", sub, code, out)
		}
	}
	if _, out, _ := run(t, "", "--help"); !strings.Contains(out, "dlq") {
		t.Errorf("datamap --help does not list dlq:\n%s", out)
	}
}

// TestDeadLettersHoldNoPersonalDataAndNameWhatIsWrong: an event with an
// e-mail address in an unknown field, and a collected event published on
// the shared subject, are both dead-lettered; the inbox names the problem
// of each, only that problem, and never shows the address.
func TestDeadLettersHoldNoPersonalDataAndNameWhatIsWrong(t *testing.T) {
	js, conn := dlqServers(t)
	ctx := context.Background()
	const collected = `{"specversion":"1.0","id":"%s","source":"billing-api","type":"com.back-trace.datamap.data.collected.v1",
		"time":"2026-11-01T10:00:00Z","data":{"category":"billing.invoice","data_subject":"customer",
		"purpose":"payment_processing","legal_basis":"contract","retention":"P7Y"%s}}`
	publishRawEvent(t, js, fmt.Sprintf(collected, "leaky", `,"note":"call bob@example.com"`))
	wrong := nats.NewMsg(events.Subject(events.KindShared))
	wrong.Data = []byte(fmt.Sprintf(collected, "misrouted", ""))
	if _, err := js.PublishMsg(ctx, wrong); err != nil {
		t.Fatal(err)
	}
	startCatalogConsumer(t, js, conn, taxonomy.Default())
	eventually(t, "dead letters", 2, func() (uint64, error) { return deadletter.Count(ctx, js) })
	if c, err := query.CountEvents(ctx, conn); err != nil || c.Events != 0 {
		t.Errorf("catalog holds %d events (%v); want none", c.Events, err)
	}

	rows := listLetters(t)
	if len(rows) != 2 {
		t.Fatalf("dlq list: %v", rows)
	}
	for _, row := range rows {
		id := letterID(row)
		code, text, _ := run(t, "", "dlq", "show", id)
		_, asJSON, _ := run(t, "", "dlq", "show", id, "--format", "json")
		if code != 0 {
			t.Fatalf("dlq show %s: exit %d", id, code)
		}
		for _, out := range []string{text, asJSON} {
			if strings.Contains(out, "bob@example.com") || strings.Contains(out, "required") {
				t.Errorf("dlq show %s holds the address or a spurious problem:\n%s", id, out)
			}
		}
		reason := row["reason"].(string)
		switch row["event_id"] {
		case "leaky":
			if !strings.Contains(reason, "data.note") || !strings.Contains(reason, "looks like an e-mail address") ||
				!strings.Contains(text, "[redacted: e-mail]") {
				t.Errorf("leaky event: reason %q\n%s", reason, text)
			}
		case "misrouted":
			if !strings.Contains(reason, "com.back-trace.datamap.data.collected.v1") || !strings.Contains(reason, `"datamap.events.shared"`) {
				t.Errorf("misrouted event: reason %q", reason)
			}
		default:
			t.Errorf("unexpected dead letter %v", row)
		}
	}
}
