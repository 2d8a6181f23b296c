package report_test

import (
	"strings"
	"testing"
	"time"

	"github.com/back-trace/datamap/report"
)

func seen(t report.Traffic) report.Traffic {
	if t.Spans == 0 {
		t.Spans = 3
	}
	t.FirstSeen, t.LastSeen = asOf.Add(-5*24*time.Hour), asOf.Add(-2*24*time.Hour)
	return t
}

// cleanTraffic is traffic that agrees with cleanObservations and
// driftRegistry: billing-api calls Stripe, which it reports and the
// registry declares, in the declared country; and an internal host.
func cleanTraffic() []report.Traffic {
	return []report.Traffic{
		seen(report.Traffic{System: "billing-api", Host: "api.stripe.com", Class: "vendor", Recipient: "Stripe", Country: "US"}),
		seen(report.Traffic{System: "billing-api", Host: "redis", Class: "internal"}),
	}
}

func TestTrafficThatAgreesIsNoFinding(t *testing.T) {
	fs := report.Drift(driftReg(t, driftRegistry), nil, cleanObservations(), asOf, report.DriftOptions{Traffic: cleanTraffic()})
	if len(fs) != 0 {
		t.Fatalf("findings on traffic that agrees: %+v", fs)
	}
}

// TestEachTrafficKind: for each kind, the traffic that triggers it alone,
// and a near miss that does not.
func TestEachTrafficKind(t *testing.T) {
	cases := []struct {
		name     string
		traffic  report.Traffic
		kind     string
		severity report.Severity
	}{
		{"a vendor nobody declares or reports",
			report.Traffic{System: "support-desk", Host: "api.mixpanel.com", Class: "vendor", Recipient: "Mixpanel", Country: "US"},
			report.KindTrafficUndeclaredRecipient, report.High},
		{"an external host nobody knows",
			report.Traffic{System: "support-desk", Host: "tracker.unknown.example", Class: "unknown"},
			report.KindTrafficUnknownDestination, report.Medium},
		{"a declared recipient the system does not report",
			report.Traffic{System: "support-desk", Host: "api.stripe.com", Class: "vendor", Recipient: "stripe", Country: "US"},
			report.KindUnreportedDisclosure, report.Medium},
		{"a registry recipient the system does not report",
			report.Traffic{System: "hr", Host: "api.stripe.com", Class: "recipient", Recipient: "Stripe", Country: "US"},
			report.KindUnreportedDisclosure, report.Medium},
		{"calls to a declared recipient in another country, under a safeguard",
			report.Traffic{System: "billing-api", Host: "api.eu.stripe.example", Class: "vendor", Recipient: "Stripe", Country: "IE"},
			report.KindTrafficCountryMismatch, report.Medium},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := report.Drift(driftReg(t, driftRegistry), nil, cleanObservations(), asOf,
				report.DriftOptions{Traffic: append(cleanTraffic(), seen(c.traffic), seen(c.traffic))})
			if len(fs) != 1 || fs[0].Kind != c.kind || fs[0].Severity != c.severity {
				t.Fatalf("want one %s %s finding, got %+v", c.severity, c.kind, fs)
			}
			ev := fs[0].Evidence
			if ev == nil || ev.Spans != 6 || len(ev.Systems) != 1 || ev.Systems[0] != c.traffic.System || len(ev.Hosts) != 1 || ev.Hosts[0] != c.traffic.Host {
				t.Errorf("evidence: %+v, want 6 spans from %s to %s", ev, c.traffic.System, c.traffic.Host)
			}
			// Traffic first seen after the evidence's end is not yet drift.
			late := seen(c.traffic)
			late.FirstSeen, late.LastSeen = asOf.Add(time.Hour), asOf.Add(2*time.Hour)
			if fs := report.Drift(driftReg(t, driftRegistry), nil, cleanObservations(), asOf,
				report.DriftOptions{Traffic: append(cleanTraffic(), late)}); len(fs) != 0 {
				t.Errorf("traffic after as-of: %+v", fs)
			}
		})
	}
}

func TestUnknownDestinationProposesRegistryLines(t *testing.T) {
	fs := report.Drift(driftReg(t, driftRegistry), nil, cleanObservations(), asOf, report.DriftOptions{Traffic: []report.Traffic{
		seen(report.Traffic{System: "support-desk", Host: "tracker.unknown.example", Class: "unknown"}),
		seen(report.Traffic{System: "billing-api", Host: "tracker.unknown.example", Class: "unknown"}),
		seen(report.Traffic{System: "billing-api", Host: "(public address)", Class: "unknown"}),
	}})
	if len(fs) != 2 {
		t.Fatalf("want one finding per host, got %+v", fs)
	}
	var host report.Finding
	for _, f := range fs {
		if f.About == "tracker.unknown.example" {
			host = f
		} else if f.Proposal != "" {
			t.Errorf("an address gets no hosts: proposal: %q", f.Proposal)
		}
	}
	if !strings.Contains(host.Proposal, `hosts: ["tracker.unknown.example"]`) || len(host.Evidence.Systems) != 2 {
		t.Errorf("finding %+v: want the hosts: line proposed and both callers as evidence", host)
	}
}

func TestTrafficToAThirdCountryWithoutSafeguardIsHigh(t *testing.T) {
	reg := strings.Replace(driftRegistry, "{name: Stripe, role: processor, country: US, safeguard: scc}", "{name: Stripe, role: processor, country: IE}", 1)
	obs := cleanObservations()
	obs[1].Country, obs[1].Safeguard = "IE", ""
	fs := report.Drift(driftReg(t, reg), nil, obs, asOf, report.DriftOptions{Traffic: cleanTraffic()})
	if len(fs) != 1 || fs[0].Kind != report.KindTrafficCountryMismatch || fs[0].Severity != report.High {
		t.Fatalf("Stripe declared and reported in Ireland, called in the US, no safeguard: want one high country mismatch, got %+v", fs)
	}
}
