package demo

import (
	"slices"
	"testing"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/subjectref"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/people"
	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/report"
	"github.com/back-trace/datamap/schemas"
)

// facts are the subject facts the catalog keeps of evs.
func facts(evs []*events.Event) []people.Fact {
	var out []people.Fact
	for _, ev := range evs {
		d := ev.Data
		if d.SubjectRef == "" {
			continue
		}
		f := people.Fact{Ref: d.SubjectRef, Source: ev.Source, ID: ev.ID, Kind: string(ev.Kind), Time: ev.Time,
			Category: d.Category, DataSubject: d.DataSubject, Purpose: d.Purpose, LegalBasis: d.LegalBasis,
			Reason: d.Reason, Right: d.Right, Channel: d.Channel, Grounds: d.Grounds}
		if r := d.Recipient; r != nil {
			f.RecipientName, f.RecipientRole, f.RecipientCountry = r.Name, r.Role, r.Country
		}
		out = append(out, f)
	}
	return out
}

// TestPeopleStoriesShowEachFindingOnce: the demo's people validate, and
// with the generated events drift finds each finding about people's
// rights exactly once, beside the undeclared behaviours and nothing else.
func TestPeopleStoriesShowEachFindingOnce(t *testing.T) {
	v := events.NewValidator(taxonomy.Default())
	persons := PeopleEvents(fixedPeriod.End)
	for _, ev := range persons {
		if err := v.Validate(ev); err != nil {
			t.Fatalf("%s %s: %v", ev.Source, ev.Kind, err)
		}
	}
	key, err := subjectref.ParseKey(SubjectKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range People {
		if _, err := key.Ref(p.Kind, p.Identifier); err != nil {
			t.Errorf("%s: %v", p.Story, err)
		}
	}
	reg, err := registry.Parse(schemas.BackTraceRegistry(), "backtrace-registry.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := Generate(fixedPeriod)
	if err != nil {
		t.Fatal(err)
	}
	var data []*events.Event
	for _, ev := range append(evs, persons...) {
		if ev.Kind.AboutData() {
			data = append(data, ev)
		}
	}
	rights := people.Findings(facts(persons), fixedPeriod.End)
	findings := report.Drift(reg, nil, observe(data), fixedPeriod.End, report.DriftOptions{Rights: rights})
	count := map[string]int{}
	for _, f := range findings {
		t.Logf("%s %s %s: %s", f.Severity, f.Kind, f.About, f.Message)
		count[f.Kind]++
	}
	for kind, subject := range map[string]string{
		people.FindingProcessingAfterWithdrawal: "sms-gateway: marketing",
		people.FindingErasureIncomplete:         "Zendesk: support.tickets",
		people.FindingRequestOverdue:            "support-desk: portability",
		people.FindingProcessingAfterErasure:    "billing-api: account.contact",
		report.KindChildrenData:                 "website: child",
	} {
		if count[kind] != 1 {
			t.Errorf("%s: %d findings, want 1", kind, count[kind])
		}
		found := false
		for _, f := range findings {
			found = found || f.Kind == kind && f.About == subject
		}
		if !found {
			t.Errorf("no %s finding about %q", kind, subject)
		}
	}
	if len(findings) != 5+5 {
		t.Errorf("%d findings; want the 5 of the undeclared behaviours and the 5 about people", len(findings))
	}
	// The access request was answered in time; the erasure was completed
	// in time, though Zendesk has no evidence.
	for _, r := range people.Requests(facts(persons), fixedPeriod.End) {
		switch r.Right {
		case "access", "erasure":
			if r.State != people.StateCompleted || r.Overdue {
				t.Errorf("%s request: %+v; want completed in time", r.Right, r)
			}
		case "portability":
			if r.State != people.StateOpen || !r.Overdue {
				t.Errorf("portability request: %+v; want open and overdue", r)
			}
		}
	}
}

// TestStatementListsWhatShowLists: the Art. 15 statement of each demo
// person names every recipient their profile (what `subject show`
// answers) lists, with the categories it received.
func TestStatementListsWhatShowLists(t *testing.T) {
	tax := taxonomy.Default()
	reg, err := registry.Parse(schemas.BackTraceRegistry(), "backtrace-registry.yaml", tax)
	if err != nil {
		t.Fatal(err)
	}
	key, err := subjectref.ParseKey(SubjectKey)
	if err != nil {
		t.Fatal(err)
	}
	all := facts(PeopleEvents(fixedPeriod.End))
	disclosures := 0
	for _, person := range People {
		ref, _ := key.Ref(person.Kind, person.Identifier)
		profile := people.ProfileOf(ref, all, fixedPeriod.End)
		st := people.StatementOf(profile, reg, tax, fixedPeriod.End)
		for _, d := range profile.Disclosures {
			disclosures++
			i := slices.IndexFunc(st.Recipients, func(r people.StatementRecipient) bool { return r.Name == d.To && r.Country == d.Country })
			if i < 0 {
				t.Errorf("%s: subject show lists %s (%s); the statement does not: %+v", person.Identifier, d.To, d.Country, st.Recipients)
				continue
			}
			if !slices.ContainsFunc(st.Recipients[i].Categories, func(c people.Named) bool { return c.Key == d.Category }) {
				t.Errorf("%s: %s received %s; the statement says %v", person.Identifier, d.To, d.Category, st.Recipients[i].Categories)
			}
		}
	}
	if disclosures == 0 {
		t.Error("no demo person's data was disclosed; the test checks nothing")
	}
}

// A child's data is one kind of finding, whether the record's drift or a
// person's profile reports it.
func TestChildrenDataIsOneKind(t *testing.T) {
	if people.FindingChildrenData != report.KindChildrenData {
		t.Errorf("people says %q, the record %q", people.FindingChildrenData, report.KindChildrenData)
	}
}
