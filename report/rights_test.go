package report_test

import (
	"strings"
	"testing"
	"time"

	"github.com/back-trace/datamap/people"
	"github.com/back-trace/datamap/report"
)

// TestRightsFindings: the findings about people's rights join the drift
// findings with their severity, the system concerned and what to do, and
// name no one.
func TestRightsFindings(t *testing.T) {
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	rights := []people.Finding{
		{Kind: people.FindingProcessingAfterWithdrawal, System: "sms-gateway", Topic: "marketing", People: 1, Events: 3, First: at, Last: at.Add(48 * time.Hour)},
		{Kind: people.FindingErasureIncomplete, System: "Zendesk", Topic: "support.tickets", People: 1, Events: 1, First: at, Last: at},
		{Kind: people.FindingRequestOverdue, System: "support-desk", Topic: "portability", People: 2, Events: 2, First: at, Last: at},
		{Kind: people.FindingProcessingAfterErasure, System: "billing-api", Topic: "account.contact", People: 1, Events: 1, First: at, Last: at},
	}
	fs := report.Drift(driftReg(t, driftRegistry), nil, cleanObservations(), asOf, report.DriftOptions{Rights: rights})
	got := map[string]report.Finding{}
	for _, f := range fs {
		got[f.Kind] = f
	}
	for kind, sev := range map[string]report.Severity{people.FindingProcessingAfterWithdrawal: report.High,
		people.FindingErasureIncomplete: report.High, people.FindingRequestOverdue: report.High,
		people.FindingProcessingAfterErasure: report.Medium} {
		f, ok := got[kind]
		if !ok {
			t.Errorf("no %s finding in %+v", kind, fs)
			continue
		}
		if f.Severity != sev || f.Message == "" || f.Action == "" || f.Evidence == nil || f.Evidence.Systems[0] == "" {
			t.Errorf("%s: %+v", kind, f)
		}
		if strings.Contains(f.Action, "`") || strings.Contains(f.Action, "datamap ") {
			t.Errorf("%s: the advice holds a command, which belongs in Command: %q", kind, f.Action)
		}
		if strings.Contains(f.Message+f.Action+f.About, "sr1:") {
			t.Errorf("%s names a person: %+v", kind, f)
		}
		// An event about a person is one record of them.
		if f.Evidence != nil && (f.Evidence.Records == 0 || f.Evidence.Records != f.Evidence.Events) {
			t.Errorf("%s: %d records from %d events, want one record per event", kind, f.Evidence.Records, f.Evidence.Events)
		}
	}
	if f := got[people.FindingProcessingAfterWithdrawal]; !strings.Contains(f.Message, "1 person") || !strings.Contains(f.Message, `"Product updates"`) || !strings.HasSuffix(f.About, "marketing") || f.Evidence.Events != 3 {
		t.Errorf("withdrawal finding: %+v", f)
	}
	if f := got[people.FindingRequestOverdue]; !strings.Contains(f.Message, "portability") || !strings.Contains(f.About, "support-desk") {
		t.Errorf("overdue finding: %+v", f)
	}
	if len(fs) != len(rights) {
		t.Errorf("%d findings; want the %d rights findings over clean observations", len(fs), len(rights))
	}
}

// TestChildrenData: a child data subject in a system whose activities do
// not declare children is one children_data finding (high), not also an
// undeclared data subject.
func TestChildrenData(t *testing.T) {
	obs := cleanObservations()
	kid := obs[0]
	kid.DataSubject = "child"
	fs := report.Drift(driftReg(t, driftRegistry), nil, append(obs, kid), asOf, report.DriftOptions{})
	if len(fs) != 1 || fs[0].Kind != report.KindChildrenData || fs[0].Severity != report.High || !strings.Contains(fs[0].About, kid.System) {
		t.Fatalf("findings %+v; want one children_data for %s", fs, kid.System)
	}
}
