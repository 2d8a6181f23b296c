// Package questions is what a privacy officer can ask datamap — inventory,
// flows, transfers, retention, lineage reach and blast radius, lineage
// export, search, drift and the Article 30 record, and the subject
// questions — as one table (All). Each entry describes a question once:
// its parameters with their help, documentation and allowed values, its
// answer's type and shape, its role, its CLI command and its web page. The
// CLI's commands and help, the API's routes and paging, the OpenAPI
// document and the web's navigation are made from the table, and every
// surface parses with it, so they accept, refuse and answer the same.
package questions

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/lineage"
	"github.com/back-trace/datamap/people"
	"github.com/back-trace/datamap/report"
)

// Question is one thing datamap answers, described once: the CLI's
// command, flags and help, the API's route, paging and OpenAPI entry, and
// the web's page and navigation are all made from it. Adding a question is
// one entry in All and its answer function.
type Question struct {
	Name    string // CLI command path ("lineage reach") and API path below /api/v1/ ("lineage/reach")
	Summary string // one line: the OpenAPI summary, the group listing of the CLI
	// Params are the parameters it accepts; required ones must be given.
	Params []Param
	// Row is the type of the answer's rows (Shape List) or of the one
	// value it answers (Document, Export, Record).
	Row reflect.Type
	// AltRow is the row type of an answer summarised by a parameter
	// (flows grouped by group_by), nil when there is none.
	AltRow reflect.Type
	Shape  Shape
	// Findings is set for questions whose answers may hold findings
	// (transfers, retention).
	Findings bool
	// Countries is set when the answer relies on the EEA and adequacy
	// list: the CLI's table and the API's page say which list.
	Countries bool
	// Role is the role a caller needs: RoleRead ("" means it too) or
	// RoleSubject, whose questions are audited (see subject.go).
	Role string
	// Command is how the CLI presents it.
	Command Command
	// Page is the web page that shows it; the zero Page means none.
	Page   Page
	answer func(ctx context.Context, conn driver.Conn, tax *taxonomy.Taxonomy, r Parsed) (Answer, error)
	// checksValues is set when the answer refuses a system it does not
	// know itself: traffic's systems are those that send traces, which
	// need not publish events.
	checksValues bool
	// readsAudit is set on the audit trail's listing: its answer reads
	// what asking it records, so its row is written before it is read.
	readsAudit bool
}

// Shape is how an answer is served.
type Shape int

const (
	// List is rows: a table in the CLI, pages of items in the API.
	List Shape = iota
	// Document is one JSON value (a blast radius, a person's profile).
	Document
	// Export is text in a format the caller chose.
	Export
	// Record is an answer held against the declared registry (drift, the
	// Article 30 record), served by Drift and Article30.
	Record
)

// Command is how the CLI presents a question.
type Command struct {
	// Path is the command's words after datamap when they are not the
	// question's Name (the record is a kind of report).
	Path string
	// Listed is its line in the listing of `datamap --help`, or of its
	// group's help (subject); the lineage group lists Summary.
	Listed      string
	Synopsis    string
	Description string
	Examples    string
	// Positional is the parameter filled from the arguments (search: q),
	// "" for none.
	Positional string
}

// Page is a question's page in the web data map.
type Page struct {
	Path  string // "/inventory"
	Name  string // its template, and its name in navigation state
	Title string // its link in the navigation
	// Filters are the shared filters the page offers, when they are not
	// the question's parameters.
	Filters []string
}

// CommandPath is the words of its CLI command: "lineage reach".
func (q Question) CommandPath() string { return cmp.Or(q.Command.Path, q.Name) }

// Path is the question's HTTP path.
func (q Question) Path() string { return "/api/v1/" + strings.ReplaceAll(q.Name, " ", "/") }

// ParamNames are the names of its parameters, in order.
func (q Question) ParamNames() []string {
	names := make([]string, len(q.Params))
	for i, p := range q.Params {
		names[i] = p.Name
	}
	return names
}

// Param returns its parameter of this name.
func (q Question) Param(name string) (Param, bool) {
	i := slices.IndexFunc(q.Params, func(p Param) bool { return p.Name == name })
	if i < 0 {
		return Param{}, false
	}
	return q.Params[i], true
}

// Paged reports whether the API serves its answer in pages.
func (q Question) Paged() bool { return q.Shape == List }

// Answer is what a question returns: Rows for a List, Document for a
// Document, Text for an Export.
type Answer struct {
	Rows     Rows
	Document any
	Findings int
	Text     []byte // export only
	MIME     string // export only
}

// Rows are a list answer's rows, whatever their type.
type Rows interface {
	Len() int
	// Slice returns rows [start, end) as a slice of the row type, for
	// encoding.
	Slice(start, end int) any
}

// rowsOf is a typed slice as Rows; never nil, so that an empty answer
// encodes as [] rather than null.
type rowsOf[T any] []T

func (r rowsOf[T]) Len() int                 { return len(r) }
func (r rowsOf[T]) Slice(start, end int) any { return []T(r[start:end]) }

func listOf[T any](rows []T) rowsOf[T] {
	if rows == nil {
		return rowsOf[T]{}
	}
	return rows
}

// DocumentOf returns a document answer as its type; ok is false when it
// is of another.
func DocumentOf[T any](a Answer) (doc T, ok bool) {
	doc, ok = a.Document.(T)
	return doc, ok
}

// RowsOf returns a list answer's rows as their type; nil when they are of
// another.
func RowsOf[T any](a Answer) []T {
	if r, ok := a.Rows.(rowsOf[T]); ok {
		return r
	}
	return nil
}

// The questions, in the order the CLI lists them.
var (
	Inventory = Question{Name: "inventory", Summary: "what personal data is held, where, why, about whom, for how long",
		Params: filters("system", "category", "data_subject", "purpose", "legal_basis", "activity", "since", "until", "as_of"),
		Row:    reflect.TypeFor[query.InventoryRow](), answer: inventory,
		Page: Page{Path: "/inventory", Name: "inventory", Title: "Inventory"},
		Command: Command{Listed: "what personal data is held, where, why, for how long", Synopsis: "[flags]", Description: `
What personal data is held: one row per system, category, data subject,
purpose and legal basis, with the declared retention (the longest
declared), the number of events and records, and when it was first and
last seen. Counts are over distinct events, however often they were
delivered. --as-of answers from the events up to that day, as the
inventory stood then.`, Examples: `
  datamap inventory
  datamap inventory --category billing --format csv > billing.csv
  datamap inventory --system support-desk --as-of 2026-10-01 --format json | jq '.[].records'`}}

	Flows = Question{Name: "flows", Summary: "which recipients received which personal data; group by recipient, country or safeguard",
		Params: append(allFilters(), groupByParam),
		Row:    reflect.TypeFor[query.FlowRow](), AltRow: reflect.TypeFor[query.FlowGroup](), answer: flows,
		Page: Page{Path: "/flows", Name: "flows", Title: "Flows"},
		Command: Command{Listed: "which recipients received which personal data", Synopsis: "[flags]", Description: `
Who received personal data: one row per system, category, recipient, role,
country and transfer safeguard, with events, records and first/last seen.
--group-by summarises per recipient ("what does Stripe hold?"), per country
or per safeguard.`, Examples: `
  datamap flows
  datamap flows --recipient Stripe --group-by recipient
  datamap flows --group-by country --as-of 2026-10-01
  datamap flows --country US --format csv`}}

	Transfers = Question{Name: "transfers", Summary: "flows to countries outside the EEA, with their safeguard; missing safeguards are findings",
		Params: allFilters(), Findings: true, Countries: true,
		Row: reflect.TypeFor[query.TransferRow](), answer: transfers,
		Page: Page{Path: "/transfers", Name: "transfers", Title: "Transfers"},
		Command: Command{Listed: "flows leaving the EEA and their safeguards; missing ones are findings", Synopsis: "[flags]", Description: `
Every flow to a recipient outside the EEA, with its safeguard. A transfer to
a country without an EU adequacy decision whose safeguard is none or missing
is a finding (so is dpf outside the US, or adequacy claimed where there is
none). The EEA and adequacy list is schemas/countries.yaml, dated and
sourced; the table ends with its date.`, Examples: `
  datamap transfers
  datamap transfers --exit-code --format json > transfers.json`}}

	Retention = Question{Name: "retention", Summary: "what is held per system and category, since when, and what is held past its retention",
		Params: filters(query.RetentionParams...), Findings: true,
		Row: reflect.TypeFor[query.RetentionRow](), answer: retention,
		Page: Page{Path: "/retention", Name: "retention", Title: "Retention"},
		Command: Command{Listed: "what is held since when, and what is held past its retention", Synopsis: "[flags]", Description: `
For each system and category: the declared retention (the longest
declared), records collected, erased and held, the oldest collection not yet
covered by erasures, and a finding when it is held past its retention.
Erasure events carry counts, not record identities, so erasures are applied
oldest first; the oldest held collection is found to the day. --as-of judges
at the end of that day, from the events up to then.`, Examples: `
  datamap retention
  datamap retention --category support --as-of 2026-10-01
  datamap retention --exit-code`}}

	LineageReach = Question{Name: "lineage reach", Summary: "every place data of a category can end up, leaving from a system, with the path",
		Params: []Param{required(fromParam), required(filters("category")[0]), filters("as_of")[0]},
		Row:    reflect.TypeFor[lineage.ReachRow](), answer: reach,
		Command: Command{Synopsis: "--from SYSTEM --category KEY [flags]", Description: `
Where can this data end up? Every system and recipient that data of the
category (and its subtree) leaving SYSTEM can reach, following the observed
flows. A recipient that is itself instrumented (its events use the same
name, like the demo's Zendesk) continues the chain, so sub-processors show
up as further hops, each with its path.`, Examples: `
  datamap lineage reach --from support-desk --category support
  datamap lineage reach --from billing-api --category billing --as-of 2026-10-01 --format json`}}

	LineageBlast = Question{Name: "lineage blast", Summary: "what a breach of one recipient exposes: categories, subjects, systems, records, onward flows",
		Params: []Param{required(filters("recipient")[0]), filters("as_of")[0]},
		Row:    reflect.TypeFor[lineage.BlastRadius](), Shape: Document, answer: blast,
		Command: Command{Synopsis: "--recipient NAME [flags]", Description: `
If this recipient is breached, what is exposed? The categories, data
subjects, sending and originating systems, and records it received, and
everywhere it passed them on, hop by hop with the records of each hop.
The records received and the records passed on are counted apart, never
added up: the same records may travel every hop.`, Examples: `
  datamap lineage blast --recipient Zendesk
  datamap lineage blast --recipient Stripe --format json`}}

	LineageExport = Question{Name: "lineage export", Summary: "the lineage graph as JSON, Graphviz DOT, Mermaid or OpenLineage events",
		Params: append([]Param{required(formatParam)}, allFilters()...),
		Row:    reflect.TypeFor[lineage.Graph](), Shape: Export, answer: export,
		Command: Command{Synopsis: "--format dot|mermaid|json|openlineage [flags]", Description: `
The lineage graph: nodes are systems and recipients, edges are flows
(category, purpose, counts). DOT renders with Graphviz, Mermaid in Markdown
viewers, OpenLineage events (one JSON object per line, one per sending
system) import into lineage tools such as Marquez.`, Examples: `
  datamap lineage export --format dot | dot -Tsvg > datamap.svg
  datamap lineage export --format mermaid --category support
  datamap lineage export --format openlineage > lineage.ndjson`}}

	Search = Question{Name: "search", Summary: "find systems, recipients, categories and purposes by a word",
		Params: []Param{required(textParam), filters("as_of")[0]},
		Row:    reflect.TypeFor[query.SearchResult](), answer: search,
		Command: Command{Listed: "find systems, recipients, categories and purposes by a word", Synopsis: "[flags] TEXT", Positional: "q", Description: `
Find systems, recipients, categories and purposes whose name (or taxonomy
name or description) contains TEXT, case-insensitive, with how many events
and records mention them. Taxonomy entries no event uses yet are listed
with zero counts.`, Examples: `
  datamap search stripe
  datamap search "call detail"`}}

	SubjectShow = Question{Name: "subject show", Summary: "everything held about one person (by subject reference): systems, categories, recipients, consents, requests",
		Params: []Param{required(refParam), filters("as_of")[0]}, Role: RoleSubject,
		Row: reflect.TypeFor[people.Profile](), Shape: Document, answer: subjectShow,
		Page:    Page{Path: "/subject", Name: "person", Title: "Person"},
		Command: Command{Listed: "everything held about one person: systems, categories, recipients, consents, requests", Positional: "ref"}}

	SubjectStatement = Question{Name: "subject statement", Summary: "what one person is told on access (GDPR Art. 15): purposes, categories, named recipients, retention, sources, rights, in plain words",
		Params: []Param{required(refParam), filters("as_of")[0]}, Role: RoleSubject,
		Row: reflect.TypeFor[people.Statement](), Shape: Document, answer: subjectStatement,
		Command: Command{Listed: "what one person is told on access (Art. 15), from the evidence and the registry", Positional: "ref"}}

	SubjectRequests = Question{Name: "subject requests", Summary: "open data-subject requests with their deadline, overdue first; for erasures, who still holds the data and whom to tell",
		Params: []Param{allParam, filters("as_of")[0]}, Role: RoleSubject,
		Row: reflect.TypeFor[people.Request](), answer: subjectRequests,
		Page:    Page{Path: "/subject/requests", Name: "requests", Title: "Requests"},
		Command: Command{Listed: "open data-subject requests, overdue first; for erasures, who still holds the data"}}

	Audit = Question{Name: "audit", Summary: "who asked about whom, when: every subject question asked",
		Params: []Param{whoParam, refParam, filters("since")[0], filters("until")[0]}, Role: RoleSubject,
		Row: reflect.TypeFor[query.AuditEntry](), answer: auditTrail, readsAudit: true,
		Page:    Page{Path: "/subject/audit", Name: "audit", Title: "Audit trail"},
		Command: Command{Listed: "who asked about whom: the append-only trail of subject questions"}}

	Traffic = Question{Name: "traffic", Summary: "where each system's outgoing calls go, from its traces: internal, a declared recipient, a known vendor or an unknown host; reported and declared or not",
		Params: append(filters("system", "since", "until", "as_of"), classParam),
		Row:    reflect.TypeFor[query.DestinationRow](), answer: trafficAnswer, checksValues: true,
		Page: Page{Path: "/traffic", Name: "traffic", Title: "Traffic"},
		Command: Command{Listed: "where systems' outgoing calls go, from their traces; reported and declared or not", Synopsis: "[flags]", Description: `
Each system's observed destinations, from the OpenTelemetry traces its
services send (docs/traffic.md): the host called, its class (internal, a
recipient the registry's hosts: match, a vendor of the vendor catalogue,
or an unknown external host), the recipient and country, whether the
system reports sharing with that recipient (a shared event) and whether
the registry declares it, with the calls and errors counted (at least
once: senders retry), the days seen and the first and last call (exact).
External destinations come first, busiest first. Days are whole: --until
and --as-of include their day.`, Examples: `
  datamap traffic
  datamap traffic --class unknown
  datamap traffic --system billing-api --as-of 2026-10-01 --format json`}}

	Drift = Question{Name: "drift", Summary: "where observed processing departs from the declared registry (DATAMAP_REGISTRY), with severity and what to do",
		Params: []Param{evidenceAsOf, staleDays}, Shape: Record, Row: reflect.TypeFor[report.Finding](),
		Page:    Page{Path: "/drift", Name: "drift", Title: "Drift"},
		Command: Command{Listed: "where observed processing departs from the declared registry; gate deploys with --fail-on"}}

	Article30 = Question{Name: "article30", Summary: "the GDPR Article 30 record as of a date, backed by observed evidence",
		Params: []Param{evidenceAsOf, recordRole, staleDays}, Shape: Record, Row: reflect.TypeFor[report.Record](),
		// The record's own role (controller, processor) is a control of
		// the page, not the shared recipient-role filter.
		Page:    Page{Path: "/article30", Name: "article30", Title: "Article 30", Filters: []string{"as_of"}},
		Command: Command{Path: "report article30"}}
)

// All returns the questions in the order the CLI lists them.
func All() []Question {
	return []Question{Inventory, Flows, Transfers, Retention, Traffic, LineageReach, LineageBlast, LineageExport, Search,
		SubjectShow, SubjectStatement, SubjectRequests, Audit, Drift, Article30}
}

// Lookup returns the question with this name.
func Lookup(name string) (Question, bool) {
	i := slices.IndexFunc(All(), func(q Question) bool { return q.Name == name })
	if i < 0 {
		return Question{}, false
	}
	return All()[i], true
}

// Group returns the questions whose CLI command is a subcommand of group
// ("lineage"), in order.
func Group(group string) []Question {
	var out []Question
	for _, q := range All() {
		if strings.HasPrefix(q.Name, group+" ") {
			out = append(out, q)
		}
	}
	return out
}

// Request is a question's parsed parameters; Parse makes one.
type Parsed struct {
	filter query.Filter
	values map[string]string
}

// Parse checks the question's parameters without touching the catalog.
// values are keyed as in Params; empty values count as absent. A mistake of
// the caller — an unknown parameter, a value that can never match, a
// malformed date, a missing required parameter — is an *InputError
// (CLI exit 2, HTTP 400).
func (q Question) Parse(values map[string]string, tax *taxonomy.Taxonomy) (Parsed, error) {
	for name, v := range values {
		if v != "" && !slices.Contains(q.ParamNames(), name) {
			return Parsed{}, &InputError{Param: name, Value: v, Msg: "not a parameter of " + q.Name + "; it takes " + strings.Join(q.ParamNames(), ", ")}
		}
	}
	for _, p := range q.Params {
		if p.Required && values[p.Name] == "" {
			return Parsed{}, &InputError{Param: p.Name, Msg: "required by " + q.Name}
		}
	}
	f, err := parseFilter(values, tax)
	if err != nil {
		return Parsed{}, err
	}
	if q.Role == RoleSubject {
		if err := parseSubject(values); err != nil {
			return Parsed{}, err
		}
	}
	if err := parseOthers(q.Params, values); err != nil {
		return Parsed{}, err
	}
	return Parsed{filter: f, values: values}, nil
}

// Answer answers a parsed question from the catalog. A system or
// recipient the catalog has never seen is an InputError too, so a typo
// is not mistaken for an empty answer.
func (q Question) Answer(ctx context.Context, conn driver.Conn, tax *taxonomy.Taxonomy, r Parsed) (Answer, error) {
	a, err := q.answerFrom(ctx, conn, tax, r)
	return a, asInputError(err)
}

func (q Question) answerFrom(ctx context.Context, conn driver.Conn, tax *taxonomy.Taxonomy, r Parsed) (Answer, error) {
	if q.answer == nil {
		return Answer{}, fmt.Errorf("questions: %s is answered against the registry (Drift, Article30), not by Answer", q.Name)
	}
	if q.Role == RoleSubject {
		return q.audited(ctx, conn, tax, r)
	}
	ctx = query.OneState(ctx) // one plan for every query of the answer
	if q.checksValues {
		return q.answer(ctx, conn, tax, r)
	}
	known := query.Filter{System: r.filter.System, Recipient: r.filter.Recipient}
	if from := r.values["from"]; from != "" {
		known.System = from
	}
	if known == (query.Filter{}) {
		return q.answer(ctx, conn, tax, r)
	}
	// The check and the answer at once: the check is one short read, and
	// an answer is only returned once the names are known.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	checked := make(chan error, 1)
	go func() {
		err := query.KnownValues(ctx, conn, known)
		if err != nil {
			cancel() // the answer is not needed
		}
		checked <- err
	}()
	a, err := q.answer(ctx, conn, tax, r)
	if unknown := <-checked; unknown != nil {
		return Answer{}, unknown
	}
	return a, err
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

func inventory(ctx context.Context, conn driver.Conn, _ *taxonomy.Taxonomy, r Parsed) (Answer, error) {
	rows, err := query.Inventory(ctx, conn, r.filter)
	return Answer{Rows: listOf(rows)}, err
}

func flows(ctx context.Context, conn driver.Conn, _ *taxonomy.Taxonomy, r Parsed) (Answer, error) {
	by := r.values["group_by"]
	rows, err := query.Flows(ctx, conn, r.filter)
	if err != nil || by == "" {
		return Answer{Rows: listOf(rows)}, err
	}
	groups, err := query.GroupFlows(rows, by)
	return Answer{Rows: listOf(groups)}, err
}

func transfers(ctx context.Context, conn driver.Conn, _ *taxonomy.Taxonomy, r Parsed) (Answer, error) {
	rows, err := query.Transfers(ctx, conn, r.filter)
	return Answer{Rows: listOf(rows), Findings: query.Findings(rows)}, err
}

func retention(ctx context.Context, conn driver.Conn, _ *taxonomy.Taxonomy, r Parsed) (Answer, error) {
	rows, err := query.Retention(ctx, conn, r.filter)
	return Answer{Rows: listOf(rows), Findings: query.Findings(rows)}, err
}

func reach(ctx context.Context, conn driver.Conn, _ *taxonomy.Taxonomy, r Parsed) (Answer, error) {
	g, err := lineage.Load(ctx, conn, query.Filter{AsOf: r.filter.AsOf})
	if err != nil {
		return Answer{}, err
	}
	return Answer{Rows: listOf(g.Reach(r.values["from"], r.filter.Category))}, nil
}

func blast(ctx context.Context, conn driver.Conn, _ *taxonomy.Taxonomy, r Parsed) (Answer, error) {
	g, err := lineage.Load(ctx, conn, query.Filter{AsOf: r.filter.AsOf})
	if err != nil {
		return Answer{}, err
	}
	b, ok := g.Blast(r.filter.Recipient)
	if !ok {
		return Answer{}, &InputError{Param: "recipient", Value: r.filter.Recipient,
			Msg: "received nothing in the catalog (as of the date asked); 'datamap flows --group-by recipient' lists recipients"}
	}
	if b.PassedOn == nil {
		b.PassedOn = []lineage.ReachRow{}
	}
	return Answer{Document: b}, nil
}

// exportMIME is the media type of each export format.
var exportMIME = map[string]string{"json": "application/json", "dot": "text/vnd.graphviz",
	"mermaid": "text/plain; charset=utf-8", "openlineage": "application/x-ndjson"}

func export(ctx context.Context, conn driver.Conn, _ *taxonomy.Taxonomy, r Parsed) (Answer, error) {
	format := r.values["format"]
	g, err := lineage.Load(ctx, conn, r.filter)
	if err != nil {
		return Answer{}, err
	}
	var buf bytes.Buffer
	if err := g.Export(&buf, format); err != nil {
		return Answer{}, fmt.Errorf("export: %w", err)
	}
	return Answer{Document: g, Text: buf.Bytes(), MIME: exportMIME[format]}, nil
}

func trafficAnswer(ctx context.Context, conn driver.Conn, _ *taxonomy.Taxonomy, r Parsed) (Answer, error) {
	rows, err := query.Destinations(ctx, conn, query.TrafficFilter{Filter: r.filter, Class: r.values["class"]})
	return Answer{Rows: listOf(rows)}, err
}

func search(ctx context.Context, conn driver.Conn, tax *taxonomy.Taxonomy, r Parsed) (Answer, error) {
	rows, err := query.Search(ctx, conn, tax, r.values["q"], r.filter)
	return Answer{Rows: listOf(rows)}, err
}
