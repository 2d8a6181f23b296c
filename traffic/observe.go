package traffic

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/personal"
)

// Key is what one day aggregate is about.
type Key struct {
	// Day is the UTC day of the span's start, in days since 1970-01-01.
	Day       int32
	System    string
	Host      string
	Class     Class
	Recipient string
	Country   string
}

// Date is the key's day as a time at UTC midnight.
func (k Key) Date() time.Time { return time.Unix(int64(k.Day)*86400, 0).UTC() }

// DayOf is the day number of t, as Key.Day holds it.
func DayOf(t time.Time) int32 { return int32(t.Unix() / 86400) }

// Call is one outgoing call: a span reduced to what is kept of it.
type Call struct {
	Key
	Failed bool
	// At is the span's start (its end when the start is missing), in
	// nanoseconds since the epoch.
	At int64
}

// Sink receives the calls of a request. Add returns an error when it
// cannot take more now (the caller answers "retry later").
type Sink interface {
	Add(calls []Call) error
}

// Outcome is what became of the spans of one request.
type Outcome struct {
	// Calls is how many spans were outgoing calls with a usable peer.
	Calls int
	// Rejected is how many spans were refused, with Message saying why;
	// neither ever holds a value from the spans.
	Rejected int64
	Message  string
}

// Observer turns traces into calls. It is safe for concurrent use.
type Observer struct {
	classifier *Classifier
	now        func() time.Time
	peers      peerCache
}

// NewObserver observes with a classifier.
func NewObserver(c *Classifier) *Observer {
	o := &Observer{classifier: c, now: time.Now}
	o.peers.entries = map[peerKey]peerResult{}
	c.onNewSystem = o.peers.clear
	return o
}

// peerCache remembers what a raw peer (as a span names it) resolved to:
// an organisation's spans name a few hundred hosts, and normalising,
// checking and classifying one costs more than decoding its span. It
// stops growing at maxCachedPeers; what is not cached is resolved again.
type peerCache struct {
	mu      sync.RWMutex
	entries map[peerKey]peerResult
}

const maxCachedPeers = 50_000

type peerKey struct{ raw, broker string }

type peerResult struct {
	host    string
	dest    Destination
	usable  bool
	refused string
}

func (c *peerCache) get(k peerKey) (peerResult, bool) {
	c.mu.RLock()
	r, ok := c.entries[k]
	c.mu.RUnlock()
	return r, ok
}

func (c *peerCache) put(k peerKey, r peerResult) {
	if len(k.raw)+len(k.broker) > 2*maxHostLen {
		return // no host is that long: a span's junk is not kept
	}
	c.mu.Lock()
	if len(c.entries) < maxCachedPeers {
		c.entries[peerKey{strings.Clone(k.raw), strings.Clone(k.broker)}] = r
	}
	c.mu.Unlock()
}

func (c *peerCache) clear() {
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}

// Reasons a span is refused. They are what the sender reads in the OTLP
// partial success, so each says what to do; none holds a span's value.
const (
	reasonNoService    = "resource without service.name: set it in the SDK (OTEL_SERVICE_NAME) or the collector's resource processor"
	reasonBadService   = "service.name is not a system name datamap can keep (it looks personal or holds control characters)"
	reasonNotAllowed   = "service.name is not a system this token may speak for; use that system's ingest token"
	reasonPersonalHost = "the peer host looks like personal data (an e-mail address, a phone number…); the span is refused and nothing of it is kept"
)

// Observe reads the spans of td, hands the calls to sink, and says what
// was refused. speaksFor says which systems the sender may speak for (nil:
// any). It never keeps a reference into td.
func (o *Observer) Observe(td ptrace.Traces, speaksFor func(system string) bool, sink Sink) (Outcome, error) {
	var out Outcome
	reasons := map[string]int64{}
	calls := make([]Call, 0, td.SpanCount())
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		n := spanCount(rs)
		system, ok := serviceName(rs.Resource().Attributes())
		reason := ""
		switch {
		case !ok:
			reason = reasonNoService
		case events.CheckSource(system) != "" || personal.Find(system) != "":
			reason = reasonBadService
		case speaksFor != nil && !speaksFor(system):
			reason = reasonNotAllowed
		}
		if reason != "" {
			reasons[reason] += int64(n)
			continue
		}
		o.classifier.Instrumented(system)
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				call, usable, refused := o.call(system, spans.At(k))
				switch {
				case refused != "":
					reasons[refused]++
				case usable:
					calls = append(calls, call)
				}
			}
		}
	}
	out.Calls = len(calls)
	var parts []string
	for r, n := range reasons {
		out.Rejected += n
		parts = append(parts, fmt.Sprintf("%d spans: %s", n, r))
	}
	sort.Strings(parts)
	out.Message = strings.Join(parts, " | ")
	if len(calls) == 0 {
		return out, nil
	}
	return out, sink.Add(calls)
}

// call reduces a span to a call; usable is false for spans that are not
// outgoing calls or name no peer (they are accepted and ignored).
func (o *Observer) call(system string, span ptrace.Span) (c Call, usable bool, refused string) {
	if k := span.Kind(); k != ptrace.SpanKindClient && k != ptrace.SpanKindProducer {
		return c, false, ""
	}
	raw, broker := peer(span.Attributes())
	if raw == "" {
		return c, false, ""
	}
	k := peerKey{raw, broker}
	p, ok := o.peers.get(k)
	if !ok {
		p = o.resolve(raw, broker)
		o.peers.put(k, p)
	}
	if !p.usable {
		return c, false, p.refused
	}
	at := int64(span.StartTimestamp())
	if at == 0 {
		at = int64(span.EndTimestamp())
	}
	if at <= 0 {
		at = o.now().UnixNano()
	}
	c = Call{
		Key: Key{Day: int32(at / int64(24*time.Hour)), System: system, Host: p.host,
			Class: p.dest.Class, Recipient: p.dest.Recipient, Country: p.dest.Country},
		Failed: span.Status().Code() == ptrace.StatusCodeError,
		At:     at,
	}
	return c, true, ""
}

// resolve normalises, checks and classifies a raw peer.
func (o *Observer) resolve(raw, broker string) peerResult {
	host, _, ok := NormalizeHost(raw)
	if broker != "" {
		host, ok = brokerDestination(broker, raw)
	}
	if !ok {
		if personal.Find(raw) != "" {
			return peerResult{refused: reasonPersonalHost}
		}
		return peerResult{}
	}
	if host != PrivateAddress && host != PublicAddress && personal.Find(host) != "" {
		return peerResult{refused: reasonPersonalHost}
	}
	d := brokerClass(broker)
	if broker == "" {
		d = o.classifier.Classify(host)
	}
	return peerResult{host: strings.Clone(host), dest: d, usable: true}
}

func serviceName(attrs pcommon.Map) (string, bool) {
	v, ok := attrs.Get("service.name")
	if !ok || v.Type() != pcommon.ValueTypeStr {
		return "", false
	}
	s := strings.TrimSpace(v.Str())
	// unknown_service is what SDKs report when no name was configured.
	if s == "" || strings.HasPrefix(s, "unknown_service") {
		return "", false
	}
	return s, true
}

// peer finds the peer of an outgoing call in its attributes, from the
// current semantic conventions first, then the older ones. It reads the
// attributes once; only the host part of a URL is ever looked at. For a
// message sent to a broker that names no address, broker is the
// messaging system and the peer its destination.
func peer(attrs pcommon.Map) (raw, broker string) {
	var serverAddress, netPeerName, urlFull, httpURL, peerService, msgSystem, msgDest, msgTemplate string
	for k, v := range attrs.All() {
		if v.Type() != pcommon.ValueTypeStr {
			continue
		}
		switch k {
		case "server.address":
			serverAddress = v.Str()
		case "net.peer.name":
			netPeerName = v.Str()
		case "url.full":
			urlFull = v.Str()
		case "http.url":
			httpURL = v.Str()
		case "peer.service":
			peerService = v.Str()
		case "messaging.system":
			msgSystem = v.Str()
		case "messaging.destination.name", "messaging.destination":
			msgDest = v.Str()
		case "messaging.destination.template":
			msgTemplate = v.Str()
		}
	}
	switch {
	case serverAddress != "":
		return serverAddress, ""
	case urlFull != "":
		return hostOfURL(urlFull), ""
	case netPeerName != "":
		return netPeerName, ""
	case httpURL != "":
		return hostOfURL(httpURL), ""
	case peerService != "":
		return peerService, ""
	case msgSystem != "" && (msgTemplate != "" || msgDest != ""):
		// A template ("orders.{region}") is preferred: a concrete
		// destination name may hold an identifier.
		if msgTemplate != "" {
			return msgTemplate, msgSystem
		}
		return msgDest, msgSystem
	}
	return "", ""
}

// brokerDestination is the host label of a destination named within a
// messaging system: "kafka/orders". Characters a host name has not are
// replaced, so that the label stays one token.
func brokerDestination(system, dest string) (string, bool) {
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.', r == '_':
				return r
			case r >= 'A' && r <= 'Z':
				return r + 'a' - 'A'
			}
			return '_'
		}, s)
	}
	label := clean(system) + "/" + clean(dest)
	if len(label) > maxHostLen {
		return "", false
	}
	return label, true
}

// brokerClass classifies a destination by its messaging system: the cloud
// ones are their vendor's (in the vendor's home country, since the region
// is not known), any other is the organisation's own broker.
func brokerClass(system string) Destination {
	switch system {
	case "aws_sqs", "aws.sns", "aws_sns":
		return Destination{Class: Vendor, Recipient: "Amazon Web Services", Country: "US"}
	case "gcp_pubsub":
		return Destination{Class: Vendor, Recipient: "Google Cloud", Country: "US"}
	case "servicebus", "eventhubs", "eventgrid":
		return Destination{Class: Vendor, Recipient: "Microsoft Azure", Country: "US"}
	}
	return Destination{Class: Internal}
}

func spanCount(rs ptrace.ResourceSpans) int {
	n := 0
	for j := 0; j < rs.ScopeSpans().Len(); j++ {
		n += rs.ScopeSpans().At(j).Spans().Len()
	}
	return n
}

// Observation is one stored day aggregate: the calls of one system to one
// destination on one day. Spans count at least once (a sender retries a
// batch whose answer it did not get); First and Last are exact.
type Observation struct {
	Key
	Spans, Errors uint64
	First, Last   time.Time
}
