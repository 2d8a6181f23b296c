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
	// Services may connect with their own credentials and publish their
	// own events only (ServicePermissions); the Token opens everything.
	Services []Service
}

// StartNATSServer runs an in-process NATS server with JetStream on
// 127.0.0.1, so other local processes can publish to it: each service with
// its own credential (o.Services), datamap itself (and `datamap emit`)
// with the token.
func StartNATSServer(o NATSServerOptions) (*server.Server, error) {
	opts := o.serverOptions()
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

// ReloadServices makes a running server accept exactly services, as
// o (the options it was started with) and its bound port say. NATS closes
// the connections of a service no longer listed.
func ReloadServices(ns *server.Server, o NATSServerOptions, services []Service) error {
	o.Services = services
	o.Port = ns.Addr().(*net.TCPAddr).Port
	if err := ns.ReloadOptions(o.serverOptions()); err != nil {
		return fmt.Errorf("embedded NATS: reload the services' credentials: %w", err)
	}
	return nil
}

// serverOptions are the nats-server options of o. Users are a token (the
// simple authorization, datamap's own identity, allowed everything) next
// to an nkey per service: nats-server checks an nkey when the client
// presents one and the token otherwise. (Its configuration file cannot
// say both; its options can.)
func (o NATSServerOptions) serverOptions() *server.Options {
	port := o.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	return &server.Options{
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
		Nkeys:         nkeyUsers(o.Services),
	}
}

// natsURL is the client URL of an embedded server.
func natsURL(ns *server.Server) string {
	addr := ns.Addr().(*net.TCPAddr)
	return "nats://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(addr.Port))
}
