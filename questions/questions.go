// Package questions is what a privacy officer can ask datamap — inventory,
// flows, transfers, retention, lineage reach and blast radius, lineage
// export, search — each with the parameters it accepts. The CLI and the
// HTTP API both call Ask with the parameters they were given, so the two
// accept, refuse and answer exactly the same.
package questions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/lineage"
)

// Question is one thing datamap answers.
type Question struct {
	Name    string // CLI command path ("lineage reach") and API path below /api/v1/ ("lineage/reach")
	Summary string
	// Params are the parameters it accepts, spelled as in the API
	// (data_subject; the CLI writes --data-subject). Required ones must be
	// given.
	Params   []string
	Required []string
	// Findings is set for questions whose answers may hold findings
	// (transfers, retention).
	Findings bool
	// Role is the role a caller needs: RoleRead ("" means it too) or
	// RoleSubject, whose questions are audited (see subject.go).
	Role   string
	answer func(ctx context.Context, conn driver.Conn, tax *taxonomy.Taxonomy, r Request) (Answer, error)
}

// Path is the question's HTTP path.
func (q Question) Path() string { return "/api/v1/" + strings.ReplaceAll(q.Name, " ", "/") }

// Answer is what a question returns. Rows is a slice of structs with json
// tags (tables, pages), except for blast (a lineage.BlastRadius) and export
// (Text in a lineage format).
type Answer struct {
	Rows     any
	Findings int
	Text     []byte // export only
	MIME     string // export only
}

var filterOnly = []string{"system", "category", "data_subject", "purpose", "legal_basis", "activity", "since", "until", "as_of"}

// All returns the questions in the order the CLI lists them.
func All() []Question {
	return []Question{
		{Name: "inventory", Summary: "what personal data is held, where, why, about whom, for how long",
			Params: filterOnly, answer: inventory},
		{Name: "flows", Summary: "which recipients received which personal data; group by recipient, country or safeguard",
			Params: append(slices.Clone(query.Params), "group_by"), answer: flows},
		{Name: "transfers", Summary: "flows to countries outside the EEA, with their safeguard; missing safeguards are findings",
			Params: query.Params, Findings: true, answer: transfers},
		{Name: "retention", Summary: "what is held per system and category, since when, and what is held past its retention",
			Params: query.RetentionParams, Findings: true, answer: retention},
		{Name: "lineage reach", Summary: "every place data of a category can end up, leaving from a system, with the path",
			Params: []string{"from", "category", "as_of"}, Required: []string{"from", "category"}, answer: reach},
		{Name: "lineage blast", Summary: "what a breach of one recipient exposes: categories, subjects, systems, records, onward flows",
			Params: []string{"recipient", "as_of"}, Required: []string{"recipient"}, answer: blast},
		{Name: "lineage export", Summary: "the lineage graph as JSON, Graphviz DOT, Mermaid or OpenLineage events",
			Params: append([]string{"format"}, query.Params...), Required: []string{"format"}, answer: export},
		{Name: "search", Summary: "find systems, recipients, categories and purposes by a word",
			Params: []string{"q", "as_of"}, Required: []string{"q"}, answer: search},
		{Name: "subject show", Summary: "everything held about one person (by subject reference): systems, categories, recipients, consents, requests",
			Params: []string{"ref", "as_of"}, Required: []string{"ref"}, Role: RoleSubject, answer: subjectShow},
		{Name: "subject requests", Summary: "open data-subject requests with their deadline, overdue first; for erasures, who still holds the data and whom to tell",
			Params: []string{"all", "as_of"}, Role: RoleSubject, answer: subjectRequests},
		{Name: "audit", Summary: "who asked about whom, when: every subject question asked",
			Params: []string{"who", "ref", "since", "until"}, Role: RoleSubject, answer: auditTrail},
	}
}

// Lookup returns the question with this name.
func Lookup(name string) (Question, bool) {
	for _, q := range All() {
		if q.Name == name {
			return q, true
		}
	}
	return Question{}, false
}

// Request is a question's parsed parameters; Parse makes one.
type Request struct {
	filter query.Filter
	values map[string]string
}

// Parse checks the question's parameters without touching the catalog.
// values are keyed as in Params; empty values count as absent. A mistake of
// the caller — an unknown parameter, a value that can never match, a
// malformed date, a missing required parameter — is a *query.InputError
// (CLI exit 2, HTTP 400).
func (q Question) Parse(values map[string]string, tax *taxonomy.Taxonomy) (Request, error) {
	filterValues := map[string]string{}
	for name, v := range values {
		if v == "" {
			continue
		}
		if !slices.Contains(q.Params, name) {
			return Request{}, &query.InputError{Param: name, Value: v, Msg: "not a parameter of " + q.Name + "; it takes " + strings.Join(q.Params, ", ")}
		}
		if slices.Contains(query.Params, name) {
			filterValues[name] = v
		}
	}
	for _, name := range q.Required {
		if values[name] == "" {
			return Request{}, &query.InputError{Param: name, Msg: "required by " + q.Name}
		}
	}
	f, err := query.ParseFilter(filterValues, tax)
	if err != nil {
		return Request{}, err
	}
	if q.Role == RoleSubject {
		if err := parseSubject(values); err != nil {
			return Request{}, err
		}
	}
	switch q.Name {
	case "flows":
		if by := values["group_by"]; by != "" && !slices.Contains(query.GroupBy, by) {
			return Request{}, &query.InputError{Param: "group_by", Value: by, Msg: "must be one of " + strings.Join(query.GroupBy, ", ")}
		}
	case "lineage export":
		if format := values["format"]; !slices.Contains(lineage.Formats, format) {
			return Request{}, &query.InputError{Param: "format", Value: format, Msg: "must be one of " + strings.Join(lineage.Formats, ", ")}
		}
	}
	return Request{filter: f, values: values}, nil
}

// Answer answers a parsed question from the catalog. A system or
// recipient the catalog has never seen is an InputError too, so a typo
// is not mistaken for an empty answer.
func (q Question) Answer(ctx context.Context, conn driver.Conn, tax *taxonomy.Taxonomy, r Request) (Answer, error) {
	if q.Role == RoleSubject {
		if err := audit(ctx, conn, q, r); err != nil {
			return Answer{}, err
		}
		return q.answer(ctx, conn, tax, r)
	}
	ctx = query.OneState(ctx) // one plan for every query of the answer
	known := query.Filter{System: r.filter.System, Recipient: r.filter.Recipient}
	if from := r.values["from"]; from != "" {
		known.System = from
	}
	if err := query.KnownValues(ctx, conn, known); err != nil {
		return Answer{}, err
	}
	return q.answer(ctx, conn, tax, r)
}

// Ask is Parse, then Answer. A subject question refused by Parse is
// recorded in the audit trail too (the parameter refused, not its value).
func (q Question) Ask(ctx context.Context, conn driver.Conn, tax *taxonomy.Taxonomy, values map[string]string) (Answer, error) {
	r, err := q.Parse(values, tax)
	if err != nil {
		// Refused either way; an audit trail that cannot be written is
		// said beside the refusal, not instead of it.
		if aerr := q.Refused(ctx, conn, err); aerr != nil {
			err = errors.Join(err, aerr)
		}
		return Answer{}, err
	}
	return q.Answer(ctx, conn, tax, r)
}

// IsInputError reports whether err is the caller's mistake.
func IsInputError(err error) bool {
	var ie *query.InputError
	return errors.As(err, &ie)
}

func inventory(ctx context.Context, conn driver.Conn, _ *taxonomy.Taxonomy, r Request) (Answer, error) {
	rows, err := query.Inventory(ctx, conn, r.filter)
	return Answer{Rows: nonNil(rows)}, err
}

func flows(ctx context.Context, conn driver.Conn, _ *taxonomy.Taxonomy, r Request) (Answer, error) {
	by := r.values["group_by"]
	rows, err := query.Flows(ctx, conn, r.filter)
	if err != nil || by == "" {
		return Answer{Rows: nonNil(rows)}, err
	}
	groups, err := query.GroupFlows(rows, by)
	return Answer{Rows: nonNil(groups)}, err
}

func transfers(ctx context.Context, conn driver.Conn, _ *taxonomy.Taxonomy, r Request) (Answer, error) {
	rows, err := query.Transfers(ctx, conn, r.filter)
	return Answer{Rows: nonNil(rows), Findings: query.Findings(rows)}, err
}

func retention(ctx context.Context, conn driver.Conn, _ *taxonomy.Taxonomy, r Request) (Answer, error) {
	rows, err := query.Retention(ctx, conn, r.filter)
	return Answer{Rows: nonNil(rows), Findings: query.Findings(rows)}, err
}

func reach(ctx context.Context, conn driver.Conn, _ *taxonomy.Taxonomy, r Request) (Answer, error) {
	g, err := lineage.Load(ctx, conn, query.Filter{AsOf: r.filter.AsOf})
	if err != nil {
		return Answer{}, err
	}
	return Answer{Rows: nonNil(g.Reach(r.values["from"], r.filter.Category))}, nil
}

func blast(ctx context.Context, conn driver.Conn, _ *taxonomy.Taxonomy, r Request) (Answer, error) {
	g, err := lineage.Load(ctx, conn, query.Filter{AsOf: r.filter.AsOf})
	if err != nil {
		return Answer{}, err
	}
	b, ok := g.Blast(r.filter.Recipient)
	if !ok {
		return Answer{}, &query.InputError{Param: "recipient", Value: r.filter.Recipient,
			Msg: "received nothing in the catalog (as of the date asked); 'datamap flows --group-by recipient' lists recipients"}
	}
	if b.PassedOn == nil {
		b.PassedOn = []lineage.ReachRow{}
	}
	return Answer{Rows: b}, nil
}

// exportMIME is the media type of each export format.
var exportMIME = map[string]string{"json": "application/json", "dot": "text/vnd.graphviz",
	"mermaid": "text/plain; charset=utf-8", "openlineage": "application/x-ndjson"}

func export(ctx context.Context, conn driver.Conn, _ *taxonomy.Taxonomy, r Request) (Answer, error) {
	format := r.values["format"]
	g, err := lineage.Load(ctx, conn, r.filter)
	if err != nil {
		return Answer{}, err
	}
	var buf bytes.Buffer
	if err := g.Export(&buf, format); err != nil {
		return Answer{}, fmt.Errorf("export: %w", err)
	}
	return Answer{Rows: g, Text: buf.Bytes(), MIME: exportMIME[format]}, nil
}

func search(ctx context.Context, conn driver.Conn, tax *taxonomy.Taxonomy, r Request) (Answer, error) {
	rows, err := query.Search(ctx, conn, tax, r.values["q"], r.filter)
	return Answer{Rows: nonNil(rows)}, err
}

// nonNil makes an empty answer a JSON [] rather than null.
func nonNil[T any](rows []T) []T {
	if rows == nil {
		return []T{}
	}
	return rows
}
