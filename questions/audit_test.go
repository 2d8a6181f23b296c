package questions_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/questions"
)

// A subject question is answered only when its asking is recorded: asked
// without an asker, or while the audit trail cannot be written, it
// returns an error and nothing of the person; once the trail is back,
// the same question is answered and recorded once. The trail's own
// listing, which reads what it records, lists its own asking.
func TestASubjectQuestionWhoseAskingCannotBeRecordedIsNotAnswered(t *testing.T) {
	conn := testservers.ClickHouse(t)
	ctx := context.Background()
	const ref = "sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a"
	if err := conn.Exec(ctx, `INSERT INTO subject_refs (ref, source, id, kind, time, category, data_subject, purpose, legal_basis, keep_until)
		VALUES (?, 'crm', '1', 'collected', '2026-10-01 09:00:00.000', 'account.contact', 'customer', 'service_delivery', 'contract', '2030-01-01 00:00:00')`, ref); err != nil {
		t.Fatal(err)
	}
	show, _ := questions.Lookup("subject show")
	tax := taxonomy.Default()
	params := map[string]string{"ref": ref}

	if a, err := show.Ask(ctx, conn, tax, params); !errors.Is(err, questions.ErrNoAsker) || a.Document != nil {
		t.Fatalf("asked without an asker: %v, %+v; want ErrNoAsker and no answer", err, a)
	}

	asked := questions.WithAsker(ctx, questions.Asker{Who: "dpo", Surface: "cli"})
	if err := conn.Exec(ctx, "RENAME TABLE subject_audit TO subject_audit_away"); err != nil {
		t.Fatal(err)
	}
	a, err := show.Ask(asked, conn, tax, params)
	if err == nil || !strings.Contains(err.Error(), "not answered") {
		t.Fatalf("asked while the trail cannot be written: err %v; want the question not answered", err)
	}
	if a.Document != nil || a.Rows != nil {
		t.Fatalf("asked while the trail cannot be written: answered %+v", a)
	}
	if err := conn.Exec(ctx, "RENAME TABLE subject_audit_away TO subject_audit"); err != nil {
		t.Fatal(err)
	}

	if a, err = show.Ask(asked, conn, tax, params); err != nil || a.Document == nil {
		t.Fatalf("asked once the trail is back: %v, %+v; want an answer", err, a)
	}
	trail, err := query.Audit(ctx, conn, query.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(trail) != 1 || trail[0].Who != "dpo" || trail[0].Ref != ref || trail[0].Outcome != query.OutcomeAnswered {
		t.Fatalf("audit trail %+v; want the one answered asking", trail)
	}

	// The trail's own listing lists its asking too, newest first.
	list, _ := questions.Lookup("audit")
	if a, err = list.Ask(asked, conn, tax, map[string]string{}); err != nil {
		t.Fatal(err)
	}
	if rows := questions.RowsOf[query.AuditEntry](a); len(rows) != 2 || rows[0].Question != "audit" || rows[1].Question != "subject show" {
		t.Fatalf("the audit listing shows %+v; want its own asking, then the subject show", rows)
	}
}
