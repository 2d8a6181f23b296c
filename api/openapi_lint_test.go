package api_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// redocly is the pinned Redocly CLI that `make openapi-lint-setup` installs
// from tools/openapi-lint/package-lock.json.
var redocly = filepath.Join("..", "tools", "openapi-lint", "node_modules", ".bin", "redocly")

// TestOpenAPILint lints openapi.json with Redocly's recommended rules, a
// validator written by others than the document's generator: any error
// fails. It skips when Redocly is not installed, unless
// DATAMAP_REQUIRE_REDOCLY is set (as `make test` does).
func TestOpenAPILint(t *testing.T) {
	if _, err := os.Stat(redocly); err != nil {
		if os.Getenv("DATAMAP_REQUIRE_REDOCLY") != "" {
			t.Fatalf("DATAMAP_REQUIRE_REDOCLY is set but %s is missing: run make openapi-lint-setup", redocly)
		}
		t.Skipf("Redocly CLI not installed (make openapi-lint-setup): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, redocly, "lint", "--format", "stylish", "openapi.json")
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("redocly lint openapi.json: %v\n%s", err, out)
	}
	if regexp.MustCompile(`(?m)\berror\b`).Match(out) {
		t.Errorf("redocly lint reports errors:\n%s", out)
	}
	t.Logf("%s", out)
}
