package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/words"
)

// TestWebShowsWords: on every table page and the drift page, no visible
// cell reads as a key the glossary has words for — the key is in the
// cell's title, for hover — and durations and dates read as words and
// days. The glossary is for logged-in sessions only.
func TestWebShowsWords(t *testing.T) {
	f := startFixture(t)

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(f.base + "/glossary.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("glossary without a session: %d to %q, want the login page", resp.StatusCode, resp.Header.Get("Location"))
	}

	g := words.Of(taxonomy.Default()).Glossary()
	named := map[string]string{} // key → its words, for every key that has some
	for _, field := range []string{"category", "purpose", "data_subject", "legal_basis", "role", "safeguard", "special_condition"} {
		for k, w := range g.Fields[field] {
			named[k] = w
		}
	}
	tab := f.tab(t, false)
	f.login(t, tab, readToken, "/inventory")
	iso := regexp.MustCompile(`^P(\d+[YMWD])+$|^\d{4}-\d\d-\d\dT`)
	// Cells under these columns hold keys; systems and recipients are
	// names, which may spell like a key ("integrations").
	keyed := map[string]bool{"category": true, "purpose": true, "data_subject": true, "legal_basis": true,
		"role": true, "safeguard": true, "subject": true}
	type cellText struct{ Col, Text, Title string }
	for _, p := range []struct{ path, rows string }{
		{"/inventory", "#table tbody td"}, {"/flows", "#table tbody td"}, {"/transfers", "#table tbody td"},
		{"/retention", "#table tbody td"}, {"/drift", "#drift tbody td"},
	} {
		f.do(t, tab, p.path, chromedp.Navigate(f.base+p.path), waitReady())
		cells := get(t, tab, p.path+" cells", js[[]cellText](`(() => {
			const only = document.getElementById('only-findings');
			if (only && only.checked) { only.checked = false; only.dispatchEvent(new Event('change')); }
			const size = document.getElementById('page-size');
			if (size) { size.value = size.options[size.options.length - 1].value; size.dispatchEvent(new Event('change')); }
			return [...document.querySelectorAll('`+p.rows+`')].filter((td) => td.offsetParent !== null)
				.map((td) => ({col: td.closest('table').tHead.rows[0].cells[td.cellIndex].dataset.col || td.closest('table').tHead.rows[0].cells[td.cellIndex].textContent.trim(),
					text: td.textContent.trim(), title: td.title}));
		})()`))
		if len(cells) == 0 {
			t.Errorf("%s shows no cells", p.path)
			continue
		}
		shownWords := 0
		for _, c := range cells {
			text := c.Text
			if c.Col == "subject" { // what a finding is about: "system: key"
				text = text[strings.LastIndex(text, ": ")+1:]
				text = strings.TrimSpace(text)
			}
			for _, part := range strings.Split(text, ", ") {
				if w, ok := named[part]; ok && keyed[c.Col] {
					t.Errorf("%s shows the key %q where its words %q belong", p.path, part, w)
				}
			}
			if iso.MatchString(c.Text) {
				t.Errorf("%s shows %q, not in words or to the day", p.path, c.Text)
			}
			if c.Title != "" && c.Title != c.Text {
				shownWords++
			}
		}
		if shownWords == 0 {
			t.Errorf("%s: no cell keeps its key in a title", p.path)
		}
	}
}
