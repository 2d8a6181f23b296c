package schema

import (
	"context"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// subjectCopies are the tables that materialized views fill from
// subject_refs, each a copy of some of its rows. They are not fsynced on
// insert: subject_refs is, and RepairSubjectCopies writes again whatever
// of its recent rows a power failure took from them. An INSERT with
// subject references then waits for one fsynced part instead of three.
var subjectCopies = []string{"subject_rights", "subject_holdings"}

// CopiesRepairWindow is how far back from the newest row of subject_refs
// RepairSubjectCopies copies rows again. The copies' parts are written by
// the INSERT that wrote the row, into the page cache; the kernel writes
// dirty pages back within about 35 seconds (vm.dirty_expire_centisecs 30 s
// plus one writeback interval) and ext4 commits its journal every 5, so a
// power failure can take only copies of the last minute or so. An hour is
// margin for a kernel under memory pressure, and costs one read of the
// recent rows at start.
const CopiesRepairWindow = time.Hour

// The statements that copy again the rows of subject_refs ingested since
// {since}, each one only where the copy lacks it: a start after a clean
// stop adds nothing, and a start after a power failure adds each lost row
// once. They are the views' SELECTs (migration 0007) with that condition.
var repairCopies = []string{
	`INSERT INTO subject_rights
	SELECT *
	FROM subject_refs
	WHERE ingested_at >= {since:DateTime64(3)}
	  AND (kind IN ('consent_given', 'consent_withdrawn', 'request_received', 'request_completed', 'request_refused')
	       OR (kind = 'erased' AND reason = 'subject_request'))
	  AND (ref, source, id) NOT IN (
	      SELECT ref, source, id FROM subject_rights
	      WHERE ref IN (SELECT ref FROM subject_refs WHERE ingested_at >= {since:DateTime64(3)}))`,
	`INSERT INTO subject_holdings
	SELECT DISTINCT ref, source, kind, time, category, recipient_name, recipient_role, recipient_country, keep_until
	FROM subject_refs
	WHERE ingested_at >= {since:DateTime64(3)}
	  AND kind IN ('collected', 'shared')
	  AND (ref, source, kind, time, category, recipient_name, recipient_role, recipient_country) NOT IN (
	      SELECT ref, source, kind, time, category, recipient_name, recipient_role, recipient_country FROM subject_holdings
	      WHERE ref IN (SELECT ref FROM subject_refs WHERE ingested_at >= {since:DateTime64(3)}))`,
}

// RepairSubjectCopies writes into subject_rights and subject_holdings the
// rows of subject_refs ingested within CopiesRepairWindow of its newest
// row that they lack. `datamap serve` runs it at every start, before the
// consumer and the API: after a power failure the copies again hold every
// fact subject_refs holds, before anyone asks about a person. It returns
// how many rows it added.
func RepairSubjectCopies(ctx context.Context, conn driver.Conn) (uint64, error) {
	var newest time.Time
	var n uint64
	if err := conn.QueryRow(ctx, `SELECT max(ingested_at), count() FROM subject_refs`).Scan(&newest, &n); err != nil {
		return 0, fmt.Errorf("catalog: repair the subject copies: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	since := newest.Add(-CopiesRepairWindow).UTC().Format("2006-01-02 15:04:05.000")
	before, err := copiesRows(ctx, conn)
	if err != nil {
		return 0, err
	}
	withSince := ch.Context(ctx, ch.WithParameters(ch.Parameters{"since": since}))
	for _, stmt := range repairCopies {
		if err := conn.Exec(withSince, stmt); err != nil {
			return 0, fmt.Errorf("catalog: repair the subject copies: %w", err)
		}
	}
	after, err := copiesRows(ctx, conn)
	if err != nil {
		return 0, err
	}
	return after - before, nil
}

// copiesRows counts the rows of both copies, from part metadata.
func copiesRows(ctx context.Context, conn driver.Conn) (uint64, error) {
	var n uint64
	if err := conn.QueryRow(ctx, `SELECT (SELECT count() FROM subject_rights) + (SELECT count() FROM subject_holdings)`).Scan(&n); err != nil {
		return 0, fmt.Errorf("catalog: repair the subject copies: %w", err)
	}
	return n, nil
}
