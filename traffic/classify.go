package traffic

import (
	"strings"
	"sync"

	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/traffic/hostpattern"
	"github.com/back-trace/datamap/traffic/vendors"
)

// Class says what kind of destination a peer is.
type Class string

const (
	// Internal is a call between the organisation's own systems: a private
	// or loopback address, a cluster-local name, a configured internal
	// suffix, or another instrumented service.
	Internal Class = "internal"
	// Recipient is a recipient the registry declares (its hosts: match).
	Recipient Class = "recipient"
	// Vendor is a processor of the vendor catalogue that no registry
	// recipient's hosts: match.
	Vendor Class = "vendor"
	// Unknown is an external host nobody knows yet: the review queue.
	Unknown Class = "unknown"
)

// Destination is what a peer host is found to be.
type Destination struct {
	Class Class
	// Recipient is the registry recipient's or the vendor's name; empty for
	// internal and unknown destinations.
	Recipient string
	// Country is where the endpoint is (ISO 3166-1): the registry
	// recipient's, the vendor region's or the vendor's; empty when unknown.
	Country string
}

// maxKnownSystems bounds the set of instrumented services remembered as
// internal peers; a real organisation has hundreds, not tens of thousands.
const maxKnownSystems = 10000

// Classifier classifies peer hosts. It is safe for concurrent use.
type Classifier struct {
	recipients hostpattern.Table[Destination]
	vendors    *vendors.Catalogue
	internal   []string // suffixes, each with its leading dot

	mu      sync.RWMutex
	systems map[string]bool
	// onNewSystem is told when a system is first seen: a peer of its name
	// becomes internal, so what was concluded of such a peer is stale.
	onNewSystem func()
}

// DefaultInternalSuffixes are the names that are internal everywhere:
// Kubernetes services, mDNS, and the names RFC 6762 and RFC 8375 reserve
// for private use.
var DefaultInternalSuffixes = []string{"svc.cluster.local", "cluster.local", "local", "internal", "localhost", "home.arpa", "lan", "intranet", "corp"}

// NewClassifier classifies against a registry's recipients (their hosts:;
// nil for none), a vendor catalogue (nil for the built-in one), and
// internal suffixes added to DefaultInternalSuffixes ("corp.example.com"
// makes every host below it internal).
func NewClassifier(reg *registry.Registry, cat *vendors.Catalogue, internalSuffixes []string) *Classifier {
	if cat == nil {
		cat = vendors.Default()
	}
	c := &Classifier{vendors: cat, systems: map[string]bool{}}
	for _, s := range append(append([]string(nil), DefaultInternalSuffixes...), internalSuffixes...) {
		if s = strings.Trim(strings.ToLower(strings.TrimSpace(s)), ".*"); s != "" {
			c.internal = append(c.internal, "."+s)
		}
	}
	if reg != nil {
		for _, a := range reg.AllActivities() {
			for _, r := range a.Recipients {
				for _, h := range r.Hosts {
					c.recipients.Add(h, Destination{Class: Recipient, Recipient: r.Name, Country: r.Country})
				}
			}
		}
	}
	return c
}

// Instrumented remembers a system that sends traces: a peer of that name
// is one of the organisation's own services.
func (c *Classifier) Instrumented(system string) {
	c.mu.RLock()
	known := c.systems[system]
	c.mu.RUnlock()
	if known {
		return
	}
	c.mu.Lock()
	added := !c.systems[system] && len(c.systems) < maxKnownSystems
	if added {
		c.systems[system] = true
	}
	c.mu.Unlock()
	if added && c.onNewSystem != nil {
		c.onNewSystem()
	}
}

// Classify says what a normalised peer host (see NormalizeHost) is. The
// registry wins over the vendor catalogue: it says what the organisation
// declared, with the country of its contract.
func (c *Classifier) Classify(host string) Destination {
	switch host {
	case PrivateAddress:
		return Destination{Class: Internal}
	case PublicAddress:
		return Destination{Class: Unknown}
	}
	if d, ok := c.recipients.Lookup(host); ok {
		return d
	}
	if m, ok := c.vendors.Lookup(host); ok {
		return Destination{Class: Vendor, Recipient: m.Vendor.Name, Country: m.Country}
	}
	if c.isInternal(host) {
		return Destination{Class: Internal}
	}
	return Destination{Class: Unknown}
}

func (c *Classifier) isInternal(host string) bool {
	if !strings.Contains(host, ".") {
		return true // a single label resolves only through a local search domain
	}
	for _, s := range c.internal {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.systems[host]
}
