package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/back-trace/datamap/catalog/consumer"
	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/demo"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/people"
	"github.com/back-trace/datamap/questions"
	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/report"
	"github.com/back-trace/datamap/server"
	"github.com/back-trace/datamap/stack"
)

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "demo", "[flags]", `
Run the BackTrace demo end to end on the embedded default: start NATS
JetStream and ClickHouse in a fresh directory, run simulated BackTrace
services (billing, VoIP/SMS, support, website, integrations, hosting) that
publish through the SDK concurrently, wait until the catalog has every event,
and print the data map: the inventory and the flows to third parties.

Then it writes BackTrace's GDPR Article 30 record (XLSX, HTML, and PDF when
Chromium is installed) and the drift findings into --out, checked against
the declared registry schemas/backtrace-registry.yaml. A few simulated
behaviours are deliberately undeclared, for the findings to catch.

It ends with the address of the web data map. In a terminal it keeps
serving the map (with a one-time login link) until Ctrl-C; otherwise, as
in CI and scripts, it exits.`, `
  datamap demo
  datamap demo --events 100000 --keep --out /tmp/backtrace`)
	n := fs.Int("events", 20000, "events the simulated services publish")
	keep := fs.Bool("keep", false, "keep the demo's data directory (printed at the end) instead of deleting it")
	outDir := fs.String("out", "datamap-demo", "directory for the Article 30 record and the drift findings")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *n < 1 {
		return usagef("--events must be at least 1")
	}
	started := time.Now()
	dir, err := os.MkdirTemp("", "datamap-demo-")
	if err != nil {
		return err
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	cfg := e.cfg
	cfg.DataDir, cfg.HTTPAddr, cfg.NATSPort, cfg.NATSURL, cfg.ClickHouseDSN = dir, "127.0.0.1:0", 0, "", ""
	// The demo's services send their traces to a receiver of its own.
	cfg.OTLPAddr, cfg.OTLPGRPCAddr = "127.0.0.1:0", ""
	cfg.Registry = registry.Builtin // the web map's drift and Article 30 pages check the demo against it
	de := *e
	de.cfg, de.log = cfg, quiet(e)
	fmt.Fprintf(e.stderr, "starting embedded NATS JetStream and ClickHouse in %s …\n", dir)
	s, err := stack.Start(ctx, cfg, de.log)
	if err != nil {
		return err
	}
	defer s.Close(context.WithoutCancel(ctx))
	reg, err := registry.Open(registry.Builtin, taxonomy.Default())
	if err != nil {
		return err
	}
	srv, err := server.New(ctx, serverOptions(&de, s, taxonomy.Default(), reg))
	if err != nil {
		return err
	}
	serving, stopServing := context.WithCancel(ctx)
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Run(serving) }()
	defer func() { stopServing(); <-stopped }()
	fmt.Fprintf(e.stderr, "stack ready in %s; %d simulated services publishing %d events …\n",
		time.Since(started).Round(time.Millisecond), len(demo.Services()), *n)

	pipelineStart := time.Now()
	published := newProgress(e, "published", *n)
	stats, err := demo.Run(ctx, s.JS, demo.Options{Events: *n, SpoolDir: filepath.Join(dir, "spool"), Progress: published.update})
	published.end()
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stderr)
	// Events about data land in events; consents and requests only in
	// subject_refs, written in the same batches (waitForCatalog waits for
	// both).
	if err := waitForCatalog(ctx, e, s, uint64(stats.Collected+stats.Shared+stats.Erased)); err != nil {
		return err
	}
	pipelineTime := time.Since(pipelineStart)

	fmt.Fprintln(e.stdout, "\nINVENTORY — what BackTrace holds, where and why")
	inv, err := query.Inventory(ctx, s.ClickHouse, query.Filter{})
	if err != nil {
		return err
	}
	if err := render(e.stdout, "table", inv); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "\nFLOWS — who received it, where, under which safeguard")
	flows, err := query.Flows(ctx, s.ClickHouse, query.Filter{})
	if err != nil {
		return err
	}
	if err := render(e.stdout, "table", flows); err != nil {
		return err
	}
	if err := showDemoTraffic(ctx, e, s, srv); err != nil {
		return err
	}
	totals, err := query.CountEvents(ctx, s.ClickHouse)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\n%d events (%d records) from %d services: published and queryable in %s\n(%.0f events/s end to end); demo wall time %s\n",
		totals.Events, totals.Records, len(stats.PerService), pipelineTime.Round(time.Millisecond),
		float64(totals.Events)/pipelineTime.Seconds(), time.Since(started).Round(time.Millisecond))
	if err := writeDemoRecord(ctx, e, s, *outDir); err != nil {
		return err
	}
	if err := showDemoPeople(ctx, e, s, dir, *outDir); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\nWeb data map: http://%s/\n", srv.Addr())
	if isTerminal(e.stdin) {
		fmt.Fprintf(e.stdout, "Open it with this one-time login link (valid 15 minutes):\n  %s\n", srv.OneTimeLogin())
		fmt.Fprintf(e.stdout, "or log in with the API token in %s.\n", filepath.Join(dir, stack.APITokenFile))
		fmt.Fprintf(e.stdout, "A person's pages need the subject role (audited as %q); open them in a private window with:\n  %s\n",
			demoSubjectName, srv.OneTimeSubjectLogin(demoSubjectName))
		fmt.Fprintln(e.stdout, "Serving the demo until Ctrl-C …")
		ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
		<-ctx.Done()
		stop()
		fmt.Fprintln(e.stdout, "\ndatamap demo: stopping")
	} else {
		fmt.Fprintln(e.stdout, "(not a terminal, so the demo ends here; run it in a terminal to keep the map open)")
	}
	if *keep {
		fmt.Fprintf(e.stdout, "data kept in %s; query it with:\n  DATAMAP_DATA_DIR=%s datamap inventory\n", dir, shellQuote(dir))
	}
	return nil
}

// demoSubjectName is the name the audit trail records for the demo's
// subject-role login.
const demoSubjectName = "demo-privacy-officer"

// shellQuote quotes a path for a POSIX shell when it needs it, so that a
// printed command works when pasted.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=:,@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// absolute is path from the root, for a command run elsewhere.
func absolute(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// isTerminal reports whether a stream (stdin, stderr) is an interactive
// terminal: then the demo keeps serving the web map until Ctrl-C, and
// progress bars are drawn; in CI and scripts they are not. (/dev/null is
// a character device too, hence the terminal check proper.)
func isTerminal(stream any) bool {
	f, ok := stream.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// waitForCatalog waits until the consumer has stored every published event.
func waitForCatalog(ctx context.Context, e *env, s *stack.Stack, want uint64) error {
	show := newProgress(e, "in catalog", int(want))
	defer show.end()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		t, err := query.CountEvents(ctx, s.ClickHouse)
		if err != nil {
			return err
		}
		show.update(int(t.Events))
		if t.Events >= want {
			// Consents and requests go only to subject_refs, written after
			// the events of their batch: they are in too once the consumer
			// has acknowledged every message.
			backlog, err := consumer.Backlog(ctx, s.JS)
			if err != nil {
				return err
			}
			if backlog == 0 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			backlog, _ := consumer.Backlog(ctx, s.JS)
			return fmt.Errorf("the catalog has %d of %d events after 2 minutes (backlog %d); see the log above", t.Events, want, backlog)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// showDemoTraffic sends the simulated services' traces to the demo's OTLP
// receiver, waits until the receiver has written them, and prints the
// traffic question's answer.
func showDemoTraffic(ctx context.Context, e *env, s *stack.Stack, srv *server.Server) error {
	token, err := stack.APIToken(s.Config())
	if err != nil {
		return err
	}
	sent, err := demo.SendTraces(ctx, "http://"+srv.OTLPAddr()+"/v1/traces", token, time.Now())
	if err != nil {
		return err
	}
	var a questions.Answer
	for deadline := time.Now().Add(time.Minute); ; {
		if a, err = questions.Traffic.Ask(ctx, s.ClickHouse, taxonomy.Default(), nil); err != nil {
			return err
		}
		var spans uint64
		for _, r := range questions.RowsOf[query.DestinationRow](a) {
			spans += r.Spans
		}
		if spans >= uint64(sent) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the traffic table has %d of the %d spans sent after a minute; see the log above", spans, sent)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	fmt.Fprintf(e.stdout, "\nTRAFFIC — where the services' calls go (%d spans of their traces), reported and declared or not\n", sent)
	return render(e.stdout, "table", questions.RowsOf[query.DestinationRow](a))
}

// writeDemoRecord writes BackTrace's Article 30 record and drift findings
// into dir and prints the high findings.
func writeDemoRecord(ctx context.Context, e *env, s *stack.Stack, dir string) error {
	reg, err := registry.Open(registry.Builtin, taxonomy.Default())
	if err != nil {
		return err
	}
	asOf := time.Now().UTC()
	req, err := questions.Article30.ParseEvidence(map[string]string{"as_of": asOf.Format(time.RFC3339Nano)})
	if err != nil {
		return err
	}
	rec, err := questions.Deps{Catalog: s.ClickHouse, Taxonomy: taxonomy.Default(), Registry: reg}.Article30(ctx, req, asOf, Version)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var written []string
	for _, f := range []struct{ format, name string }{
		{"xlsx", "article30.xlsx"}, {"html", "article30.html"}, {"json", "article30.json"},
	} {
		path := filepath.Join(dir, f.name)
		if err := writeRecord(ctx, rec, f.format, path, e); err != nil {
			return err
		}
		written = append(written, path)
	}
	pdf := filepath.Join(dir, "article30.pdf")
	switch err := writeRecord(ctx, rec, "pdf", pdf, e); {
	case err == nil:
		written = append(written, pdf)
	case errors.Is(err, report.ErrNoChromium):
		fmt.Fprintln(e.stderr, "no PDF: chromium is not installed (apt-get install -y chromium); the HTML prints on A4")
	default:
		fmt.Fprintf(e.stderr, "no PDF: %v\n", err)
	}
	driftPath := filepath.Join(dir, "drift.json")
	var buf bytes.Buffer
	de := *e
	de.stdout = &buf
	if err := renderFindings(&de, "json", rec.Findings); err != nil {
		return err
	}
	if err := os.WriteFile(driftPath, buf.Bytes(), 0o644); err != nil {
		return err
	}
	written = append(written, driftPath)

	fmt.Fprintf(e.stdout, "\nDRIFT — where BackTrace's services depart from its declared registry (%d findings)\n", len(rec.Findings))
	if err := renderFindings(e, "table", rec.Findings); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\nArticle 30 record as of %s\n  content SHA-256 %s\n", asOf.Format(time.RFC3339), rec.ContentSHA256)
	for _, p := range written {
		fmt.Fprintf(e.stdout, "  %s\n", p)
	}
	return nil
}

// showDemoPeople prints the open data-subject requests of the demo's people
// (asked as the CLI user, so the audit trail records it) and how to look
// one of them up.
func showDemoPeople(ctx context.Context, e *env, s *stack.Stack, dir, outDir string) error {
	a, err := questions.SubjectRequests.Ask(questions.WithAsker(ctx, questions.CLIAsker()), s.ClickHouse, taxonomy.Default(), nil)
	if err != nil {
		return err
	}
	rs := questions.RowsOf[people.Request](a)
	fmt.Fprintf(e.stdout, "\nA PERSON'S DATA — open data-subject requests (%d), by subject reference; the catalog holds no identity\n", len(rs))
	if err := render(e.stdout, "table", requestRows(rs)); err != nil {
		return err
	}
	// The commands ask this demo's catalog from another terminal, not an
	// empty default one: the exports name its data directory (and the
	// subject key) once, so that each command fits a 120-column terminal.
	verify := "  datamap report verify " + shellQuote(absolute(filepath.Join(outDir, "article30.xlsx")))
	if len([]rune(verify)) > 120 { // a long path goes on a line of its own, the command still pastes whole
		verify = "  datamap report verify \\\n    " + shellQuote(absolute(filepath.Join(outDir, "article30.xlsx")))
	}
	fmt.Fprintf(e.stdout, "\nLook a demo customer up from another terminal while the demo runs (the demo's subject key is public; yours is not):\n"+
		"  export DATAMAP_DATA_DIR=%s\n"+
		"  export DATAMAP_SUBJECT_KEY=%s\n"+
		"  datamap subject show --customer BT-100231\n"+
		"  datamap subject statement --customer BT-100231 --registry backtrace --format html --out statement.html\n"+
		"  datamap subject requests --all\n"+
		"  datamap audit\n"+
		"%s\n", shellQuote(dir), demo.SubjectKey, verify)
	return nil
}
