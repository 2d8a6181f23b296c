package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/back-trace/datamap/api"
	"github.com/back-trace/datamap/catalog/consumer"
	"github.com/back-trace/datamap/catalog/rollup"
	"github.com/back-trace/datamap/config"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/stack"
	"github.com/back-trace/datamap/web"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "", `
Run datamap: the consumer that builds the catalog from the event stream, and
the HTTP API. Without DATAMAP_NATS_URL and DATAMAP_CLICKHOUSE_DSN it starts
an embedded NATS JetStream and an embedded ClickHouse on 127.0.0.1, with
their data and credentials in DATAMAP_DATA_DIR; other datamap commands on
this machine find it there. Stop it with Ctrl-C (SIGINT) or SIGTERM.`, `
  datamap serve
  DATAMAP_DATA_DIR=/var/lib/datamap DATAMAP_HTTP_ADDR=127.0.0.1:9000 datamap serve
  DATAMAP_NATS_URL=nats://nats:4222 DATAMAP_CLICKHOUSE_DSN=clickhouse://datamap:secret@ch:9000/datamap datamap serve`)
	consumerOnly := fs.Bool("consumer-only", false, "join a running stack as one more consumer: no catalog API, only /healthz, /readyz and /metrics; several such processes split the work")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if *consumerOnly {
		return runConsumerOnly(ctx, e)
	}
	if rt, running := stack.FindRunning(e.cfg.DataDir); running {
		return fmt.Errorf("datamap serve already runs on %s (pid %d, HTTP %s); stop it or use another DATAMAP_DATA_DIR", e.cfg.DataDir, rt.PID, rt.HTTPAddr)
	}
	tax, err := loadTaxonomy(e)
	if err != nil {
		return err
	}
	s, err := stack.Start(ctx, e.cfg, e.log)
	if err != nil {
		return err
	}
	defer s.Close(context.WithoutCancel(ctx))
	srv, err := startPipeline(ctx, e, s, tax, false)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "datamap serve is running (data in %s)\n", e.cfg.DataDir)
	fmt.Fprintf(e.stdout, "  publish events to  %s  (token in %s)\n", config.RedactURLs(s.NATSURL), filepath.Join(e.cfg.DataDir, stack.NATSTokenFile))
	fmt.Fprintf(e.stdout, "  catalog            clickhouse://%s\n", s.ClickHouseAddr)
	fmt.Fprintf(e.stdout, "  web data map       http://%s/  (log in with the API token or a read token)\n", srv.addr)
	fmt.Fprintf(e.stdout, "  HTTP API           http://%s/api/v1/  (bearer token: DATAMAP_API_TOKEN or %s)\n", srv.addr, filepath.Join(e.cfg.DataDir, stack.APITokenFile))
	fmt.Fprintf(e.stdout, "  HTTP ingest        POST http://%s/v1/events  (bearer token: DATAMAP_INGEST_TOKENS or the API token)\n", srv.addr)
	<-ctx.Done()
	fmt.Fprintln(e.stdout, "datamap serve: stopping")
	return srv.stop()
}

// runConsumerOnly joins the stack a `datamap serve` runs on the data
// directory, or the external servers of the configuration, as one more
// consumer of the shared durable consumer.
func runConsumerOnly(ctx context.Context, e *env) error {
	_, running := stack.FindRunning(e.cfg.DataDir)
	if !running && (e.cfg.NATSURL == "" || e.cfg.ClickHouseDSN == "") {
		return usagef("--consumer-only joins a running stack: start 'datamap serve' on %s first, or set DATAMAP_NATS_URL and DATAMAP_CLICKHOUSE_DSN", e.cfg.DataDir)
	}
	tax, err := loadTaxonomy(e)
	if err != nil {
		return err
	}
	s, err := stack.Attach(ctx, e.cfg, e.log)
	if err != nil {
		return err
	}
	defer s.Close(context.WithoutCancel(ctx))
	p, err := startPipeline(ctx, e, s, tax, true)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "datamap consumer is running (NATS %s, ClickHouse %s); health and metrics on http://%s\n", config.RedactURLs(s.NATSURL), s.ClickHouseAddr, p.addr)
	<-ctx.Done()
	fmt.Fprintln(e.stdout, "datamap consumer: stopping")
	return p.stop()
}

// pipeline is a running consumer and HTTP API.
type pipeline struct {
	addr     string
	http     *http.Server
	consumer chan error
	folder   chan error // nil when this process does not fold the rollups
	cancel   context.CancelFunc
	// closeIngest drains the HTTP ingest's publisher (see withIngest).
	closeIngest func(context.Context) error
	web         *web.Server // nil for --consumer-only
}

// startPipeline starts the consumer and the HTTP API on a stack and
// publishes their addresses in the data directory.
func startPipeline(ctx context.Context, e *env, s *stack.Stack, tax *taxonomy.Taxonomy, consumerOnly bool) (*pipeline, error) {
	tel, err := newTelemetry(ctx, e.cfg.MetricsToken)
	if err != nil {
		return nil, err
	}
	metrics, err := consumer.NewMetrics(tel.provider)
	if err != nil {
		return nil, err
	}
	rollupMetrics, err := rollup.NewMetrics(tel.provider)
	if err != nil {
		return nil, err
	}
	worker, err := s.NewConsumer(ctx, tax, metrics)
	if err != nil {
		return nil, err
	}
	if err := metrics.ObserveLag(worker); err != nil {
		return nil, err
	}
	token, err := stack.APIToken(e.cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", e.cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("HTTP API: %w (set DATAMAP_HTTP_ADDR to a free address, e.g. 127.0.0.1:0)", err)
	}
	p := &pipeline{addr: ln.Addr().String(), consumer: make(chan error, 1)}
	var root http.Handler = api.Health(s.ClickHouse, worker)
	if !consumerOnly {
		webServer, handler, err := webAndAPI(e, s, tax, token, worker)
		if err != nil {
			ln.Close()
			return nil, err
		}
		p.web = webServer
		handler, closeIngest, err := withIngest(e, s, tax, token, tel.provider, handler)
		if err != nil {
			ln.Close()
			return nil, err
		}
		root, p.closeIngest = handler, closeIngest
	}
	mux := http.NewServeMux()
	mux.Handle("/", root)
	mux.Handle("GET /metrics", tel.handler)
	p.http = &http.Server{Handler: mux,
		ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(e.log.Handler(), slog.LevelWarn)}
	go func() {
		if err := p.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error("HTTP API stopped", "err", err)
		}
	}()
	consumeCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p.cancel = cancel
	go func() { p.consumer <- worker.Run(consumeCtx) }()
	if consumerOnly {
		return p, nil // the serve process it joined folds the rollups
	}
	folder := s.NewFolder(rollupMetrics)
	if err := rollupMetrics.ObserveBacklog(folder); err != nil {
		p.stop()
		return nil, err
	}
	p.folder = make(chan error, 1)
	go func() { p.folder <- folder.Run(consumeCtx) }()
	if err := s.Publish(p.addr); err != nil {
		p.stop()
		return nil, fmt.Errorf("publish runtime file: %w", err)
	}
	return p, nil
}

// stop shuts the HTTP API down, abandons the consumer's current batch (it
// will be redelivered and counted once) and stops folding (a round cut
// short is redone: its days stay dirty).
func (p *pipeline) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := p.http.Shutdown(ctx)
	if p.closeIngest != nil {
		err = errors.Join(err, p.closeIngest(ctx))
	}
	p.cancel()
	err = errors.Join(err, <-p.consumer)
	if p.folder != nil {
		err = errors.Join(err, <-p.folder)
	}
	return err
}

// subjectTokens are DATAMAP_SUBJECT_TOKENS for the API and the web map
// (validated by config.Validate at start).
func subjectTokens(e *env) []api.SubjectToken {
	named, _ := e.cfg.SubjectTokenList()
	out := make([]api.SubjectToken, len(named))
	for i, t := range named {
		out[i] = api.SubjectToken{Name: t.Name, Token: t.Token}
	}
	return out
}
