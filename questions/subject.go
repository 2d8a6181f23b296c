package questions

import (
	"context"
	"errors"
	"os/user"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/catalog/peoplestore"
	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/events/subjectref"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/people"
	"github.com/back-trace/datamap/registry"
)

// Roles a question needs. Subject questions are about one person; their
// answers hold subject references, which are personal data, so they need
// the subject role and every asking is audited.
const (
	RoleRead    = "read"
	RoleSubject = "subject"
)

// Asker is who asks a subject question, as the audit trail records it.
type Asker struct {
	// Who is the subject token's name (API, web) or the operating-system
	// user (CLI); never a token.
	Who string
	// Surface is cli, api or web.
	Surface string
}

type askerKey struct{}

// WithAsker returns a context that says who is asking. A subject question
// asked without one is refused: nobody may look a person up unrecorded.
func WithAsker(ctx context.Context, a Asker) context.Context {
	return context.WithValue(ctx, askerKey{}, a)
}

// ErrNoAsker is returned for a subject question asked without WithAsker.
var ErrNoAsker = errors.New("questions: a subject question needs WithAsker (who is asking), for the audit trail")

// CLIAsker is the asker of the command line: the operating-system user.
func CLIAsker() Asker {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	return Asker{Who: name, Surface: "cli"}
}

// audited answers a subject question and records the asking in the audit
// trail. The row is written while the answer is read (an INSERT's fsync
// beside several reads, instead of before them), and the answer is
// returned only once its row is written: a question whose asking cannot
// be recorded is not answered.
func (q Question) audited(ctx context.Context, conn driver.Conn, tax *taxonomy.Taxonomy, r Parsed) (Answer, error) {
	if _, ok := askerOf(ctx); !ok {
		return Answer{}, ErrNoAsker
	}
	if q.readsAudit { // its row first, so that it lists this asking too
		if err := audit(ctx, conn, q, r); err != nil {
			return Answer{}, err
		}
		return q.answer(ctx, conn, tax, r)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	recorded := make(chan error, 1)
	go func() {
		err := audit(ctx, conn, q, r)
		if err != nil {
			cancel() // the answer will not be returned
		}
		recorded <- err
	}()
	a, err := q.answer(ctx, conn, tax, r)
	if aerr := <-recorded; aerr != nil {
		return Answer{}, aerr
	}
	return a, err
}

// audit records the asking of a subject question as answered.
func audit(ctx context.Context, conn driver.Conn, q Question, r Parsed) error {
	a, ok := askerOf(ctx)
	if !ok {
		return ErrNoAsker
	}
	return peoplestore.AppendAudit(ctx, conn, a.entry(q, r.values["ref"], query.OutcomeAnswered))
}

// askerOf returns who is asking, as WithAsker said.
func askerOf(ctx context.Context) (Asker, bool) {
	a, ok := ctx.Value(askerKey{}).(Asker)
	return a, ok && a.Who != ""
}

// entry is the audit trail's row for a's asking of q, now.
func (a Asker) entry(q Question, ref, outcome string) query.AuditEntry {
	return query.AuditEntry{At: time.Now(), Who: a.Who, Surface: a.Surface, Question: q.Name, Ref: ref, Outcome: outcome}
}

// Refused records in the audit trail that a subject question was refused
// for bad input: the parameter refused, never its value (a malformed
// reference may be the identity itself). Ask calls it; a surface that
// refuses parameters before Ask (HTTP's unknown parameters) calls it too.
// It does nothing for other questions, for errors that are not bad input,
// or without an asker (then nobody could have been answered either).
func (q Question) Refused(ctx context.Context, conn driver.Conn, refusal error) error {
	a, ok := askerOf(ctx)
	var ie *InputError
	if q.Role != RoleSubject || !ok || !errors.As(refusal, &ie) {
		return nil
	}
	return peoplestore.AppendAudit(ctx, conn, a.entry(q, "", "refused: "+ie.Param))
}

// parseSubject checks the parameters subject questions add.
func parseSubject(values map[string]string) error {
	if ref, ok := values["ref"]; ok && ref != "" {
		if err := subjectref.Check(ref); err != nil {
			// Value left empty: a malformed ref may be the identity itself.
			return &InputError{Param: "ref", Msg: err.Error()}
		}
	}
	if all := values["all"]; all != "" && all != "true" && all != "false" {
		return &InputError{Param: "all", Value: all, Msg: "must be true or false"}
	}
	return nil
}

// asOf is the request's as_of, or now.
func (r Parsed) asOf() time.Time {
	if r.filter.AsOf.IsZero() {
		return time.Now()
	}
	return r.filter.AsOf
}

func subjectShow(ctx context.Context, conn driver.Conn, tax *taxonomy.Taxonomy, r Parsed) (Answer, error) {
	asOf := r.asOf()
	facts, err := query.SubjectFacts(ctx, conn, r.values["ref"], asOf)
	if err != nil {
		return Answer{}, err
	}
	// Whether a child's data is declared is the registry's to say; with
	// one, the profile's findings include children_data.
	reg, _ := ctx.Value(registryKey{}).(*registry.Registry)
	return Answer{Document: people.WithChildrenFindings(people.ProfileOf(r.values["ref"], facts, asOf), reg, tax)}, nil
}

// registryKey keys the declared registry in a context.
type registryKey struct{}

// WithRegistry returns a context that carries the declared registry, for
// the subject statement (its legal bases, retention, sources and
// controller come from it) and subject show (whether a child's data is
// declared). Without one the statement holds what the
// evidence shows and leaves the declared parts out.
func WithRegistry(ctx context.Context, reg *registry.Registry) context.Context {
	return context.WithValue(ctx, registryKey{}, reg)
}

func subjectStatement(ctx context.Context, conn driver.Conn, tax *taxonomy.Taxonomy, r Parsed) (Answer, error) {
	asOf := r.asOf()
	facts, err := query.SubjectFacts(ctx, conn, r.values["ref"], asOf)
	if err != nil {
		return Answer{}, err
	}
	reg, _ := ctx.Value(registryKey{}).(*registry.Registry)
	return Answer{Document: people.StatementOf(people.ProfileOf(r.values["ref"], facts, asOf), reg, tax, asOf)}, nil
}

func subjectRequests(ctx context.Context, conn driver.Conn, _ *taxonomy.Taxonomy, r Parsed) (Answer, error) {
	asOf := r.asOf()
	all := r.values["all"] == "true"
	facts, err := query.RequestFacts(ctx, conn, asOf, !all)
	if err != nil {
		return Answer{}, err
	}
	rs := people.Requests(facts, asOf)
	if !all {
		rs = people.Open(rs)
	}
	return Answer{Rows: listOf(rs)}, nil
}

func auditTrail(ctx context.Context, conn driver.Conn, _ *taxonomy.Taxonomy, r Parsed) (Answer, error) {
	rows, err := query.Audit(ctx, conn, query.AuditFilter{Who: r.values["who"], Ref: r.values["ref"],
		Since: r.filter.Since, Until: r.filter.Until})
	return Answer{Rows: listOf(rows)}, err
}
