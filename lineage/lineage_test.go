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
// into a fresh catalog and builds the graph from it.
func fixtureGraph(t *testing.T, f query.Filter) *lineage.Graph {
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
