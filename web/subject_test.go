package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/demo"
	"github.com/back-trace/datamap/events/subjectref"
	"github.com/back-trace/datamap/people"
)

// demoRef is the reference of one of the demo's people.
func demoRef(t *testing.T, p demo.Person) string {
	t.Helper()
	key, err := subjectref.ParseKey(demo.SubjectKey)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := key.Ref(p.Kind, p.Identifier)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// testPagesAboutPeople drives the subject role's pages in Chromium: a
// subject login looks the demo's people up, sees their findings, the
// requests and the audit trail of its own look-ups; the other roles are
// kept apart.
func testPagesAboutPeople(t *testing.T, f *fixture) {
	stop := demoRef(t, demo.People[0])    // replied STOP; sms-gateway kept texting
	erasure := demoRef(t, demo.People[3]) // erasure that Zendesk never carried out
	untouched := demoRef(t, demo.People[4])

	// The people's events reach the subject table in the same batches as
	// the rest; wait until the API's subject role sees their requests.
	var apiRequests struct{ Items []people.Request }
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if code := f.apiGetAs(t, subjectToken, "/api/v1/subject/requests?all=true", &apiRequests); code != http.StatusOK {
			t.Fatalf("API subject requests with the subject token: %d", code)
		}
		if len(apiRequests.Items) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo's requests never reached the subject table: %+v", apiRequests.Items)
		}
	}

	tab := f.tab(t, true)
	f.login(t, tab, subjectToken, "/")
	f.do(t, tab, "person page", chromedp.WaitVisible(chromedp.CSS(`#person-form`)))

	t.Run("a subject login lands on the person page and sees only the pages about people", func(t *testing.T) {
		loc, _ := url.Parse(get(t, tab, "address", chromedp.Location()))
		nav := get(t, tab, "navigation", js[[]string](`[...document.querySelectorAll('.top nav a')].map(a => a.getAttribute('href'))`))
		access := get(t, tab, "access", chromedp.Text(chromedp.CSS(`.access`)))
		if loc.Path != "/subject" || !slices.Equal(nav, []string{"/subject", "/subject/requests", "/subject/audit"}) || access != "subject role" {
			t.Errorf("subject login at %s with navigation %v (%q); want /subject and the three pages about people", loc, nav, access)
		}
	})

	t.Run("looking up the STOP customer shows processing after withdrawal, as subject show does", func(t *testing.T) {
		f.do(t, tab, "look up",
			chromedp.Navigate(f.base+"/subject"), waitReady(),
			chromedp.SendKeys(chromedp.CSS(`#ref`), stop),
			chromedp.Submit(chromedp.CSS(`#person-form`)),
			chromedp.WaitVisible(chromedp.CSS(`#profile`)), waitReady())
		shown := get(t, tab, "profile", js[struct {
			Ref      string
			Findings [][]string
			Consents []string
			Address  string
		}](`({ref: document.getElementById('profile-title').textContent,
			findings: [...document.querySelectorAll('#findings tbody tr')].map(tr => [...tr.cells].slice(0, 4).map(c => c.title || c.textContent)),
			consents: [...document.querySelectorAll('#consents tbody tr')].map(tr => tr.dataset.purpose + ' ' + tr.dataset.state),
			address: location.href})`))
		if shown.Ref != stop {
			t.Errorf("the page shows %q, not the reference looked up", shown.Ref)
		}
		want := [][]string{{people.FindingProcessingAfterWithdrawal, "sms-gateway", "marketing", "2"}}
		if !slices.EqualFunc(shown.Findings, want, slices.Equal) {
			t.Errorf("findings %v, want %v", shown.Findings, want)
		}
		if !slices.Contains(shown.Consents, "marketing withdrawn") {
			t.Errorf("consents %v; want marketing withdrawn", shown.Consents)
		}
		if strings.Contains(shown.Address, "sr1:") || strings.Contains(shown.Address, "?") {
			t.Errorf("the reference went into the address: %s", shown.Address)
		}
		// The same answer as the CLI's `subject show`.
		var cli people.Profile
		if err := json.Unmarshal([]byte(cliRun(t, "subject", "show", stop, "--format", "json")), &cli); err != nil {
			t.Fatal(err)
		}
		var fromCLI [][]string
		for _, fd := range cli.Findings {
			fromCLI = append(fromCLI, []string{fd.Kind, fd.System, fd.Topic, strconv.Itoa(fd.Events)})
		}
		if !slices.EqualFunc(shown.Findings, fromCLI, slices.Equal) {
			t.Errorf("the page's findings %v differ from datamap subject show's %v", shown.Findings, fromCLI)
		}
	})

	t.Run("the requests page shows the erasure Zendesk did not carry out", func(t *testing.T) {
		f.do(t, tab, "open requests", chromedp.Navigate(f.base+"/subject/requests"), waitReady(),
			chromedp.WaitVisible(chromedp.CSS(`#count`)))
		open := get(t, tab, "open rows", js[[]string](`[...document.querySelectorAll('#requests-table tbody tr')].map(tr => tr.dataset.right + ' ' + tr.dataset.state + ' ' + tr.className)`))
		if !slices.Equal(open, []string{"portability open finding"}) {
			t.Errorf("open requests %v; want only the overdue portability request, marked", open)
		}
		f.do(t, tab, "all requests",
			chromedp.Click(chromedp.CSS(`#all`)), chromedp.Submit(chromedp.CSS(`#requests-form`)),
			chromedp.WaitVisible(chromedp.CSS(`#requests-table tr[data-right="erasure"]`)), waitReady())
		row := get(t, tab, "erasure row", js[struct {
			Ref, State string
			Missing    []string
			Erased     []string
			Tell       []string
		}](`(() => { const tr = document.querySelector('#requests-table tr[data-right="erasure"]');
			return {ref: tr.querySelector('td.ref').firstChild.textContent.trim(), state: tr.dataset.state,
				missing: [...tr.querySelectorAll('[data-evidence="no"]')].map(li => li.dataset.holder),
				erased: [...tr.querySelectorAll('[data-evidence="yes"]')].map(li => li.dataset.holder),
				tell: [...tr.querySelectorAll('[data-recipient]')].map(li => li.dataset.recipient)}; })()`))
		if row.Ref != erasure || row.State != people.StateCompleted || !slices.Equal(row.Missing, []string{demo.TicketingVendor}) ||
			len(row.Erased) != 3 || !slices.Contains(row.Tell, demo.TicketingVendor) {
			t.Errorf("erasure row %+v; want %s completed, %s without evidence, three holders erased, %s to tell", row, erasure, demo.TicketingVendor, demo.TicketingVendor)
		}
		if loc := get(t, tab, "address", chromedp.Location()); !strings.HasSuffix(loc, "/subject/requests?all=true") {
			t.Errorf("the requests page with closed requests is at %s", loc)
		}
		// Its "Show person" button posts the reference to the person page.
		f.do(t, tab, "show the person",
			chromedp.Click(chromedp.CSS(`#requests-table tr[data-right="erasure"] form.inline button`)),
			chromedp.WaitVisible(chromedp.CSS(`#profile`)), waitReady())
		kinds := get(t, tab, "findings", js[[]string](`[...document.querySelectorAll('#findings tbody tr')].map(tr => tr.dataset.kind)`))
		if !slices.Equal(kinds, []string{people.FindingErasureIncomplete, people.FindingProcessingAfterErasure}) {
			t.Errorf("the erasure customer's findings %v; want erasure_incomplete and processing_after_erasure", kinds)
		}
	})

	t.Run("the audit trail lists the web look-ups under the token's name", func(t *testing.T) {
		f.do(t, tab, "audit page", chromedp.Navigate(f.base+"/subject/audit"), waitReady(), chromedp.WaitVisible(chromedp.CSS(`#audit`)))
		rows := get(t, tab, "audit rows", js[[][]string](`[...document.querySelectorAll('#audit tbody tr')].map(tr => [...tr.cells].slice(1).map(c => c.textContent))`))
		for _, want := range [][]string{
			{subjectTokenName, "web", "subject show", stop},
			{subjectTokenName, "web", "subject show", erasure},
			{subjectTokenName, "web", "subject requests", ""},
			{subjectTokenName, "web", "audit", ""}, // opening this page
			{"", "cli", "subject show", stop},
			{subjectTokenName, "api", "subject requests", ""},
		} {
			found := slices.ContainsFunc(rows, func(r []string) bool {
				return (want[0] == "" || r[0] == want[0]) && r[1] == want[1] && r[2] == want[2] && r[3] == want[3]
			})
			if !found {
				t.Errorf("the audit trail lacks %v; it has %v", want, rows)
			}
		}
		html := get(t, tab, "page", js[string](`document.documentElement.outerHTML`))
		if strings.Contains(html, subjectToken) {
			t.Error("the audit page shows the subject token")
		}
		// Filtered by a reference, posted.
		f.do(t, tab, "filter by reference",
			chromedp.SendKeys(chromedp.CSS(`#audit-ref`), erasure), chromedp.Submit(chromedp.CSS(`#audit-form`)),
			chromedp.WaitVisible(chromedp.CSS(`#count[data-filtered]`)), waitReady())
		refs := get(t, tab, "filtered", js[[]string](`[...document.querySelectorAll('#audit tbody tr td.ref')].map(c => c.textContent)`))
		if len(refs) == 0 || slices.ContainsFunc(refs, func(r string) bool { return r != erasure }) {
			t.Errorf("audit filtered by %s lists %v", erasure, refs)
		}
	})

	t.Run("a malformed reference or an e-mail is refused without being repeated", func(t *testing.T) {
		for _, c := range []struct{ typed, says string }{
			{"sr1:abc", "characters long"},
			{"ann.stop@example.org", "looks like an e-mail address"},
			{"+31 6 1234 5671", "looks like a phone or customer number"},
		} {
			f.do(t, tab, "look up "+c.says,
				chromedp.Navigate(f.base+"/subject"), waitReady(),
				chromedp.SendKeys(chromedp.CSS(`#ref`), c.typed),
				chromedp.Submit(chromedp.CSS(`#person-form`)),
				chromedp.WaitVisible(chromedp.CSS(`#subject-error`)), waitReady())
			shown := get(t, tab, "error", chromedp.Text(chromedp.CSS(`#subject-error`)))
			html := get(t, tab, "page", js[string](`document.documentElement.outerHTML + document.getElementById('ref').value`))
			invalid := get(t, tab, "invalid", js[string](`document.getElementById('ref').getAttribute('aria-invalid') || ''`))
			if !strings.Contains(shown, c.says) || invalid != "true" {
				t.Errorf("%q: the page says %q (aria-invalid %q); want %q", c.typed, shown, invalid, c.says)
			}
			if c.typed != "sr1:abc" && strings.Contains(html, c.typed) {
				t.Errorf("the page repeats what was typed (%q)", c.typed)
			}
		}
		// Each refusal is in the audit trail, without what was typed.
		trail, err := query.Audit(context.Background(), f.stack.ClickHouse, query.AuditFilter{Who: subjectTokenName})
		if err != nil {
			t.Fatal(err)
		}
		refused := 0
		for _, e := range trail {
			if e.Surface == "web" && e.Question == "subject show" && e.Outcome == "refused: ref" && e.Ref == "" {
				refused++
			}
			if strings.Contains(e.Ref+e.Outcome, "example.org") || strings.Contains(e.Ref, "1234") || e.Ref == "sr1:abc" {
				t.Errorf("the audit trail keeps a refused value: %+v", e)
			}
		}
		if refused != 3 {
			t.Errorf("%d refused web look-ups in the audit trail, want 3", refused)
		}
	})

	t.Run("each role sees only its pages: 403 saying which role is needed", func(t *testing.T) {
		reader := f.httpLogin(t, readToken)
		writer := f.httpLogin(t, fullToken)
		person := f.httpLogin(t, subjectToken)
		for _, p := range []string{"/subject", "/subject/requests", "/subject/audit"} {
			for _, c := range []*client{reader, writer} {
				if code, body := c.getPage(t, p); code != http.StatusForbidden || !strings.Contains(body, "subject role") || !strings.Contains(body, "DATAMAP_SUBJECT_TOKENS") {
					t.Errorf("GET %s with a read or full-access login: %d\n%s", p, code, body)
				}
			}
		}
		if code, body, _ := reader.postPage(t, "/subject", url.Values{"ref": {stop}, "csrf": {reader.csrf}}, nil); code != http.StatusForbidden || strings.Contains(body, `id="profile"`) {
			t.Errorf("a read login posting a look-up: %d", code)
		}
		for _, p := range []string{"/", "/inventory", "/flows", "/drift", "/article30", "/deadletters"} {
			if code, body := person.getPage(t, p); code != http.StatusForbidden || !strings.Contains(body, "read role") || !strings.Contains(body, "DATAMAP_READ_TOKENS") {
				t.Errorf("GET %s with a subject login: %d\n%s", p, code, body)
			}
		}
		// Nor does its cookie open the API's read routes or its subject routes.
		for _, p := range []string{"/api/v1/inventory", "/api/v1/deadletters", "/api/v1/subject/requests"} {
			if code := person.get(t, p); code != http.StatusUnauthorized && code != http.StatusForbidden {
				t.Errorf("GET %s with a subject login's cookie: %d, want 401 or 403", p, code)
			}
		}
		if code := person.post(t, "/deadletters/replay", url.Values{"ids": {"1"}, "csrf": {person.csrf}}, nil); code != http.StatusForbidden {
			t.Errorf("replay with a subject login: %d, want 403", code)
		}
		// In the browser, the refusal is a page of the map's layout.
		rtab := f.tab(t, true)
		f.login(t, rtab, readToken, "/inventory")
		f.do(t, rtab, "inventory", chromedp.WaitVisible(chromedp.CSS(`#table tbody tr`))) // logged in, not still posting
		f.do(t, rtab, "subject page as reader", chromedp.Navigate(f.base+"/subject"), waitReady(), chromedp.WaitVisible(chromedp.CSS(`#forbidden`)))
		if msg := get(t, rtab, "refusal", chromedp.Text(chromedp.CSS(`#forbidden`))); !strings.Contains(msg, "needs the subject role") {
			t.Errorf("a read login on /subject reads %q", msg)
		}
		f.axe(t, rtab, "forbidden")
	})

	t.Run("the person page's Art. 15 statement names each recipient subject show lists, and is audited", func(t *testing.T) {
		f.do(t, tab, "look up",
			chromedp.Navigate(f.base+"/subject"), waitReady(),
			chromedp.SendKeys(chromedp.CSS(`#ref`), stop),
			chromedp.Submit(chromedp.CSS(`#person-form`)),
			chromedp.WaitVisible(chromedp.CSS(`#profile`)), waitReady())
		if button := get(t, tab, "button", chromedp.Text(chromedp.CSS(`#statement`))); button != "Art. 15 statement" {
			t.Errorf("the person page's statement button reads %q", button)
		}
		var profile people.Profile
		if code := f.apiGetAs(t, subjectToken, "/api/v1/subject/show?ref="+stop, &profile); code != http.StatusOK || len(profile.Disclosures) == 0 {
			t.Fatalf("API subject show: %d, %d disclosures", code, len(profile.Disclosures))
		}
		person := f.httpLogin(t, subjectToken)
		code, body, _ := person.postPage(t, "/subject/statement", url.Values{"ref": {stop}, "format": {"json"}, "csrf": {person.csrf}}, nil)
		var st people.Statement
		if err := json.Unmarshal([]byte(body), &st); code != http.StatusOK || err != nil {
			t.Fatalf("statement: %d, %v\n%s", code, err, body)
		}
		for _, d := range profile.Disclosures {
			if !slices.ContainsFunc(st.Recipients, func(r people.StatementRecipient) bool { return r.Name == d.To }) {
				t.Errorf("the statement's recipients %+v lack %s, which subject show lists", st.Recipients, d.To)
			}
		}
		code, body, _ = person.postPage(t, "/subject/statement", url.Values{"ref": {stop}, "csrf": {person.csrf}}, nil)
		if code != http.StatusOK || !strings.Contains(body, "Twilio") || strings.Contains(body, demo.People[0].Identifier) {
			t.Errorf("HTML statement: %d, naming Twilio %v", code, strings.Contains(body, "Twilio"))
		}
		if code, _, _ := person.postPage(t, "/subject/statement", url.Values{"ref": {stop}, "format": {"docx"}, "csrf": {person.csrf}}, nil); code != http.StatusBadRequest {
			t.Errorf("statement as docx: %d, want 400", code)
		}
		var trail struct {
			Items []struct{ Question, Ref, Surface string }
		}
		f.apiGetAs(t, subjectToken, "/api/v1/audit?ref="+stop, &trail)
		if !slices.ContainsFunc(trail.Items, func(e struct{ Question, Ref, Surface string }) bool {
			return e.Question == "subject statement" && e.Surface == "web"
		}) {
			t.Errorf("the statement asked from the web is not in the audit trail: %+v", trail.Items)
		}
		reader := f.httpLogin(t, readToken)
		if code, body, _ := reader.postPage(t, "/subject/statement", url.Values{"ref": {stop}, "csrf": {reader.csrf}}, nil); code != http.StatusForbidden || strings.Contains(body, "Twilio") {
			t.Errorf("statement with a read login: %d, want 403", code)
		}
	})

	t.Run("a look-up without the CSRF token is refused and looks no one up", func(t *testing.T) {
		person := f.httpLogin(t, subjectToken)
		other := f.httpLogin(t, subjectToken)
		cross := http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}
		for what, c := range map[string]struct {
			form url.Values
			h    http.Header
		}{
			"no CSRF token":             {url.Values{"ref": {untouched}}, nil},
			"another session's token":   {url.Values{"ref": {untouched}, "csrf": {other.csrf}}, nil},
			"cross-origin, right token": {url.Values{"ref": {untouched}, "csrf": {person.csrf}}, cross},
		} {
			if code, body, _ := person.postPage(t, "/subject", c.form, c.h); code != http.StatusForbidden || strings.Contains(body, untouched) {
				t.Errorf("look-up with %s: %d", what, code)
			}
		}
		if code := person.post(t, "/subject/audit", url.Values{"ref": {untouched}}, nil); code != http.StatusForbidden {
			t.Errorf("audit filter without the CSRF token: %d", code)
		}
		var trail struct {
			Items []struct{ Question, Ref string }
		}
		f.apiGetAs(t, subjectToken, "/api/v1/audit?ref="+untouched, &trail)
		for _, e := range trail.Items {
			if e.Question == "subject show" {
				t.Errorf("a refused look-up reached the catalog: %+v", e)
			}
		}
		if code, body, _ := person.postPage(t, "/subject", url.Values{"ref": {untouched}, "csrf": {person.csrf}}, nil); code != http.StatusOK || !strings.Contains(body, `id="profile"`) {
			t.Errorf("the same look-up with the CSRF token: %d", code)
		}
	})

	t.Run("the pages about people pass axe-core", func(t *testing.T) {
		f.do(t, tab, "person", chromedp.Navigate(f.base+"/subject"), waitReady(),
			chromedp.SendKeys(chromedp.CSS(`#ref`), erasure), chromedp.Submit(chromedp.CSS(`#person-form`)),
			chromedp.WaitVisible(chromedp.CSS(`#profile`)), waitReady())
		f.axe(t, tab, "person")
		checkWords(t, "person", get(t, tab, "text", js[string](`document.body.innerText`)))
		f.do(t, tab, "person error", chromedp.Navigate(f.base+"/subject"), waitReady(),
			chromedp.SendKeys(chromedp.CSS(`#ref`), "sr1:abc"), chromedp.Submit(chromedp.CSS(`#person-form`)),
			chromedp.WaitVisible(chromedp.CSS(`#subject-error`)), waitReady())
		f.axe(t, tab, "person-error")
		f.do(t, tab, "requests", chromedp.Navigate(f.base+"/subject/requests?all=true"), waitReady(), chromedp.WaitVisible(chromedp.CSS(`#requests-table`)))
		f.axe(t, tab, "requests")
		checkWords(t, "requests", get(t, tab, "text", js[string](`document.body.innerText`)))
		f.do(t, tab, "audit", chromedp.Navigate(f.base+"/subject/audit"), waitReady(), chromedp.WaitVisible(chromedp.CSS(`#audit`)))
		f.axe(t, tab, "audit")
		checkWords(t, "audit", get(t, tab, "text", js[string](`document.body.innerText`)))
	})
}
