package people

import (
	"testing"
	"time"
)

const (
	ann = "sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a"
	bob = "sr1:gdkm2rtgnjbxspqmcxllzn5eu7f35g4rtcu7nrgxihydslaoai4q"
)

func day(d int) time.Time { return time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC).AddDate(0, 0, d) }

var seq int

func fact(ref, source, kind string, at time.Time, set func(*Fact)) Fact {
	seq++
	f := Fact{Ref: ref, Source: source, ID: time.Duration(seq).String(), Kind: kind, Time: at, DataSubject: "customer"}
	if set != nil {
		set(&f)
	}
	return f
}

func collected(ref, source, category, purpose string, at time.Time) Fact {
	return fact(ref, source, KindCollected, at, func(f *Fact) { f.Category, f.Purpose, f.LegalBasis = category, purpose, "contract" })
}

func shared(ref, source, category, recipient string, at time.Time) Fact {
	return fact(ref, source, KindShared, at, func(f *Fact) {
		f.Category, f.Purpose, f.RecipientName, f.RecipientRole, f.RecipientCountry = category, "support", recipient, "processor", "US"
	})
}

func erasedOnRequest(ref, source, category string, at time.Time) Fact {
	return fact(ref, source, KindErased, at, func(f *Fact) { f.Category, f.Reason = category, "subject_request" })
}

func request(ref, kind, right string, at time.Time) Fact {
	return fact(ref, "privacy-desk", kind, at, func(f *Fact) { f.Right = right })
}

func TestDeadline(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"2026-01-15T10:00:00Z", "2026-02-15T10:00:00Z"},
		{"2026-01-31T10:00:00Z", "2026-02-28T10:00:00Z"}, // no 31 February: the month's last day
		{"2028-01-31T10:00:00Z", "2028-02-29T10:00:00Z"}, // leap year
		{"2026-03-31T23:59:00Z", "2026-04-30T23:59:00Z"},
		{"2026-12-20T08:00:00Z", "2027-01-20T08:00:00Z"},
	} {
		in, _ := time.Parse(time.RFC3339, c.in)
		if got := Deadline(in).Format(time.RFC3339); got != c.want {
			t.Errorf("Deadline(%s) = %s; want %s", c.in, got, c.want)
		}
	}
}

// TestErasureCompletedByThreeForgottenByFourth is the erasure question: the
// request is completed, three of the four holders report the erasure, the
// fourth does not; its recipient must be told.
func TestErasureCompletedByThreeForgottenByFourth(t *testing.T) {
	facts := []Fact{
		collected(ann, "billing-api", "billing.contact", "invoicing", day(0)),
		collected(ann, "crm", "account.contact", "service_delivery", day(1)),
		collected(ann, "support-desk", "support.ticket", "support", day(2)),
		collected(ann, "marketing-mailer", "account.contact", "marketing", day(3)),
		shared(ann, "support-desk", "support.ticket", "Zendesk", day(4)),
		request(ann, KindRequestReceived, "erasure", day(10)),
		erasedOnRequest(ann, "billing-api", "billing.contact", day(12)),
		erasedOnRequest(ann, "crm", "account.contact", day(13)),
		erasedOnRequest(ann, "support-desk", "support.ticket", day(14)),
		request(ann, KindRequestCompleted, "erasure", day(15)),
		collected(bob, "crm", "account.contact", "service_delivery", day(1)),
	}
	rs := Requests(facts, day(20))
	if len(rs) != 1 {
		t.Fatalf("%d requests; want 1: %+v", len(rs), rs)
	}
	r := rs[0]
	if r.State != StateCompleted || r.Overdue || r.ClosedBy != "privacy-desk" {
		t.Errorf("request = %+v; want completed in time by privacy-desk", r)
	}
	var missing []string
	for _, h := range r.Holders {
		if !h.HasEvidence() {
			missing = append(missing, h.System)
		}
	}
	if len(r.Holders) != 4 || len(missing) != 1 || missing[0] != "marketing-mailer" {
		t.Errorf("holders %+v; want 4, marketing-mailer without evidence", r.Holders)
	}
	if len(r.Recipients) != 1 || r.Recipients[0].Name != "Zendesk" || r.Recipients[0].Systems[0] != "support-desk" {
		t.Errorf("recipients %+v; want Zendesk from support-desk", r.Recipients)
	}
	fs := Findings(facts, day(20))
	if len(fs) != 1 || fs[0].Kind != FindingErasureIncomplete || fs[0].System != "marketing-mailer" || fs[0].People != 1 {
		t.Errorf("findings %+v; want one erasure_incomplete for marketing-mailer", fs)
	}
}

// TestOpenErasureInTimeIsNoFinding: holders without evidence are a to-do
// list, not a finding, until the request is completed or late.
func TestOpenErasureInTimeIsNoFinding(t *testing.T) {
	facts := []Fact{
		collected(ann, "crm", "account.contact", "service_delivery", day(0)),
		request(ann, KindRequestReceived, "erasure", day(10)),
	}
	if fs := Findings(facts, day(20)); len(fs) != 0 {
		t.Errorf("findings %+v before the deadline; want none", fs)
	}
	rs := Requests(facts, day(20))
	if len(rs) != 1 || rs[0].State != StateOpen || rs[0].Overdue || rs[0].DaysLeft != 21 {
		t.Fatalf("requests %+v; want one open, 21 days left", rs)
	}
	late := Findings(facts, day(45))
	kinds := map[string]bool{}
	for _, f := range late {
		kinds[f.Kind] = true
	}
	if !kinds[FindingRequestOverdue] || !kinds[FindingErasureIncomplete] || len(late) != 2 {
		t.Errorf("findings after the deadline %+v; want request_overdue and erasure_incomplete", late)
	}
}

func TestRequestsOrderOverdueFirst(t *testing.T) {
	facts := []Fact{
		request(ann, KindRequestReceived, "access", day(30)),
		request(bob, KindRequestReceived, "portability", day(0)),
		request(bob, KindRequestReceived, "access", day(20)),
		request(bob, KindRequestCompleted, "access", day(25)),
	}
	rs := Requests(facts, day(40))
	if len(rs) != 3 {
		t.Fatalf("%d requests; want 3", len(rs))
	}
	if rs[0].Ref != bob || rs[0].Right != "portability" || !rs[0].Overdue || rs[0].DaysLeft >= 0 {
		t.Errorf("first %+v; want bob's overdue portability request", rs[0])
	}
	if rs[1].Ref != ann || rs[1].State != StateOpen || rs[1].Overdue {
		t.Errorf("second %+v; want ann's open access request", rs[1])
	}
	if rs[2].State != StateCompleted {
		t.Errorf("third %+v; want the completed one", rs[2])
	}
	if open := Open(rs); len(open) != 2 {
		t.Errorf("Open: %d; want 2", len(open))
	}
}

// TestCompletionClosesOldestOpenOfSameRight: an answer closes a request of
// its own right received before it, never a later one or another right.
func TestCompletionClosesOldestOpenOfSameRight(t *testing.T) {
	facts := []Fact{
		request(ann, KindRequestReceived, "access", day(0)),
		request(ann, KindRequestReceived, "erasure", day(1)),
		request(ann, KindRequestCompleted, "erasure", day(2)),
		request(ann, KindRequestRefused, "access", day(3)),
		request(ann, KindRequestReceived, "access", day(4)),
	}
	facts[3].Grounds = "manifestly_unfounded"
	byRight := map[string][]Request{}
	for _, r := range Requests(facts, day(5)) {
		byRight[r.Right] = append(byRight[r.Right], r)
	}
	if e := byRight["erasure"]; len(e) != 1 || e[0].State != StateCompleted {
		t.Errorf("erasure %+v; want completed", e)
	}
	a := byRight["access"]
	if len(a) != 2 || a[0].State != StateOpen || a[1].State != StateRefused || a[1].Grounds != "manifestly_unfounded" {
		t.Errorf("access %+v; want the later one open, the first refused as manifestly unfounded", a)
	}
}

// TestStopReply is the consent question: marketing SMS after a STOP reply
// is found, for that person only, and consent given again clears it.
func TestStopReply(t *testing.T) {
	sms := func(ref string, at time.Time) Fact {
		return fact(ref, "sms-campaigns", KindShared, at, func(f *Fact) {
			f.Category, f.Purpose, f.LegalBasis, f.RecipientName = "support.communications", "marketing", "consent", "Twilio"
		})
	}
	withdraw := fact(ann, "sms-gateway", KindConsentWithdrawn, day(5), func(f *Fact) { f.Purpose, f.Channel = "marketing", "sms_stop" })
	facts := []Fact{
		fact(ann, "web", KindConsentGiven, day(0), func(f *Fact) { f.Purpose, f.Channel = "marketing", "web_form" }),
		sms(ann, day(1)), withdraw, sms(ann, day(6)), sms(ann, day(7)),
		sms(bob, day(6)), // bob never withdrew
	}
	fs := Findings(facts, day(10))
	if len(fs) != 1 || fs[0].Kind != FindingProcessingAfterWithdrawal || fs[0].System != "sms-campaigns" ||
		fs[0].Topic != "marketing" || fs[0].People != 1 || fs[0].Events != 2 || !fs[0].First.Equal(day(6)) {
		t.Fatalf("findings %+v; want one processing_after_withdrawal: sms-campaigns, marketing, 1 person, 2 events from day 6", fs)
	}
	again := append(facts, fact(ann, "web", KindConsentGiven, day(8), func(f *Fact) { f.Purpose, f.Channel = "marketing", "web_form" }), sms(ann, day(9)))
	if fs := Findings(again, day(10)); len(fs) != 1 || fs[0].Events != 2 {
		t.Errorf("after consent given again: %+v; want the same single finding", fs)
	}
	p := ProfileOf(ann, facts, day(10))
	if len(p.Consents) != 1 || p.Consents[0].State != ConsentWithdrawn || p.Consents[0].Channel != "sms_stop" {
		t.Errorf("consents %+v; want marketing withdrawn by sms_stop", p.Consents)
	}
	if len(p.Findings) != 1 || p.Findings[0].Kind != FindingProcessingAfterWithdrawal || p.Findings[0].Events != 2 {
		t.Errorf("ann's profile has findings %+v; want her processing_after_withdrawal (2 events)", p.Findings)
	}
	if p := ProfileOf(bob, facts, day(10)); len(p.Findings) != 0 {
		t.Errorf("bob never withdrew, yet his profile has findings %+v", p.Findings)
	}
}

func TestProcessingAfterErasure(t *testing.T) {
	facts := []Fact{
		collected(ann, "crm", "account.contact", "service_delivery", day(0)),
		erasedOnRequest(ann, "crm", "account.contact", day(3)),
		collected(ann, "crm", "account.contact", "service_delivery", day(9)),
		collected(ann, "billing-api", "account.contact", "service_delivery", day(9)),
	}
	fs := Findings(facts, day(10))
	if len(fs) != 1 || fs[0].Kind != FindingProcessingAfterErasure || fs[0].System != "crm" {
		t.Fatalf("findings %+v; want processing_after_erasure for crm only", fs)
	}
	p := ProfileOf(ann, facts, day(10))
	for _, h := range p.Holdings {
		if !h.Erased.IsZero() {
			t.Errorf("holding %+v erased; both systems hold the data again", h)
		}
	}
}

func TestProfileOnwardPath(t *testing.T) {
	facts := []Fact{
		collected(ann, "support-desk", "support.ticket", "support", day(0)),
		shared(ann, "support-desk", "support.ticket", "Zendesk", day(1)),
		shared(ann, "Zendesk", "support.ticket", "Zendesk EU", day(2)),
		shared(ann, "Zendesk EU", "support.ticket", "support-desk", day(3)), // a cycle
		collected(bob, "crm", "account.contact", "service_delivery", day(1)),
	}
	p := ProfileOf(ann, facts, day(5))
	if len(p.Holdings) != 1 || p.Holdings[0].System != "support-desk" || p.DataSubjects[0] != "customer" {
		t.Errorf("holdings %+v; want support-desk only (bob's facts are not ann's)", p.Holdings)
	}
	want := map[string]string{
		"Zendesk":      "support-desk>Zendesk",
		"Zendesk EU":   "support-desk>Zendesk>Zendesk EU",
		"support-desk": "support-desk>Zendesk>Zendesk EU>support-desk",
	}
	for _, d := range p.Disclosures {
		got := ""
		for i, n := range d.Path {
			if i > 0 {
				got += ">"
			}
			got += n
		}
		if got != want[d.To] {
			t.Errorf("path to %s = %s; want %s", d.To, got, want[d.To])
		}
	}
	if ProfileOf("sr1:nobody", facts, day(5)).Empty() != true {
		t.Error("profile of an unknown reference is not empty")
	}
}

func TestRequestDue(t *testing.T) {
	for _, c := range []struct {
		r    Request
		want string
	}{
		{Request{State: StateOpen, Overdue: true, DaysLeft: -3}, "OVERDUE 3 days"},
		{Request{State: StateOpen, DaysLeft: 12}, "12 days left"},
		{Request{State: StateCompleted, Overdue: true}, "answered late"},
		{Request{State: StateRefused}, "answered in time"},
	} {
		if got := c.r.Due(); got != c.want {
			t.Errorf("%+v: Due() = %q; want %q", c.r, got, c.want)
		}
	}
	if got := Day(time.Time{}); got != "—" {
		t.Errorf("Day(zero) = %q; want —", got)
	}
	if got := Day(time.Date(2026, 11, 30, 23, 30, 0, 0, time.FixedZone("UTC-1", -3600))); got != "2026-12-01" {
		t.Errorf("Day of 23:30 at UTC-1 = %q; want the day in UTC, 2026-12-01", got)
	}
}
