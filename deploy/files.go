package deploy

import _ "embed"

// NATSClusterConfig is nats/cluster.conf, the configuration of each server
// of the 3-node NATS cluster. The cluster tests start their nodes from it
// (internal/testservers), so what is deployed is what was tested.
//
//go:embed nats/cluster.conf
var NATSClusterConfig []byte
