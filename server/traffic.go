package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"google.golang.org/grpc"

	"github.com/back-trace/datamap/access"
	"github.com/back-trace/datamap/sinks/clickhouse"
	"github.com/back-trace/datamap/traffic"
	"github.com/back-trace/datamap/traffic/aggregate"
	"github.com/back-trace/datamap/traffic/otlp"
	"github.com/back-trace/datamap/traffic/vendors"
)

// tracesReceiver is the OTLP receiver with its listeners: OTLP/HTTP on
// DATAMAP_OTLP_ADDR, OTLP/gRPC on DATAMAP_OTLP_GRPC_ADDR when set. It
// listens apart from the API, on the port collectors and SDKs send traces
// to by default, so that an exporter needs only the host changed.
type tracesReceiver struct {
	aggregator *aggregate.Aggregator
	http       *http.Server
	listener   net.Listener
	grpc       *grpc.Server // nil unless DATAMAP_OTLP_GRPC_ADDR is set
	grpcLn     net.Listener
	log        *slog.Logger
}

// newTracesReceiver builds the receiver and binds its listeners; nil when
// DATAMAP_OTLP_ADDR and DATAMAP_OTLP_GRPC_ADDR are both empty. creds are
// every credential of the server: an ingest token or the API token sends
// traces, as either publishes events.
func (s *Server) newTracesReceiver(creds access.Credentials) (*tracesReceiver, error) {
	o := s.opts
	if o.Config.OTLPAddr == "" && o.Config.OTLPGRPCAddr == "" {
		return nil, nil
	}
	cat, err := vendors.Load(o.Config.Vendors)
	if err != nil {
		return nil, err
	}
	observer := traffic.NewObserver(traffic.NewClassifier(o.Registry, cat, o.Config.InternalSuffixList()))
	agg := aggregate.New(clickhouse.NewTrafficWriter(o.Stack.ClickHouse), aggregate.Options{Logger: o.Log})
	senders := creds.Only(access.Ingest, access.Full)
	authorize := func(r *http.Request) (func(string) bool, bool) {
		c, ok := senders.Bearer(r)
		if !ok {
			return nil, false
		}
		return speaksFor(c), true
	}
	rc := otlp.New(observer, agg, authorize, otlp.Limits{}, o.Log)
	t := &tracesReceiver{aggregator: agg, log: o.Log}
	if o.Config.OTLPAddr != "" {
		if t.listener, err = net.Listen("tcp", o.Config.OTLPAddr); err != nil {
			return nil, fmt.Errorf("OTLP/HTTP receiver: %w (set DATAMAP_OTLP_ADDR to a free address, e.g. 127.0.0.1:0, or to empty to turn it off)", err)
		}
		mux := http.NewServeMux()
		mux.Handle(otlp.Path, rc)
		t.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: slog.NewLogLogger(o.Log.Handler(), slog.LevelWarn)}
	}
	if o.Config.OTLPGRPCAddr != "" {
		if t.grpcLn, err = net.Listen("tcp", o.Config.OTLPGRPCAddr); err != nil {
			if t.listener != nil {
				t.listener.Close()
			}
			return nil, fmt.Errorf("OTLP/gRPC receiver: %w (set DATAMAP_OTLP_GRPC_ADDR to a free address, or to empty to turn it off)", err)
		}
		t.grpc = otlp.NewGRPCServer(rc)
	}
	return t, nil
}

// speaksFor is the systems a credential may send traces for, as it may
// publish events for; nil is every system.
func speaksFor(c access.Credential) func(system string) bool {
	if c.Sources.Any() {
		return nil
	}
	return c.SpeaksFor
}

// addr is the OTLP/HTTP listener's host:port, "" when it is off.
func (t *tracesReceiver) addr() string {
	if t == nil || t.listener == nil {
		return ""
	}
	return t.listener.Addr().String()
}

// grpcAddr is the OTLP/gRPC listener's host:port, "" when it is off.
func (t *tracesReceiver) grpcAddr() string {
	if t == nil || t.grpcLn == nil {
		return ""
	}
	return t.grpcLn.Addr().String()
}

// run serves until ctx ends, then stops taking traces and writes the
// aggregates still held, so that what a sender was told is taken is kept.
func (t *tracesReceiver) run(ctx context.Context) error {
	if t.http != nil {
		go func() {
			if err := t.http.Serve(t.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
				t.log.Error("OTLP/HTTP receiver stopped", "err", err)
			}
		}()
	}
	if t.grpc != nil {
		go func() {
			if err := t.grpc.Serve(t.grpcLn); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
				t.log.Error("OTLP/gRPC receiver stopped", "err", err)
			}
		}()
	}
	// The aggregator writes until the listeners are shut, then once more.
	aggCtx, stopAgg := context.WithCancel(context.WithoutCancel(ctx))
	defer stopAgg()
	written := make(chan error, 1)
	go func() { written <- t.aggregator.Run(aggCtx) }()
	<-ctx.Done()

	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var err error
	if t.http != nil {
		err = t.http.Shutdown(stopCtx)
	}
	if t.grpc != nil {
		stopped := make(chan struct{})
		go func() { t.grpc.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-stopCtx.Done():
			t.grpc.Stop()
		}
	}
	stopAgg()
	return errors.Join(err, <-written)
}

// close releases the listeners of a receiver that never ran.
func (t *tracesReceiver) close() {
	if t == nil {
		return
	}
	if t.listener != nil {
		t.listener.Close()
	}
	if t.grpcLn != nil {
		t.grpcLn.Close()
	}
}
