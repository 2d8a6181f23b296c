package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	stdhtml "html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/back-trace/datamap/report"
)

// chromium returns the browser, skipping the test when it is absent unless
// DATAMAP_REQUIRE_CHROMIUM is set.
func chromium(t *testing.T) string {
	t.Helper()
	bin, err := report.Chromium()
	if err != nil {
		if os.Getenv("DATAMAP_REQUIRE_CHROMIUM") != "" {
			t.Fatalf("DATAMAP_REQUIRE_CHROMIUM is set: %v", err)
		}
		t.Skipf("skipping the rendered-HTML check: %v", err)
	}
	return bin
}

// TestHTMLRendersEveryActivity renders the HTML record in headless
// Chromium and checks the DOM it built holds every activity, the header
// block and the findings; then prints it to PDF.
func TestHTMLRendersEveryActivity(t *testing.T) {
	bin := chromium(t)
	rec := fixtureRecord(t, report.RoleAll)
	var html bytes.Buffer
	if err := report.Write(&html, rec, "html"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "record.html")
	if err := os.WriteFile(page, html.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append(report.ChromiumArgs(filepath.Join(dir, "profile")), "--dump-dom", "file://"+page)
	out, err := exec.CommandContext(ctx, bin, args...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	dom := string(out)
	ids := []string{}
	for _, a := range rec.Activities {
		ids = append(ids, a.ID)
	}
	for _, c := range rec.Processor {
		for _, a := range c.Activities {
			ids = append(ids, a.ID)
		}
	}
	for _, id := range ids {
		if !strings.Contains(dom, `id="activity-`+id+`"`) {
			t.Errorf("rendered DOM lacks activity %q", id)
		}
	}
	for _, s := range []string{rec.Controller.Name, rec.ContentSHA256, `id="findings"`, "Mixpanel", "Jane Doe"} {
		if !strings.Contains(dom, s) {
			t.Errorf("rendered DOM lacks %q", s)
		}
	}

	pdf := filepath.Join(dir, "record.pdf")
	if err := report.PrintPDF(ctx, html.Bytes(), pdf); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(pdf)
	if err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("not a PDF (%v): %.20q", err, b)
	}
}

// wrapCheck runs in the rendered page: for every table cell it finds the
// characters that start a new line and reports those not preceded by a
// space or a hyphen (a word, key or number split in two), and any line
// break at all in a cell of counts or times. It also reports how far the
// first heading is from the window's left edge.
const wrapCheck = `<script>
(() => {
  const bad = [];
  for (const td of document.querySelectorAll("td")) {
    const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
    let prevTop = null, prev = "";
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const text = n.textContent;
      for (let i = 0; i < text.length; i++) {
        const r = document.createRange();
        r.setStart(n, i); r.setEnd(n, i + 1);
        const rects = r.getClientRects();
        if (rects.length > 0) {
          const top = rects[0].top;
          if (prevTop !== null && top > prevTop + 1) {
            const atSpace = prev === " " || prev === "-" || text[i] === " ";
            if (td.classList.contains("nowrap") || !atSpace) {
              bad.push(JSON.stringify(td.textContent.slice(0, 80)) + " breaks before " + JSON.stringify(text.slice(i, i + 8)));
            }
          }
          prevTop = top;
        }
        prev = text[i];
      }
    }
  }
  document.body.setAttribute("data-bad-breaks", JSON.stringify(bad));
  document.body.setAttribute("data-left", String(Math.round(document.querySelector("h1").getBoundingClientRect().left)));
})();
</script>`

// TestHTMLBreaksLinesOnlyBetweenWords renders the record in Chromium in a
// narrow window, where the wide tables must wrap, and checks where each
// cell's lines break; and that text keeps a margin from the window edge.
func TestHTMLBreaksLinesOnlyBetweenWords(t *testing.T) {
	bin := chromium(t)
	var html bytes.Buffer
	if err := report.Write(&html, fixtureRecord(t, report.RoleAll), "html"); err != nil {
		t.Fatal(err)
	}
	page := bytes.Replace(html.Bytes(), []byte("</body>"), []byte(wrapCheck+"</body>"), 1)
	dir := t.TempDir()
	path := filepath.Join(dir, "record.html")
	if err := os.WriteFile(path, page, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append(report.ChromiumArgs(filepath.Join(dir, "profile")), "--window-size=900,1200", "--dump-dom", "file://"+path)
	out, err := exec.CommandContext(ctx, bin, args...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	m := regexp.MustCompile(`data-bad-breaks="([^"]*)"`).FindSubmatch(out)
	if m == nil {
		t.Fatal("the check script did not run")
	}
	var bad []string
	if err := json.Unmarshal([]byte(stdhtml.UnescapeString(string(m[1]))), &bad); err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Errorf("cell %s", b)
	}
	left := regexp.MustCompile(`data-left="(\d+)"`).FindSubmatch(out)
	if left == nil {
		t.Fatal("no left edge measured")
	}
	if px, _ := strconv.Atoi(string(left[1])); px < 12 {
		t.Errorf("the heading is %d px from the window's edge; the page needs a screen margin", px)
	}
}
