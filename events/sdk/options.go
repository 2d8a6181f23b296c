package sdk

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
)

// Option configures a Publisher. Options return errors, so a bad value fails
// NewPublisher instead of the first event; after all options are applied
// they are checked together (e.g. WithSpillOnFull needs WithSpool).
type Option func(*options) error

// options are the settings of a Publisher, applied in order and then
// checked together; NewPublisher hands each part the settings it needs.
type options struct {
	source         string
	validator      *events.Validator
	log            *slog.Logger
	buffer         int
	policy         overflow
	blockTimeout   time.Duration
	spoolDir       string
	aggWindow      time.Duration
	maxInFlight    int
	ackTimeout     time.Duration
	tracerProvider trace.TracerProvider
	meterProvider  metric.MeterProvider
}

// DefaultBuffer is the default capacity of the in-memory queue, in events.
const DefaultBuffer = 8192

// DefaultAggregationWindow is the window of WithAggregation(0).
const DefaultAggregationWindow = 10 * time.Second

type overflow int

const (
	overflowDefault overflow = iota // block, or spill with a spool
	overflowBlock
	overflowSpill
	overflowDrop
)

// WithSource names the system that emits the events, e.g. "billing-api".
// Required.
func WithSource(name string) Option {
	return func(o *options) error {
		if problem := events.CheckSource(name); problem != "" {
			return fmt.Errorf("WithSource(%q): %s", name, problem)
		}
		o.source = name
		return nil
	}
}

// WithTaxonomy validates events against a custom taxonomy instead of the
// default one. Use the taxonomy the consumer uses, or events the SDK accepts
// will be dead-lettered by the consumer.
func WithTaxonomy(t *taxonomy.Taxonomy) Option {
	return func(o *options) error {
		if t == nil {
			return errors.New("WithTaxonomy(nil): pass a taxonomy from taxonomy.Load or taxonomy.Default")
		}
		o.validator = events.NewValidator(t)
		return nil
	}
}

// WithBuffer sets the capacity of the in-memory queue between the callers
// and the background publisher (default DefaultBuffer). Memory is bounded
// by about 400 bytes per slot plus the in-flight window.
func WithBuffer(events int) Option {
	return func(o *options) error {
		if events < 1 || events > 10_000_000 {
			return fmt.Errorf("WithBuffer(%d): the queue holds 1 to 10000000 events", events)
		}
		o.buffer = events
		return nil
	}
}

// WithBlockOnFull makes a call wait for room when the queue is full, up to
// timeout (0: until the caller's context ends), then fail with
// ErrQueueFull: the event is not lost silently, the caller is told. This
// is the default without a spool.
func WithBlockOnFull(timeout time.Duration) Option {
	return func(o *options) error {
		if timeout < 0 {
			return fmt.Errorf("WithBlockOnFull(%s): the timeout must not be negative (0 waits for the caller's context)", timeout)
		}
		o.policy, o.blockTimeout = overflowBlock, timeout
		return nil
	}
}

// WithSpillOnFull writes events to the disk spool when the queue is full;
// calls never wait. Needs WithSpool. This is the default with a spool.
func WithSpillOnFull() Option {
	return func(o *options) error {
		o.policy = overflowSpill
		return nil
	}
}

// WithDropOnFull drops events when the queue is full: calls never wait and
// never fail, drops are counted (metric datamap.sdk.events.dropped,
// Stats().Dropped) and logged at most every 10 s. Only for data whose loss
// is acceptable.
func WithDropOnFull() Option {
	return func(o *options) error {
		o.policy = overflowDrop
		return nil
	}
}

// WithSpool keeps events that cannot be published — NATS unreachable, queue
// full under WithSpillOnFull, or still pending at Close — in a write-ahead
// file in dir, which the service owns (one Publisher per directory; it is
// locked). They are published in order once NATS is reachable, by this
// Publisher or by the next one started on dir, and the file is truncated
// when it has been fully published. Records are framed with a length and a
// CRC, so a record torn by a crash is detected and skipped. Records are
// written, not fsynced: they survive a process crash, not a power loss.
func WithSpool(dir string) Option {
	return func(o *options) error {
		if dir == "" {
			return errors.New("WithSpool(\"\"): name a directory the service owns, e.g. /var/lib/billing-api/datamap-spool")
		}
		o.spoolDir = dir
		return nil
	}
}

// WithAggregation coalesces identical flows — same kind, category, data
// subject, purpose, legal basis, recipient and every other field but the
// time and count — inside a window (0 means DefaultAggregationWindow) into
// one event whose count is the sum, published when the window closes. For
// hot paths, such as every SMS handed to a carrier. The event time is the
// earliest of the window; the traceparent is the first caller's.
func WithAggregation(window time.Duration) Option {
	return func(o *options) error {
		if window < 0 || window > time.Hour {
			return fmt.Errorf("WithAggregation(%s): the window is 0 (default %s) to 1h", window, DefaultAggregationWindow)
		}
		if window == 0 {
			window = DefaultAggregationWindow
		}
		o.aggWindow = window
		return nil
	}
}

// WithMaxInFlight bounds the publishes awaiting JetStream's ack (default
// 1024). Keep it at or below the JetStream context's
// PublishAsyncMaxPending (4000 by default).
func WithMaxInFlight(n int) Option {
	return func(o *options) error {
		if n < 1 || n > 1_000_000 {
			return fmt.Errorf("WithMaxInFlight(%d): 1 to 1000000", n)
		}
		o.maxInFlight = n
		return nil
	}
}

// WithAckTimeout is how long a publish may wait for JetStream's ack before
// it is retried (default 10 s).
func WithAckTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("WithAckTimeout(%s): must be positive, e.g. 5s", d)
		}
		o.ackTimeout = d
		return nil
	}
}

// WithLogger sets where the Publisher logs (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("WithLogger(nil): pass a *slog.Logger, or omit the option for slog.Default()")
		}
		o.log = l
		return nil
	}
}

// WithTracerProvider sets the OpenTelemetry tracer provider of the publish
// spans (default: the global one, otel.GetTracerProvider()).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) error {
		if tp == nil {
			return errors.New("WithTracerProvider(nil): pass a provider, or omit the option for the global one")
		}
		o.tracerProvider = tp
		return nil
	}
}

// WithMeterProvider sets the OpenTelemetry meter provider of the SDK's
// metrics (default: the global one, otel.GetMeterProvider()).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(o *options) error {
		if mp == nil {
			return errors.New("WithMeterProvider(nil): pass a provider, or omit the option for the global one")
		}
		o.meterProvider = mp
		return nil
	}
}

// check validates the options together, after all were applied, and
// settles the defaults that depend on them.
func (o *options) check() error {
	if o.source == "" {
		return errors.New("sdk.NewPublisher: no source; add WithSource(\"your-service\")")
	}
	if o.policy == overflowSpill && o.spoolDir == "" {
		return errors.New("sdk.NewPublisher: WithSpillOnFull needs WithSpool(dir)")
	}
	if o.policy == overflowDefault {
		o.policy = overflowBlock
		if o.spoolDir != "" {
			o.policy = overflowSpill
		}
	}
	if o.validator == nil {
		o.validator = events.NewValidator(taxonomy.Default())
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	o.log = o.log.With("component", "datamap-publisher", "source", o.source)
	return nil
}
