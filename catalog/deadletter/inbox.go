package deadletter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/events"
)

// This file is the reading side of the dead-letter stream: list, show,
// replay and purge the letters the Sink wrote.
//
// Contracts:
//
//   - A dead letter's ID is its sequence in StreamName. It is stable and
//     never reused: a replayed letter that fails again comes back under a
//     new ID (with Datamap-Replay-Of naming the old one).
//   - Nothing here acknowledges anything: the dead-letter stream is a plain
//     log (no consumer owns it). Listing uses a short-lived consumer
//     without acks; a letter leaves the stream only by Replay (after the
//     republished event is acknowledged by the events stream), by Purge, or
//     by someone deleting it by hand.
//   - Replay is crash safe: it publishes, waits for the PubAck, and only
//     then deletes the letter. A crash in between leaves the letter in
//     place, so replaying it again republishes it: an event may be
//     published twice, never lost. The second publish carries the same
//     Nats-Msg-Id (see ReplayMsgID), so within the events stream's dedup
//     window JetStream drops it; after the window the catalog deduplicates
//     by event identity (source + id) anyway.
//   - Every function is safe to run concurrently with the consumer writing
//     new letters and with another List, Replay or Purge: letters that
//     another caller deleted meanwhile are reported missing, not failed.

// StreamName is the JetStream stream of dead letters, and SubjectPrefix the
// prefix its subjects have before the original subject. consumer.EnsureStreams
// creates the stream with these names.
const (
	StreamName    = "DATAMAP_DEADLETTER"
	SubjectPrefix = "datamap.deadletter"
)

// HeaderReplayOf is set on a replayed event to the ID of the dead letter it
// came from. If the event fails again, the Sink copies it into the new dead
// letter, which thereby names its predecessor.
const HeaderReplayOf = "Datamap-Replay-Of"

// ErrNotFound means there is no dead letter with that ID: it never existed,
// or it was replayed or purged.
var ErrNotFound = errors.New("deadletter: no such dead letter")

// ErrNotReplayable marks a dead letter whose original subject is not an
// event subject, so republishing it would not reach the catalog.
var ErrNotReplayable = errors.New("deadletter: not replayable")

// Letter is one dead letter.
type Letter struct {
	// ID is the letter's sequence in the dead-letter stream.
	ID uint64
	// FailedAt is when the event failed (Datamap-Failed-At), or, when that
	// header is missing or malformed, when the stream stored the letter.
	FailedAt time.Time
	// StoredAt is when the dead-letter stream stored the letter.
	StoredAt time.Time
	// Subject is the subject the event was originally published on.
	Subject string
	// Reason says why the event could not be stored.
	Reason string
	// Deliveries is how often the original was delivered before it was
	// dead-lettered; 0 when unknown.
	Deliveries uint64
	// OriginalSequence is the original's sequence in the events stream; 0
	// when unknown.
	OriginalSequence uint64
	// EventID and Source are read leniently from the body: "" when the body
	// is not JSON or lacks them (that may be why it failed).
	EventID, Source string
	// Size is the body's length in bytes.
	Size int
	// Header holds every header of the letter: the original's and the
	// Datamap-* ones the Sink added.
	Header nats.Header
	// Body is the original event, byte for byte unless it held personal
	// values, which the Sink redacted (events.Redact).
	Body []byte
}

// Identity is the event's identity (source/id), or "" when the body does
// not say.
func (l Letter) Identity() string {
	if l.Source == "" || l.EventID == "" {
		return ""
	}
	return events.Identity(l.Source, l.EventID)
}

// Replayable returns nil when the letter can be republished: its original
// subject is an event subject. The error wraps ErrNotReplayable.
func (l Letter) Replayable() error {
	if !events.IsEventSubject(l.Subject) {
		return fmt.Errorf("%w: dead letter %d: original subject %q is not under %s.> or %s.>", ErrNotReplayable, l.ID, l.Subject, events.SubjectPrefix, events.IngestSubjectPrefix)
	}
	return nil
}

// ReplayMsgID is the Nats-Msg-Id a replay of l is published with:
// "replay/<letter ID>/<source>/<id>" (or "replay/<letter ID>" when the body
// has no identity). It must differ from the original's Nats-Msg-Id — the
// event's identity — because the original may still be inside the events
// stream's dedup window, where JetStream would silently drop the replay; and
// it must be the same on every attempt to replay the same letter, so that a
// replay retried after a crash is dropped as a duplicate instead.
func ReplayMsgID(l Letter) string {
	if id := l.Identity(); id != "" {
		return "replay/" + strconv.FormatUint(l.ID, 10) + "/" + id
	}
	return "replay/" + strconv.FormatUint(l.ID, 10)
}

// Filter selects dead letters. The zero Filter selects all of them.
type Filter struct {
	// Subject keeps letters whose original subject matches, e.g.
	// "datamap.events.collected" or "datamap.events.>".
	Subject string
	// FailedBefore keeps letters whose FailedAt is before it.
	FailedBefore time.Time
	// Limit returns at most this many letters, the oldest first; 0 means
	// no limit.
	Limit int
}

// Count returns how many dead letters the stream holds.
func Count(ctx context.Context, js jetstream.JetStream) (uint64, error) {
	s, err := stream(ctx, js)
	if err != nil {
		return 0, err
	}
	return s.CachedInfo().State.Msgs, nil
}

// List returns the dead letters that match f, in ID order (oldest first),
// each with its headers and body. It reads the stream with a short-lived
// consumer up to the last letter stored when it started; letters that
// arrive meanwhile are left for the next call. It acknowledges nothing and
// changes nothing.
func List(ctx context.Context, js jetstream.JetStream, f Filter) ([]Letter, error) {
	var out []Letter
	err := scan(ctx, js, f.Subject, false, func(l Letter) bool {
		if !f.FailedBefore.IsZero() && !l.FailedAt.Before(f.FailedBefore) {
			return true
		}
		out = append(out, l)
		return f.Limit <= 0 || len(out) < f.Limit
	})
	return out, err
}

// Get returns one dead letter with its headers and body. The error wraps
// ErrNotFound when there is no letter with that ID.
func Get(ctx context.Context, js jetstream.JetStream, id uint64) (Letter, error) {
	s, err := stream(ctx, js)
	if err != nil {
		return Letter{}, err
	}
	return get(ctx, s, id)
}

func get(ctx context.Context, s jetstream.Stream, id uint64) (Letter, error) {
	if id == 0 {
		return Letter{}, fmt.Errorf("%w: %d", ErrNotFound, id)
	}
	m, err := s.GetMsg(ctx, id)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return Letter{}, fmt.Errorf("%w: %d", ErrNotFound, id)
	}
	if err != nil {
		return Letter{}, fmt.Errorf("deadletter: get %d: %w", id, err)
	}
	return newLetter(m.Sequence, m.Time, m.Header, m.Data), nil
}

// ReplayResult says what Replay did.
type ReplayResult struct {
	// Replayed are the letters republished (acknowledged by the events
	// stream) and then deleted, in the order given.
	Replayed []uint64
	// Missing are IDs without a letter: never existed, or already replayed
	// or purged (possibly by a concurrent replay).
	Missing []uint64
}

// Replay republishes each dead letter's body to its original subject and
// deletes the letter once the events stream has acknowledged the publish.
// The republished message keeps the original headers except the Nats-* and
// Datamap-* ones (but events.CredentialHeader); it gets Nats-Msg-Id ReplayMsgID(letter) and
// HeaderReplayOf. The catalog consumer then validates it again like any
// event: valid, it is stored (once, however often it was replayed); still
// invalid, it comes back to the dead-letter stream under a new ID with the
// new reason.
//
// Replay checks every letter first and replays none if any is not
// replayable (the error wraps ErrNotReplayable). Otherwise it stops at the
// first error, returning what it did so far; replaying the same IDs again
// is safe (see the crash-safety contract at the top of this file).
func Replay(ctx context.Context, js jetstream.JetStream, ids []uint64) (ReplayResult, error) {
	var res ReplayResult
	s, err := stream(ctx, js)
	if err != nil {
		return res, err
	}
	letters := make([]Letter, 0, len(ids))
	for _, id := range ids {
		l, err := get(ctx, s, id)
		if errors.Is(err, ErrNotFound) {
			res.Missing = append(res.Missing, id)
			continue
		}
		if err != nil {
			return res, err
		}
		if err := l.Replayable(); err != nil {
			return res, err
		}
		letters = append(letters, l)
	}
	for _, l := range letters {
		msg := nats.NewMsg(l.Subject)
		msg.Data = l.Body
		for k, vs := range l.Header {
			// The credential an ingest relay carried stays: the replayed
			// event was brought by it, and goes back on the ingest's subject.
			if strings.HasPrefix(k, "Nats-") || (strings.HasPrefix(k, "Datamap-") && k != events.CredentialHeader) {
				continue
			}
			msg.Header[k] = vs
		}
		msg.Header.Set(jetstream.MsgIDHeader, ReplayMsgID(l))
		msg.Header.Set(HeaderReplayOf, strconv.FormatUint(l.ID, 10))
		// No WithExpectStream: its header would be stored with the event,
		// and copied into the dead letter should the event fail again. A
		// duplicate ack (an earlier attempt was stored) is a success too.
		ack, err := js.PublishMsg(ctx, msg)
		if err != nil {
			return res, fmt.Errorf("deadletter: replay %d to %s: %w", l.ID, l.Subject, err)
		}
		if ack.Stream != events.StreamName {
			return res, fmt.Errorf("deadletter: replay %d: %s is stored by stream %s, not %s; the letter is kept", l.ID, l.Subject, ack.Stream, events.StreamName)
		}
		if err := s.DeleteMsg(ctx, l.ID); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return res, fmt.Errorf("deadletter: %d was replayed but could not be deleted (replaying it again is harmless): %w", l.ID, err)
		}
		res.Replayed = append(res.Replayed, l.ID)
	}
	return res, nil
}

// Purge deletes the dead letters whose FailedAt is more than olderThan ago
// and returns how many it deleted. FailedAt is the Datamap-Failed-At header
// the Sink sets (falling back to the time the stream stored the letter when
// the header is missing or malformed), so a letter replayed and failed
// again counts from its new failure. Purged letters are gone: they cannot
// be replayed.
func Purge(ctx context.Context, js jetstream.JetStream, olderThan time.Duration) (int, error) {
	s, err := stream(ctx, js)
	if err != nil {
		return 0, err
	}
	cutoff := time.Now().Add(-olderThan)
	// Letters are appended in failure order, so the old ones are usually a
	// prefix of the stream: that prefix goes in one purge request, any old
	// letter after a newer one is deleted on its own.
	var old []uint64
	prefix, prefixLen, prefixEnd := true, 0, uint64(0)
	err = scan(ctx, js, "", true, func(l Letter) bool {
		switch {
		case !l.FailedAt.Before(cutoff):
			prefix = false
		case prefix:
			prefixLen, prefixEnd = prefixLen+1, l.ID
		default:
			old = append(old, l.ID)
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	n := 0
	if prefixEnd > 0 {
		// Every letter below prefixEnd+1 was scanned and is old; letters
		// stored meanwhile get higher sequences and stay.
		if err := s.Purge(ctx, jetstream.WithPurgeSequence(prefixEnd+1)); err != nil {
			return 0, fmt.Errorf("deadletter: purge: %w", err)
		}
		n = prefixLen
	}
	for _, id := range old {
		err := s.DeleteMsg(ctx, id)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // replayed or purged meanwhile
		}
		if err != nil {
			return n, fmt.Errorf("deadletter: purge %d: %w", id, err)
		}
		n++
	}
	return n, nil
}

func stream(ctx context.Context, js jetstream.JetStream) (jetstream.Stream, error) {
	s, err := js.Stream(ctx, StreamName)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("deadletter: stream %s does not exist; `datamap serve` creates it: %w", StreamName, err)
	}
	if err != nil {
		return nil, fmt.Errorf("deadletter: stream %s: %w", StreamName, err)
	}
	return s, nil
}

// scan calls fn with each letter whose original subject matches subject
// ("" for all), in ID order, up to the last letter stored when scan
// started, until fn returns false.
func scan(ctx context.Context, js jetstream.JetStream, subject string, headersOnly bool, fn func(Letter) bool) error {
	return scanFrom(ctx, js, 0, subject, headersOnly, fn)
}

// scanFrom is scan starting at the letter with ID from (0: the first).
func scanFrom(ctx context.Context, js jetstream.JetStream, from uint64, subject string, headersOnly bool, fn func(Letter) bool) error {
	s, err := stream(ctx, js)
	if err != nil {
		return err
	}
	state := s.CachedInfo().State
	if state.Msgs == 0 {
		return nil
	}
	// One ephemeral consumer for the whole scan, deleted when scan returns,
	// or by the server after InactiveThreshold should this process die. Not
	// an ordered consumer: that one replaces its consumer on every fetch and
	// deletes the old one in the background, so a scan would leave
	// consumers behind for a moment. Acks are off, so reading changes nothing.
	cfg := jetstream.ConsumerConfig{AckPolicy: jetstream.AckNonePolicy, DeliverPolicy: jetstream.DeliverAllPolicy,
		HeadersOnly: headersOnly, MemoryStorage: true, InactiveThreshold: 30 * time.Second}
	if from > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from
	}
	if subject != "" {
		cfg.FilterSubjects = []string{SubjectPrefix + "." + subject}
	}
	c, err := s.CreateConsumer(ctx, cfg)
	if err != nil {
		return fmt.Errorf("deadletter: read %s: %w", StreamName, err)
	}
	defer func() {
		_ = js.DeleteConsumer(context.WithoutCancel(ctx), StreamName, c.CachedInfo().Name)
	}()
	for {
		// FetchNoWait returns what is stored now and never waits for more.
		batch, err := c.FetchNoWait(500)
		if err != nil {
			return fmt.Errorf("deadletter: read %s: %w", StreamName, err)
		}
		n := 0
		done := false
		for m := range batch.Messages() {
			n++
			if done {
				continue // drain the batch
			}
			meta, err := m.Metadata()
			if err != nil {
				return err
			}
			seq := meta.Sequence.Stream
			if seq > state.LastSeq {
				done = true
				continue
			}
			data := m.Data()
			l := newLetter(seq, meta.Timestamp, m.Headers(), data)
			if headersOnly {
				l.Body = nil
				if size, err := strconv.Atoi(m.Headers().Get("Nats-Msg-Size")); err == nil {
					l.Size = size
				}
			}
			if !fn(l) || seq == state.LastSeq || meta.NumPending == 0 {
				done = true
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, nats.ErrTimeout) {
			return fmt.Errorf("deadletter: read %s: %w", StreamName, err)
		}
		if done || n == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// newLetter reads a letter from a stored message, leniently: a header or a
// body field that cannot be parsed is left zero.
func newLetter(seq uint64, stored time.Time, h nats.Header, body []byte) Letter {
	l := Letter{ID: seq, StoredAt: stored.UTC(), FailedAt: stored.UTC(), Header: h, Body: body, Size: len(body),
		Subject: h.Get(HeaderOriginalSubject), Reason: h.Get(HeaderReason)}
	if t, err := time.Parse(time.RFC3339Nano, h.Get(HeaderFailedAt)); err == nil {
		l.FailedAt = t.UTC()
	}
	l.Deliveries, _ = strconv.ParseUint(h.Get(HeaderDeliveries), 10, 64)
	l.OriginalSequence, _ = strconv.ParseUint(h.Get(HeaderStreamSequence), 10, 64)
	var probe struct {
		ID     any `json:"id"`
		Source any `json:"source"`
	}
	if json.Unmarshal(body, &probe) == nil {
		l.EventID, _ = probe.ID.(string)
		l.Source, _ = probe.Source.(string)
	}
	return l
}
