package clickhouse_test

import (
	"context"
	"testing"
	"time"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/sinks/clickhouse"
)

const ann = "sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a"

// TestSubjectReferencesGoOnlyToTheSubjectTable: an event with a reference
// is stored in events without it and, with its facts and its keep_until,
// in subject_refs; a consent event only in subject_refs; writing the batch
// again changes nothing.
func TestSubjectReferencesGoOnlyToTheSubjectTable(t *testing.T) {
	conn := testservers.ClickHouse(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	rc := events.Recipient{Name: "Twilio", Role: events.RoleProcessor, Country: "US", Safeguard: events.SafeguardSCC}
	batch := []*events.Event{
		{ID: "1", Source: "crm", Kind: events.KindCollected, Time: at, Data: events.Data{Category: "account.contact", DataSubject: "customer",
			Purpose: "service_delivery", LegalBasis: "contract", Retention: "P3Y", SubjectRef: ann, Count: 1}},
		{ID: "2", Source: "sms-gateway", Kind: events.KindShared, Time: at, Data: events.Data{Category: "support.tickets", DataSubject: "customer",
			Purpose: "support", LegalBasis: "consent", Recipient: &rc, SubjectRef: ann, Count: 1}},
		{ID: "3", Source: "sms-gateway", Kind: events.KindConsentWithdrawn, Time: at, Data: events.Data{DataSubject: "customer",
			Purpose: "marketing", Channel: "sms_stop", SubjectRef: ann, Count: 1}},
		{ID: "4", Source: "crm", Kind: events.KindErased, Time: at, Data: events.Data{Category: "account.contact", DataSubject: "customer",
			Reason: events.ReasonSubjectRequest, SubjectRef: ann, Count: 1}},
		{ID: "5", Source: "crm", Kind: events.KindCollected, Time: at, Data: events.Data{Category: "account.profile", DataSubject: "customer",
			Purpose: "service_delivery", LegalBasis: "contract", Retention: "P3Y", Count: 40}},
	}
	w := clickhouse.NewWriter(conn).WithSubjectRetention(clickhouse.SubjectRetention{
		Category: taxonomy.Default().RetentionOf, Evidence: 2 * 365 * 24 * time.Hour})
	for range 2 {
		if err := w.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	var dataRows uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM events FINAL").Scan(&dataRows); err != nil {
		t.Fatal(err)
	}
	if dataRows != 4 {
		t.Errorf("events holds %d rows; want the 4 events about data, not the consent", dataRows)
	}
	// No column of events holds a reference: no row has one in any value.
	var leaks uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM events WHERE position(formatRow('TSV', *), 'sr1:') > 0").Scan(&leaks); err != nil {
		t.Fatal(err)
	}
	if leaks != 0 {
		t.Errorf("%d rows of events hold a subject reference", leaks)
	}
	got := map[string]time.Time{}
	r, err := conn.Query(ctx, "SELECT id, kind, keep_until FROM subject_refs FINAL WHERE ref = ?", ann)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var id, kind string
		var keep time.Time
		if err := r.Scan(&id, &kind, &keep); err != nil {
			t.Fatal(err)
		}
		got[id+" "+kind] = keep.UTC()
	}
	r.Close()
	want := map[string]time.Time{
		"1 collected":         at.AddDate(3, 0, 0),              // the event's retention
		"2 shared":            at.AddDate(0, 24, 0),             // the taxonomy's for support (P24M)
		"3 consent_withdrawn": at.Add(2 * 365 * 24 * time.Hour), // evidence
		"4 erased":            at.Add(2 * 365 * 24 * time.Hour), // an erasure on request is evidence
	}
	if len(got) != len(want) {
		t.Fatalf("subject_refs holds %v; want %v", got, want)
	}
	for k, w := range want {
		if !got[k].Equal(w) {
			t.Errorf("%s: keep_until %s; want %s", k, got[k], w)
		}
	}
}
