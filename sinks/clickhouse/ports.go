package clickhouse

import "github.com/back-trace/datamap/catalog/consumer"

// The Writer is the consumer's Sink, and its Pinger: without Ping the
// consumer could not tell a refused batch from a server that is down, and
// would retry a poison event forever instead of isolating it. These checks
// make renaming either method a compile error rather than a silent loss of
// that behaviour.
var (
	_ consumer.Sink   = (*Writer)(nil)
	_ consumer.Pinger = (*Writer)(nil)
)
