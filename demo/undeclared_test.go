package demo

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/report"
	"github.com/back-trace/datamap/schemas"
	"github.com/back-trace/datamap/traffic"
)

// observe aggregates events the way query.Observations does in
// ClickHouse, so the scenario can be checked against the registry without
// a server.
func observe(evs []*events.Event) []report.Observation {
	groups := map[string]*report.Observation{}
	for _, ev := range evs {
		d := ev.Data
		r := events.Recipient{}
		if d.Recipient != nil {
			r = *d.Recipient
		}
		key := strings.Join([]string{string(ev.Kind), ev.Source, d.Category, d.DataSubject, d.Purpose, d.LegalBasis,
			d.SpecialCondition, r.Name, r.Role, r.Country, r.Safeguard}, "\x00")
		o := groups[key]
		if o == nil {
			o = &report.Observation{Kind: string(ev.Kind), System: ev.Source, Category: d.Category, DataSubject: d.DataSubject,
				Purpose: d.Purpose, LegalBasis: d.LegalBasis, SpecialCondition: d.SpecialCondition, Recipient: r.Name,
				Role: r.Role, Country: r.Country, Safeguard: r.Safeguard, Contract: r.Contract, FirstSeen: ev.Time, LastSeen: ev.Time}
			groups[key] = o
		}
		if d.Retention != "" {
			p, _ := events.ParseISODuration(d.Retention)
			if days := uint32(p.Approx() / (24 * time.Hour)); days > o.RetentionDays {
				o.RetentionDays, o.Retention = days, d.Retention
			}
		}
		o.Events++
		o.Records += uint64(d.Count)
		if ev.Time.Before(o.FirstSeen) {
			o.FirstSeen = ev.Time
		}
		if ev.Time.After(o.LastSeen) {
			o.LastSeen = ev.Time
		}
	}
	out := make([]report.Observation, 0, len(groups))
	for _, o := range groups {
		out = append(out, *o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].System+out[i].Category < out[j].System+out[j].Category })
	return out
}

// observeTraffic classifies the demo's calls the way the OTLP receiver
// does, as the traffic table would hold them.
func observeTraffic(reg *registry.Registry, end time.Time) []report.Traffic {
	c := traffic.NewClassifier(reg, nil, nil)
	var out []report.Traffic
	for _, call := range Calls() {
		d := c.Classify(call.Host)
		if d.Class == traffic.Internal {
			continue
		}
		out = append(out, report.Traffic{System: call.System, Host: call.Host, Class: string(d.Class), Recipient: d.Recipient,
			Country: d.Country, Spans: uint64(call.Spans), FirstSeen: end.Add(-time.Hour), LastSeen: end.Add(-time.Minute)})
	}
	return out
}

// TestRegistryDeclaresTheDemoExceptUndeclared checks that BackTrace's
// registry declares everything the simulated services do, except the
// deliberate undeclared behaviours, and that drift finds each of those.
func TestRegistryDeclaresTheDemoExceptUndeclared(t *testing.T) {
	reg, err := registry.Parse(schemas.BackTraceRegistry(), "backtrace-registry.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := Generate(fixedPeriod)
	if err != nil {
		t.Fatal(err)
	}
	// The people's stories publish data events too (their marketing SMS,
	// their records); the findings about their rights are
	// TestPeopleStoriesShowEachFindingOnce's.
	for _, ev := range PeopleEvents(fixedPeriod.End) {
		if ev.Kind.AboutData() {
			evs = append(evs, ev)
		}
	}
	findings := report.Drift(reg, nil, observe(evs), fixedPeriod.End, report.DriftOptions{Traffic: observeTraffic(reg, fixedPeriod.End)})
	got := map[string]bool{}
	for _, f := range findings {
		t.Logf("%s %s %s: %s", f.Severity, f.Kind, f.About, f.Message)
		got[f.Kind+" "+f.About] = true
	}
	want := []string{
		"undeclared_purpose voip-platform: service_improvement",
		"undeclared_recipient voip-platform → Mixpanel (processor, US)",
		"transfer_without_safeguard voip-platform → Mixpanel (processor, US)",
		"undeclared_recipient support-desk → Deepgram (processor, US)",
		"retention_exceeded voip-platform: telephony.call_detail_records",
		"children_data website: child", // the people's stories: a child's contact form
		"traffic_to_undeclared_recipient website → Hotjar (MT)",
		"traffic_to_unknown_destination ingest.feedback-widget.example",
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("missing finding %q", w)
		}
	}
	if len(findings) != len(want) {
		t.Errorf("%d findings, want exactly the %d of the undeclared behaviours and the child's form", len(findings), len(want))
	}
	if len(Undeclared) != 3 || len(UndeclaredTraffic) != 2 {
		t.Errorf("Undeclared lists %d behaviours and UndeclaredTraffic %d", len(Undeclared), len(UndeclaredTraffic))
	}
}
