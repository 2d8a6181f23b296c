package report_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
	"github.com/xuri/excelize/v2"

	"github.com/back-trace/datamap/report"
)

// TestVerifyEveryFormat writes the record in every format, verifies each
// copy, then changes one visible word of each and expects ErrModified.
func TestVerifyEveryFormat(t *testing.T) {
	ctx := context.Background()
	rec := fixtureRecord(t, report.RoleAll)
	files := map[string][]byte{}
	for _, format := range report.Formats {
		var buf bytes.Buffer
		if err := report.Write(&buf, rec, format); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		files[format] = buf.Bytes()
	}
	if _, err := report.Chromium(); err == nil || os.Getenv("DATAMAP_REQUIRE_CHROMIUM") != "" {
		path := filepath.Join(t.TempDir(), "record.pdf")
		if err := report.WritePDF(ctx, rec, path); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files["pdf"] = b
	} else {
		t.Log("no Chromium: the PDF is not checked")
	}

	for format, data := range files {
		t.Run(format, func(t *testing.T) {
			if got := report.DetectFormat(data); got != format {
				t.Errorf("DetectFormat = %q, want %q", got, format)
			}
			v, err := report.Verify(ctx, data)
			if err != nil {
				t.Fatalf("Verify of an untouched %s: %v", format, err)
			}
			if v.ContentSHA256 != rec.ContentSHA256 || v.Controller != rec.Controller.Name || !v.AsOf.Equal(rec.AsOf) || v.Format != format {
				t.Errorf("Verify = %+v, want the record's hash %s, controller and as-of", v, rec.ContentSHA256)
			}
			tampered := tamper(t, format, data)
			if _, err := report.Verify(ctx, tampered); !errors.Is(err, report.ErrModified) {
				t.Errorf("Verify of a tampered %s = %v, want ErrModified", format, err)
			}
		})
	}
}

// tamper changes what a reader of the format sees, and nothing else.
func tamper(t *testing.T, format string, data []byte) []byte {
	t.Helper()
	switch format {
	case "xlsx":
		f, err := excelize.OpenReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.SetCellStr(report.SheetController, "B2", "Something else"); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := f.Write(&out); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	case "pdf":
		// a stamp on the first page
		ctx, conf := context.Background(), model.NewStatelessConfiguration()
		wm, err := api.TextWatermark(ctx, "APPROVED", "scale:0.5", true, false, types.POINTS, conf)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := api.AddWatermarksMap(ctx, bytes.NewReader(data), &out, map[int]*model.Watermark{1: wm}, conf); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	if !bytes.Contains(data, []byte("Mixpanel")) {
		t.Fatalf("the %s record does not show Mixpanel", format)
	}
	return bytes.Replace(data, []byte("Mixpanel"), []byte("Mixpanex"), 1)
}

// TestPDFPagesAreNumberedAndHeaded reads the printed record's text with
// poppler's pdftotext: every page says "Page N of M" and carries the
// running header with the controller and the content hash, and no page is
// a heading or signature lines alone.
func TestPDFPagesAreNumberedAndHeaded(t *testing.T) {
	chromium(t)
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("no pdftotext (apt-get install -y poppler-utils)")
	}
	rec := fixtureRecord(t, report.RoleAll)
	path := filepath.Join(t.TempDir(), "record.pdf")
	if err := report.WritePDF(context.Background(), rec, path); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-layout", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	pages := strings.Split(strings.TrimRight(string(out), "\f\n"), "\f")
	pageOf := regexp.MustCompile(`Page (\d+) of (\d+)`)
	for i, p := range pages {
		m := pageOf.FindStringSubmatch(p)
		if m == nil || m[1] != strconv.Itoa(i+1) || m[2] != strconv.Itoa(len(pages)) {
			t.Errorf("page %d lacks \"Page %d of %d\": %v", i+1, i+1, len(pages), m)
		}
		if !strings.Contains(p, rec.Controller.Name) || !strings.Contains(p, rec.ContentSHA256) {
			t.Errorf("page %d lacks the running header (controller, hash)", i+1)
		}
		body := 0
		for _, line := range strings.Split(p, "\n") {
			l := strings.TrimSpace(line)
			if l != "" && !pageOf.MatchString(l) && !strings.Contains(l, rec.ContentSHA256) && !strings.Contains(l, "record of processing as of") {
				body++
			}
		}
		if body < 3 {
			t.Errorf("page %d holds only %d lines besides its header and footer:\n%s", i+1, body, p)
		}
	}
}
