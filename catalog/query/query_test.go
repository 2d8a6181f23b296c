package query_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/catalog/rollup"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/questions"
	"github.com/back-trace/datamap/sinks/clickhouse"
)

// loadFixture writes testdata/fixture.jsonl into a fresh catalog, then
// writes half of it again in differently split batches — redeliveries that
// the insert deduplication cannot catch — so every answer below is also a
// test that counts stay over distinct events. The events are then folded
// into the rollups, which answer the questions below (TestRollupsAnswer…
// compares them with the raw events on random catalogs).
func loadFixture(t *testing.T) driver.Conn {
	t.Helper()
	conn := testservers.ClickHouse(t)
	evs := ReadFixture(t, "testdata/fixture.jsonl")
	w := clickhouse.NewWriter(conn)
	ctx := context.Background()
	if err := w.Write(ctx, evs); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(evs); i += 3 {
		if err := w.Write(ctx, evs[i:min(i+3, len(evs))]); err != nil {
			t.Fatal(err)
		}
	}
	foldAll(t, conn)
	return conn
}

// foldAll folds every dirty day into the rollups and checks none is left.
func foldAll(t testing.TB, conn driver.Conn) {
	t.Helper()
	ctx := context.Background()
	if _, err := rollup.New(conn, rollup.Options{}).FoldAll(ctx, nil); err != nil {
		t.Fatal(err)
	}
	dirty, err := query.DirtyDays(ctx, conn)
	if err != nil || len(dirty) > 0 {
		t.Fatalf("dirty days after folding everything: %v %v", dirty, err)
	}
}

// ReadFixture decodes a JSON Lines file of events with the validator.
func ReadFixture(t testing.TB, path string) []*events.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v := events.NewValidator(taxonomy.Default())
	var out []*events.Event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		ev, err := v.Decode(sc.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, ev)
	}
	return out
}

// filter builds a Filter from parameter pairs as the API names them;
// dates are read as the questions read them.
func filter(t *testing.T, params ...string) query.Filter {
	t.Helper()
	var f query.Filter
	at := func(name, v string, endOfDay bool) time.Time {
		d, err := questions.ParseTime(name, v, endOfDay)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for i := 0; i+1 < len(params); i += 2 {
		name, v := params[i], params[i+1]
		switch name {
		case "system":
			f.System = v
		case "category":
			f.Category = v
		case "data_subject":
			f.DataSubject = v
		case "purpose":
			f.Purpose = v
		case "legal_basis":
			f.LegalBasis = v
		case "activity":
			f.Activity = v
		case "recipient":
			f.Recipient = v
		case "role":
			f.Role = v
		case "since":
			f.Since = at(name, v, false)
		case "until":
			f.Until = at(name, v, true)
		case "as_of":
			f.AsOf = at(name, v, true)
		default:
			t.Fatalf("filter: no parameter %q", name)
		}
	}
	return f
}

func TestInventoryAnswersWithFiltersAndAsOf(t *testing.T) {
	conn := loadFixture(t)
	ctx := context.Background()
	cases := []struct {
		params []string
		want   string // system category events/records, one per row
	}{
		{nil, "Zendesk support.tickets 1/20, billing-api billing.invoice 1/100, billing-api billing.payment_token 2/15, " +
			"support-desk support.chat 2/7, support-desk support.tickets 2/30, web-frontend web.analytics 1/50"},
		{[]string{"category", "billing"}, "billing-api billing.invoice 1/100, billing-api billing.payment_token 2/15"},
		{[]string{"category", "billing.payment_token", "as_of", "2026-10-01"}, "billing-api billing.payment_token 1/10"},
		{[]string{"category", "billing.payment_token", "as_of", "2026-10-05"}, "billing-api billing.payment_token 2/15"},
		{[]string{"category", "billing.payment_token", "as_of", "2026-10-05T09:59:59Z"}, "billing-api billing.payment_token 1/10"},
		{[]string{"as_of", "2026-01-09"}, ""},
		{[]string{"system", "support-desk", "data_subject", "end_user"}, "support-desk support.chat 2/7"},
		{[]string{"purpose", "analytics"}, "web-frontend web.analytics 1/50"},
		{[]string{"legal_basis", "legal_obligation"}, "billing-api billing.invoice 1/100"},
		{[]string{"activity", "hosted ticketing"}, "Zendesk support.tickets 1/20"},
		{[]string{"since", "2026-09-01", "until", "2026-09-20"}, "billing-api billing.invoice 1/100, billing-api billing.payment_token 1/10, " +
			"support-desk support.tickets 1/10, web-frontend web.analytics 1/50"},
	}
	for _, c := range cases {
		rows, err := query.Inventory(ctx, conn, filter(t, c.params...))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rows {
			got = append(got, fmt.Sprintf("%s %s %d/%d", r.System, r.Category, r.Events, r.Records))
		}
		if strings.Join(got, ", ") != c.want {
			t.Errorf("inventory %v:\n got %s\nwant %s", c.params, strings.Join(got, ", "), c.want)
		}
	}
}

func TestFlowsGroupedByRecipientCountryAndSafeguard(t *testing.T) {
	conn := loadFixture(t)
	ctx := context.Background()
	cases := []struct {
		by     string
		params []string
		want   string // key systems events/records
	}{
		{"recipient", nil, "AWS [Zendesk] 1/20, AdTracker [web-frontend] 1/50, Belastingdienst [billing-api] 1/100, " +
			"Cloudflare [Zendesk] 1/3, LINE [web-frontend] 1/7, Stripe [billing-api web-frontend] 3/18, Zendesk [support-desk] 2/23"},
		{"recipient", []string{"recipient", "Stripe", "as_of", "2026-10-01"}, "Stripe [billing-api web-frontend] 2/13"},
		{"country", nil, "IN [web-frontend] 1/50, JP [web-frontend] 1/7, NL [billing-api] 1/100, " +
			"US [Zendesk billing-api support-desk web-frontend] 7/64"},
		{"safeguard", nil, "(none given) [billing-api web-frontend] 2/107, dpf [Zendesk] 2/23, none [web-frontend] 1/50, " +
			"scc [billing-api support-desk web-frontend] 5/41"},
		{"safeguard", []string{"role", "sub_processor"}, "dpf [Zendesk] 2/23"},
	}
	for _, c := range cases {
		rows, err := query.Flows(ctx, conn, filter(t, c.params...))
		if err != nil {
			t.Fatal(err)
		}
		groups, err := query.GroupFlows(rows, c.by)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, g := range groups {
			got = append(got, fmt.Sprintf("%s %v %d/%d", g.Key, g.Systems, g.Events, g.Records))
		}
		if strings.Join(got, ", ") != c.want {
			t.Errorf("flows by %s %v:\n got %s\nwant %s", c.by, c.params, strings.Join(got, ", "), c.want)
		}
	}
}

func TestTransfersFlagMissingSafeguards(t *testing.T) {
	conn := loadFixture(t)
	rows, err := query.Transfers(context.Background(), conn, query.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		flag := ""
		if r.Finding != "" {
			flag = " FINDING"
		}
		got = append(got, fmt.Sprintf("%s→%s %s %s%s", r.System, r.Recipient, r.Country, r.Safeguard, flag))
	}
	want := "Zendesk→AWS US dpf, web-frontend→AdTracker IN none FINDING, Zendesk→Cloudflare US dpf, web-frontend→LINE JP , " +
		"billing-api→Stripe US scc, web-frontend→Stripe US scc, support-desk→Zendesk US scc, support-desk→Zendesk US scc"
	if strings.Join(got, ", ") != want {
		t.Errorf("transfers:\n got %s\nwant %s", strings.Join(got, ", "), want)
	}
	if n := query.Findings(rows); n != 1 {
		t.Errorf("findings = %d, want 1", n)
	}
}

func TestRetentionAppliesErasuresOldestFirst(t *testing.T) {
	conn := loadFixture(t)
	cases := []struct {
		params []string
		want   string // system category held oldest finding?
	}{
		{[]string{"as_of", "2026-10-01"}, "Zendesk support.tickets 20 2026-06-02, billing-api billing.invoice 100 2026-09-20, " +
			"billing-api billing.payment_token 10 2026-09-15, support-desk support.chat 3 2026-09-25, " +
			"support-desk support.tickets 25 2026-06-01 FINDING, web-frontend web.analytics 50 2026-09-01"},
		// Before the 30-day retention of the June tickets ran out, and after.
		{[]string{"system", "support-desk", "category", "support.tickets", "as_of", "2026-06-20"}, "support-desk support.tickets 20 2026-06-01"},
		{[]string{"system", "support-desk", "category", "support.tickets", "as_of", "2026-07-02"}, "support-desk support.tickets 20 2026-06-01 FINDING"},
		// The January chats were all erased in April: nothing held.
		{[]string{"category", "support.chat", "as_of", "2026-04-15"}, "support-desk support.chat 0 -"},
	}
	for _, c := range cases {
		rows, err := query.Retention(context.Background(), conn, filter(t, c.params...))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rows {
			oldest := "-"
			if r.OldestHeld != nil {
				oldest = r.OldestHeld.Format(time.DateOnly)
			}
			s := fmt.Sprintf("%s %s %d %s", r.System, r.Category, r.Held, oldest)
			if r.Finding != "" {
				s += " FINDING"
			}
			got = append(got, s)
		}
		if strings.Join(got, ", ") != c.want {
			t.Errorf("retention %v:\n got %s\nwant %s", c.params, strings.Join(got, ", "), c.want)
		}
	}
}

func TestSearchFindsSystemsRecipientsCategoriesPurposes(t *testing.T) {
	conn := loadFixture(t)
	tax := taxonomy.Default()
	for text, want := range map[string][]string{
		"zendesk":       {"recipient Zendesk 2/23", "system Zendesk 3/43"},
		"STRIPE":        {"recipient Stripe 3/18"},
		"payment_token": {"category billing.payment_token 5/33"},
		"analytics":     {"category web.analytics 2/100", "purpose analytics 2/100"},
	} {
		rows, err := query.Search(context.Background(), conn, tax, text, query.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rows {
			if r.Events > 0 {
				got = append(got, fmt.Sprintf("%s %s %d/%d", r.Kind, r.Name, r.Events, r.Records))
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("search %q = %v, want %v", text, got, want)
		}
	}
}

// A system or recipient no event names is refused, so a typo is not
// mistaken for an empty answer.
func TestUnknownSystemIsAValueError(t *testing.T) {
	conn := loadFixture(t)
	err := query.KnownValues(context.Background(), conn, query.Filter{System: "biling-api"})
	var ve *query.ValueError
	if !errors.As(err, &ve) || ve.Param != "system" {
		t.Errorf("unknown system: %v", err)
	}
	if err := query.KnownValues(context.Background(), conn, query.Filter{System: "billing-api", Recipient: "Stripe"}); err != nil {
		t.Errorf("known system and recipient: %v", err)
	}
}

// A service that shortens its retention still holds what it collected
// under the longer one: the inventory, the retention answer and the
// Article 30 evidence all show the longest declared retention, whatever
// the order the declarations came in.
func TestEveryRowShowsTheLongestDeclaredRetention(t *testing.T) {
	conn := testservers.ClickHouse(t)
	ctx := context.Background()
	at := func(month int) time.Time { return time.Date(2026, time.Month(month), 1, 10, 0, 0, 0, time.UTC) }
	ticket := func(id string, month int, retention string) *events.Event {
		return &events.Event{ID: id, Source: "support-desk", Kind: events.KindCollected, Time: at(month), Data: events.Data{
			Category: "support.tickets", DataSubject: "customer", Purpose: "support", LegalBasis: "contract",
			Retention: retention, Count: 1}}
	}
	// P24M first, then P6M (the latest), then P30D.
	if err := clickhouse.NewWriter(conn).Write(ctx, []*events.Event{
		ticket("t1", 1, "P24M"), ticket("t2", 5, "P6M"), ticket("t3", 3, "P30D")}); err != nil {
		t.Fatal(err)
	}
	inv, err := query.Inventory(ctx, conn, query.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv) != 1 || inv[0].Retention != "P24M" {
		t.Errorf("inventory: %+v, want one row with retention P24M", inv)
	}
	ret, err := query.Retention(ctx, conn, query.Filter{AsOf: at(6)})
	if err != nil {
		t.Fatal(err)
	}
	if len(ret) != 1 || ret[0].Retention != "P24M" || ret[0].Finding != "" {
		t.Errorf("retention: %+v, want P24M and no finding", ret)
	}
	obs, err := query.Observations(ctx, conn, at(6))
	if err != nil {
		t.Fatal(err)
	}
	if len(obs) != 1 || obs[0].Retention != "P24M" || obs[0].RetentionDays != 730 {
		t.Errorf("evidence: %+v, want P24M (730 days)", obs)
	}
}
