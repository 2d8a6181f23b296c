package report_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
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
