package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/lineage"
	"github.com/back-trace/datamap/questions"
	"github.com/back-trace/datamap/stack"
)

// paramUsage documents each question parameter once, for every command's
// --help.
var paramUsage = map[string]string{
	"system":       "only this system (the event source), e.g. billing-api",
	"category":     "only this category and its subtree, e.g. billing matches billing.*",
	"data_subject": "only this data-subject category, e.g. customer",
	"purpose":      "only this purpose, e.g. payment_processing",
	"legal_basis":  "only this legal basis: " + strings.Join(events.LegalBases, ", "),
	"activity":     "only this processing activity, e.g. \"monthly invoice run\"",
	"recipient":    "only this recipient, e.g. Stripe",
	"role":         "only recipients in this role: " + strings.Join(events.Roles, ", "),
	"country":      "only recipients in this country (ISO 3166-1 alpha-2), e.g. US",
	"safeguard":    "only flows under this safeguard: " + strings.Join(events.Safeguards, ", "),
	"since":        "only events at or after this time: YYYY-MM-DD (start of day, UTC) or RFC 3339",
	"until":        "only events at or before this time: YYYY-MM-DD (end of day, UTC) or RFC 3339",
	"as_of":        "answer from the events up to this time, as if asked then: YYYY-MM-DD (end of that day, UTC) or RFC 3339",
	"group_by":     "summarise by recipient, country or safeguard",
	"from":         "the system the data leaves from, e.g. support-desk",
	"format":       "export format: " + strings.Join(lineage.Formats, ", "),
}

// flagName spells a parameter as a flag: data_subject is --data-subject.
func flagName(param string) string { return strings.ReplaceAll(param, "_", "-") }

// questionCommand describes one CLI command over a question.
type questionCommand struct {
	question    string // questions.Lookup name
	synopsis    string
	description string
	examples    string
	positional  string // parameter filled from the arguments (search: q), "" for none
}

func (c questionCommand) run(ctx context.Context, e *env, args []string) error {
	q, ok := questions.Lookup(c.question)
	if !ok {
		return fmt.Errorf("no question %q", c.question)
	}
	description := c.description
	if q.Findings {
		description += fmt.Sprintf("\n\nWith --exit-code the command exits %d when the answer holds findings\n(and 0 when it holds none), so a script or CI job can fail on them.", ExitFindings)
	}
	fs := newFlags(e, c.question, c.synopsis, description, c.examples)
	values := map[string]*string{}
	for _, p := range q.Params {
		if p == c.positional {
			continue
		}
		values[p] = fs.String(flagName(p), "", paramUsage[p])
	}
	format := "table"
	if c.question != "lineage export" {
		fs.StringVar(&format, "format", "table", "output format: table, json or csv")
	}
	exitCode := false
	if q.Findings {
		fs.BoolVar(&exitCode, "exit-code", false, fmt.Sprintf("exit %d when there are findings", ExitFindings))
	}
	// Flags may follow the positional words too: search stripe --format json.
	var words []string
	for {
		if err := parse(fs, args); err != nil {
			return err
		}
		if c.positional == "" || fs.NArg() == 0 {
			break
		}
		words, args = append(words, fs.Arg(0)), fs.Args()[1:]
	}
	params := map[string]string{}
	for p, v := range values {
		params[p] = *v
	}
	switch {
	case c.positional != "":
		params[c.positional] = strings.Join(words, " ")
	case fs.NArg() > 0:
		return usagef("unexpected argument %q; filters are flags, e.g. --system %s", fs.Arg(0), fs.Arg(0))
	}
	if err := checkFormat(format); err != nil {
		return err
	}
	tax, err := loadTaxonomy(e)
	if err != nil {
		return err
	}
	req, err := q.Parse(params, tax)
	if err != nil {
		return inputError(err, c.positional)
	}
	s, err := stack.Attach(ctx, e.cfg, quiet(e))
	if err != nil {
		return err
	}
	defer s.Close(context.WithoutCancel(ctx))
	a, err := q.Answer(ctx, s.ClickHouse, tax, req)
	if err != nil {
		return inputError(err, c.positional)
	}
	if err := show(e.stdout, format, a); err != nil {
		return err
	}
	if c.question == "transfers" && format == "table" {
		asOf, source := events.CountriesAsOf()
		fmt.Fprintf(e.stdout, "\nEEA and adequacy as of %s (%s)\n", asOf, source)
	}
	if exitCode && a.Findings > 0 {
		fmt.Fprintf(e.stderr, "findings: %d\n", a.Findings)
		return errFindings
	}
	return nil
}

// inputError spells a query.InputError the way the command line takes
// it (--data-subject, or the positional argument), as a usage error.
func inputError(err error, positional string) error {
	var ie *query.InputError
	if !errors.As(err, &ie) {
		return err
	}
	name := "--" + flagName(ie.Param)
	if ie.Param == positional {
		name = "the search text"
	}
	if ie.Value == "" {
		return usagef("%s: %s", name, ie.Msg)
	}
	return usagef("%s %q: %s", name, ie.Value, ie.Msg)
}

// show prints an answer: rows as a table, JSON or CSV; a blast radius as
// a summary and two tables; an export as is.
func show(w io.Writer, format string, a questions.Answer) error {
	switch rows := a.Rows.(type) {
	case []query.InventoryRow:
		return render(w, format, rows)
	case []query.FlowRow:
		return render(w, format, rows)
	case []query.FlowGroup:
		return render(w, format, rows)
	case []query.TransferRow:
		return render(w, format, rows)
	case []query.RetentionRow:
		return render(w, format, rows)
	case []query.SearchResult:
		return render(w, format, rows)
	case []lineage.ReachRow:
		return render(w, format, rows)
	case lineage.BlastRadius:
		return showBlast(w, format, rows)
	case *lineage.Graph:
		_, err := w.Write(a.Text)
		return err
	}
	return fmt.Errorf("cannot print a %T", a.Rows)
}

func showBlast(w io.Writer, format string, b lineage.BlastRadius) error {
	switch format {
	case "json":
		return renderValue(w, b)
	case "csv":
		return render(w, format, b.Exposed)
	}
	fmt.Fprintf(w, "A breach of %s (%s, %s) exposes %d records of %d categories about %s, from %s.\n\nEXPOSED AT %s\n",
		b.Recipient, b.Role, b.Country, b.Records, len(b.Categories), strings.Join(b.Subjects, ", "), strings.Join(b.Systems, ", "),
		strings.ToUpper(b.Recipient))
	if err := render(w, format, b.Exposed); err != nil {
		return err
	}
	if len(b.PassedOn) == 0 {
		fmt.Fprintf(w, "\n%s passed nothing on (as far as instrumented systems report).\n", b.Recipient)
		return nil
	}
	fmt.Fprintf(w, "\nPASSED ON BY %s\n", strings.ToUpper(b.Recipient))
	return render(w, format, b.PassedOn)
}

// lineageCommands are the subcommands of `datamap lineage`.
var lineageCommands = []questionCommand{
	{question: "lineage reach", synopsis: "--from SYSTEM --category KEY [flags]", description: `
Where can this data end up? Every system and recipient that data of the
category (and its subtree) leaving SYSTEM can reach, following the observed
flows. A recipient that is itself instrumented (its events use the same
name, like the demo's Zendesk) continues the chain, so sub-processors show
up as further hops, each with its path.`, examples: `
  datamap lineage reach --from support-desk --category support
  datamap lineage reach --from billing-api --category billing --as-of 2026-10-01 --format json`},
	{question: "lineage blast", synopsis: "--recipient NAME [flags]", description: `
If this recipient is breached, what is exposed? The categories, data
subjects, sending and originating systems, and records it received, and
everywhere it passed them on.`, examples: `
  datamap lineage blast --recipient Zendesk
  datamap lineage blast --recipient Stripe --format json`},
	{question: "lineage export", synopsis: "--format dot|mermaid|json|openlineage [flags]", description: `
The lineage graph: nodes are systems and recipients, edges are flows
(category, purpose, counts). DOT renders with Graphviz, Mermaid in Markdown
viewers, OpenLineage events (one JSON object per line, one per sending
system) import into lineage tools such as Marquez.`, examples: `
  datamap lineage export --format dot | dot -Tsvg > datamap.svg
  datamap lineage export --format mermaid --category support
  datamap lineage export --format openlineage > lineage.ndjson`},
}

func runLineage(ctx context.Context, e *env, args []string) error {
	names := make([]string, 0, len(lineageCommands))
	for _, c := range lineageCommands {
		names = append(names, strings.TrimPrefix(c.question, "lineage "))
	}
	sort.Strings(names)
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(e.stdout, "Usage: datamap lineage <%s> [flags]\n\nThe flow graph: who sent what to whom, how far it travels.\n\n", strings.Join(names, "|"))
		for _, c := range lineageCommands {
			q, _ := questions.Lookup(c.question)
			fmt.Fprintf(e.stdout, "  %-8s %s\n", strings.TrimPrefix(c.question, "lineage "), q.Summary)
		}
		fmt.Fprintln(e.stdout, "\nRun 'datamap lineage <subcommand> --help' for its flags.")
		if len(args) == 0 {
			return usagef("name a subcommand: %s", strings.Join(names, ", "))
		}
		return flag.ErrHelp
	}
	for _, c := range lineageCommands {
		if c.question == "lineage "+args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	return usagef("unknown subcommand %q; use one of %s", args[0], strings.Join(names, ", "))
}

var (
	runInventory = questionCommand{question: "inventory", synopsis: "[flags]", description: `
What personal data is held: one row per system, category, data subject,
purpose and legal basis, with the declared retention (the longest
declared), the number of events and records, and when it was first and
last seen. Counts are over distinct events, however often they were
delivered. --as-of answers from the events up to that day, as the
inventory stood then.`, examples: `
  datamap inventory
  datamap inventory --category billing --format csv > billing.csv
  datamap inventory --system support-desk --as-of 2026-10-01 --format json | jq '.[].records'`}.run

	runFlows = questionCommand{question: "flows", synopsis: "[flags]", description: `
Who received personal data: one row per system, category, recipient, role,
country and transfer safeguard, with events, records and first/last seen.
--group-by summarises per recipient ("what does Stripe hold?"), per country
or per safeguard.`, examples: `
  datamap flows
  datamap flows --recipient Stripe --group-by recipient
  datamap flows --group-by country --as-of 2026-10-01
  datamap flows --country US --format csv`}.run

	runTransfers = questionCommand{question: "transfers", synopsis: "[flags]", description: `
Every flow to a recipient outside the EEA, with its safeguard. A transfer to
a country without an EU adequacy decision whose safeguard is none or missing
is a finding (so is dpf outside the US, or adequacy claimed where there is
none). The EEA and adequacy list is schemas/countries.yaml, dated and
sourced; the table ends with its date.`, examples: `
  datamap transfers
  datamap transfers --exit-code --format json > transfers.json`}.run

	runRetention = questionCommand{question: "retention", synopsis: "[flags]", description: `
For each system and category: the declared retention (the longest
declared), records collected, erased and held, the oldest collection not yet
covered by erasures, and a finding when it is held past its retention.
Erasure events carry counts, not record identities, so erasures are applied
oldest first; the oldest held collection is found to the day. --as-of judges
at the end of that day, from the events up to then.`, examples: `
  datamap retention
  datamap retention --category support --as-of 2026-10-01
  datamap retention --exit-code`}.run

	runSearch = questionCommand{question: "search", synopsis: "[flags] TEXT", positional: "q", description: `
Find systems, recipients, categories and purposes whose name (or taxonomy
name or description) contains TEXT, case-insensitive, with how many events
and records mention them. Taxonomy entries no event uses yet are listed
with zero counts.`, examples: `
  datamap search stripe
  datamap search "call detail"`}.run
)

func loadTaxonomy(e *env) (*taxonomy.Taxonomy, error) {
	if e.cfg.Taxonomy == "" {
		return taxonomy.Default(), nil
	}
	t, err := taxonomy.Load(e.cfg.Taxonomy)
	if err != nil {
		return nil, fmt.Errorf("DATAMAP_TAXONOMY: %w", err)
	}
	return t, nil
}
