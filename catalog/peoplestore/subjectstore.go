// Package peoplestore changes what the catalog holds about people, for
// the subject role: it appends each asking of a subject question to the
// audit trail (subject_audit), and forgets a person at the end of the
// evidence period. Everything that reads those tables is in
// catalog/query; see docs/subjects.md.
package peoplestore

import (
	"context"
	"fmt"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/catalog/query"
)

// AppendAudit records one asking. It is the only statement that writes
// the audit table, and it only appends.
func AppendAudit(ctx context.Context, conn driver.Conn, e query.AuditEntry) error {
	if e.Outcome == "" {
		e.Outcome = query.OutcomeAnswered
	}
	if err := conn.Exec(ctx, `INSERT INTO subject_audit (at, who, surface, question, ref, outcome) VALUES (?, ?, ?, ?, ?, ?)`,
		// The time as text: a bound time.Time would lose its milliseconds.
		e.At.UTC().Format("2006-01-02 15:04:05.000"), e.Who, e.Surface, e.Question, e.Ref, e.Outcome); err != nil {
		return fmt.Errorf("audit trail: %w; the question was not answered", err)
	}
	return nil
}

// Forget deletes every row about one person from subject_refs and its
// copies in subject_rights and subject_holdings, and returns how many
// subject_refs held. A lightweight DELETE: the rows vanish from every
// query at once and from disk at the next merge. Run again after a
// failure, it finishes the tables left. The audit trail keeps its rows.
func Forget(ctx context.Context, conn driver.Conn, ref string) (uint64, error) {
	var n uint64
	ctx = ch.Context(ctx, ch.WithParameters(ch.Parameters{"ref": ref}))
	if err := conn.QueryRow(ctx, `SELECT count() FROM subject_refs FINAL WHERE ref = {ref:String}`).Scan(&n); err != nil {
		return 0, fmt.Errorf("forget: count: %w", err)
	}
	for _, table := range []string{"subject_refs", "subject_rights", "subject_holdings"} {
		if err := conn.Exec(ctx, `DELETE FROM `+table+` WHERE ref = {ref:String}`); err != nil {
			return 0, fmt.Errorf("forget: %s: %w", table, err)
		}
	}
	return n, nil
}
