// Package deploy holds no code that runs in production: only the checks of
// the deployment files next to it (docker-compose.yml, the Dockerfile,
// nats/, clickhouse/, kubernetes/). None of them can be run where datamap is
// built and tested (no container engine, no cluster), so the tests verify
// what can be verified without one: the files parse with the parsers their
// servers use, every DATAMAP_* variable they set exists in config.Config,
// nothing is published beyond 127.0.0.1, and the ClickHouse schema is the
// one datamap migrates itself (golden file clickhouse/schema.sql).
//
// The cluster configuration files are also embedded (files.go): the
// cluster tests start their NATS and ClickHouse servers from them, so the
// deployed configuration is the tested one.
package deploy
