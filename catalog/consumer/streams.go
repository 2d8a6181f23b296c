package consumer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/catalog/deadletter"
	"github.com/back-trace/datamap/events"
)

// DurableName is the consumer that builds the catalog. Every `datamap
// serve` shares it, so several processes split the work.
const DurableName = "datamap-catalog"

// StreamSettings are the knobs of the streams that matter for reliability.
type StreamSettings struct {
	// Duplicates is JetStream's dedup window: a publish with a Nats-Msg-Id
	// seen within it is dropped.
	Duplicates time.Duration
	// Replicas is 1 for a single server, 3 for a production cluster.
	Replicas int
	// MaxAge bounds how long events stay replayable; 0 keeps them forever.
	MaxAge time.Duration
}

// DefaultStreamSettings suit the embedded single server.
var DefaultStreamSettings = StreamSettings{Duplicates: 2 * time.Minute, Replicas: 1}

// EnsureStreams creates or updates the events and dead-letter streams.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, s StreamSettings) error {
	if s.Replicas == 0 {
		s.Replicas = 1
	}
	streams := []jetstream.StreamConfig{{
		Name:        events.StreamName,
		Description: "datamap events: collected, shared, erased",
		Subjects:    []string{events.SubjectPrefix + ".>", events.IngestSubjectPrefix + ".>"},
		Storage:     jetstream.FileStorage,
		Duplicates:  s.Duplicates,
		Replicas:    s.Replicas,
		MaxAge:      s.MaxAge,
		MaxMsgSize:  events.MaxEventSize,
	}, {
		// Kept until someone replays or purges them (package deadletter
		// owns the names and reads the stream).
		Name:        deadletter.StreamName,
		Description: "datamap events the catalog could not store, with the reason",
		Subjects:    []string{deadletter.SubjectPrefix + ".>"},
		Storage:     jetstream.FileStorage,
		Replicas:    s.Replicas,
	}}
	for _, cfg := range streams {
		if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("jetstream: create stream %s: %w", cfg.Name, err)
		}
	}
	return nil
}

// Settings configure the durable pull consumer.
type Settings struct {
	AckWait    time.Duration // how long a fetched batch may take before redelivery
	MaxDeliver int           // attempts before a message is dead-lettered
	MaxPending int           // unacked messages in flight; must exceed the batch size
}

// DefaultSettings fit batches of up to 10k events.
var DefaultSettings = Settings{AckWait: 60 * time.Second, MaxDeliver: 10, MaxPending: 50_000}

// EnsureDurable creates or updates the durable consumer of the catalog.
func EnsureDurable(ctx context.Context, js jetstream.JetStream, s Settings) (jetstream.Consumer, error) {
	c, err := js.CreateOrUpdateConsumer(ctx, events.StreamName, jetstream.ConsumerConfig{
		Durable:       DurableName,
		Description:   "builds the datamap ClickHouse catalog",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       s.AckWait,
		MaxDeliver:    s.MaxDeliver,
		MaxAckPending: s.MaxPending,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("jetstream: create consumer %s: %w", DurableName, err)
	}
	return c, nil
}

// Backlog is how many events the catalog has not stored yet: pending in
// the stream plus delivered but not acknowledged.
func Backlog(ctx context.Context, js jetstream.JetStream) (uint64, error) {
	c, err := js.Consumer(ctx, events.StreamName, DurableName)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return 0, fmt.Errorf("no catalog consumer yet: is `datamap serve` running? %w", err)
	}
	if err != nil {
		return 0, err
	}
	info, err := c.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.NumPending + uint64(info.NumAckPending), nil
}
