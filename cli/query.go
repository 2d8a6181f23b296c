package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/lineage"
	"github.com/back-trace/datamap/questions"
	"github.com/back-trace/datamap/stack"
)

// questionCommand is the CLI command of a question: its flags, help and
// output all come from the question's entry.
type questionCommand struct{ q questions.Question }

func (c questionCommand) run(ctx context.Context, e *env, args []string) error {
	q := c.q
	description := q.Command.Description
	if q.Findings {
		description += fmt.Sprintf("\n\nWith --exit-code the command exits %d when the answer holds findings\n(and 0 when it holds none), so a script or CI job can fail on them.", ExitFindings)
	}
	fs := newFlags(e, q.Name, q.Command.Synopsis, description, q.Command.Examples)
	positional := q.Command.Positional
	values := map[string]*string{}
	for _, p := range q.Params {
		if p.Name == positional {
			continue
		}
		values[p.Name] = fs.String(p.FlagName(), "", p.Usage)
	}
	format := "table"
	if q.Shape != questions.Export {
		formatFlag(fs, &format)
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
		if positional == "" || fs.NArg() == 0 {
			break
		}
		words, args = append(words, fs.Arg(0)), fs.Args()[1:]
	}
	params := map[string]string{}
	for p, v := range values {
		params[p] = *v
	}
	switch {
	case positional != "":
		params[positional] = strings.Join(words, " ")
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
		return inputError(err, positional)
	}
	s, err := stack.AttachCatalog(ctx, e.cfg, quiet(e))
	if err != nil {
		return err
	}
	defer s.Close(context.WithoutCancel(ctx))
	a, err := q.Answer(ctx, s.ClickHouse, tax, req)
	if err != nil {
		return inputError(err, positional)
	}
	if err := show(e.stdout, format, q, a); err != nil {
		return err
	}
	if q.Countries && (format == "table" || format == "wide") {
		asOf, source := events.CountriesAsOf()
		fmt.Fprintf(e.stdout, "\nEEA and adequacy as of %s (%s)\n", asOf, source)
	}
	if exitCode && a.Findings > 0 {
		fmt.Fprintf(e.stderr, "findings: %d\n", a.Findings)
		return errFindings
	}
	return nil
}

// questionFlag registers the flag of q's parameter name, with its help.
func questionFlag(fs *flag.FlagSet, q questions.Question, name string) *string {
	p, _ := q.Param(name)
	return fs.String(p.FlagName(), "", p.Usage)
}

// inputError spells a questions.InputError the way the command line takes
// it (--data-subject, or the positional argument), as a usage error.
func inputError(err error, positional string) error {
	var ie *questions.InputError
	if !errors.As(err, &ie) {
		return err
	}
	name := "--" + questions.Param{Name: ie.Param}.FlagName()
	if ie.Param == positional {
		name = "the search text"
	}
	if ie.Value == "" {
		return usagef("%s: %s", name, ie.Msg)
	}
	return usagef("%s %q: %s", name, ie.Value, ie.Msg)
}

// show prints an answer by the question's shape: rows as a table, JSON or
// CSV; a blast radius as a summary and two tables; an export as is.
func show(w io.Writer, format string, q questions.Question, a questions.Answer) error {
	switch q.Shape {
	case questions.List:
		return renderRows(w, format, a.Rows.Slice(0, a.Rows.Len()))
	case questions.Export:
		_, err := w.Write(a.Text)
		return err
	}
	if b, ok := questions.DocumentOf[lineage.BlastRadius](a); ok {
		return showBlast(w, format, b)
	}
	return renderValue(w, a.Document)
}

func showBlast(w io.Writer, format string, b lineage.BlastRadius) error {
	switch format {
	case "json":
		return renderValue(w, b)
	case "csv":
		return render(w, format, b.Exposed)
	}
	fmt.Fprintf(w, "A breach of %s (%s, %s) exposes %d categories about %s, from %s.\n%s\n\nEXPOSED AT %s\n",
		b.Recipient, b.Role, b.Country, len(b.Categories), strings.Join(b.Subjects, ", "), strings.Join(b.Systems, ", "),
		b.Summary, strings.ToUpper(b.Recipient))
	if err := render(w, format, b.Exposed); err != nil {
		return err
	}
	if len(b.PassedOn) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nPASSED ON BY %s\n", strings.ToUpper(b.Recipient))
	return render(w, format, b.PassedOn)
}

// runLineage runs `datamap lineage <subcommand>`: the questions of the
// lineage group.
func runLineage(ctx context.Context, e *env, args []string) error {
	group := questions.Group("lineage")
	names := make([]string, 0, len(group))
	for _, q := range group {
		names = append(names, strings.TrimPrefix(q.Name, "lineage "))
	}
	sort.Strings(names)
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(e.stdout, "Usage: datamap lineage <%s> [flags]\n\nThe flow graph: who sent what to whom, how far it travels.\n\n", strings.Join(names, "|"))
		for _, q := range group {
			fmt.Fprintf(e.stdout, "  %-8s %s\n", strings.TrimPrefix(q.Name, "lineage "), q.Summary)
		}
		fmt.Fprintln(e.stdout, "\nRun 'datamap lineage <subcommand> --help' for its flags.")
		if len(args) == 0 {
			return usagef("name a subcommand: %s", strings.Join(names, ", "))
		}
		return flag.ErrHelp
	}
	for _, q := range group {
		if q.Name == "lineage "+args[0] {
			return questionCommand{q}.run(ctx, e, args[1:])
		}
	}
	return usagef("unknown subcommand %q; use one of %s", args[0], strings.Join(names, ", "))
}

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
