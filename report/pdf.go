package report

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

// ErrNoChromium is returned by PrintPDF when no Chromium is installed.
var ErrNoChromium = errors.New("no chromium found on PATH; install it (Debian: apt-get install -y chromium) or write --format html and print it from a browser")

// Chromium returns the path of a headless-capable Chromium, or
// ErrNoChromium.
func Chromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// ChromiumArgs are the flags that make Chromium a quiet, offline renderer:
// no sandbox (it runs as whatever user runs datamap, often root in CI), no
// GPU, no network chatter, a throwaway profile.
func ChromiumArgs(profileDir string) []string {
	return []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + profileDir}
}

// pdfTimeout bounds one Chromium run; a record of hundreds of activities
// prints in a few seconds.
const pdfTimeout = 2 * time.Minute

// PrintPDF prints an HTML record to an A4 PDF at path with headless
// Chromium.
func PrintPDF(ctx context.Context, html []byte, path string) error {
	bin, err := Chromium()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "datamap-pdf-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	page := filepath.Join(dir, "record.html")
	if err := os.WriteFile(page, html, 0o600); err != nil {
		return err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, pdfTimeout)
	defer cancel()
	args := append(ChromiumArgs(filepath.Join(dir, "profile")), "--no-pdf-header-footer", "--print-to-pdf="+abs, "file://"+page)
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("report: chromium --print-to-pdf: %w\n%s", err, out)
	}
	if st, err := os.Stat(abs); err != nil || st.Size() == 0 {
		return fmt.Errorf("report: chromium wrote no PDF to %s\n%s", abs, out)
	}
	return nil
}

// WritePDF writes the record as a PDF at path: the HTML record printed by
// headless Chromium (page numbers and the running header come from its
// @page rules), then the record's canonical JSON and the SHA-256 of the
// pages' content attached with pdfcpu, so that Verify can check the file
// on its own.
func WritePDF(ctx context.Context, rec *Record, path string) error {
	var html bytes.Buffer
	if err := Write(&html, rec, "html"); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "datamap-pdf-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	printed := filepath.Join(dir, "printed.pdf")
	if err := PrintPDF(ctx, html.Bytes(), printed); err != nil {
		return err
	}
	data, err := os.ReadFile(printed)
	if err != nil {
		return err
	}
	digest, err := pagesDigest(ctx, data)
	if err != nil {
		return err
	}
	record, err := rec.MarshalJSONCanonical()
	if err != nil {
		return err
	}
	pdf, err := api.ReadValidateAndOptimize(ctx, bytes.NewReader(data), pdfConfig(), nil)
	if err != nil {
		return fmt.Errorf("report: read the printed PDF: %w", err)
	}
	modTime, _ := time.Parse(time.RFC3339, rec.GeneratedAt)
	for _, a := range []model.Attachment{
		{Reader: bytes.NewReader(record), ID: embeddedFile, FileName: embeddedFile, Desc: "The record in datamap's JSON format (datamap report verify reads it)", ModTime: &modTime},
		{Reader: strings.NewReader(digest + "\n"), ID: pagesDigestFile, FileName: pagesDigestFile, Desc: "SHA-256 of the pages' content", ModTime: &modTime},
	} {
		if err := pdf.AddAttachment(ctx, a, false); err != nil {
			return fmt.Errorf("report: attach %s to the PDF: %w", a.ID, err)
		}
	}
	var out bytes.Buffer
	if err := api.Write(ctx, pdf, &out, pdfConfig()); err != nil {
		return fmt.Errorf("report: write the PDF: %w", err)
	}
	if d := filepath.Dir(path); d != "." {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	return os.WriteFile(path, out.Bytes(), 0o644)
}

// pdfConfig is pdfcpu's configuration without its configuration file
// (the default one would create a directory in the user's home).
func pdfConfig() *model.Configuration {
	conf := model.NewStatelessConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	return conf
}

// pagesDigest is the SHA-256 of every page's decoded content stream, page
// by page: what the pages show, independent of how the file around them
// is arranged.
func pagesDigest(ctx context.Context, data []byte) (string, error) {
	h := sha256.New()
	err := api.ExtractContent(ctx, bytes.NewReader(data), nil, func(r io.Reader, page int) error {
		fmt.Fprintf(h, "page %d\n", page)
		_, err := io.Copy(h, r)
		return err
	}, pdfConfig())
	if err != nil {
		return "", fmt.Errorf("the PDF's pages cannot be read (%v): %w", err, ErrModified)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// pdfAttachment returns the attached file named id.
func pdfAttachment(ctx context.Context, data []byte, id string) ([]byte, error) {
	aa, err := api.ExtractAttachmentsRaw(ctx, bytes.NewReader(data), "", []string{id}, pdfConfig())
	if err != nil || len(aa) == 0 {
		return nil, fmt.Errorf("the pdf file carries no %s; was it written by datamap report article30 --format pdf?", id)
	}
	return io.ReadAll(aa[0])
}
