package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/cli"
	"github.com/back-trace/datamap/config"
	"github.com/back-trace/datamap/demo"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/report"
	"github.com/back-trace/datamap/stack"
)

func TestMain(m *testing.M) { testservers.Main(m) }

// Tokens of the stack under test. The subject token's name is what the
// audit trail records.
const (
	fullToken        = "web-test-full-token-5f3a9c27e18b46d0"
	readToken        = "web-test-read-token-5f3a9c27e18b46d0"
	subjectTokenName = "web-dpo"
	subjectToken     = "web-test-subject-token-5f3a9c27e18b46d0"
)

// demoOptions fix the period of the demo's events: every flow of the scenario appears, and
// an as-of date inside the period gives a smaller map than now.
var demoOptions = demo.Options{Events: 3000, Seed: 7,
	Start: time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}

// pastDate is an as-of date inside the demo's period.
const pastDate = "2026-08-03"

// fixture is a real `datamap serve` (embedded NATS and ClickHouse) holding
// the demo's events, and a headless Chromium.
type fixture struct {
	base    string       // http://127.0.0.1:port
	stack   *stack.Stack // attached: the test's own connections
	browser context.Context
}

// startFixture starts serve in-process, publishes the demo's events
// through the SDK, waits until the catalog has them all, and starts
// Chromium. Everything stops when tb ends.
func startFixture(tb testing.TB) *fixture {
	tb.Helper()
	testservers.SkipWithoutEngine(tb)
	chromium := requireChromium(tb)
	dir := tb.TempDir()
	for k, v := range map[string]string{
		"DATAMAP_DATA_DIR": dir, "DATAMAP_HTTP_ADDR": "127.0.0.1:0", "DATAMAP_OTLP_ADDR": "127.0.0.1:0", "DATAMAP_NATS_URL": "", "DATAMAP_CLICKHOUSE_DSN": "",
		"DATAMAP_API_TOKEN": fullToken, "DATAMAP_READ_TOKENS": readToken, "DATAMAP_REGISTRY": "backtrace",
		"DATAMAP_SUBJECT_TOKENS": subjectTokenName + ":" + subjectToken,
		"DATAMAP_LOG_LEVEL":      "warn",
	} {
		tb.Setenv(k, v)
	}
	testservers.Serve(tb, cli.Main)
	ctx := context.Background()
	rt, ok := stack.FindRunning(dir)
	if !ok {
		tb.Fatal("serve published no runtime file")
	}
	cfg, err := config.Load()
	if err != nil {
		tb.Fatal(err)
	}
	s, err := stack.Attach(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close(context.Background()) })
	o := demoOptions
	o.SpoolDir = filepath.Join(dir, "spool")
	stats, err := demo.Run(ctx, s.JS, o)
	if err != nil {
		tb.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Minute); ; {
		t, err := query.CountEvents(ctx, s.ClickHouse)
		if err != nil {
			tb.Fatal(err)
		}
		if t.Events >= uint64(stats.Collected+stats.Shared+stats.Erased) {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("catalog has %d of %d events about data (consents and requests go to the subject table)", t.Events, stats.Collected+stats.Shared+stats.Erased)
		}
		time.Sleep(100 * time.Millisecond)
	}
	f := &fixture{base: "http://" + rt.HTTPAddr, stack: s}
	f.browser = startBrowser(tb, chromium)
	return f
}

// requireChromium returns Chromium's path. Without it the browser tests
// skip, or fail when DATAMAP_REQUIRE_CHROMIUM=1 (as `make test` sets when
// it could install it).
func requireChromium(tb testing.TB) string {
	tb.Helper()
	path, err := report.Chromium()
	if err != nil {
		if os.Getenv("DATAMAP_REQUIRE_CHROMIUM") == "1" {
			tb.Fatalf("DATAMAP_REQUIRE_CHROMIUM=1 but %v", err)
		}
		tb.Skipf("the web data map tests need Chromium: %v", err)
	}
	return path
}

// startBrowser starts one headless Chromium with a fresh profile, at
// 1366×768, for the whole test.
func startBrowser(tb testing.TB, path string) context.Context {
	tb.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.UserDataDir(tb.TempDir()), chromedp.WindowSize(1366, 768),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-default-browser-check", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil {
		cancelAlloc()
		tb.Fatalf("start chromium: %v", err)
	}
	tb.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	return bctx
}

// step is a browser action that returns nothing.
type step = chromedp.Action[chromedp.Void]

// tab opens a new tab, in a browser context of its own (its own cookies)
// when isolated.
func (f *fixture) tab(tb testing.TB, isolated bool) context.Context {
	tb.Helper()
	var opts []chromedp.ContextOption
	if isolated {
		opts = append(opts, chromedp.WithNewBrowserContext())
	}
	ctx, cancel := chromedp.NewContext(f.browser, opts...)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 768)); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(cancel)
	return ctx
}

// login logs a tab in with a token through the login page, and waits for
// the page it leads to. (The login page is ready too: waiting for any
// ready page could return before the form's answer arrived.)
func (f *fixture) login(tb testing.TB, ctx context.Context, token, next string) {
	tb.Helper()
	f.submitLogin(tb, ctx, "log in", token, next, `body[data-state="ready"]:not([data-page="login"])`)
}

// loginRefused tries to log a tab in with a token the server refuses, and
// waits for the login page to show why.
func (f *fixture) loginRefused(tb testing.TB, ctx context.Context, token, next string) {
	tb.Helper()
	f.submitLogin(tb, ctx, "log in (refused)", token, next, `body[data-page="login"][data-state="ready"] .error`)
}

// submitLogin submits the login form with a token and waits until the
// element then selects is visible.
func (f *fixture) submitLogin(tb testing.TB, ctx context.Context, what, token, next, then string) {
	tb.Helper()
	f.do(tb, ctx, what,
		chromedp.Navigate(f.base+next),
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), token),
		chromedp.Submit(chromedp.CSS(`#login-form`)),
		chromedp.WaitVisible(chromedp.CSS(then)),
	)
}

// waitReady waits until the page says it has drawn its answer.
func waitReady() step { return waitState("ready") }

// waitState waits for a page state (loading, ready, error).
func waitState(state string) step {
	return chromedp.WaitVisible(chromedp.CSS(`body[data-state="` + state + `"]`))
}

// js evaluates a JavaScript expression, awaiting a promise.
func js[T any](expr string) chromedp.Action[T] {
	return chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise)
}

// do runs browser steps with a timeout; on failure it saves a screenshot
// of the page and fails.
func (f *fixture) do(tb testing.TB, ctx context.Context, what string, steps ...step) {
	tb.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, steps...); err != nil {
		tb.Fatalf("%s: %v%s", what, err, screenshotOnFailure(ctx, what))
	}
}

// get runs one browser action that returns a value.
func get[T any](tb testing.TB, ctx context.Context, what string, a chromedp.Action[T]) T {
	tb.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(tctx, a)
	if err != nil {
		tb.Fatalf("%s: %v%s", what, err, screenshotOnFailure(ctx, what))
	}
	return v
}

// screenshotOnFailure saves the page at 1366×768 into a directory kept
// after the test, and says where.
func screenshotOnFailure(ctx context.Context, what string) string {
	dir, err := os.MkdirTemp("", "datamap-web-failure-")
	if err != nil {
		return ""
	}
	path := filepath.Join(dir, strings.NewReplacer(" ", "-", "/", "-").Replace(what)+".png")
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	url, _ := chromedp.Run(sctx, chromedp.Location())
	png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	if err != nil {
		return fmt.Sprintf(" (no screenshot: %v)", err)
	}
	_ = os.WriteFile(path, png, 0o644)
	return fmt.Sprintf("\n  page %s\n  screenshot %s", url, path)
}

// apiGet asks the HTTP API with the read token, as another client would.
func (f *fixture) apiGet(tb testing.TB, path string, out any) int {
	tb.Helper()
	return f.apiGetAs(tb, readToken, path, out)
}

// apiGetAs asks the HTTP API with a token.
func (f *fixture) apiGetAs(tb testing.TB, token, path string, out any) int {
	tb.Helper()
	req, _ := http.NewRequest("GET", f.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			tb.Fatalf("GET %s: %d %s: %v", path, resp.StatusCode, body, err)
		}
	}
	return resp.StatusCode
}

// cliRun runs a datamap command in-process against the running serve.
func cliRun(tb testing.TB, args ...string) string {
	tb.Helper()
	var out, errOut bytes.Buffer
	if code := cli.Main(context.Background(), args, strings.NewReader(""), &out, &errOut); code != 0 {
		tb.Fatalf("datamap %s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
	}
	return out.String()
}

// downloads sends the browser's downloads to a fresh directory.
func downloads(tb testing.TB) (string, step) {
	dir := tb.TempDir()
	return dir, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir})
		return err
	})
}

// waitFile waits for a finished download in dir and returns its bytes.
func waitFile(tb testing.TB, dir, name string) []byte {
	tb.Helper()
	path := filepath.Join(dir, name)
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			if _, err := os.Stat(path + ".crdownload"); os.IsNotExist(err) {
				return b
			}
		}
	}
	entries, _ := os.ReadDir(dir)
	tb.Fatalf("no download %s in %s (have %v)", name, dir, entries)
	return nil
}
