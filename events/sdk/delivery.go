package sdk

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"

	"github.com/back-trace/datamap/events"
)

// outgoing is an encoded event on its way to JetStream.
type outgoing struct {
	kind    events.Kind
	msgID   string // Nats-Msg-Id: events.Identity(source, id)
	subject string // where it is published: events.SourceSubject, or IngestSubject when relayed
	// credential, set only for events the HTTP ingest relays, goes out in
	// the events.CredentialHeader.
	credential string
	raw        []byte
	sc         trace.SpanContext
	queued     time.Time
	spooled    bool // read from the spool: the file keeps it until it is acked
}

type inflight struct {
	o    *outgoing
	ack  jetstream.PubAckFuture
	sent time.Time // the ack timeout counts from here
}

// delivery is the Publisher's background machinery: it takes what it is
// offered into the queue (or, when the queue is full, applies the overflow
// policy), the pump takes events from the retry list, the spool and the
// queue, in that order, and publishes them asynchronously; the acker waits
// for their acks in order and hands failures back to the retry list (or
// the spool). It counts in the shared counters and tells the observer of
// every ack.
type delivery struct {
	js           jetstream.JetStream
	source       string
	log          *slog.Logger
	stats        *counters
	observer     ackObserver
	queue        chan record
	policy       overflow
	blockTimeout time.Duration
	ackTimeout   time.Duration
	spoolDir     string
	spool        *spool // nil without WithSpool
	drops        dropLog

	inflight chan inflight
	kick     chan struct{} // the spool or the retry list has work
	stopping chan struct{} // closed by stop: the pump returns
	abandon  chan struct{} // closed by stop: the acker stops waiting
	pumpDone chan struct{}
	ackDone  chan struct{}

	retryMu sync.Mutex
	retries []*outgoing
	// lastAck is when JetStream last acknowledged a publish (unix nanos),
	// so that the pump backs off retries only while nothing gets through.
	lastAck atomic.Int64

	leftoverMu sync.Mutex
	leftover   []*outgoing // unacknowledged when the acker was abandoned
}

// ackObserver is told of every event JetStream acknowledged: the
// telemetry records its latency and span.
type ackObserver interface {
	published(o *outgoing)
}

var _ ackObserver = (*telemetry)(nil)

const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = time.Second
	stallWait  = 100 * time.Millisecond
)

// startDelivery opens the spool (WithSpool), counting the events an
// earlier run left in it as pending, and starts the pump and the acker.
func startDelivery(js jetstream.JetStream, o *options, stats *counters, observer ackObserver) (*delivery, error) {
	d := &delivery{js: js, source: o.source, log: o.log, stats: stats, observer: observer,
		queue: make(chan record, o.buffer), policy: o.policy, blockTimeout: o.blockTimeout,
		ackTimeout: o.ackTimeout, spoolDir: o.spoolDir}
	if d.spoolDir != "" {
		s, recovered, err := openSpool(d.spoolDir, d.log)
		if err != nil {
			return nil, err
		}
		d.spool = s
		d.stats.pending.Add(int64(recovered))
		if recovered > 0 {
			d.log.Info("publishing events left in the spool by an earlier run", "events", recovered, "dir", d.spoolDir)
		}
	}
	d.inflight = make(chan inflight, o.maxInFlight)
	d.kick = make(chan struct{}, 1)
	d.stopping = make(chan struct{})
	d.abandon = make(chan struct{})
	d.pumpDone = make(chan struct{})
	d.ackDone = make(chan struct{})
	go d.pump()
	go d.ackLoop()
	return d, nil
}

// offer queues r, applying the overflow policy when the queue is full.
// The Publisher calls it holding its lock for reading, with its closing
// channel; the aggregator passes a nil closing: its last window must get
// through Close.
func (d *delivery) offer(ctx context.Context, r *record, closing <-chan struct{}) error {
	r.queued = time.Now()
	d.stats.pending.Add(1)
	select {
	case d.queue <- *r:
		d.stats.queued.Add(1)
		return nil
	default:
	}
	switch d.policy {
	case overflowSpill:
		o := d.encode(r)
		if err := d.spool.append(o); err != nil {
			d.stats.pending.Add(-1)
			return fmt.Errorf("%w, and the spool refused the event: %w", ErrQueueFull, err)
		}
		d.stats.queued.Add(1)
		d.stats.spooled.Add(1)
		d.kickPump()
		return nil
	case overflowDrop:
		d.stats.pending.Add(-1)
		d.stats.dropped.Add(1)
		d.drops.note(d.log, d.stats.dropped.Load())
		return nil
	}
	var timeout <-chan time.Time
	if d.blockTimeout > 0 {
		t := time.NewTimer(d.blockTimeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case d.queue <- *r:
		d.stats.queued.Add(1)
		return nil
	case <-ctx.Done():
		d.stats.pending.Add(-1)
		return fmt.Errorf("%w (%d events queued) and the caller's context ended: %w", ErrQueueFull, cap(d.queue), ctx.Err())
	case <-timeout:
		d.stats.pending.Add(-1)
		return fmt.Errorf("%w: no room for %s; is NATS reachable? Raise WithBuffer or WithBlockOnFull's timeout, or add WithSpool", ErrQueueFull, d.blockTimeout)
	case <-closing:
		d.stats.pending.Add(-1)
		return ErrClosed
	}
}

func (d *delivery) kickPump() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// pump publishes until stop.
func (d *delivery) pump() {
	defer close(d.pumpDone)
	defer close(d.inflight)
	backoff := time.Duration(0)
	for {
		o, retry := d.next()
		if o == nil {
			return
		}
		if retry {
			// Pause before a retry unless acks are coming through: retries
			// go at full speed once NATS is back. (Checking only for acks
			// since the previous retry would pace a whole window of retries
			// after a stream leader's loss at one pause each, since their
			// acks arrive after the next retry is sent.)
			if time.Since(time.Unix(0, d.lastAck.Load())) < maxBackoff {
				backoff = 0
			} else {
				backoff = min(max(2*backoff, minBackoff), maxBackoff)
				if !d.pause(backoff) {
					d.pushRetry(o)
					return
				}
			}
		}
		if !d.send(o) {
			return
		}
	}
}

// next returns the next event to publish, whether it is a retry, or nil
// once the pump must stop.
func (d *delivery) next() (*outgoing, bool) {
	for {
		select {
		case <-d.stopping:
			return nil, false
		default:
		}
		if o := d.popRetry(); o != nil {
			return o, true
		}
		if d.spool != nil && d.spool.hasUnread() {
			// Keep the order: what is queued goes behind what is spooled.
			d.drainToSpool()
			if o, err := d.spool.next(); err != nil {
				d.log.Error("reading the spool failed; retrying", "err", err)
				if !d.pause(maxBackoff) {
					return nil, false
				}
			} else if o != nil {
				return o, false
			}
			continue
		}
		select {
		case r := <-d.queue:
			return d.encode(&r), false
		case <-d.kick:
		case <-d.stopping:
			return nil, false
		}
	}
}

// send publishes o asynchronously and hands the ack to the acker. It
// returns false when the pump must stop (o is then in the retry list).
func (d *delivery) send(o *outgoing) bool {
	backoff := minBackoff
	for {
		if d.spool != nil && !o.spooled && !d.js.Conn().IsConnected() {
			d.toSpool(o) // NATS is down: straight to disk
			return true
		}
		msg := &nats.Msg{Subject: o.subject, Data: o.raw, Header: nats.Header{jetstream.MsgIDHeader: []string{o.msgID}}}
		if o.credential != "" {
			msg.Header[events.CredentialHeader] = []string{o.credential}
		}
		ack, err := d.js.PublishMsgAsync(msg, jetstream.WithStallWait(stallWait))
		if err == nil {
			select {
			case d.inflight <- inflight{o: o, ack: ack, sent: time.Now()}:
				return true
			case <-d.stopping:
				d.pushRetry(o) // may be acked anyway; a retry is deduplicated
				return false
			}
		}
		// Refused before it left (ErrTooManyStalledMsgs, reconnect buffer
		// full, closed connection): not published, so try again.
		d.stats.retried.Add(1)
		if d.spool != nil && !o.spooled {
			d.toSpool(o)
			return true
		}
		if !d.pause(backoff) {
			d.pushRetry(o)
			return false
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// pause waits wait, moving queued events to the spool meanwhile (so
// callers don't wait on a NATS outage). It returns false when the pump
// must stop.
func (d *delivery) pause(wait time.Duration) bool {
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		var queue chan record
		if d.spool != nil {
			queue = d.queue
		}
		select {
		case <-t.C:
			return true
		case <-d.stopping:
			return false
		case r := <-queue:
			d.toSpool(d.encode(&r))
		}
	}
}

// ackLoop waits for each publish's ack, in publish order. Each publish
// times out ackTimeout after it was sent, not after the previous one was
// settled: when a stream leader dies with a full window of publishes in
// flight, their acks are all lost together, and the window must be retried
// after one timeout, not after one timeout per publish.
func (d *delivery) ackLoop() {
	defer close(d.ackDone)
	timer := time.NewTimer(d.ackTimeout)
	defer timer.Stop()
	abandoned := false
	for in := range d.inflight {
		if abandoned {
			d.settle(in, false)
			continue
		}
		timer.Reset(time.Until(in.sent.Add(d.ackTimeout)))
		select {
		case <-in.ack.Ok():
			d.acknowledged(in.o)
		case err := <-in.ack.Err():
			d.failed(in.o, err)
		case <-timer.C:
			d.failed(in.o, jetstream.ErrAsyncPublishTimeout)
		case <-d.abandon:
			abandoned = true
			d.settle(in, false)
		}
	}
}

// settle takes an ack that is already there, or keeps o as leftover.
func (d *delivery) settle(in inflight, _ bool) {
	select {
	case <-in.ack.Ok():
		d.acknowledged(in.o)
	default:
		d.leftoverMu.Lock()
		d.leftover = append(d.leftover, in.o)
		d.leftoverMu.Unlock()
	}
}

func (d *delivery) acknowledged(o *outgoing) {
	if o.spooled {
		d.spool.done()
	}
	d.lastAck.Store(time.Now().UnixNano())
	d.stats.published.Add(1)
	d.stats.pending.Add(-1)
	d.observer.published(o)
}

func (d *delivery) failed(o *outgoing, err error) {
	d.stats.retried.Add(1)
	d.log.Debug("publish not acknowledged; retrying with the same Nats-Msg-Id", "id", o.msgID, "err", err)
	if d.spool != nil && !o.spooled {
		d.toSpool(o)
		return
	}
	d.pushRetry(o)
	d.kickPump()
}

func (d *delivery) pushRetry(o *outgoing) {
	d.retryMu.Lock()
	d.retries = append(d.retries, o)
	d.retryMu.Unlock()
}

func (d *delivery) popRetry() *outgoing {
	d.retryMu.Lock()
	defer d.retryMu.Unlock()
	if len(d.retries) == 0 {
		return nil
	}
	o := d.retries[0]
	d.retries[0] = nil
	d.retries = d.retries[1:]
	return o
}

// toSpool writes o to the spool; if the disk refuses, o stays in memory.
func (d *delivery) toSpool(o *outgoing) {
	if err := d.spool.append(o); err != nil {
		d.log.Error("writing to the spool failed; keeping the event in memory", "err", err)
		d.pushRetry(o)
		return
	}
	d.stats.spooled.Add(1)
}

// drainToSpool moves what is queued now to the spool, in one write.
func (d *delivery) drainToSpool() {
	var batch []*outgoing
	for len(batch) < 4096 {
		select {
		case r := <-d.queue:
			batch = append(batch, d.encode(&r))
			continue
		default:
		}
		break
	}
	if len(batch) == 0 {
		return
	}
	if err := d.spool.append(batch...); err != nil {
		d.log.Error("writing to the spool failed; keeping the events in memory", "err", err)
		for _, o := range batch {
			d.pushRetry(o)
		}
		return
	}
	d.stats.spooled.Add(uint64(len(batch)))
}

// encode renders a record in the wire format.
func (d *delivery) encode(r *record) *outgoing {
	var id, source, credential string
	if r.ext != nil {
		id, source, credential = r.ext.id, r.ext.source, r.ext.credential
	} else {
		var idBuf [36]byte
		encodeUUID(idBuf[:], r.id)
		id, source = string(idBuf[:]), d.source
	}
	ev := r.flow.event(id, r.at, r.count)
	ev.Source = source
	ev.Data.SubjectRef = r.ref
	if r.ext != nil {
		ev.TraceParent, ev.TraceState = r.ext.traceParent, r.ext.traceState
		ev.Extensions = r.ext.extensions
	}
	raw := events.AppendEvent(make([]byte, 0, 512), &ev, r.sc)
	subject := events.SourceSubject(source, r.flow.kind)
	if credential != "" {
		subject = events.IngestSubject(source, r.flow.kind)
	}
	return &outgoing{kind: r.flow.kind, msgID: events.Identity(source, id), subject: subject, credential: credential,
		raw: raw, sc: r.sc, queued: r.queued}
}

// waitDelivered waits until nothing is pending or ctx ends.
func (d *delivery) waitDelivered(ctx context.Context) error {
	if d.stats.pending.Load() <= 0 {
		return nil
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for d.stats.pending.Load() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("events: %d events not yet acknowledged by JetStream: %w%s", d.stats.pending.Load(), ctx.Err(), d.why())
		case <-tick.C:
		}
	}
	return nil
}

// why says what the connection knows of why acks do not come: it is
// not connected, or the server refused something.
func (d *delivery) why() string {
	nc := d.js.Conn()
	if nc == nil {
		return ""
	}
	var reasons []string
	if !nc.IsConnected() {
		reasons = append(reasons, "NATS connection is "+strings.ToLower(statusName(nc.Status())))
	}
	if err := nc.LastError(); err != nil {
		reasons = append(reasons, "last NATS error: "+err.Error())
	}
	if len(reasons) == 0 {
		return " (NATS is connected: is the datamap stream there? datamap serve creates it)"
	}
	return " (" + strings.Join(reasons, "; ") + ")"
}

func statusName(s nats.Status) string { return strings.ReplaceAll(s.String(), "_", " ") }

// stop stops the pump and the acker and saves what is left to the
// spool. It returns an ErrUndelivered error when events are left without
// a spool.
func (d *delivery) stop() error {
	close(d.stopping)
	close(d.abandon)
	<-d.pumpDone
	<-d.ackDone
	left := d.leftover
	left = append(left, d.retries...)
	for {
		select {
		case r := <-d.queue:
			left = append(left, d.encode(&r))
			continue
		default:
		}
		break
	}
	var fresh []*outgoing // not already in the spool file
	for _, o := range left {
		if !o.spooled {
			fresh = append(fresh, o)
		}
	}
	if d.spool != nil {
		err := d.spool.append(fresh...)
		if err == nil {
			d.stats.spooled.Add(uint64(len(fresh)))
			if len(left) > 0 {
				d.log.Info("events kept in the spool for the next run", "events", len(left), "dir", d.spoolDir)
			}
		}
		if cerr := d.spool.close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%w: %d events could not be written to the spool: %w", ErrUndelivered, len(fresh), err)
		}
		return nil
	}
	if len(left) > 0 {
		return fmt.Errorf("%w: %d events were not acknowledged before Close's context ended; give Close more time or add WithSpool", ErrUndelivered, len(left))
	}
	return nil
}
