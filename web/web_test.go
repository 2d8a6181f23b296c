package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/nats-io/nats.go"

	"github.com/back-trace/datamap/catalog/deadletter"
	"github.com/back-trace/datamap/lineage"
)

// pagesUnderTest are every page of the map, with what must be on it.
var pagesUnderTest = []struct{ name, path, ready string }{
	{"map", "/?node=Zendesk", `#panel table`},
	{"inventory", "/inventory", `#table tbody tr`},
	{"flows", "/flows", `#table tbody tr`},
	{"transfers", "/transfers", `#table tbody tr`},
	{"retention", "/retention", `#table tbody tr`},
	{"traffic", "/traffic", `#table tbody tr`},
	{"drift", "/drift", `#drift tbody tr`},
	{"article30", "/article30", `#sha256`},
	{"deadletters", "/deadletters", `#count`},
}

// TestWebDataMap drives the web data map in Chromium against a real serve
// holding the demo's events: one stack and one browser for every subtest.
func TestWebDataMap(t *testing.T) {
	f := startFixture(t)
	tab := f.tab(t, false)
	f.login(t, tab, readToken, "/")

	t.Run("the map shows every node of the lineage graph, by name", func(t *testing.T) {
		var g lineage.Graph
		if err := json.Unmarshal([]byte(cliRun(t, "lineage", "export", "--format", "json")), &g); err != nil {
			t.Fatal(err)
		}
		want := nodeNames(g)
		got := f.nodeList(t, tab, "/")
		if !slices.Equal(got, want) || len(want) < 10 {
			t.Errorf("map nodes %v, want the %d of datamap lineage export: %v", got, len(want), want)
		}
		for _, name := range []string{"billing-api", "Stripe", "Zendesk", "Amazon Web Services", "Mixpanel"} {
			if !slices.Contains(got, name) {
				t.Errorf("map lacks %s", name)
			}
		}
	})

	t.Run("category=billing leaves only billing flows", func(t *testing.T) {
		f.do(t, tab, "flows page", chromedp.Navigate(f.base+"/flows"), waitReady())
		f.do(t, tab, "choose billing",
			chromedp.SetValue(chromedp.CSS(`#f-category`), "billing"),
			js[chromedp.Void](`document.getElementById('f-category').dispatchEvent(new Event('change'))`),
			waitReady())
		loc := get(t, tab, "address", chromedp.Location())
		categories := get(t, tab, "read the table", js[[]string](`(() => { const s = document.getElementById('page-size'); s.value = '500'; s.dispatchEvent(new Event('change'));
			return [...document.querySelectorAll('#table tbody td[data-col=category]')].map(td => (td.title || td.textContent)); })()`))
		if !strings.Contains(loc, "category=billing") {
			t.Errorf("the filter is not in the address: %s", loc)
		}
		var page struct{ Total int }
		f.apiGet(t, "/api/v1/flows?category=billing&limit=1", &page)
		if len(categories) == 0 || len(categories) != page.Total {
			t.Errorf("%d rows shown, the API has %d billing flows", len(categories), page.Total)
		}
		for _, c := range categories {
			if c != "billing" && !strings.HasPrefix(c, "billing.") {
				t.Errorf("a %s flow is shown under category=billing", c)
			}
		}
		// The map under the same filter has the nodes of the billing graph
		// that hold or pass on billing data.
		var g lineage.Graph
		if err := json.Unmarshal([]byte(cliRun(t, "lineage", "export", "--format", "json", "--category", "billing")), &g); err != nil {
			t.Fatal(err)
		}
		if got, want := f.nodeList(t, tab, "/?category=billing"), f.relatedNames(t, g, "category=billing"); !slices.Equal(got, want) {
			t.Errorf("map under category=billing shows %v, want %v", got, want)
		}
	})

	t.Run("as of a past date the counts are the API's for that date", func(t *testing.T) {
		var now, then struct{ Total int }
		f.apiGet(t, "/api/v1/inventory?limit=1", &now)
		f.apiGet(t, "/api/v1/inventory?limit=1&as_of="+pastDate, &then)
		if then.Total >= now.Total || then.Total == 0 {
			t.Fatalf("the fixture does not change between %s (%d rows) and now (%d)", pastDate, then.Total, now.Total)
		}
		f.do(t, tab, "inventory now", chromedp.Navigate(f.base+"/inventory"), waitReady())
		f.do(t, tab, "move as of back",
			chromedp.SetValue(chromedp.CSS(`#f-as_of`), pastDate),
			js[chromedp.Void](`document.getElementById('f-as_of').dispatchEvent(new Event('change'))`),
			waitReady())
		count := get(t, tab, "read the count", chromedp.Text(chromedp.CSS(`#count`)))
		if !strings.HasPrefix(count, strconv.Itoa(then.Total)+" rows") {
			t.Errorf("inventory as of %s says %q, the API has %d rows", pastDate, count, then.Total)
		}
		var g lineage.Graph
		if err := json.Unmarshal([]byte(cliRun(t, "lineage", "export", "--format", "json", "--as-of", pastDate)), &g); err != nil {
			t.Fatal(err)
		}
		if got := f.nodeList(t, tab, "/?as_of="+pastDate); !slices.Equal(got, nodeNames(g)) {
			t.Errorf("map as of %s shows %v, want %v", pastDate, got, nodeNames(g))
		}
	})

	t.Run("a node's panel shows what it holds and sent", func(t *testing.T) {
		f.nodeList(t, tab, "/")
		f.do(t, tab, "open billing-api",
			chromedp.Click(chromedp.CSS(`#node-list [data-node="billing-api"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#panel table`)), waitReady())
		title := get(t, tab, "panel title", chromedp.Text(chromedp.CSS(`#panel h2`)))
		captions := get(t, tab, "panel tables", js[[]string](`[...document.querySelectorAll('#panel caption')].map(c => c.textContent)`))
		if title != "billing-api" || !slices.Equal(captions, []string{"Holds", "Sent"}) {
			t.Errorf("panel %q with tables %v, want billing-api with Holds and Sent", title, captions)
		}
		if rows := get(t, tab, "count rows", js[int](`document.querySelectorAll('#panel .table-wrap:last-of-type tbody tr').length`)); rows == 0 {
			t.Error("billing-api's panel lists no flow it sent")
		}
	})

	t.Run("reach highlights what datamap lineage reach answers", func(t *testing.T) {
		var rows []lineage.ReachRow
		if err := json.Unmarshal([]byte(cliRun(t, "lineage", "reach", "--from", "support-desk", "--category", "support", "--format", "json")), &rows); err != nil {
			t.Fatal(err)
		}
		want := []string{"support-desk"}
		for _, r := range rows {
			want = append(want, r.Node)
		}
		f.nodeList(t, tab, "/")
		f.do(t, tab, "reach",
			chromedp.SetValue(chromedp.CSS(`#reach-from`), "support-desk"),
			chromedp.SetValue(chromedp.CSS(`#reach-category`), "support"),
			chromedp.Click(chromedp.CSS(`#reach-go`)), waitReady())
		if got := f.highlighted(t, tab); !slices.Equal(got, sorted(want)) || len(got) < 3 {
			t.Errorf("reach highlights %v, datamap lineage reach answers %v", got, sorted(want))
		}
	})

	t.Run("blast radius highlights what datamap lineage blast answers", func(t *testing.T) {
		var b lineage.BlastRadius
		if err := json.Unmarshal([]byte(cliRun(t, "lineage", "blast", "--recipient", "Zendesk", "--format", "json")), &b); err != nil {
			t.Fatal(err)
		}
		want := append([]string{"Zendesk"}, b.Systems...)
		for _, r := range b.PassedOn {
			want = append(want, r.Node)
		}
		f.nodeList(t, tab, "/")
		f.do(t, tab, "blast",
			chromedp.SetValue(chromedp.CSS(`#blast-recipient`), "Zendesk"),
			chromedp.Click(chromedp.CSS(`#blast-go`)), waitReady())
		if got := f.highlighted(t, tab); !slices.Equal(got, sorted(want)) || len(b.PassedOn) == 0 {
			t.Errorf("blast highlights %v, datamap lineage blast answers %v", got, sorted(want))
		}
		// The summary says what the records count: received, then passed on.
		summary := get(t, tab, "blast summary", chromedp.Text(chromedp.CSS(`#summary`)))
		if !strings.Contains(summary, b.Summary) || !strings.Contains(summary, "passed on by Zendesk") {
			t.Errorf("blast summary %q does not say %q", summary, b.Summary)
		}
	})

	t.Run("the CSV download is the CLI's CSV", func(t *testing.T) {
		dir, allow := downloads(t)
		f.do(t, tab, "download", allow,
			chromedp.Navigate(f.base+"/flows?category=billing"), waitReady(),
			chromedp.Click(chromedp.CSS(`#dl-csv`)))
		got := waitFile(t, dir, "flows-"+time.Now().UTC().Format(time.DateOnly)+".csv")
		if want := cliRun(t, "flows", "--category", "billing", "--format", "csv"); string(got) != want {
			t.Errorf("downloaded CSV differs from datamap flows --format csv:\n%s\nCLI:\n%s", got, want)
		}
		f.do(t, tab, "inventory download", chromedp.Navigate(f.base+"/inventory?as_of="+pastDate), waitReady(),
			chromedp.Click(chromedp.CSS(`#dl-csv`)))
		got = waitFile(t, dir, "inventory-"+pastDate+".csv")
		if want := cliRun(t, "inventory", "--as-of", pastDate, "--format", "csv"); string(got) != want {
			t.Errorf("inventory CSV differs from the CLI's:\n%s\nCLI:\n%s", got, want)
		}
	})

	t.Run("every page passes axe-core without serious or critical violations", func(t *testing.T) {
		for _, p := range pagesUnderTest {
			f.do(t, tab, p.name, chromedp.Navigate(f.base+p.path), waitReady(), chromedp.WaitReady(chromedp.CSS(p.ready)))
			f.axe(t, tab, p.name)
		}
	})

	t.Run("every page fits 1366×768, counts in words and names no command", func(t *testing.T) {
		type look struct {
			Page, Wide int
			Text       string
			WideTables []string
		}
		for _, p := range pagesUnderTest {
			f.do(t, tab, p.name, chromedp.Navigate(f.base+p.path), waitReady(), chromedp.WaitReady(chromedp.CSS(p.ready)))
			l := get(t, tab, "measure "+p.name, js[look](`({page: document.scrollingElement.scrollWidth, wide: document.scrollingElement.clientWidth,
				text: document.body.innerText,
				wideTables: [...document.querySelectorAll('.table-wrap')].filter(w => w.scrollWidth > w.clientWidth).map(w => w.querySelector('table').id + ': ' + w.scrollWidth + ' px in ' + w.clientWidth)})`))
			if l.Page > l.Wide {
				t.Errorf("%s scrolls sideways at 1366×768: the page is %d px in %d", p.name, l.Page, l.Wide)
			}
			if p.name == "map" {
				continue // its panel and its words are the map's own
			}
			if len(l.WideTables) > 0 {
				t.Errorf("%s: tables wider than their place at 1366×768: %v", p.name, l.WideTables)
			}
			checkWords(t, p.name, l.Text)
		}
	})

	t.Run("a row's other columns open from its disclosure button, by keyboard too", func(t *testing.T) {
		f.do(t, tab, "flows", chromedp.Navigate(f.base+"/flows"), waitReady())
		shown := get(t, tab, "columns", js[[]string](`[...document.querySelectorAll('#table thead th[data-col]')].map(th => th.dataset.col)`))
		if !slices.Contains(shown, "recipient") || slices.Contains(shown, "contract") {
			t.Errorf("flows shows the columns %v; want the recipient, and the contract in the details", shown)
		}
		f.do(t, tab, "open by keyboard", chromedp.Focus(chromedp.CSS(`#table tbody tr:first-child td.disclose button`)),
			chromedp.KeyEvent("\r"))
		open := get(t, tab, "details", js[struct {
			Expanded string
			Visible  bool
			Text     string
		}](`(() => { const b = document.querySelector('#table tbody tr:first-child td.disclose button'); const d = document.getElementById(b.getAttribute('aria-controls'));
			return {expanded: b.getAttribute('aria-expanded'), visible: !d.hidden && d.offsetHeight > 0, text: d.innerText}; })()`))
		if open.Expanded != "true" || !open.Visible || !strings.Contains(open.Text, "contract") {
			t.Errorf("after Enter on the first row's button: aria-expanded=%s, details visible %v: %q", open.Expanded, open.Visible, open.Text)
		}
		f.axe(t, tab, "flows-details")
	})

	t.Run("rows that would look alike show what tells them apart; the finding's evidence says so", func(t *testing.T) {
		for _, path := range []string{"/flows", "/transfers"} {
			f.do(t, tab, path, chromedp.Navigate(f.base+path), waitReady())
			rows := get(t, tab, "Twilio rows", js[[]string](`[...document.querySelectorAll('#table tbody tr:not(.details):not(.group)')]
				.filter(tr => tr.querySelector('td[data-col=recipient]')?.textContent === 'Twilio')
				.map(tr => [...tr.querySelectorAll('td[data-col]')].filter(td => !['records', 'events'].includes(td.dataset.col)).map(td => td.title ? td.textContent + ' (' + td.title + ')' : td.textContent).join(' | '))`))
			if len(rows) < 2 || len(sorted(rows)) != len(rows) {
				t.Errorf("%s: the Twilio rows %q look alike", path, rows)
			}
			evidence := 0
			for _, r := range rows {
				if strings.Contains(strings.ToLower(r), "marketing") && strings.Contains(r, "evidence of a drift finding") && strings.Contains(r, "withdrew consent") {
					evidence++
				}
			}
			if evidence != 1 {
				t.Errorf("%s: %d Twilio rows say they are the evidence of processing after withdrawal: %q", path, evidence, rows)
			}
		}
	})

	t.Run("retention: held past it and longer than declared, each saying what was checked", func(t *testing.T) {
		var drift struct {
			Items []struct{ Kind string }
		}
		f.apiGet(t, "/api/v1/drift", &drift)
		exceeded := 0
		for _, d := range drift.Items {
			if d.Kind == "retention_exceeded" {
				exceeded++
			}
		}
		var held struct{ Total, Findings int }
		f.apiGet(t, "/api/v1/retention", &held)
		f.do(t, tab, "retention", chromedp.Navigate(f.base+"/retention"), waitReady())
		got := get(t, tab, "retention page", js[struct {
			Headings       []string
			Held, Declared int
			Empty, Count   string
		}](`({headings: [...document.querySelectorAll('main h2')].map(h => h.textContent),
			held: document.querySelectorAll('#table tbody tr.finding').length, declared: document.querySelectorAll('#declared tbody tr').length,
			empty: document.querySelector('#table tbody tr.empty')?.textContent || '', count: document.getElementById('declared-count').textContent})`))
		if !slices.Equal(got.Headings, []string{"Held past its retention", "Retention longer than declared"}) {
			t.Errorf("retention page headings %q", got.Headings)
		}
		if got.Held != held.Findings || (held.Findings == 0 && !strings.HasPrefix(got.Empty, fmt.Sprintf("No record is held past its retention: checked %d holdings", held.Total))) {
			t.Errorf("held past its retention: %d rows, %q; the API has %d findings in %d rows", got.Held, got.Empty, held.Findings, held.Total)
		}
		if got.Declared != exceeded || (exceeded == 0 && !strings.HasPrefix(got.Count, "No retention is longer than declared: compared")) {
			t.Errorf("longer than declared: %d rows, %q; drift has %d retention_exceeded findings", got.Declared, got.Count, exceeded)
		}
		if exceeded == 0 {
			t.Error("the fixture has no retention_exceeded finding to show")
		}
	})

	t.Run("a malformed filter shows the API's error naming the field", func(t *testing.T) {
		for _, c := range []struct{ query, param string }{
			{"as_of=yesterday", "as_of"}, {"category=billing.nonsense", "category"}, {"safeguard=handshake", "safeguard"},
		} {
			var apiErr struct{ Error, Parameter string }
			if code := f.apiGet(t, "/api/v1/flows?"+c.query, &apiErr); code != http.StatusBadRequest || apiErr.Parameter != c.param {
				t.Fatalf("API on %s: %d %+v", c.query, code, apiErr)
			}
			f.do(t, tab, c.query, chromedp.Navigate(f.base+"/flows?"+c.query), waitState("error"))
			shown := get(t, tab, "error", chromedp.Text(chromedp.CSS(`#error`)))
			invalid := get(t, tab, "invalid control", js[string](`document.querySelector('[aria-invalid=true]')?.id || ''`))
			if !strings.Contains(shown, apiErr.Error) || invalid != "f-"+c.param {
				t.Errorf("%s: the page shows %q (invalid control %q), the API says %q about %s", c.query, shown, invalid, apiErr.Error, c.param)
			}
		}
	})

	t.Run("a wrong or expired session goes to the login page", func(t *testing.T) {
		other := f.tab(t, true)
		u, _ := url.Parse(f.base)
		f.do(t, other, "bogus session",
			chromedp.Navigate(f.base+"/login"), waitReady(),
			chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: "datamap_session", Value: "not-a-session",
					Domain: u.Hostname(), Path: "/", HTTPOnly: new(true)})
				return err
			}),
			chromedp.Navigate(f.base+"/flows?category=billing"), waitReady())
		loc := get(t, other, "address", chromedp.Location())
		notice := get(t, other, "notice", chromedp.Text(chromedp.CSS(`.notice`)))
		if !strings.Contains(loc, "/login?") || !strings.Contains(loc, "next=%2Fflows%3Fcategory%3Dbilling") || !strings.Contains(notice, "expired") {
			t.Errorf("a bogus session lands on %s (%q), want the login page remembering /flows?category=billing", loc, notice)
		}
		f.loginRefused(t, other, "not-the-token", "/flows")
		if errText := get(t, other, "wrong token", chromedp.Text(chromedp.CSS(`.error`))); !strings.Contains(errText, "neither the API token nor a read token") {
			t.Errorf("a wrong token shows %q", errText)
		}
	})
	t.Run("a read token changes nothing; writing needs the CSRF token", func(t *testing.T) {
		reader := f.httpLogin(t, readToken)
		writer := f.httpLogin(t, fullToken)
		if code := reader.post(t, "/deadletters/replay", url.Values{"ids": {"1"}, "csrf": {reader.csrf}}, nil); code != http.StatusForbidden {
			t.Errorf("replay with a read login: %d, want 403", code)
		}
		if code := writer.post(t, "/deadletters/replay", url.Values{"ids": {"1"}}, nil); code != http.StatusForbidden {
			t.Errorf("replay without the CSRF token: %d, want 403", code)
		}
		if code := writer.post(t, "/deadletters/replay", url.Values{"ids": {"1"}, "csrf": {reader.csrf}}, nil); code != http.StatusForbidden {
			t.Errorf("replay with another session's CSRF token: %d, want 403", code)
		}
		cross := http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}
		if code := writer.post(t, "/deadletters/replay", url.Values{"ids": {"1"}, "csrf": {writer.csrf}}, cross); code != http.StatusForbidden {
			t.Errorf("cross-origin replay: %d, want 403", code)
		}
		if code := writer.post(t, "/logout", url.Values{}, nil); code != http.StatusForbidden {
			t.Errorf("logout without the CSRF token: %d, want 403", code)
		}
		// A read login reaches every read route of the API, by its cookie.
		for _, p := range []string{"/api/v1/inventory", "/api/v1/drift", "/api/v1/deadletters", "/api/v1/article30?format=json"} {
			if code := reader.get(t, p); code != http.StatusOK {
				t.Errorf("GET %s with a read login: %d", p, code)
			}
		}
		// Ingest takes bearer tokens only: a session cannot publish.
		if code := writer.post(t, "/v1/events", url.Values{}, nil); code != http.StatusUnauthorized && code != http.StatusForbidden {
			t.Errorf("POST /v1/events with a session: %d, want 401 or 403", code)
		}
	})

	t.Run("dead letters: counted, latest reason shown; replayed with full access only when they would be stored", func(t *testing.T) {
		// An event the consumer must refuse: unknown category.
		bad := `{"specversion":"1.0","id":"web-bad-1","source":"billing-api","type":"com.back-trace.datamap.data.collected.v1","time":"2026-11-01T10:00:00Z","data":{"category":"billing.unheard_of","data_subject":"customer","purpose":"payment_processing","legal_basis":"contract","retention":"P7Y"}}`
		if _, err := f.stack.JS.Publish(context.Background(), "datamap.events.collected", []byte(bad)); err != nil {
			t.Fatal(err)
		}
		var dl struct {
			Total uint64
			Items []struct {
				ID     uint64
				Reason string
			}
		}
		for deadline := time.Now().Add(30 * time.Second); dl.Total == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			f.apiGet(t, "/api/v1/deadletters", &dl)
		}
		if dl.Total != 1 || !strings.Contains(dl.Items[0].Reason, "billing.unheard_of") {
			t.Fatalf("dead letters %+v, want the one refused event", dl)
		}
		f.do(t, tab, "dead letters page", chromedp.Navigate(f.base+"/deadletters"), waitReady())
		count := get(t, tab, "count", chromedp.Text(chromedp.CSS(`#count`)))
		reason := get(t, tab, "reason", chromedp.Text(chromedp.CSS(`#letters tbody tr td:last-child`)))
		if !strings.HasPrefix(count, "1 dead letter;") || reason != dl.Items[0].Reason {
			t.Errorf("page says %q, %q; the API %+v", count, reason, dl)
		}
		writer := f.httpLogin(t, fullToken)
		bad1 := strconv.FormatUint(dl.Items[0].ID, 10)

		// Still invalid here, it is refused, as `datamap dlq replay` refuses it, and kept.
		code, body, _ := writer.postPage(t, "/deadletters/replay", url.Values{"ids": {bad1}, "csrf": {writer.csrf}}, nil)
		if code != http.StatusConflict || !strings.Contains(body, "dead letter "+bad1+" would still fail") ||
			!strings.Contains(body, "data.category") || !strings.Contains(body, "--force") {
			t.Errorf("replay of a letter that would still fail: %d %q, want 409 saying why and how to force it", code, body)
		}
		f.apiGet(t, "/api/v1/deadletters", &dl)
		if dl.Total != 1 || strconv.FormatUint(dl.Items[0].ID, 10) != bad1 {
			t.Errorf("after a refused replay: %+v, want letter %s kept", dl, bad1)
		}

		// A letter the catalog would store now (its sender was fixed, or the
		// taxonomy) is replayed and leaves the inbox.
		good := nats.NewMsg(deadletter.SubjectPrefix + ".datamap.events.collected")
		good.Data = []byte(strings.NewReplacer("web-bad-1", "web-fixed-1", "billing.unheard_of", "billing.invoice").Replace(bad))
		good.Header.Set(deadletter.HeaderOriginalSubject, "datamap.events.collected")
		good.Header.Set(deadletter.HeaderReason, "invalid event: data.category: unknown")
		ack, err := f.stack.JS.PublishMsg(context.Background(), good)
		if err != nil {
			t.Fatal(err)
		}
		code, _, loc := writer.postPage(t, "/deadletters/replay", url.Values{"ids": {strconv.FormatUint(ack.Sequence, 10)}, "csrf": {writer.csrf}}, nil)
		if code != http.StatusSeeOther || !strings.Contains(loc, "replayed=1") {
			t.Fatalf("replay of a letter that would be stored: %d to %q, want 303 with replayed=1", code, loc)
		}
		f.apiGet(t, "/api/v1/deadletters", &dl)
		if dl.Total != 1 || strconv.FormatUint(dl.Items[0].ID, 10) != bad1 {
			t.Errorf("after replay: %+v, want only letter %s left", dl, bad1)
		}
	})

	testPagesAboutPeople(t, f)
}

// What no page may read: a command-line flag or command, or a plural
// after one.
var (
	flagWord    = regexp.MustCompile(`(^|\s)--[a-z]`)
	commandWord = regexp.MustCompile(`\bdatamap (serve|demo|emit|lineage|subject|audit|report|alerts|registry|bench|taxonomy|dlq|service|sources|rollups|config|env|completion|version|inventory|flows|transfers|retention|drift|traffic|search)\b`)
	oneMany     = regexp.MustCompile(`\b1 (rows|records|findings|transfers|holdings|events|calls|dead letters|requests|questions)\b`)
)

// checkWords fails on what no page may read, quoting it in its context.
func checkWords(t *testing.T, page, text string) {
	t.Helper()
	for _, re := range []*regexp.Regexp{flagWord, commandWord, oneMany} {
		if at := re.FindStringIndex(text); at != nil {
			t.Errorf("%s reads %q (%s)", page, text[max(0, at[0]-60):min(len(text), at[1]+20)], re)
		}
	}
}

// axe runs axe-core on the tab's page and fails on a serious or critical
// violation; with DATAMAP_WEB_SCREENSHOTS=DIR it saves the page as
// DIR/name.png.
func (f *fixture) axe(t *testing.T, tab context.Context, name string) {
	t.Helper()
	axe, err := os.ReadFile("testdata/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	type violation struct {
		ID, Impact, Help string
		Nodes            []struct{ Target []any }
	}
	f.do(t, tab, "load axe on "+name, js[chromedp.Void](string(axe)))
	vs := get(t, tab, "axe on "+name, js[[]violation](`axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical'))`))
	for _, v := range vs {
		t.Errorf("%s: axe %s (%s): %s at %v", name, v.ID, v.Impact, v.Help, v.Nodes)
	}
	if shots := os.Getenv("DATAMAP_WEB_SCREENSHOTS"); shots != "" {
		png := get(t, tab, "screenshot "+name, chromedp.CaptureScreenshot())
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// nodeList opens the map and returns the names of its nodes.
func (f *fixture) nodeList(t *testing.T, tab context.Context, path string) []string {
	t.Helper()
	f.do(t, tab, "map "+path, chromedp.Navigate(f.base+path), waitReady())
	return sorted(get(t, tab, "node list", js[[]string](`[...document.querySelectorAll('#node-list [data-node]')].map(b => b.dataset.node)`)))
}

// highlighted returns the names of the highlighted nodes.
func (f *fixture) highlighted(t *testing.T, tab context.Context) []string {
	t.Helper()
	return sorted(get(t, tab, "highlighted", js[[]string](`[...document.querySelectorAll('#node-list [data-node].hl')].map(b => b.dataset.node)`)))
}

func nodeNames(g lineage.Graph) []string {
	var out []string
	for _, n := range g.Nodes {
		out = append(out, n.Name)
	}
	return sorted(out)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return slices.Compact(s)
}

// client is a logged-in HTTP client with its session's CSRF token.
type client struct {
	f    *fixture
	http *http.Client
	csrf string
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)

// httpLogin logs in through the login form, as a browser would, and reads
// the CSRF token from the page it lands on (the map, or the person page for
// a subject token).
func (f *fixture) httpLogin(t *testing.T, token string) *client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{f: f, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	resp, err := c.http.Get(f.base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(resp)
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("login form without CSRF value:\n%s", body)
	}
	code, _, landed := c.postPage(t, "/login", url.Values{"csrf": {m[1]}, "token": {token}, "next": {"/"}}, nil)
	if code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	resp, err = c.http.Get(f.base + landed)
	if err != nil {
		t.Fatal(err)
	}
	page := readAll(resp)
	m = csrfMeta.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("after login: %d\n%s", resp.StatusCode, page)
	}
	c.csrf = m[1]
	return c
}

func (c *client) post(t *testing.T, path string, form url.Values, h http.Header) int {
	t.Helper()
	code, _, _ := c.postPage(t, path, form, h)
	return code
}

// postPage posts a form and returns the status, the body and where a
// redirect goes.
func (c *client) postPage(t *testing.T, path string, form url.Values, h http.Header) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", c.f.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(resp)
	return resp.StatusCode, body, resp.Header.Get("Location")
}

func (c *client) get(t *testing.T, path string) int {
	t.Helper()
	code, _ := c.getPage(t, path)
	return code
}

// getPage gets a page and returns the status and the body.
func (c *client) getPage(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := c.http.Get(c.f.base + path)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, readAll(resp)
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
