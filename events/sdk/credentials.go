package sdk

import (
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/back-trace/datamap/events"
)

// ServiceCredentials are the NATS connection options of a service that
// publishes with its own credential — the nkey file `datamap service add`
// wrote for it — on a server that allows it its own subjects only (see
// docs/security.md):
//
//	opts, err := sdk.ServiceCredentials("billing-api", "/run/secrets/billing-api.nk")
//	nc, err := nats.Connect(url, opts...)
//
// source must be the name the service was added under, which is also the
// source of its Publisher: the connection's reply inbox is the one its
// NATS user may read (events.InboxPrefix), so JetStream's acknowledgements
// reach it and nobody else's messages do.
func ServiceCredentials(source, nkeyFile string) ([]nats.Option, error) {
	if problem := events.CheckSource(source); problem != "" {
		return nil, fmt.Errorf("ServiceCredentials(%q): %s", source, problem)
	}
	nkey, err := nats.NkeyOptionFromSeed(nkeyFile)
	if err != nil {
		return nil, fmt.Errorf("ServiceCredentials: %s: %w (the file `datamap service add %s` wrote)", nkeyFile, err, source)
	}
	return []nats.Option{nkey, nats.CustomInboxPrefix(events.InboxPrefix(source))}, nil
}
