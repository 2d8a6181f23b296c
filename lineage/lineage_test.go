package lineage_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/lineage"
	"github.com/back-trace/datamap/questions"
	"github.com/back-trace/datamap/sinks/clickhouse"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestMain(m *testing.M) { testservers.Main(m) }

// fixtureGraph loads the shared fixture (catalog/query/testdata/fixture.jsonl)
// and the extra events (JSON lines) into a fresh catalog and builds the
// graph from it.
func fixtureGraph(t *testing.T, f query.Filter, extra ...string) *lineage.Graph {
	t.Helper()
	conn := testservers.ClickHouse(t)
	file, err := os.Open("../catalog/query/testdata/fixture.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	v := events.NewValidator(taxonomy.Default())
	var evs []*events.Event
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		ev, err := v.Decode(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	for _, line := range extra {
		ev, err := v.Decode([]byte(line))
		if err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		evs = append(evs, ev)
	}
	if err := clickhouse.NewWriter(conn).Write(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	g, err := lineage.Load(context.Background(), conn, f)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestReachFollowsInstrumentedRecipients(t *testing.T) {
	g := fixtureGraph(t, query.Filter{})
	cases := []struct{ from, category, want string }{
		// Three hops: system → processor → sub-processor.
		{"support-desk", "support", "Zendesk support.chat (support-desk → Zendesk) 3, Zendesk support.tickets (support-desk → Zendesk) 20, " +
			"AWS support.tickets (support-desk → Zendesk → AWS) 20, Cloudflare support.chat (support-desk → Zendesk → Cloudflare) 3"},
		{"support-desk", "support.chat", "Zendesk support.chat (support-desk → Zendesk) 3, Cloudflare support.chat (support-desk → Zendesk → Cloudflare) 3"},
		{"billing-api", "billing", "Belastingdienst billing.invoice (billing-api → Belastingdienst) 100, Stripe billing.payment_token (billing-api → Stripe) 15"},
		{"billing-api", "support", ""},
	}
	for _, c := range cases {
		var got []string
		for _, r := range g.Reach(c.from, c.category) {
			got = append(got, fmt.Sprintf("%s %s (%s) %d", r.Node, r.Category, r.Path, r.Records))
		}
		if strings.Join(got, ", ") != c.want {
			t.Errorf("reach %s %s:\n got %s\nwant %s", c.from, c.category, strings.Join(got, ", "), c.want)
		}
	}
}

func TestBlastRadiusIncludesOriginsAndWhatWasPassedOn(t *testing.T) {
	g := fixtureGraph(t, query.Filter{})
	cases := []struct{ recipient, want string }{
		{"Zendesk", "records 23 categories [support.chat support.tickets] subjects [customer end_user] systems [support-desk]; " +
			"support.chat from [support-desk] origins [support-desk] 3; support.tickets from [support-desk] origins [support-desk] 20; " +
			"passed on: AWS support.tickets, Cloudflare support.chat"},
		{"AWS", "records 20 categories [support.tickets] subjects [customer] systems [Zendesk support-desk]; " +
			"support.tickets from [Zendesk] origins [support-desk] 20; passed on: "},
		// A recipient under two systems.
		{"Stripe", "records 18 categories [billing.payment_token] subjects [customer] systems [billing-api web-frontend]; " +
			"billing.payment_token from [billing-api web-frontend] origins [billing-api web-frontend] 18; passed on: "},
	}
	for _, c := range cases {
		b, ok := g.Blast(c.recipient)
		if !ok {
			t.Fatalf("blast %s: not a recipient", c.recipient)
		}
		got := fmt.Sprintf("records %d categories %v subjects %v systems %v", b.Records, b.Categories, b.Subjects, b.Systems)
		for _, x := range b.Exposed {
			got += fmt.Sprintf("; %s from %v origins %v %d", x.Category, x.Senders, x.Origins, x.Records)
		}
		var passed []string
		for _, r := range b.PassedOn {
			passed = append(passed, r.Node+" "+r.Category)
		}
		got += "; passed on: " + strings.Join(passed, ", ")
		if got != c.want {
			t.Errorf("blast %s:\n got %s\nwant %s", c.recipient, got, c.want)
		}
	}
	if _, ok := g.Blast("billing-api"); ok {
		t.Error("billing-api receives nothing, yet has a blast radius")
	}
}

// TestBlastRadiusCountsOnwardHops: a breach of Zendesk exposes what it
// received and, hop by hop, what it passed on — to AWS and Cloudflare,
// and from AWS, itself instrumented, on to an archive — and the summary
// says which figure counts what.
func TestBlastRadiusCountsOnwardHops(t *testing.T) {
	// AWS reports its own flows, so what it passes on is a second hop.
	awsArchive := `{"specversion":"1.0","id":"fx-onward-1","source":"AWS","type":"com.back-trace.datamap.data.shared.v1",` +
		`"subject":"support.tickets","time":"2026-06-04T09:00:00Z","datacontenttype":"application/json",` +
		`"data":{"category":"support.tickets","data_subject":"customer","purpose":"support","legal_basis":"legitimate_interests",` +
		`"count":1200,"recipient":{"name":"Archive Vault","role":"sub_processor","country":"DE"}}}`
	g := fixtureGraph(t, query.Filter{}, awsArchive)
	b, ok := g.Blast("Zendesk")
	if !ok {
		t.Fatal("blast Zendesk: not a recipient")
	}
	var hops []string
	for _, h := range b.Onward {
		hops = append(hops, fmt.Sprintf("%d: %v → %v %d", h.Hop, h.Senders, h.Recipients, h.Records))
	}
	if got, want := strings.Join(hops, "; "), "1: [Zendesk] → [AWS Cloudflare] 23; 2: [AWS] → [Archive Vault] 1200"; got != want {
		t.Errorf("onward hops:\n got %s\nwant %s", got, want)
	}
	if b.Records != 23 || b.RecordsPassedOn != 23+1200 {
		t.Errorf("records received %d, passed on %d; want 23 and 1223", b.Records, b.RecordsPassedOn)
	}
	want := "Records received by Zendesk: 23; passed on by Zendesk to 2 further recipients: 23 records; " +
		"then passed on by AWS (hop 2) to 1 further recipient: 1,200 records."
	if b.Summary != want {
		t.Errorf("summary:\n got %s\nwant %s", b.Summary, want)
	}
	// The passed-on rows and the hops agree.
	var sum uint64
	for _, r := range b.PassedOn {
		sum += r.Records
	}
	if sum != b.RecordsPassedOn {
		t.Errorf("passed-on rows add up to %d, records_passed_on says %d", sum, b.RecordsPassedOn)
	}

	// A recipient that passes nothing on says so.
	b, _ = g.Blast("Archive Vault")
	if want := "Records received by Archive Vault: 1,200; passed on to no further recipient (as far as instrumented systems report)."; b.Summary != want || len(b.Onward) != 0 || b.RecordsPassedOn != 0 {
		t.Errorf("blast of Archive Vault: summary %q, onward %v, passed on %d", b.Summary, b.Onward, b.RecordsPassedOn)
	}
	// The JSON keeps the fields it had and adds the new ones.
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"records":`, `"passed_on":`, `"records_passed_on":`, `"onward":[]`, `"summary":`} {
		if !strings.Contains(string(raw), k) {
			t.Errorf("blast JSON lacks %s: %s", k, raw)
		}
	}
}

func TestAsOfDropsLaterFlows(t *testing.T) {
	asOf, _ := questions.ParseTime("as_of", "2026-09-26", true)
	g := fixtureGraph(t, query.Filter{AsOf: asOf})
	for _, r := range g.Reach("support-desk", "support") {
		if r.Node == "Cloudflare" {
			t.Errorf("Cloudflare got support.chat on 2026-09-27, yet is reachable as of 2026-09-26: %+v", r)
		}
	}
	if len(g.Reach("support-desk", "support.chat")) != 1 {
		t.Errorf("as of 2026-09-26 support.chat reaches only Zendesk")
	}
}

func TestExportsMatchGoldenFiles(t *testing.T) {
	g := fixtureGraph(t, query.Filter{})
	for _, format := range lineage.Formats {
		var buf bytes.Buffer
		if err := g.Export(&buf, format); err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "fixture."+format)
		if *update {
			if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./lineage -update to create it)", err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s export differs from %s (go test ./lineage -update rewrites it):\n%s", format, golden, buf.String())
		}
	}
	// Every OpenLineage line is a RunEvent with the required fields.
	var buf bytes.Buffer
	_ = g.Export(&buf, "openlineage")
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"eventType", "eventTime", "run", "job", "inputs", "outputs", "producer", "schemaURL"} {
			if _, ok := ev[k]; !ok {
				t.Errorf("OpenLineage event lacks %s: %s", k, line)
			}
		}
	}
	if err := g.Export(&buf, "png"); err == nil {
		t.Error("export png: no error")
	}
}
