package web

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// TestVendoredFilesMatchVERSIONS checks every vendored file against the
// hash recorded when vendor.sh fetched and verified it, so a hand-edited
// or swapped library cannot slip into the binary.
func TestVendoredFilesMatchVERSIONS(t *testing.T) {
	f, err := os.Open("assets/vendor/VERSIONS")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 7 || !strings.HasPrefix(cols[2], "sha512-") || cols[3] == "" {
			t.Fatalf("VERSIONS line %q: want package, version, integrity, licence, file, copy, sha256", line)
		}
		body, err := os.ReadFile(cols[5])
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(body)
		if got := hex.EncodeToString(sum[:]); got != cols[6] {
			t.Errorf("%s (%s@%s): sha256 %s, VERSIONS says %s; run make web-vendor", cols[5], cols[0], cols[1], got, cols[6])
		}
		n++
	}
	if n < 3 {
		t.Errorf("VERSIONS lists %d files, want cytoscape, cytoscape-dagre and axe-core", n)
	}
}
