package deploy

import (
	_ "embed"
	"encoding/xml"
	"errors"
	"fmt"
)

// NATSClusterConfig is nats/cluster.conf, the configuration of each server
// of the 3-node NATS cluster. The cluster tests start their nodes from it
// (internal/testkit/testservers), so what is deployed is what was tested.
//
//go:embed nats/cluster.conf
var NATSClusterConfig []byte

// ClickHouseClusterConfig is clickhouse/cluster/cluster.xml: the cluster's
// remote_servers, macros, Keeper and DDL queue, mounted on every server.
//
//go:embed clickhouse/cluster/cluster.xml
var ClickHouseClusterConfig []byte

// ClickHouseCluster is the layout of the cluster in
// ClickHouseClusterConfig: the tests start the same shards and replicas.
type ClickHouseCluster struct {
	Name   string
	Shards []ClickHouseShard
}

// ClickHouseShard is one shard of the layout.
type ClickHouseShard struct {
	InternalReplication bool
	Replicas            []ClickHouseReplica
}

// ClickHouseReplica is one server of a shard.
type ClickHouseReplica struct {
	Host string `xml:"host"`
	Port int    `xml:"port"`
	User string `xml:"user"`
}

// ReadClickHouseCluster parses the layout of ClickHouseClusterConfig.
func ReadClickHouseCluster() (ClickHouseCluster, error) {
	var doc struct {
		RemoteServers struct {
			Clusters []struct {
				XMLName xml.Name
				Shards  []struct {
					InternalReplication bool                `xml:"internal_replication"`
					Replicas            []ClickHouseReplica `xml:"replica"`
				} `xml:"shard"`
			} `xml:",any"`
		} `xml:"remote_servers"`
	}
	if err := xml.Unmarshal(ClickHouseClusterConfig, &doc); err != nil {
		return ClickHouseCluster{}, fmt.Errorf("deploy: clickhouse/cluster/cluster.xml: %w", err)
	}
	if len(doc.RemoteServers.Clusters) != 1 {
		return ClickHouseCluster{}, errors.New("deploy: clickhouse/cluster/cluster.xml must define exactly one cluster in remote_servers")
	}
	c := doc.RemoteServers.Clusters[0]
	out := ClickHouseCluster{Name: c.XMLName.Local}
	for _, s := range c.Shards {
		out.Shards = append(out.Shards, ClickHouseShard{InternalReplication: s.InternalReplication, Replicas: s.Replicas})
	}
	return out, nil
}

// Macros are the {shard} and {replica} macros of replica r (from 1) of
// shard s (from 1): what docker-compose.cluster.yml sets and the tests use.
func Macros(shard, replica int) (shardMacro, replicaMacro string) {
	return fmt.Sprintf("%02d", shard), fmt.Sprintf("s%d-r%d", shard, replica)
}
