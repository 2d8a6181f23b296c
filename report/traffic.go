package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/internal/sortedset"
)

// The kinds of drift that traffic shows: where the calls services make, as
// their traces record them, depart from what they report and what the
// registry declares.
const (
	// KindTrafficUndeclaredRecipient: a system calls a known vendor that
	// no activity declares and no event reports.
	KindTrafficUndeclaredRecipient = "traffic_to_undeclared_recipient"
	// KindTrafficUnknownDestination: a system calls an external host that
	// neither the registry nor the vendor catalogue knows.
	KindTrafficUnknownDestination = "traffic_to_unknown_destination"
	// KindUnreportedDisclosure: a system calls a recipient the record
	// knows but never reports sharing with it — a missing SDK call.
	KindUnreportedDisclosure = "unreported_disclosure"
	// KindTrafficCountryMismatch: calls land in a country other than the
	// ones the recipient is declared or reported in.
	KindTrafficCountryMismatch = "traffic_country_mismatch"
)

// Traffic is one system's observed destination over the evidence's days:
// what the traces it sent show of its outgoing calls (package traffic).
type Traffic struct {
	System string `json:"system"`
	Host   string `json:"host"`
	// Class is internal, recipient (a registry recipient's hosts:
	// matched), vendor (the vendor catalogue's) or unknown.
	Class     string    `json:"class"`
	Recipient string    `json:"recipient,omitempty"`
	Country   string    `json:"country,omitempty"`
	Spans     uint64    `json:"spans"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// The classes of Traffic.Class that drift reads.
const (
	trafficRecipient = "recipient"
	trafficVendor    = "vendor"
	trafficUnknown   = "unknown"
)

func (e *FindingEvidence) addTraffic(t Traffic) {
	e.Spans += t.Spans
	if e.FirstSeen == nil || t.FirstSeen.Before(*e.FirstSeen) {
		ts := t.FirstSeen
		e.FirstSeen = &ts
	}
	if e.LastSeen == nil || t.LastSeen.After(*e.LastSeen) {
		ts := t.LastSeen
		e.LastSeen = &ts
	}
	e.Systems = sortedset.Add(e.Systems, t.System)
	e.Hosts = sortedset.Add(e.Hosts, t.Host)
}

// addTraffic records a finding drawn from traffic, merging the evidence
// of findings with the same kind, activity and subject.
func (d *drift) addTraffic(f Finding, t Traffic) {
	d.add(f, nil)
	have := d.byKey[f.Kind+"\x00"+f.Activity+"\x00"+f.About]
	if have.Evidence == nil {
		have.Evidence = &FindingEvidence{}
	}
	have.Evidence.addTraffic(t)
}

// recipientFacts are what the registry declares and the events report of
// one recipient, its name compared without case.
type recipientFacts struct {
	declared   bool
	reportedBy map[string]bool // systems that report sharing with it
	countries  []string        // declared or reported
	safeguards []string        // declared or reported
}

// traffic holds each observed destination against the registry and the
// shared events up to asOf.
func (d *drift) traffic(rows []Traffic, obs []Observation, asOf time.Time) {
	facts := map[string]*recipientFacts{}
	of := func(name string) *recipientFacts {
		k := strings.ToLower(name)
		if facts[k] == nil {
			facts[k] = &recipientFacts{reportedBy: map[string]bool{}}
		}
		return facts[k]
	}
	for _, a := range d.reg.AllActivities() {
		for _, r := range a.Recipients {
			f := of(r.Name)
			f.declared = true
			f.countries = sortedset.Add(f.countries, r.Country)
			f.safeguards = sortedset.Add(f.safeguards, r.Safeguard)
		}
	}
	for _, o := range obs {
		if o.Kind != string(events.KindShared) || o.Recipient == "" || o.FirstSeen.After(asOf) {
			continue
		}
		f := of(o.Recipient)
		f.reportedBy[o.System] = true
		f.countries = sortedset.Add(f.countries, o.Country)
		f.safeguards = sortedset.Add(f.safeguards, o.Safeguard)
	}
	for _, t := range rows {
		if t.FirstSeen.After(asOf) {
			continue
		}
		switch t.Class {
		case trafficUnknown:
			d.unknownDestination(t)
		case trafficRecipient, trafficVendor:
			if t.Recipient != "" {
				d.knownDestination(t, of(t.Recipient))
			}
		}
	}
}

// unknownDestination reports an external host nobody knows: the review
// queue, with the registry lines that would declare it.
func (d *drift) unknownDestination(t Traffic) {
	f := Finding{Kind: KindTrafficUnknownDestination, Severity: Medium, About: t.Host}
	if strings.HasPrefix(t.Host, "(") { // an address, which is never kept
		f.Message = fmt.Sprintf("%q calls a public IP address directly, which neither the registry nor the vendor catalogue can name", t.System)
		f.Action = "find which endpoint the service calls by address and what it sends there; call it by its host name so that it can be declared"
	} else {
		f.Message = fmt.Sprintf("%q calls %s, an external host that no registry recipient's hosts: and no vendor of the catalogue match", t.System, t.Host)
		f.Action = "find out who runs it and what is sent: if it receives personal data, declare it among the recipients of the activity the system serves (the lines below, completed); if it is the organisation's own, add its domain to DATAMAP_INTERNAL_SUFFIXES"
		f.Proposal = fmt.Sprintf("recipients:\n  - name: \"<who runs %s>\"\n    role: processor\n    country: \"<ISO 3166-1 code>\"\n    safeguard: \"<when outside the EEA>\"\n    contract: \"<DPA reference>\"\n    hosts: [%q]\n", t.Host, t.Host)
	}
	d.addTraffic(f, t)
}

// knownDestination holds traffic to a named recipient or vendor against
// what is declared and reported of it.
func (d *drift) knownDestination(t Traffic, f *recipientFacts) {
	label := t.Recipient
	if t.Country != "" {
		label += " (" + t.Country + ")"
	}
	subject := t.System + " → " + label
	switch {
	case !f.declared && len(f.reportedBy) == 0:
		d.addTraffic(Finding{Kind: KindTrafficUndeclaredRecipient, Severity: High, About: subject,
			Message: fmt.Sprintf("%q calls %s (%s), which no activity declares and no event reports", t.System, label, t.Host),
			Action:  "find out what the service sends there: if it is personal data, declare the recipient on the activity it serves (role, country, safeguard, contract, hosts:) and report the disclosure with a shared event; otherwise, stop the calls or confirm no personal data goes"}, t)
	case !f.reportedBy[t.System]:
		known := "the registry declares"
		if !f.declared {
			known = "other systems report sharing with"
		}
		d.addTraffic(Finding{Kind: KindUnreportedDisclosure, Severity: Medium, About: subject,
			Message: fmt.Sprintf("%q calls %s (%s), a recipient %s, but never reports sharing with it", t.System, t.Recipient, t.Host, known),
			Action:  fmt.Sprintf("add the shared event to %q where it calls %s, or, if no personal data goes there, note why in the registry", t.System, t.Recipient)}, t)
	}
	if t.Country == "" || len(f.countries) == 0 || slices.Contains(f.countries, t.Country) {
		return
	}
	sev := Medium
	if requires(t.Country) && !slices.ContainsFunc(f.safeguards, coversTransfer) {
		sev = High
	}
	d.addTraffic(Finding{Kind: KindTrafficCountryMismatch, Severity: sev, About: subject,
		Message: fmt.Sprintf("%q calls %s at %s, in %s; it is declared or reported in %s", t.System, t.Recipient, t.Host, t.Country, strings.Join(f.countries, ", ")),
		Action:  "find out where the recipient processes the data: use its endpoint in the declared country, or correct the declared country and, outside the EEA, its safeguard"}, t)
}

// coversTransfer reports whether a safeguard can cover a transfer to a
// third country.
func coversTransfer(safeguard string) bool {
	return safeguard != "" && safeguard != events.SafeguardNone && safeguard != events.SafeguardAdequacy
}
