// Package server is what `datamap serve` runs on a stack: the catalog
// consumer, the rollup folder, one HTTP listener with the API, the web
// data map, the HTTP ingest, health and /metrics, and the OTLP traces
// receiver on listeners of its own. The command line parses its flags and
// calls New and Run; `datamap demo` runs the same server. With a registry,
// it also announces drift findings as they open and are resolved (package
// alerts).
//
// New builds every part and binds the listeners; Run serves until its
// context ends, then stops cleanly: HTTP and the traces receiver first
// (its day aggregates are written), then the ingest's publisher is
// drained, then the consumer abandons its current batch (redelivered,
// counted once), the folder stops (a round cut short is redone: its days
// stay dirty) and the alerts stop (what was not delivered stays pending in
// the catalog, delivered at the next start).
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/back-trace/datamap/alerts"
	"github.com/back-trace/datamap/catalog/consumer"
	"github.com/back-trace/datamap/catalog/rollup"
	"github.com/back-trace/datamap/config"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/questions"
	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/stack"
	"github.com/back-trace/datamap/web"
)

// Options say what a server runs on.
type Options struct {
	// Stack is the servers and connections; the caller closes it after
	// Run has returned. Required.
	Stack  *stack.Stack
	Config config.Config
	// Taxonomy validates events; Registry (nil when DATAMAP_REGISTRY
	// names none) is what drift and the Article 30 record check against.
	Taxonomy *taxonomy.Taxonomy
	Registry *registry.Registry
	// Version names the service in its metrics and stamps records.
	Version string
	Log     *slog.Logger
	// ConsumerOnly joins a running stack as one more consumer: health,
	// readiness and /metrics only, no folding (the serve it joined
	// folds), and no runtime file.
	ConsumerOnly bool
}

// Server is a built server; Run runs it.
type Server struct {
	opts     Options
	listener net.Listener
	http     *http.Server
	consumer *consumer.Consumer
	folder   *rollup.Folder  // nil for ConsumerOnly
	alerter  *alerts.Alerter // nil for ConsumerOnly, or when alerts are off
	web      *web.Server     // nil for ConsumerOnly
	// closeIngest drains the HTTP ingest's publisher; nil for ConsumerOnly.
	closeIngest func(context.Context) error
	// traces is the OTLP receiver; nil for ConsumerOnly or when both its
	// addresses are empty.
	traces *tracesReceiver
}

// New builds the server's parts and binds DATAMAP_HTTP_ADDR. Unless
// ConsumerOnly, it then publishes the stack's runtime file, so that other
// local commands find this server (the listener queues their requests
// until Run serves them).
func New(ctx context.Context, o Options) (*Server, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	tel, err := newTelemetry(ctx, o.Version, o.Config.Credentials(""))
	if err != nil {
		return nil, err
	}
	consumerMetrics, err := consumer.NewMetrics(tel.provider)
	if err != nil {
		return nil, err
	}
	for _, w := range o.Config.Warnings() {
		o.Log.Warn(w)
	}
	s := &Server{opts: o}
	if s.consumer, err = NewConsumer(ctx, o.Stack, o.Taxonomy, consumerMetrics); err != nil {
		return nil, err
	}
	if err := consumerMetrics.ObserveLag(s.consumer); err != nil {
		return nil, err
	}
	if !o.ConsumerOnly {
		rollupMetrics, err := rollup.NewMetrics(tel.provider)
		if err != nil {
			return nil, err
		}
		s.folder = NewFolder(o.Stack, rollupMetrics)
		if err := rollupMetrics.ObserveBacklog(s.folder); err != nil {
			return nil, err
		}
		var off string
		s.alerter, off, err = NewAlerter(ctx, o.Stack, questions.Deps{Catalog: o.Stack.ClickHouse, Taxonomy: o.Taxonomy, Registry: o.Registry})
		if err != nil {
			return nil, err
		}
		if off != "" {
			o.Log.Info("alerts off: " + off)
		}
	}
	handler, err := s.routes(tel)
	if err != nil {
		return nil, err
	}
	if !o.ConsumerOnly {
		creds, err := s.credentials()
		if err == nil {
			s.traces, err = s.newTracesReceiver(creds)
		}
		if err != nil {
			s.drain(context.Background())
			return nil, err
		}
	}
	if s.listener, err = net.Listen("tcp", o.Config.HTTPAddr); err != nil {
		s.traces.close()
		s.drain(context.Background())
		return nil, fmt.Errorf("HTTP API: %w (set DATAMAP_HTTP_ADDR to a free address, e.g. 127.0.0.1:0)", err)
	}
	// A client gets 10 s to send its headers and 20 s for the whole
	// request, so slow clients cannot hold connections open; an idle
	// keep-alive connection is closed after two minutes. Responses have no
	// write deadline: an Article 30 PDF can take longer than any request.
	s.http = &http.Server{Handler: allowHosts(o.Config.HTTPHostList(), handler),
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 20 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(o.Log.Handler(), slog.LevelWarn)}
	if !o.ConsumerOnly {
		if err := o.Stack.Publish(s.Addr()); err != nil {
			s.listener.Close()
			s.traces.close()
			s.drain(context.Background())
			return nil, fmt.Errorf("publish runtime file: %w", err)
		}
	}
	return s, nil
}

// Addr is the host:port the HTTP listener is bound to.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// OTLPAddr is the host:port of the OTLP/HTTP traces receiver (POST
// /v1/traces), "" when it is off.
func (s *Server) OTLPAddr() string { return s.traces.addr() }

// OTLPGRPCAddr is the host:port of the OTLP/gRPC traces receiver, "" when
// it is off.
func (s *Server) OTLPGRPCAddr() string { return s.traces.grpcAddr() }

// OneTimeLogin returns a web login link that works once, within 15
// minutes, with full access (see web.Server.OneTimeLogin); "" for a
// consumer-only server, which has no web map.
func (s *Server) OneTimeLogin() string {
	if s.web == nil {
		return ""
	}
	return s.web.OneTimeLogin("http://" + s.Addr())
}

// OneTimeSubjectLogin is OneTimeLogin for the subject role, audited as
// name (see web.Server.OneTimeSubjectLogin).
func (s *Server) OneTimeSubjectLogin(name string) string {
	if s.web == nil {
		return ""
	}
	return s.web.OneTimeSubjectLogin("http://"+s.Addr(), name)
}

// Run serves HTTP, consumes and folds until ctx ends, then stops as the
// package comment says and returns what went wrong in stopping.
func (s *Server) Run(ctx context.Context) error {
	go func() {
		if err := s.http.Serve(s.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.opts.Log.Error("HTTP API stopped", "err", err)
		}
	}()
	// The consumer and the folder stop when Run says so, after HTTP.
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	consumed := make(chan error, 1)
	go func() { consumed <- s.consumer.Run(work) }()
	var received chan error
	if s.traces != nil {
		received = make(chan error, 1)
		go func() { received <- s.traces.run(ctx) }()
	}
	var folded chan error
	if s.folder != nil {
		folded = make(chan error, 1)
		go func() { folded <- s.folder.Run(work) }()
	}
	var alerted chan error
	if s.alerter != nil {
		alerted = make(chan error, 1)
		go func() { alerted <- s.alerter.Run(work) }()
	}
	<-ctx.Done()

	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := s.http.Shutdown(stopCtx)
	if received != nil {
		err = errors.Join(err, <-received)
	}
	err = errors.Join(err, s.drain(stopCtx))
	stopWork()
	err = errors.Join(err, <-consumed)
	if folded != nil {
		err = errors.Join(err, <-folded)
	}
	if alerted != nil {
		err = errors.Join(err, <-alerted)
	}
	return err
}

// drain closes the HTTP ingest's publisher: what it could not publish
// stays in its spool for the next start.
func (s *Server) drain(ctx context.Context) error {
	if s.closeIngest == nil {
		return nil
	}
	return s.closeIngest(ctx)
}
