package stack

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// NATSServerOptions configure the embedded NATS server.
type NATSServerOptions struct {
	StoreDir     string        // JetStream file storage
	Port         int           // 0 picks a free port, -1 too (nats-server's convention)
	Token        string        // clients must present it
	SyncInterval time.Duration // 0 keeps the NATS default
	SyncAlways   bool
}

// StartNATSServer runs an in-process NATS server with JetStream on
// 127.0.0.1, so other local processes (services, `datamap emit`) can publish
// to it with the token.
func StartNATSServer(o NATSServerOptions) (*server.Server, error) {
	port := o.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	opts := &server.Options{
		ServerName:    "datamap-embedded",
		Host:          "127.0.0.1",
		Port:          port,
		JetStream:     true,
		StoreDir:      filepath.Clean(o.StoreDir),
		Authorization: o.Token,
		SyncInterval:  o.SyncInterval,
		SyncAlways:    o.SyncAlways,
		NoSigs:        true, // the host process owns signals
		MaxPayload:    1 << 20,
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("embedded NATS: not ready after 10s (port %d busy? set DATAMAP_NATS_PORT=0 for a free one)", o.Port)
	}
	return ns, nil
}

// natsURL is the client URL of an embedded server.
func natsURL(ns *server.Server) string {
	addr := ns.Addr().(*net.TCPAddr)
	return "nats://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(addr.Port))
}
