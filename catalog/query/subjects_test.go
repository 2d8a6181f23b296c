package query_test

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/catalog/peoplestore"
	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/catalog/schema"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/people"
)

const (
	annRef = "sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a"
	bobRef = "sr1:gdkm2rtgnjbxspqmcxllzn5eu7f35g4rtcu7nrgxihydslaoai4q"
	eveRef = "sr1:b6b5vc23iqjxxngvc7v56v5r2ctqwtgqzvcgandjipdoqr5uewlq"
)

// insertFact writes one subject_refs row as the consumer would.
func insertFact(t *testing.T, conn driver.Conn, f people.Fact, keepUntil time.Time) {
	t.Helper()
	err := conn.Exec(context.Background(), `INSERT INTO subject_refs (ref, source, id, kind, time, category, data_subject,
		purpose, legal_basis, recipient_name, recipient_role, recipient_country, reason, request_right, channel, grounds, keep_until)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		f.Ref, f.Source, f.ID, f.Kind, f.Time.UTC().Format("2006-01-02 15:04:05.000"), f.Category, f.DataSubject, f.Purpose,
		f.LegalBasis, f.RecipientName, f.RecipientRole, f.RecipientCountry, f.Reason, f.Right, f.Channel, f.Grounds, keepUntil)
	if err != nil {
		t.Fatal(err)
	}
}

func subjectCatalog(t *testing.T) driver.Conn {
	t.Helper()
	conn := testservers.ClickHouse(t)
	at := time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)
	keep := at.AddDate(3, 0, 0)
	for i, f := range []people.Fact{
		{Ref: annRef, Source: "crm", ID: "1", Kind: people.KindCollected, Time: at, Category: "account.contact", DataSubject: "customer", Purpose: "service_delivery", LegalBasis: "contract"},
		{Ref: annRef, Source: "support-desk", ID: "2", Kind: people.KindRequestReceived, Time: at.Add(time.Hour), DataSubject: "customer", Right: "erasure", Channel: "email"},
		{Ref: bobRef, Source: "sms-gateway", ID: "3", Kind: people.KindConsentWithdrawn, Time: at, DataSubject: "call_party", Purpose: "marketing", Channel: "sms_stop"},
		{Ref: bobRef, Source: "sms-gateway", ID: "4", Kind: people.KindShared, Time: at.Add(time.Hour), Category: "telephony.sms_metadata", DataSubject: "call_party", Purpose: "marketing", LegalBasis: "consent", RecipientName: "Twilio", RecipientRole: "processor", RecipientCountry: "US"},
		{Ref: eveRef, Source: "crm", ID: "5", Kind: people.KindCollected, Time: at, Category: "account.contact", DataSubject: "customer", Purpose: "service_delivery", LegalBasis: "contract"},
	} {
		insertFact(t, conn, f, keep)
		if i == 0 {
			insertFact(t, conn, f, keep) // a redelivery: counted once
		}
	}
	return conn
}

func TestSubjectFacts(t *testing.T) {
	conn := subjectCatalog(t)
	ctx := context.Background()
	asOf := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	facts, err := query.SubjectFacts(ctx, conn, annRef, asOf)
	if err != nil {
		t.Fatal(err)
	}
	if len(facts) != 2 || facts[0].Kind != people.KindCollected || facts[1].Right != "erasure" || facts[1].Channel != "email" {
		t.Fatalf("ann's facts: %+v; want the collection (once) and the erasure request", facts)
	}
	early, err := query.SubjectFacts(ctx, conn, annRef, time.Date(2026, 10, 1, 9, 30, 0, 0, time.UTC))
	if err != nil || len(early) != 1 {
		t.Errorf("as of before the request: %d facts, %v; want 1", len(early), err)
	}
	reqs, err := query.RequestFacts(ctx, conn, asOf, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range reqs {
		if f.Ref != annRef {
			t.Errorf("RequestFacts read %s, who made no request", f.Ref)
		}
	}
	if len(reqs) != 2 {
		t.Errorf("RequestFacts: %d facts; want ann's 2", len(reqs))
	}
	rights, err := query.RightsFacts(ctx, conn, asOf)
	if err != nil {
		t.Fatal(err)
	}
	persons := map[string]int{}
	for _, f := range rights {
		persons[f.Ref]++
	}
	if len(persons) != 2 || persons[annRef] != 2 || persons[bobRef] != 2 {
		t.Errorf("RightsFacts by person: %v; want ann and bob with 2 each, not eve", persons)
	}
	// As of 1 December, ann's erasure request of 1 October is overdue and
	// crm has no evidence; bob got marketing after his STOP.
	kinds := map[string]string{}
	for _, f := range people.Findings(rights, asOf) {
		kinds[f.Kind] = f.System
	}
	if len(kinds) != 3 || kinds[people.FindingProcessingAfterWithdrawal] != "sms-gateway" ||
		kinds[people.FindingErasureIncomplete] != "crm" || kinds[people.FindingRequestOverdue] != "support-desk" {
		t.Errorf("findings from the catalog: %v", kinds)
	}
}

func TestForget(t *testing.T) {
	conn := subjectCatalog(t)
	ctx := context.Background()
	n, err := peoplestore.Forget(ctx, conn, annRef)
	if err != nil || n != 2 {
		t.Fatalf("Forget = %d, %v; want 2 rows", n, err)
	}
	asOf := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if facts, err := query.SubjectFacts(ctx, conn, annRef, asOf); err != nil || len(facts) != 0 {
		t.Errorf("after Forget: %d facts, %v", len(facts), err)
	}
	if facts, err := query.SubjectFacts(ctx, conn, eveRef, asOf); err != nil || len(facts) != 1 {
		t.Errorf("Forget took someone else's rows: eve has %d facts, %v", len(facts), err)
	}
	for _, table := range []string{"subject_rights", "subject_holdings"} {
		var copies uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM "+table+" WHERE ref = ?", annRef).Scan(&copies); err != nil || copies != 0 {
			t.Errorf("after Forget, %s still holds %d of ann's rows (%v)", table, copies, err)
		}
	}
}

// countByRef counts facts per person and kind, e.g. "ann collected" → 1.
func countByRef(facts []people.Fact) map[string]int {
	names := map[string]string{annRef: "ann", bobRef: "bob", eveRef: "eve"}
	out := map[string]int{}
	for _, f := range facts {
		out[names[f.Ref]+" "+f.Kind]++
	}
	return out
}

// RequestFacts reads every fact of a person with an erasure request (its
// holders and recipients are in them), only the request facts of a person
// with another request, and nothing of a person whose requests are all
// answered unless every request is asked for.
func TestRequestFactsReadWhatEachRequestNeeds(t *testing.T) {
	conn := testservers.ClickHouse(t)
	ctx := context.Background()
	at := time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)
	keep := at.AddDate(3, 0, 0)
	collected := func(ref, id string) people.Fact {
		return people.Fact{Ref: ref, Source: "crm", ID: id, Kind: people.KindCollected, Time: at, Category: "account.contact",
			DataSubject: "customer", Purpose: "service_delivery", LegalBasis: "contract"}
	}
	request := func(ref, id, kind, right string) people.Fact {
		return people.Fact{Ref: ref, Source: "support-desk", ID: id, Kind: kind, Time: at.Add(time.Hour), DataSubject: "customer", Right: right}
	}
	annErasure := request(annRef, "a2", people.KindRequestReceived, "erasure")
	for _, f := range []people.Fact{
		// The collection and the request redelivered: each read once.
		collected(annRef, "a1"), collected(annRef, "a1"), annErasure, annErasure,
		{Ref: annRef, Source: "crm", ID: "a3", Kind: people.KindShared, Time: at, Category: "account.contact", DataSubject: "customer",
			Purpose: "service_delivery", LegalBasis: "contract", RecipientName: "Twilio", RecipientRole: "processor", RecipientCountry: "US"},
		collected(bobRef, "b1"), request(bobRef, "b2", people.KindRequestReceived, "access"),
		collected(eveRef, "e1"), request(eveRef, "e2", people.KindRequestReceived, "access"),
		request(eveRef, "e3", people.KindRequestCompleted, "access"),
	} {
		insertFact(t, conn, f, keep)
	}
	asOf := at.AddDate(0, 0, 7)
	open, err := query.RequestFacts(ctx, conn, asOf, true)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"ann collected": 1, "ann shared": 1, "ann request_received": 1, "bob request_received": 1}
	if got := countByRef(open); !maps.Equal(got, want) {
		t.Errorf("open requests: read %v, want %v", got, want)
	}
	rs := people.Requests(open, asOf)
	i := slices.IndexFunc(rs, func(r people.Request) bool { return r.Right == "erasure" })
	if len(rs) != 2 || i < 0 || len(rs[i].Holders) != 1 || len(rs[i].Recipients) != 1 {
		t.Errorf("open requests from those facts: %+v; want ann's erasure (crm, Twilio) and bob's access", rs)
	}
	all, err := query.RequestFacts(ctx, conn, asOf, false)
	if err != nil {
		t.Fatal(err)
	}
	want["eve request_received"], want["eve request_completed"] = 1, 1
	if got := countByRef(all); !maps.Equal(got, want) {
		t.Errorf("every request: read %v, want %v", got, want)
	}
}

// A catalog written before subject_rights existed gets it filled by the
// migration, and the view keeps it up to date from then on.
func TestSubjectRightsBackfill(t *testing.T) {
	conn := subjectCatalog(t)
	ctx := context.Background()
	for _, stmt := range []string{"DROP VIEW subject_rights_feed", "DROP TABLE subject_rights",
		"DROP VIEW subject_holdings_feed", "DROP TABLE subject_holdings",
		// subject_refs as it was then, without the credential column
		// (0010) that 0007's copy would otherwise meet.
		"ALTER TABLE subject_refs DROP COLUMN credential",
		"ALTER TABLE schema_migrations DELETE WHERE version IN (7, 10, 15) SETTINGS mutations_sync = 1"} {
		if err := conn.Exec(ctx, stmt); err != nil {
			t.Fatal(stmt, err)
		}
	}
	if ran, err := schema.Migrate(ctx, conn); err != nil || !slices.Equal(ran, []int{7, 10, 15}) {
		t.Fatalf("migrate: ran %v, %v; want [7 10 15]", ran, err)
	}
	at := time.Date(2026, 10, 2, 9, 0, 0, 0, time.UTC)
	insertFact(t, conn, people.Fact{Ref: eveRef, Source: "support-desk", ID: "6", Kind: people.KindRequestReceived, Time: at,
		DataSubject: "customer", Right: "access"}, at.AddDate(3, 0, 0))
	facts, err := query.RequestFacts(ctx, conn, at.AddDate(0, 0, 1), true)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"ann collected": 1, "ann request_received": 1, "eve request_received": 1}
	if got := countByRef(facts); !maps.Equal(got, want) {
		t.Errorf("after the backfill: read %v, want %v (ann's request from before the migration, eve's from after)", got, want)
	}
}

// TestRetentionTTL: a row past its keep_until is deleted by ClickHouse's
// TTL at the next merge; a row within it stays.
func TestRetentionTTL(t *testing.T) {
	conn := testservers.ClickHouse(t)
	ctx := context.Background()
	past := time.Now().Add(-48 * time.Hour)
	insertFact(t, conn, people.Fact{Ref: annRef, Source: "crm", ID: "old", Kind: people.KindCollected, Time: past.AddDate(-1, 0, 0), Category: "account.contact"}, past)
	insertFact(t, conn, people.Fact{Ref: annRef, Source: "crm", ID: "new", Kind: people.KindCollected, Time: time.Now().Add(-time.Hour), Category: "account.contact"}, time.Now().AddDate(1, 0, 0))
	if err := conn.Exec(ctx, "OPTIMIZE TABLE subject_refs FINAL"); err != nil {
		t.Fatal(err)
	}
	facts, err := query.SubjectFacts(ctx, conn, annRef, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(facts) != 1 || facts[0].ID != "new" {
		t.Errorf("after the TTL merge: %+v; want only the row within its retention", facts)
	}
}

func TestAuditTrail(t *testing.T) {
	conn := testservers.ClickHouse(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 123e6, time.UTC)
	for i, e := range []query.AuditEntry{
		{At: t0, Who: "dpo", Surface: "api", Question: "subject show", Ref: annRef},
		{At: t0.Add(time.Minute), Who: "alice", Surface: "cli", Question: "subject requests"},
		{At: t0.Add(2 * time.Minute), Who: "dpo", Surface: "api", Question: "subject show", Ref: bobRef},
	} {
		if err := peoplestore.AppendAudit(ctx, conn, e); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	all, err := query.Audit(ctx, conn, query.AuditFilter{})
	if err != nil || len(all) != 3 || all[0].Ref != bobRef || !all[2].At.Equal(t0) {
		t.Fatalf("Audit: %+v, %v; want 3, newest first, at millisecond precision", all, err)
	}
	dpo, _ := query.Audit(ctx, conn, query.AuditFilter{Who: "dpo", Ref: annRef})
	if len(dpo) != 1 || dpo[0].Question != "subject show" {
		t.Errorf("Audit who=dpo ref=ann: %+v", dpo)
	}
	since, _ := query.Audit(ctx, conn, query.AuditFilter{Since: t0.Add(30 * time.Second)})
	if len(since) != 2 {
		t.Errorf("Audit since: %d entries; want 2", len(since))
	}
}

// An answer closes only a request received before it: a person answered
// once, then asking again, has that request open, and is read as open.
func TestAnAnswerBeforeARequestDoesNotCloseIt(t *testing.T) {
	conn := testservers.ClickHouse(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	keep := now.AddDate(3, 0, 0)
	for _, f := range []people.Fact{
		{Ref: annRef, Source: "support-desk", ID: "1", Kind: people.KindRequestCompleted, Time: now.AddDate(0, 0, -6), DataSubject: "customer", Right: "access"},
		{Ref: annRef, Source: "support-desk", ID: "2", Kind: people.KindRequestReceived, Time: now.AddDate(0, 0, -5), DataSubject: "customer", Right: "access"},
		// Received, answered, answered again, received: the second answer
		// closes nothing, the last request is open.
		{Ref: bobRef, Source: "support-desk", ID: "1", Kind: people.KindRequestReceived, Time: now.AddDate(0, 0, -9), DataSubject: "customer", Right: "access"},
		{Ref: bobRef, Source: "support-desk", ID: "2", Kind: people.KindRequestCompleted, Time: now.AddDate(0, 0, -8), DataSubject: "customer", Right: "access"},
		{Ref: bobRef, Source: "support-desk", ID: "3", Kind: people.KindRequestCompleted, Time: now.AddDate(0, 0, -7), DataSubject: "customer", Right: "access"},
		{Ref: bobRef, Source: "support-desk", ID: "4", Kind: people.KindRequestReceived, Time: now.AddDate(0, 0, -2), DataSubject: "customer", Right: "access"},
		// Answered in full: not open.
		{Ref: eveRef, Source: "support-desk", ID: "1", Kind: people.KindRequestReceived, Time: now.AddDate(0, 0, -4), DataSubject: "customer", Right: "access"},
		{Ref: eveRef, Source: "support-desk", ID: "2", Kind: people.KindRequestCompleted, Time: now.AddDate(0, 0, -3), DataSubject: "customer", Right: "access"},
	} {
		insertFact(t, conn, f, keep)
	}
	facts, err := query.RequestFacts(ctx, conn, now, true)
	if err != nil {
		t.Fatal(err)
	}
	open := people.Open(people.Requests(facts, now))
	var refs []string
	for _, r := range open {
		refs = append(refs, r.Ref)
	}
	slices.Sort(refs)
	if want := []string{bobRef, annRef}; !slices.Equal(refs, want) {
		t.Errorf("open requests of %v, want ann's and bob's", refs)
	}
}
