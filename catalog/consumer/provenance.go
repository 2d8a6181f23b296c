package consumer

import (
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/events"
)

// Credentials the consumer derives from a subject. NATS does not tell a
// subscriber who published a message, so the subject is the evidence:
// NATS allows a service's user to publish on its own source's subjects
// only, and only datamap's own identity on the ingest's.
const (
	// CredentialLegacy is recorded for an event that came on an old
	// shared subject, which any publisher could use for any source.
	CredentialLegacy = "nats:legacy"
	// natsCredentialPrefix is followed by the source whose subject the
	// event came on.
	natsCredentialPrefix = "nats:"
)

// ingestCredential is what the HTTP ingest writes in the
// events.CredentialHeader: "http:" and the token's name.
var ingestCredential = regexp.MustCompile(`^http:[A-Za-z0-9._#-]{1,64}$`)

// provenance binds each event to the subject it arrived on and names the
// credential that brought it.
type provenance struct {
	refuseLegacy bool
	log          *slog.Logger

	mu       sync.Mutex
	lastWarn time.Time
	unwarned int // legacy events since the last warning
}

// legacyWarnEvery bounds the warnings about legacy subjects, which would
// otherwise be one per event.
const legacyWarnEvery = time.Minute

// credential returns the credential that brought ev in m, or why ev must
// not be stored: its subject is not an event subject, is another kind's
// or another source's, is a legacy one that is refused, or is the
// ingest's without the credential the ingest always sets.
func (p *provenance) credential(m jetstream.Msg, ev *events.Event) (string, error) {
	route, ok := events.ParseSubject(m.Subject())
	switch {
	case !ok || route.Kind != ev.Kind:
		return "", &WrongSubjectError{Subject: m.Subject(), Type: ev.Kind.Type(), Source: ev.Source}
	case route.Legacy:
		if p.refuseLegacy {
			return "", &LegacySubjectError{Subject: m.Subject(), Source: ev.Source, Kind: ev.Kind}
		}
		p.warnLegacy(m.Subject(), ev.Source)
		return CredentialLegacy, nil
	case route.SourceToken != events.SourceToken(ev.Source):
		return "", &SourceMismatchError{Subject: m.Subject(), Source: ev.Source, Kind: ev.Kind}
	case route.Ingest:
		// Believed only here: no service may publish on these subjects.
		cred := m.Headers().Get(events.CredentialHeader)
		if !ingestCredential.MatchString(cred) {
			return "", &WrongSubjectError{Subject: m.Subject(), Type: ev.Kind.Type(), Source: ev.Source,
				Why: "relayed without the " + events.CredentialHeader + " header the HTTP ingest sets; only the ingest publishes there"}
		}
		return cred, nil
	}
	return natsCredentialPrefix + ev.Source, nil
}

func (p *provenance) warnLegacy(subject, source string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.unwarned++
	if time.Since(p.lastWarn) < legacyWarnEvery {
		return
	}
	p.log.Warn("events arrive on a legacy subject, which any publisher can use for any source; upgrade the publisher's SDK "+
		"(it publishes on datamap.events.<source>.<kind>), then set DATAMAP_LEGACY_SUBJECTS=false (docs/security.md)",
		"subject", subject, "source", source, "events_since_last_warning", p.unwarned)
	p.lastWarn, p.unwarned = time.Now(), 0
}

// WrongSubjectError refuses an event published on a subject that is not
// its kind's, or not an event subject at all: the subject routes and
// authorizes, so the two must agree.
type WrongSubjectError struct {
	Subject string // where it was published
	Type    string // what it says it is
	Source  string // who it says sent it
	Why     string // set when the subject's shape is right but something else is wrong
}

func (e *WrongSubjectError) Error() string {
	if e.Why != "" {
		return fmt.Sprintf("subject %q: %s", e.Subject, e.Why)
	}
	want := e.Type
	if k, ok := events.KindOfType(e.Type); ok {
		want = events.SourceSubject(e.Source, k)
	}
	return fmt.Sprintf("type %q does not match subject %q; publish %s events of source %q on %s", e.Type, e.Subject, e.Type, e.Source, want)
}

// Is makes errors.Is(err, events.ErrInvalid) true: the event can never be stored.
func (e *WrongSubjectError) Is(target error) bool { return target == events.ErrInvalid }

// SourceMismatchError refuses an event whose source is not the one of the
// subject it arrived on: a publisher speaking for another system.
type SourceMismatchError struct {
	Subject string
	Source  string
	Kind    events.Kind
}

func (e *SourceMismatchError) Error() string {
	return fmt.Sprintf("source %q does not match subject %q: a publisher may speak only for the source its subject names; events of %q go on %s",
		e.Source, e.Subject, e.Source, events.SourceSubject(e.Source, e.Kind))
}

// Is makes errors.Is(err, events.ErrInvalid) true.
func (e *SourceMismatchError) Is(target error) bool { return target == events.ErrInvalid }

// LegacySubjectError refuses an event on an old shared subject once
// DATAMAP_LEGACY_SUBJECTS is false.
type LegacySubjectError struct {
	Subject string
	Source  string
	Kind    events.Kind
}

func (e *LegacySubjectError) Error() string {
	return fmt.Sprintf("subject %q is a legacy subject, refused because DATAMAP_LEGACY_SUBJECTS=false; publish on %s (a current SDK does), or replay this letter after setting DATAMAP_LEGACY_SUBJECTS=true",
		e.Subject, events.SourceSubject(e.Source, e.Kind))
}

// Is makes errors.Is(err, events.ErrInvalid) true.
func (e *LegacySubjectError) Is(target error) bool { return target == events.ErrInvalid }
