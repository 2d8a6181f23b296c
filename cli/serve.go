package cli

import (
	"context"
	"fmt"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/back-trace/datamap/config"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/server"
	"github.com/back-trace/datamap/stack"
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
	tax, reg, err := loadTaxonomyAndRegistry(e)
	if err != nil {
		return err
	}
	s, err := stack.Start(ctx, e.cfg, e.log)
	if err != nil {
		return err
	}
	defer s.Close(context.WithoutCancel(ctx))
	srv, err := server.New(ctx, serverOptions(e, s, tax, reg))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "datamap serve is running (data in %s)\n", e.cfg.DataDir)
	fmt.Fprintf(e.stdout, "  publish events to  %s  (each service with its own credential: datamap service add NAME)\n", config.RedactURLs(s.NATSURL))
	fmt.Fprintf(e.stdout, "  catalog            clickhouse://%s\n", s.ClickHouseAddr)
	fmt.Fprintf(e.stdout, "  web data map       http://%s/  (log in with the API token or a read token)\n", srv.Addr())
	fmt.Fprintf(e.stdout, "  HTTP API           http://%s/api/v1/  (bearer token: DATAMAP_API_TOKEN or %s)\n", srv.Addr(), filepath.Join(e.cfg.DataDir, stack.APITokenFile))
	fmt.Fprintf(e.stdout, "  HTTP ingest        POST http://%s/v1/events  (bearer token: DATAMAP_INGEST_TOKENS or the API token)\n", srv.Addr())
	if addr := srv.OTLPAddr(); addr != "" {
		fmt.Fprintf(e.stdout, "  OTLP traces        http://%s/v1/traces  (bearer token: DATAMAP_INGEST_TOKENS or the API token)\n", addr)
	}
	if addr := srv.OTLPGRPCAddr(); addr != "" {
		fmt.Fprintf(e.stdout, "  OTLP/gRPC traces   %s\n", addr)
	}
	defer onStop(ctx, e, "datamap serve: stopping")()
	return srv.Run(ctx)
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
	o := serverOptions(e, s, tax, nil)
	o.ConsumerOnly = true
	srv, err := server.New(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "datamap consumer is running (NATS %s, ClickHouse %s); health and metrics on http://%s\n", config.RedactURLs(s.NATSURL), s.ClickHouseAddr, srv.Addr())
	defer onStop(ctx, e, "datamap consumer: stopping")()
	return srv.Run(ctx)
}

// onStop says msg as soon as ctx ends, while the server stops; the
// returned wait makes sure it was said.
func onStop(ctx context.Context, e *env, msg string) (wait func()) {
	said := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		fmt.Fprintln(e.stdout, msg)
		close(said)
	})
	return func() {
		if !stop() {
			<-said
		}
	}
}

// serverOptions are what serve and demo run a server with.
func serverOptions(e *env, s *stack.Stack, tax *taxonomy.Taxonomy, reg *registry.Registry) server.Options {
	return server.Options{Stack: s, Config: e.cfg, Taxonomy: tax, Registry: reg, Version: Version, Log: e.log}
}

// loadTaxonomyAndRegistry reads DATAMAP_TAXONOMY and DATAMAP_REGISTRY
// (nil when it names none); a registry that does not parse is bad input.
func loadTaxonomyAndRegistry(e *env) (*taxonomy.Taxonomy, *registry.Registry, error) {
	tax, err := loadTaxonomy(e)
	if err != nil || e.cfg.Registry == "" {
		return tax, nil, err
	}
	reg, err := registry.Open(e.cfg.Registry, tax)
	if err != nil {
		return nil, nil, usageError{err}
	}
	return tax, reg, nil
}
