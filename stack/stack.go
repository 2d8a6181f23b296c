// Package stack starts or finds the servers datamap runs on — NATS
// JetStream and ClickHouse, embedded in this process or external — and
// hands out connections to them.
//
// `datamap serve` and `datamap demo` Start a stack and publish its
// addresses in the data directory (RuntimeFile); other local commands
// Attach to it, or start their own embedded stack when nothing runs.
package stack

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/catalog/consumer"
	"github.com/back-trace/datamap/catalog/schema"
	"github.com/back-trace/datamap/config"
	"github.com/back-trace/datamap/stack/chembed"
)

// Stack is a pair of connected servers.
type Stack struct {
	NATS       *nats.Conn
	JS         jetstream.JetStream
	ClickHouse driver.Conn

	NATSURL        string // where services publish
	ClickHouseAddr string // host:port of the native protocol

	cfg         config.Config
	log         *slog.Logger
	chOptions   *ch.Options     // the external ClickHouse's options; nil when embedded
	natsServer  *server.Server  // nil when external or attached
	chServer    *chembed.Server // nil when external or attached; replaced by superviseClickHouse
	chMu        sync.Mutex      // guards chServer
	closing     chan struct{}   // closed by Close: the supervisor stops restarting
	supervised  chan struct{}   // closed when the supervisor has returned
	stopWatch   chan struct{}   // closed by Close: watchServices returns; nil when NATS is not embedded
	watched     chan struct{}   // closed when watchServices has returned
	runtime     string          // the runtime file this stack wrote, if any
	runtimeLock *os.File        // held while the runtime file is valid
}

// Start brings up the servers this configuration names — embedded ones
// unless DATAMAP_NATS_URL / DATAMAP_CLICKHOUSE_DSN point elsewhere — then
// creates the streams and migrates the catalog.
func Start(ctx context.Context, cfg config.Config, log *slog.Logger) (*Stack, error) {
	s := &Stack{cfg: cfg, log: log}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if err := s.startNATS(); err != nil {
		return nil, err
	}
	if err := s.startClickHouse(ctx); err != nil {
		s.Close(ctx)
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		s.Close(ctx)
		return nil, err
	}
	return s, nil
}

func (s *Stack) startNATS() error {
	cfg := s.cfg
	url, opts := cfg.NATSURL, []nats.Option{nats.Name("datamap")}
	if url == "" {
		token, err := secretFile(cfg.DataDir, NATSTokenFile)
		if err != nil {
			return err
		}
		services, err := ListServices(cfg.DataDir)
		if err != nil {
			s.log.Warn("some services' credentials are unreadable; those services cannot connect", "err", err)
		}
		o := NATSServerOptions{StoreDir: filepath.Join(cfg.DataDir, "nats"), Port: cfg.NATSPort, Token: token,
			SyncInterval: cfg.NATSSyncInterval, SyncAlways: cfg.NATSSyncAlways, Services: services}
		ns, err := StartNATSServer(o)
		if err != nil {
			return err
		}
		s.natsServer, url = ns, natsURL(ns)
		s.stopWatch, s.watched = make(chan struct{}), make(chan struct{})
		go s.watchServices(o, services)
		opts = append(opts, nats.Token(token))
		s.log.Info("embedded NATS listening", "url", url, "store", filepath.Join(cfg.DataDir, "nats"))
	} else {
		extra, err := externalNATSOptions(cfg)
		if err != nil {
			return err
		}
		opts = append(opts, extra...)
	}
	return s.connectNATS(url, opts)
}

func (s *Stack) connectNATS(url string, opts []nats.Option) error {
	opts = append(opts, nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond))
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return fmt.Errorf("connect to NATS at %s: %w (check DATAMAP_NATS_URL and its credentials)", config.RedactURLs(url), err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return err
	}
	s.NATS, s.JS, s.NATSURL = nc, js, url
	return nil
}

// externalNATSOptions turns the credentials of the configuration into
// connection options.
func externalNATSOptions(cfg config.Config) ([]nats.Option, error) {
	var opts []nats.Option
	if cfg.NATSCredsFile != "" {
		opts = append(opts, nats.UserCredentials(cfg.NATSCredsFile))
	}
	if cfg.NATSToken != "" {
		opts = append(opts, nats.Token(cfg.NATSToken))
	}
	if cfg.NATSTLSCA != "" || cfg.NATSTLSCert != "" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.NATSTLSCA != "" {
			pem, err := os.ReadFile(cfg.NATSTLSCA)
			if err != nil {
				return nil, fmt.Errorf("DATAMAP_NATS_TLS_CA: %w", err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("DATAMAP_NATS_TLS_CA: %s holds no PEM certificate", cfg.NATSTLSCA)
			}
		}
		if cfg.NATSTLSCert != "" {
			cert, err := tls.LoadX509KeyPair(cfg.NATSTLSCert, cfg.NATSTLSKey)
			if err != nil {
				return nil, fmt.Errorf("DATAMAP_NATS_TLS_CERT/KEY: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		opts = append(opts, nats.Secure(tc))
	}
	return opts, nil
}

func (s *Stack) startClickHouse(ctx context.Context) error {
	if s.cfg.ClickHouseDSN != "" {
		opts, err := ch.ParseDSN(s.cfg.ClickHouseDSN)
		if err != nil {
			return fmt.Errorf("DATAMAP_CLICKHOUSE_DSN: %s", config.RedactURLs(err.Error())) // a parse error repeats the DSN
		}
		if s.cfg.ClickHouseCluster != "" {
			// Cluster mode writes through Distributed tables. Insert
			// synchronously: an INSERT returns once every shard has its
			// rows, not when they are queued on the server we talk to, so
			// the consumer's ack-after-durable contract still holds.
			// And run INSERT … SELECT on this server: ClickHouse 26 lets
			// each shard insert its own part of the SELECT into its own
			// local table by default (parallel_distributed_insert_select
			// = 2), which would leave a flow's rollup row split in
			// partial rows across shards, and write to one replica only
			// where the Distributed table writes the replicas itself.
			if opts.Settings == nil {
				opts.Settings = ch.Settings{}
			}
			opts.Settings["insert_distributed_sync"] = 1
			opts.Settings["parallel_distributed_insert_select"] = 0
		}
		if opts.Compression == nil {
			opts.Compression = &ch.Compression{Method: ch.CompressionLZ4} // across a network, unless the DSN says otherwise
		}
		s.chOptions = opts
		return s.connectClickHouse(ctx, opts)
	}
	srv, err := chembed.Start(ctx, chembed.Options{DataDir: filepath.Join(s.cfg.DataDir, "clickhouse"), Logger: s.log})
	if err != nil {
		return err
	}
	s.chServer = srv
	s.closing = make(chan struct{})
	s.supervised = make(chan struct{})
	go s.superviseClickHouse(srv)
	s.log.Info("embedded ClickHouse listening", "addr", srv.Addr())
	return s.connectClickHouse(ctx, embeddedOptions(srv.Addr(), srv.Username(), srv.Password()))
}

// embeddedOptions connect to the embedded server. No compression: on
// loopback it would only cost both processes CPU.
func embeddedOptions(addr, user, password string) *ch.Options {
	return &ch.Options{Addr: []string{addr}, Auth: ch.Auth{Database: "default", Username: user, Password: password}}
}

func (s *Stack) connectClickHouse(ctx context.Context, opts *ch.Options) error {
	opts.DialTimeout = 5 * time.Second
	if opts.MaxOpenConns == 0 {
		opts.MaxOpenConns = 8
	}
	conn, err := ch.Open(opts)
	if err != nil {
		return fmt.Errorf("ClickHouse: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := conn.Ping(pingCtx); err != nil {
		conn.Close()
		return fmt.Errorf("ClickHouse at %v does not answer: %w (check DATAMAP_CLICKHOUSE_DSN)", opts.Addr, err)
	}
	s.ClickHouse, s.ClickHouseAddr = conn, opts.Addr[0]
	return nil
}

// prepare creates the streams and brings the catalog schema up to date.
func (s *Stack) prepare(ctx context.Context) error {
	if err := consumer.EnsureStreams(ctx, s.JS, consumer.StreamSettings{
		Duplicates: s.cfg.StreamDuplicates, Replicas: s.cfg.StreamReplicas}); err != nil {
		return err
	}
	dialect := schema.Dialect{Cluster: s.cfg.ClickHouseCluster,
		Unreplicated: s.cfg.ClickHouseCluster != "" && !s.cfg.ClickHouseKeeper}
	servers := []driver.Conn{s.ClickHouse}
	if dialect.Unreplicated {
		// No DDL queue without Keeper: migrate each server of the DSN.
		var err error
		if servers, err = s.eachServer(ctx); err != nil {
			return err
		}
		defer func() {
			for _, c := range servers {
				c.Close()
			}
		}()
	}
	ran, err := schema.MigrateServers(ctx, servers, dialect)
	if err != nil {
		return err
	}
	for _, conn := range servers {
		if err := schema.SetInsertFsync(ctx, conn, dialect, s.cfg.ClickHouseFsync); err != nil {
			return err
		}
	}
	if len(ran) > 0 {
		s.log.Info("catalog schema migrated", "versions", ran)
	}
	// The copies of subject_refs are not fsynced: put back what a power
	// failure took from them before the consumer or the API starts.
	if n, err := schema.RepairSubjectCopies(ctx, s.ClickHouse); err != nil {
		return err
	} else if n > 0 {
		s.log.Warn("subject copies repaired from subject_refs after an unclean stop", "rows", n)
	}
	return nil
}

// eachServer connects to every server the DSN lists, one connection each.
func (s *Stack) eachServer(ctx context.Context) ([]driver.Conn, error) {
	var conns []driver.Conn
	for _, addr := range s.chOptions.Addr {
		opts := *s.chOptions
		opts.Addr = []string{addr}
		conn, err := ch.Open(&opts)
		if err == nil {
			err = conn.Ping(ctx)
		}
		if err != nil {
			for _, c := range conns {
				c.Close()
			}
			return nil, fmt.Errorf("ClickHouse server %s of DATAMAP_CLICKHOUSE_DSN: %w (without Keeper every server must be up to be migrated)", addr, err)
		}
		conns = append(conns, conn)
	}
	return conns, nil
}

// Embedded reports whether this process runs the servers itself.
func (s *Stack) Embedded() bool { return s.natsServer != nil || s.chServer != nil }

// EmbeddedClickHouse is the embedded ClickHouse server, or nil.
func (s *Stack) EmbeddedClickHouse() *chembed.Server {
	s.chMu.Lock()
	defer s.chMu.Unlock()
	return s.chServer
}

// superviseClickHouse restarts the embedded engine when it dies while the
// stack runs — on the same address, so the connections and the consumer
// carry on (the consumer retries the batch it holds; nothing is lost or
// counted twice). chDB 26.7 aborts when a client connection breaks in the
// middle of an INSERT, e.g. a `serve --consumer-only` process killed.
func (s *Stack) superviseClickHouse(srv *chembed.Server) {
	defer close(s.supervised)
	retry := time.Second
	for {
		select {
		case <-s.closing:
			return
		case <-srv.Done():
		}
		select {
		case <-s.closing:
			return
		default:
		}
		s.log.Error("embedded ClickHouse died; restarting it", "err", srv.Err())
		next, err := srv.Restart(context.Background())
		if err != nil {
			s.log.Error("embedded ClickHouse did not restart; retrying", "err", err, "in", retry)
			select {
			case <-s.closing:
				return
			case <-time.After(retry):
			}
			retry = min(2*retry, 30*time.Second)
			continue
		}
		retry = time.Second
		s.chMu.Lock()
		s.chServer, srv = next, next
		s.chMu.Unlock()
	}
}

// ServicesPollInterval is how often a running embedded NATS server looks
// for services added or removed (`datamap service`).
const ServicesPollInterval = 2 * time.Second

// watchServices reloads the embedded NATS server's users when the
// services' credentials change, until Close. Polling a small directory
// is enough here: a new service waits a couple of seconds at most.
func (s *Stack) watchServices(o NATSServerOptions, current []Service) {
	defer close(s.watched)
	tick := time.NewTicker(ServicesPollInterval)
	defer tick.Stop()
	for {
		select {
		case <-s.stopWatch:
			return
		case <-tick.C:
		}
		next, err := ListServices(s.cfg.DataDir)
		if err != nil {
			s.log.Warn("some services' credentials are unreadable; those services cannot connect", "err", err)
		}
		if slices.Equal(next, current) {
			continue
		}
		if err := ReloadServices(s.natsServer, o, next); err != nil {
			s.log.Error("the services' credentials changed but NATS did not take them; retrying", "err", err)
			continue
		}
		s.log.Info("services' NATS credentials reloaded", "services", len(next))
		current = next
	}
}

// Close disconnects and stops the servers this stack started.
func (s *Stack) Close(ctx context.Context) error {
	var errs []error
	if s.runtime != "" {
		_ = os.Remove(s.runtime)
		s.runtimeLock.Close()
	}
	if s.ClickHouse != nil {
		errs = append(errs, s.ClickHouse.Close())
	}
	if s.NATS != nil {
		if err := s.NATS.Drain(); err != nil {
			s.NATS.Close()
		}
	}
	if s.closing != nil {
		close(s.closing)
		<-s.supervised
	}
	if srv := s.EmbeddedClickHouse(); srv != nil {
		errs = append(errs, srv.Stop(ctx))
	}
	if s.stopWatch != nil {
		close(s.stopWatch)
		<-s.watched
	}
	if s.natsServer != nil {
		s.natsServer.Shutdown()
		s.natsServer.WaitForShutdown()
	}
	return errors.Join(errs...)
}

// Runtime is what a running `datamap serve` publishes about itself in the
// data directory, so other local commands find it without flags. It holds
// no secrets: those stay in their own 0600 files.
type Runtime struct {
	PID            int       `json:"pid"`
	NATSURL        string    `json:"nats_url"`
	ClickHouseAddr string    `json:"clickhouse_addr"`
	HTTPAddr       string    `json:"http_addr"`
	EmbeddedNATS   bool      `json:"embedded_nats"`
	EmbeddedCH     bool      `json:"embedded_clickhouse"`
	StartedAt      time.Time `json:"started_at"`
}

// RuntimeFile is the name of the runtime file in the data directory.
const RuntimeFile = "serve.json"

// runtimeLock is held (flock) by the process that published the runtime
// file, for as long as it runs. The kernel drops the lock when the process
// dies, however it dies, so a stale runtime file is never mistaken for a
// running server — not even when a restarted container gets the same pid.
const runtimeLock = "serve.lock"

// Publish writes the runtime file and holds its lock; Close removes both.
func (s *Stack) Publish(httpAddr string) error {
	lock, err := os.OpenFile(filepath.Join(s.cfg.DataDir, runtimeLock), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return fmt.Errorf("another datamap serve runs on %s", s.cfg.DataDir)
	}
	rt := Runtime{PID: os.Getpid(), NATSURL: s.NATSURL, ClickHouseAddr: s.ClickHouseAddr, HTTPAddr: httpAddr,
		EmbeddedNATS: s.natsServer != nil, EmbeddedCH: s.chServer != nil, StartedAt: time.Now().UTC()}
	b, err := json.MarshalIndent(rt, "", "  ")
	if err != nil {
		lock.Close()
		return err
	}
	path := filepath.Join(s.cfg.DataDir, RuntimeFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		lock.Close()
		return err
	}
	s.runtime, s.runtimeLock = path, lock
	return os.Rename(tmp, path)
}

// FindRunning returns the runtime of a live `datamap serve` on dataDir.
func FindRunning(dataDir string) (Runtime, bool) {
	var rt Runtime
	lock, err := os.Open(filepath.Join(dataDir, runtimeLock))
	if err != nil {
		return rt, false
	}
	defer lock.Close()
	if syscall.Flock(int(lock.Fd()), syscall.LOCK_SH|syscall.LOCK_NB) == nil {
		return rt, false // nobody holds it: whatever serve.json says is stale
	}
	b, err := os.ReadFile(filepath.Join(dataDir, RuntimeFile))
	if err != nil || json.Unmarshal(b, &rt) != nil {
		return rt, false
	}
	return rt, true
}

// Attach connects to the `datamap serve` running on the data directory, or,
// when none runs, starts a stack of its own (stopped by Close).
func Attach(ctx context.Context, cfg config.Config, log *slog.Logger) (*Stack, error) {
	rt, ok := FindRunning(cfg.DataDir)
	if !ok {
		return Start(ctx, cfg, log)
	}
	s := &Stack{cfg: cfg, log: log}
	natsOpts := []nats.Option{nats.Name("datamap-cli")}
	if rt.EmbeddedNATS {
		natsOpts = append(natsOpts, nats.Token(ReadSecret(cfg.DataDir, NATSTokenFile)))
	} else {
		extra, err := externalNATSOptions(cfg)
		if err != nil {
			return nil, err
		}
		natsOpts = append(natsOpts, extra...)
	}
	if err := s.connectNATS(rt.NATSURL, natsOpts); err != nil {
		return nil, err
	}
	var err error
	if rt.EmbeddedCH {
		dir := filepath.Join(cfg.DataDir, "clickhouse")
		err = s.connectClickHouse(ctx, embeddedOptions(rt.ClickHouseAddr, chembed.User, ReadSecret(dir, "password")))
	} else {
		err = s.startClickHouse(ctx)
	}
	if err != nil {
		s.Close(ctx)
		return nil, err
	}
	return s, nil
}

// Config is the configuration the stack was started or attached with.
func (s *Stack) Config() config.Config { return s.cfg }

// Logger is the stack's logger, for what runs on it.
func (s *Stack) Logger() *slog.Logger { return s.log }

// APIToken is the bearer token of the HTTP API: DATAMAP_API_TOKEN, or one
// generated once and kept in the data directory.
func APIToken(cfg config.Config) (string, error) {
	if cfg.APIToken != "" {
		return cfg.APIToken, nil
	}
	return secretFile(cfg.DataDir, APITokenFile)
}
