package query

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/people"
)

// The subject_refs table holds the facts about people (see
// catalog/schema/migrations and docs/subjects.md). Only the subject
// questions read it.

// factColumns are the subject_refs columns a people.Fact is read from.
const factColumns = `ref, source, id, kind, time, category, data_subject, purpose, legal_basis,
	recipient_name, recipient_role, recipient_country, reason, request_right, channel, grounds`

// SubjectFacts returns every fact about one person up to asOf, oldest first.
// The reference is the table's sorting-key prefix, so this reads one range
// of the index whatever the table's size.
func SubjectFacts(ctx context.Context, conn driver.Conn, ref string, asOf time.Time) ([]people.Fact, error) {
	facts, err := readFacts(ctx, conn, `SELECT `+factColumns+` FROM subject_refs FINAL
		WHERE ref = {ref:String} AND time <= {as_of:DateTime64(3)}
		ORDER BY time, source, id`,
		ch.Parameters{"ref": stringParam(ref), "as_of": chTime(asOf)}, allColumns)
	return facts.flat(), err
}

// RequestFacts returns the facts about the people who made a request, up
// to asOf, by reference, then oldest first: what Requests needs to pair
// requests with answers and to find an erasure's holders. With openOnly,
// only the people with a request still open are read, so the cost follows
// the open requests, not every request ever made. Open is counted as
// people.Requests pairs them: in time order, an answer closes a request
// received before it, and an answer with none open closes nothing — so a
// person answered once before asking still has that request open.
//
// Who asked is found first, in subject_rights, a table of such facts
// only; their requests, answers and erasure evidence come from there too.
// A person who asked for an erasure also has their collections and
// disclosures read from subject_holdings, which holds those in the columns
// an erasure's scope needs (see its migrations), without event ids: a
// redelivery there is read once by DISTINCT, and so are two events alike
// in every column the scope reads, which make the same scope. It is
// sorted by a 128-bit key of the reference (ref_key) and read by those
// keys alone: the references are joined back from the ones asked about,
// so neither the search of its index nor the read compares or reads the
// rows' own references (55 characters each).
//
// The people are found once and sent with the next two queries as a
// constant set: as a subquery they were found once per use, and a
// cluster would need GLOBAL IN to send them to every shard. The rights
// and the holdings are then read at the same time, on two connections of
// the pool; the holdings are the longer read (one index range per person
// and part), and the rights query needs nothing from it. Asked while
// events arrive, the answer is that of the catalog at some moment of the
// asking, as any answer read in several queries.
func RequestFacts(ctx context.Context, conn driver.Conn, asOf time.Time, openOnly bool) ([]people.Fact, error) {
	everyone, erasure, err := requesters(ctx, conn, asOf, openOnly)
	if err != nil || len(everyone) == 0 {
		return nil, err
	}
	var holdings factChunks
	var holdingsErr error
	var wg sync.WaitGroup
	if len(erasure) > 0 {
		wg.Go(func() {
			holdings, holdingsErr = readFacts(ctx, conn, `SELECT DISTINCT asked.ref, source, kind, time, category,
					recipient_name, recipient_role, recipient_country
				FROM subject_holdings AS held
				INNER JOIN (SELECT arrayJoin({refs:Array(String)}) AS ref, sipHash128(ref) AS ref_key) AS asked
					ON held.ref_key = asked.ref_key
				WHERE held.ref_key IN (SELECT sipHash128(arrayJoin({refs:Array(String)}))) AND time <= {as_of:DateTime64(3)}
				ORDER BY asked.ref, time, source`,
				ch.Parameters{"refs": stringArray(erasure), "as_of": chTime(asOf)}, holdingColumns)
		})
	}
	rights, err := readFacts(ctx, conn, `SELECT `+factColumns+` FROM subject_rights FINAL
		WHERE ref IN {refs:Array(String)} AND time <= {as_of:DateTime64(3)}
		ORDER BY ref, time, source, id`,
		ch.Parameters{"refs": stringArray(everyone), "as_of": chTime(asOf)}, allColumns)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if holdingsErr != nil {
		return nil, holdingsErr
	}
	return mergeByRefAndTime(rights, holdings), nil
}

// requesters returns the people with a request up to asOf (with openOnly,
// a request still open), and which of them asked for an erasure (with
// openOnly, one still open).
func requesters(ctx context.Context, conn driver.Conn, asOf time.Time, openOnly bool) (everyone, erasure []string, err error) {
	rows, err := conn.Query(ch.Context(ctx, ch.WithParameters(ch.Parameters{"as_of": chTime(asOf), "open_only": fmt.Sprint(openOnly)})),
		`SELECT ref, max(request_right = 'erasure') AS erasure FROM (
			SELECT ref, request_right,
				arrayFold((open, k) -> if(k = 'request_received', open + 1, greatest(open - 1, 0)),
					arrayMap(x -> x.4, arraySort(groupArray((time, source, id, kind)))), toInt64(0)) AS still_open
			FROM subject_rights FINAL
			WHERE kind IN ('request_received', 'request_completed', 'request_refused') AND time <= {as_of:DateTime64(3)}
			GROUP BY ref, request_right)
		WHERE NOT {open_only:Bool} OR still_open > 0
		GROUP BY ref`)
	if err != nil {
		return nil, nil, fmt.Errorf("subject requesters: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ref string
		var asked bool
		if err := rows.Scan(&ref, &asked); err != nil {
			return nil, nil, fmt.Errorf("subject requesters: %w", err)
		}
		everyone = append(everyone, ref)
		if asked {
			erasure = append(erasure, ref)
		}
	}
	return everyone, erasure, rows.Err()
}

// stringArray renders values as an Array(String) query parameter.
// stringParam renders a String query parameter. The server reads a
// parameter's value with escapes, so "dp\x6f" would match "dpo" and a
// lone backslash would be an error; each backslash is escaped, and tab
// and newline, which would end the value, are written as escapes.
func stringParam(v string) string {
	return strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`).Replace(v)
}

func stringArray(values []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, v := range values {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('\'')
		for _, r := range v {
			if r == '\'' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		b.WriteByte('\'')
	}
	b.WriteByte(']')
	return b.String()
}

// RightsFacts returns every fact about the people who made a request,
// withdrew a consent or had data erased on request, up to asOf: what
// people.Findings judges.
func RightsFacts(ctx context.Context, conn driver.Conn, asOf time.Time) ([]people.Fact, error) {
	facts, err := readFacts(ctx, conn, `SELECT `+factColumns+` FROM subject_refs FINAL
		WHERE ref GLOBAL IN (SELECT ref FROM subject_rights
			WHERE kind IN ('request_received', 'consent_withdrawn', 'erased') AND time <= {as_of:DateTime64(3)})
		AND time <= {as_of:DateTime64(3)}
		ORDER BY ref, time, source, id`,
		ch.Parameters{"as_of": chTime(asOf)}, allColumns)
	return facts.flat(), err
}

// AuditEntry is one asking of a subject question.
type AuditEntry struct {
	At       time.Time `json:"at"`
	Who      string    `json:"who"`     // the token's name or the CLI user, never a token
	Surface  string    `json:"surface"` // cli, api or web
	Question string    `json:"question"`
	Ref      string    `json:"subject_ref,omitempty"`
	// Outcome is "answered", or "refused: " and the parameter refused
	// (never its value: a malformed reference may be the identity itself).
	Outcome string `json:"outcome"`
}

// OutcomeAnswered is the Outcome of a question that was answered.
// Package catalog/peoplestore appends the entries; Audit reads them.
const OutcomeAnswered = "answered"

// AuditFilter narrows the audit trail.
type AuditFilter struct {
	Who, Ref     string
	Since, Until time.Time
}

// Audit lists the audit trail, newest first.
func Audit(ctx context.Context, conn driver.Conn, f AuditFilter) ([]AuditEntry, error) {
	until := f.Until
	if until.IsZero() {
		until = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	rows, err := conn.Query(ch.Context(ctx, ch.WithParameters(ch.Parameters{
		"who": stringParam(f.Who), "ref": stringParam(f.Ref), "since": chTime(f.Since), "until": chTime(until)})),
		`SELECT at, who, surface, question, ref, outcome FROM subject_audit
		WHERE ({who:String} = '' OR who = {who:String}) AND ({ref:String} = '' OR ref = {ref:String})
		AND at >= {since:DateTime64(3)} AND at <= {until:DateTime64(3)}
		ORDER BY at DESC`)
	if err != nil {
		return nil, fmt.Errorf("audit trail: %w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		if err := rows.Scan(&e.At, &e.Who, &e.Surface, &e.Question, &e.Ref, &e.Outcome); err != nil {
			return nil, fmt.Errorf("audit trail: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
