package schema_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/back-trace/datamap/catalog/schema"
	"github.com/back-trace/datamap/internal/testkit/testservers"
)

// A power failure can take the copies' newest parts (they are not fsynced);
// RepairSubjectCopies writes those rows again from subject_refs, once,
// however often it runs.
func TestRepairSubjectCopies(t *testing.T) {
	conn := testservers.ClickHouse(t)
	ctx := context.Background()
	if n, err := schema.RepairSubjectCopies(ctx, conn); err != nil || n != 0 {
		t.Fatalf("empty catalog: repaired %d rows, err %v", n, err)
	}
	now := time.Now().UTC()
	happened := now.Add(-3 * time.Hour).Format("2006-01-02 15:04:05.000") // the event time of every fact
	fact := func(ref, id, kind, reason string, ingested time.Time) string {
		return fmt.Sprintf(`('sr1:%s', 'shop', '%s', '%s', '%s', 'contact', 'customer', 'orders', 'contract', '', '', '', '%s', '', '', '',
			'%s', '%s', 'nats:shop')`, ref, id, kind, happened, reason,
			now.Add(48*time.Hour).Format("2006-01-02 15:04:05"), ingested.Format("2006-01-02 15:04:05.000"))
	}
	insert := func(rows ...string) {
		t.Helper()
		if err := conn.Exec(ctx, `INSERT INTO subject_refs (ref, source, id, kind, time, category, data_subject, purpose, legal_basis,
			recipient_name, recipient_role, recipient_country, reason, request_right, channel, grounds, keep_until, ingested_at, credential)
			VALUES `+strings.Join(rows, ", ")); err != nil {
			t.Fatal(err)
		}
	}
	// Older than the window before the newest row: never copied again.
	old := now.Add(-schema.CopiesRepairWindow - time.Hour)
	insert(fact("old", "1", "collected", "", old), fact("old", "2", "request_received", "", old))
	// Recent: a request, an erasure on request, collections (one delivered twice).
	recent := now.Add(-time.Minute)
	insert(fact("a", "3", "request_received", "", recent), fact("a", "4", "erased", "subject_request", recent),
		fact("a", "5", "collected", "", recent), fact("b", "6", "collected", "", recent), fact("b", "7", "consent_given", "", recent))
	insert(fact("b", "6", "collected", "", now))

	copies := func() (rights, holdings string) {
		t.Helper()
		read := func(q string) string {
			rows, err := conn.Query(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out []string
			for rows.Next() {
				var ref, id string
				if err := rows.Scan(&ref, &id); err != nil {
					t.Fatal(err)
				}
				out = append(out, ref+"/"+id)
			}
			return strings.Join(out, " ")
		}
		return read(`SELECT ref, id FROM subject_rights FINAL ORDER BY ref, id`),
			read(`SELECT ref, toString(count()) FROM subject_holdings GROUP BY ref ORDER BY ref`)
	}
	wantRights, wantHoldings := "sr1:a/3 sr1:a/4 sr1:b/7 sr1:old/2", "sr1:a/1 sr1:b/2 sr1:old/1"
	if r, h := copies(); r != wantRights || h != wantHoldings {
		t.Fatalf("the views copied rights %q, holdings %q; want %q, %q", r, h, wantRights, wantHoldings)
	}
	// Nothing lost: nothing to add.
	if n, err := schema.RepairSubjectCopies(ctx, conn); err != nil || n != 0 {
		t.Fatalf("intact copies: repaired %d rows, err %v", n, err)
	}
	// A power failure took every part of the copies.
	for _, table := range []string{"subject_rights", "subject_holdings"} {
		if err := conn.Exec(ctx, "TRUNCATE TABLE "+table); err != nil {
			t.Fatal(err)
		}
	}
	n, err := schema.RepairSubjectCopies(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	// The recent rows are back, the duplicate collection once; the old
	// ones are outside the window.
	wantRights, wantHoldings = "sr1:a/3 sr1:a/4 sr1:b/7", "sr1:a/1 sr1:b/1"
	if r, h := copies(); r != wantRights || h != wantHoldings || n != 5 {
		t.Errorf("after the repair (%d rows): rights %q, holdings %q; want %q, %q (5 rows)", n, r, h, wantRights, wantHoldings)
	}
	if n, err := schema.RepairSubjectCopies(ctx, conn); err != nil || n != 0 {
		t.Errorf("second repair: %d rows, err %v; want none", n, err)
	}
}
