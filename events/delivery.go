package events

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"
)

// outgoing is an encoded event on its way to JetStream.
type outgoing struct {
	kind    Kind
	msgID   string // Nats-Msg-Id: Identity(source, id)
	raw     []byte
	sc      trace.SpanContext
	queued  time.Time
	spooled bool // read from the spool: the file keeps it until it is acked
}

type inflight struct {
	o    *outgoing
	ack  jetstream.PubAckFuture
	sent time.Time // the ack timeout counts from here
}

// delivery is the Publisher's background machinery: the pump takes events
// from the retry list, the spool and the queue, in that order, and
// publishes them asynchronously; the acker waits for their acks in order
// and hands failures back to the retry list (or the spool).
type delivery struct {
	inflight chan inflight
	kick     chan struct{} // the spool or the retry list has work
	stopping chan struct{} // closed by stopDelivery: the pump returns
	abandon  chan struct{} // closed by stopDelivery: the acker stops waiting
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

const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = time.Second
	stallWait  = 100 * time.Millisecond
)

func (p *Publisher) startDelivery() {
	d := &p.delivery
	d.inflight = make(chan inflight, p.maxInFlight)
	d.kick = make(chan struct{}, 1)
	d.stopping = make(chan struct{})
	d.abandon = make(chan struct{})
	d.pumpDone = make(chan struct{})
	d.ackDone = make(chan struct{})
	go p.pump()
	go p.ackLoop()
}

func (p *Publisher) kickPump() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// pump publishes until stopDelivery.
func (p *Publisher) pump() {
	defer close(p.pumpDone)
	defer close(p.inflight)
	backoff := time.Duration(0)
	for {
		o, retry := p.next()
		if o == nil {
			return
		}
		if retry {
			// Pause before a retry unless acks are coming through: retries
			// go at full speed once NATS is back. (Checking only for acks
			// since the previous retry would pace a whole window of retries
			// after a stream leader's loss at one pause each, since their
			// acks arrive after the next retry is sent.)
			if time.Since(time.Unix(0, p.lastAck.Load())) < maxBackoff {
				backoff = 0
			} else {
				backoff = min(max(2*backoff, minBackoff), maxBackoff)
				if !p.pause(backoff) {
					p.pushRetry(o)
					return
				}
			}
		}
		if !p.send(o) {
			return
		}
	}
}

// next returns the next event to publish, whether it is a retry, or nil
// once the pump must stop.
func (p *Publisher) next() (*outgoing, bool) {
	for {
		select {
		case <-p.stopping:
			return nil, false
		default:
		}
		if o := p.popRetry(); o != nil {
			return o, true
		}
		if p.spool != nil && p.spool.hasUnread() {
			// Keep the order: what is queued goes behind what is spooled.
			p.drainToSpool()
			if o, err := p.spool.next(); err != nil {
				p.log.Error("reading the spool failed; retrying", "err", err)
				if !p.pause(maxBackoff) {
					return nil, false
				}
			} else if o != nil {
				return o, false
			}
			continue
		}
		select {
		case r := <-p.queue:
			return p.encode(&r), false
		case <-p.kick:
		case <-p.stopping:
			return nil, false
		}
	}
}

// send publishes o asynchronously and hands the ack to the acker. It
// returns false when the pump must stop (o is then in the retry list).
func (p *Publisher) send(o *outgoing) bool {
	backoff := minBackoff
	for {
		if p.spool != nil && !o.spooled && !p.js.Conn().IsConnected() {
			p.toSpool(o) // NATS is down: straight to disk
			return true
		}
		msg := &nats.Msg{Subject: Subject(o.kind), Data: o.raw, Header: nats.Header{jetstream.MsgIDHeader: []string{o.msgID}}}
		ack, err := p.js.PublishMsgAsync(msg, jetstream.WithStallWait(stallWait))
		if err == nil {
			select {
			case p.inflight <- inflight{o: o, ack: ack, sent: time.Now()}:
				return true
			case <-p.stopping:
				p.pushRetry(o) // may be acked anyway; a retry is deduplicated
				return false
			}
		}
		// Refused before it left (ErrTooManyStalledMsgs, reconnect buffer
		// full, closed connection): not published, so try again.
		p.stats.retried.Add(1)
		if p.spool != nil && !o.spooled {
			p.toSpool(o)
			return true
		}
		if !p.pause(backoff) {
			p.pushRetry(o)
			return false
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// pause waits d, moving queued events to the spool meanwhile (so callers
// don't wait on a NATS outage). It returns false when the pump must stop.
func (p *Publisher) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		var queue chan record
		if p.spool != nil {
			queue = p.queue
		}
		select {
		case <-t.C:
			return true
		case <-p.stopping:
			return false
		case r := <-queue:
			p.toSpool(p.encode(&r))
		}
	}
}

// ackLoop waits for each publish's ack, in publish order. Each publish
// times out ackTimeout after it was sent, not after the previous one was
// settled: when a stream leader dies with a full window of publishes in
// flight, their acks are all lost together, and the window must be retried
// after one timeout, not after one timeout per publish.
func (p *Publisher) ackLoop() {
	defer close(p.ackDone)
	timer := time.NewTimer(p.ackTimeout)
	defer timer.Stop()
	abandoned := false
	for in := range p.inflight {
		if abandoned {
			p.settle(in, false)
			continue
		}
		timer.Reset(time.Until(in.sent.Add(p.ackTimeout)))
		select {
		case <-in.ack.Ok():
			p.acknowledged(in.o)
		case err := <-in.ack.Err():
			p.failed(in.o, err)
		case <-timer.C:
			p.failed(in.o, jetstream.ErrAsyncPublishTimeout)
		case <-p.abandon:
			abandoned = true
			p.settle(in, false)
		}
	}
}

// settle takes an ack that is already there, or keeps o as leftover.
func (p *Publisher) settle(in inflight, _ bool) {
	select {
	case <-in.ack.Ok():
		p.acknowledged(in.o)
	default:
		p.leftoverMu.Lock()
		p.leftover = append(p.leftover, in.o)
		p.leftoverMu.Unlock()
	}
}

func (p *Publisher) acknowledged(o *outgoing) {
	if o.spooled {
		p.spool.done()
	}
	p.lastAck.Store(time.Now().UnixNano())
	p.stats.published.Add(1)
	p.stats.pending.Add(-1)
	p.telemetry.published(o)
}

func (p *Publisher) failed(o *outgoing, err error) {
	p.stats.retried.Add(1)
	p.log.Debug("publish not acknowledged; retrying with the same Nats-Msg-Id", "id", o.msgID, "err", err)
	if p.spool != nil && !o.spooled {
		p.toSpool(o)
		return
	}
	p.pushRetry(o)
	p.kickPump()
}

func (p *Publisher) pushRetry(o *outgoing) {
	p.retryMu.Lock()
	p.retries = append(p.retries, o)
	p.retryMu.Unlock()
}

func (p *Publisher) popRetry() *outgoing {
	p.retryMu.Lock()
	defer p.retryMu.Unlock()
	if len(p.retries) == 0 {
		return nil
	}
	o := p.retries[0]
	p.retries[0] = nil
	p.retries = p.retries[1:]
	return o
}

// toSpool writes o to the spool; if the disk refuses, o stays in memory.
func (p *Publisher) toSpool(o *outgoing) {
	if err := p.spool.append(o); err != nil {
		p.log.Error("writing to the spool failed; keeping the event in memory", "err", err)
		p.pushRetry(o)
		return
	}
	p.stats.spooled.Add(1)
}

// drainToSpool moves what is queued now to the spool, in one write.
func (p *Publisher) drainToSpool() {
	var batch []*outgoing
	for len(batch) < 4096 {
		select {
		case r := <-p.queue:
			batch = append(batch, p.encode(&r))
			continue
		default:
		}
		break
	}
	if len(batch) == 0 {
		return
	}
	if err := p.spool.append(batch...); err != nil {
		p.log.Error("writing to the spool failed; keeping the events in memory", "err", err)
		for _, o := range batch {
			p.pushRetry(o)
		}
		return
	}
	p.stats.spooled.Add(uint64(len(batch)))
}

// encode renders a record in the wire format.
func (p *Publisher) encode(r *record) *outgoing {
	var id, source string
	if r.ext != nil {
		id, source = r.ext.id, r.ext.source
	} else {
		var idBuf [36]byte
		encodeUUID(idBuf[:], r.id)
		id, source = string(idBuf[:]), p.source
	}
	ev := r.flow.event(id, r.at, r.count)
	ev.Source = source
	if r.ext != nil {
		ev.TraceParent, ev.TraceState = r.ext.traceParent, r.ext.traceState
	}
	raw := appendEvent(make([]byte, 0, 512), &ev, r.sc)
	return &outgoing{kind: r.flow.kind, msgID: Identity(source, id), raw: raw, sc: r.sc, queued: r.queued}
}

// waitDelivered waits until nothing is pending or ctx ends.
func (p *Publisher) waitDelivered(ctx context.Context) error {
	if p.stats.pending.Load() <= 0 {
		return nil
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for p.stats.pending.Load() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("events: %d events not yet acknowledged by JetStream: %w", p.stats.pending.Load(), ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}

// stopDelivery stops the pump and the acker and saves what is left to the
// spool. It returns an ErrUndelivered error when events are left without
// a spool.
func (p *Publisher) stopDelivery() error {
	close(p.stopping)
	close(p.abandon)
	<-p.pumpDone
	<-p.ackDone
	left := p.leftover
	left = append(left, p.retries...)
	for {
		select {
		case r := <-p.queue:
			left = append(left, p.encode(&r))
			continue
		default:
		}
		break
	}
	defer p.telemetry.close()
	var fresh []*outgoing // not already in the spool file
	for _, o := range left {
		if !o.spooled {
			fresh = append(fresh, o)
		}
	}
	if p.spool != nil {
		err := p.spool.append(fresh...)
		if err == nil {
			p.stats.spooled.Add(uint64(len(fresh)))
			if len(left) > 0 {
				p.log.Info("events kept in the spool for the next run", "events", len(left), "dir", p.spoolDir)
			}
		}
		if cerr := p.spool.close(); err == nil {
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
