package cli_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/events/sdk"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/stack"
)

// TestGoQuickStartRunsAsWritten: the Go program of docs/instrumenting.md,
// copied from the markdown into a module of its own and run with `go run`,
// reaches the `datamap serve` running on the data directory, and what it
// reported shows up in the inventory.
func TestGoQuickStartRunsAsWritten(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	if testing.Short() {
		t.Skip("builds a program")
	}
	isolate(t)
	program := goBlockAfter(t, "../docs/instrumenting.md", "## Go, in five minutes")
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	mod := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(mod, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("main.go", program)
	write("go.mod", "module example\n\ngo 1.26.0\n\nrequire github.com/back-trace/datamap v0.0.0\n\nreplace github.com/back-trace/datamap => "+repo+"\n")
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	write("go.sum", string(sum))
	goCommand(t, mod, "mod", "tidy")
	goCommand(t, mod, "build", "-o", "quickstart", ".")

	serve(t)
	out, err := exec.Command(filepath.Join(mod, "quickstart")).CombinedOutput()
	if err != nil {
		t.Fatalf("the quick start failed: %v\n%s", err, out)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		code, stdout, errOut := run(t, "", "inventory", "--format", "json")
		if code != 0 {
			t.Fatalf("inventory exited %d: %s", code, errOut)
		}
		var rows []query.InventoryRow
		if err := json.Unmarshal([]byte(stdout), &rows); err != nil {
			t.Fatalf("inventory --format json printed %q: %v", stdout, err)
		}
		if len(rows) == 1 && rows[0].System == "billing-api" && rows[0].Category == "billing.payment_token" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the quick start's events are not in the inventory after a minute; it printed %s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestConnectSaysTheTokenIsRefused: a wrong token is returned by Connect
// as an authorization failure, at once, not after a retry.
func TestConnectSaysTheTokenIsRefused(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	dir := isolate(t)
	serve(t)
	rt, ok := stack.FindRunning(dir)
	if !ok {
		t.Fatal("serve published no runtime file")
	}
	t.Setenv("DATAMAP_NATS_URL", rt.NATSURL)
	t.Setenv("DATAMAP_NATS_TOKEN", "not-the-token")
	began := time.Now()
	pub, err := sdk.Connect(context.Background(), sdk.WithSource("billing-api"))
	if err == nil {
		pub.Close(context.Background())
		t.Fatal("Connect with a wrong token succeeded")
	}
	if !errors.Is(err, nats.ErrAuthorization) || !strings.Contains(err.Error(), "refused the credentials") {
		t.Errorf("Connect error = %v, want an authorization failure", err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("Connect took %v to fail", took)
	}

	// What `datamap env` prints is enough to connect from elsewhere.
	t.Setenv("DATAMAP_NATS_URL", "")
	t.Setenv("DATAMAP_NATS_TOKEN", "")
	code, out, errOut := run(t, "", "env", "--format", "json")
	if code != 0 {
		t.Fatalf("env exited %d: %s", code, errOut)
	}
	var vars []struct{ Name, Value string }
	if err := json.Unmarshal([]byte(out), &vars); err != nil {
		t.Fatalf("env --format json printed %q: %v", out, err)
	}
	t.Setenv("DATAMAP_DATA_DIR", t.TempDir()) // no serve.json there: only the variables lead to serve
	for _, v := range vars {
		t.Setenv(v.Name, v.Value)
	}
	pub, err = sdk.Connect(context.Background(), sdk.WithSource("billing-api"))
	if err != nil {
		t.Fatalf("Connect with the variables of datamap env (%s): %v", out, err)
	}
	pub.Close(context.Background())

	t.Setenv("DATAMAP_NATS_URL", "")
	if _, err := sdk.Connect(context.Background(), sdk.WithSource("billing-api")); err == nil ||
		!strings.Contains(err.Error(), "no datamap serve found") {
		t.Errorf("Connect without a serve = %v, want one that says no serve was found", err)
	}
}

// goBlockAfter returns the first ```go block after heading in a markdown file.
func goBlockAfter(t *testing.T, file, heading string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), heading)
	if !ok {
		t.Fatalf("%s has no %q", file, heading)
	}
	_, rest, ok = strings.Cut(rest, "```go\n")
	if !ok {
		t.Fatalf("%s has no go block after %q", file, heading)
	}
	block, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatalf("%s: unterminated go block after %q", file, heading)
	}
	return block
}

func goCommand(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
