package report

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
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
