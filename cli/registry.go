package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/back-trace/datamap/questions"
	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/report"
)

func runRegistry(ctx context.Context, e *env, args []string) error {
	sub := ""
	if len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "validate":
		return runRegistryValidate(e, args)
	case "init":
		return runRegistryInit(ctx, e, args)
	case "-h", "--help", "help", "":
		fmt.Fprint(e.stdout, `Usage: datamap registry validate FILE
       datamap registry init [--out FILE] [--as-of DATE]

The declared registry (datamap.yaml): the controller, its processing
activities and, as a processor, what it does for which controllers. Its
format is schemas/registry.v1.json; schemas/backtrace-registry.yaml is a
complete example.

  validate   check a registry against the schema and the taxonomy; every
             problem is reported as file:line: field: what to do
  init       draft a registry from the processing observed in the catalog
`)
		if sub == "" {
			return usagef("missing subcommand: validate or init")
		}
		return nil
	}
	return usagef("unknown subcommand %q: use validate or init", sub)
}

func runRegistryValidate(e *env, args []string) error {
	fs := newFlags(e, "registry validate", "FILE", "Check a registry against schemas/registry.v1.json and the taxonomy.", "  datamap registry validate datamap.yaml")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("give one registry file")
	}
	tax, err := loadTaxonomy(e)
	if err != nil {
		return err
	}
	reg, err := registry.Load(fs.Arg(0), tax)
	if err != nil {
		return usageError{fmt.Errorf("invalid:\n%s", indentLines(err.Error()))}
	}
	warnings := reg.Warnings(tax)
	for _, w := range warnings {
		fmt.Fprintf(e.stdout, "%s: warning: %s\n", fs.Arg(0), w)
	}
	switch n := len(warnings); n {
	case 0:
		fmt.Fprintf(e.stdout, "%s: valid, %d activities\n", fs.Arg(0), len(reg.AllActivities()))
	default:
		fmt.Fprintf(e.stdout, "%s: valid, %d activities, %d %s; the record shows %s until %s fixed\n", fs.Arg(0),
			len(reg.AllActivities()), n, plural(n, "warning", "warnings"), plural(n, "it", "them"), plural(n, "it is", "they are"))
	}
	return nil
}

func runRegistryInit(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "registry init", "[flags]", `
Draft a registry from what the services were observed doing: one activity
per purpose, with its systems, data subjects, categories, legal bases,
recipients and retention. Controller details, business functions, security
measures and legitimate-interest reasoning are left as TODO. Review it
before relying on it: a draft records what happened, not what is allowed.`, `
  datamap registry init --out datamap.yaml`)
	out := fs.String("out", "datamap.yaml", `file to write, "-" for stdout; an existing file is not overwritten`)
	asOf := fs.String("as-of", "", "only events up to this date or instant")
	if err := parse(fs, args); err != nil {
		return err
	}
	when := time.Now().UTC()
	if *asOf != "" {
		t, err := questions.ParseTime("as_of", *asOf, true)
		if err != nil {
			return usagef("--as-of: as-of %q is neither a date (2026-11-30) nor an RFC 3339 instant (2026-11-30T12:00:00Z)", *asOf)
		}
		when = t
	}
	if *out != "-" {
		if _, err := os.Stat(*out); err == nil {
			return usagef("%s exists; pass another --out or remove it first", *out)
		}
	}
	tax, err := loadTaxonomy(e)
	if err != nil {
		return err
	}
	obs, err := observe(ctx, e, when)
	if err != nil {
		return err
	}
	var n uint64
	for _, o := range obs {
		n += o.Events
	}
	if n == 0 {
		return fmt.Errorf("no events in the catalog to draft from; publish some first (datamap emit, or the SDK)")
	}
	reg := report.DraftRegistry(obs, tax)
	body, err := yaml.Marshal(reg)
	if err != nil {
		return err
	}
	doc := append([]byte(report.DraftHeader(int(n), len(reg.Activities))), body...)
	// The draft must be a valid registry, or it is a bad starting point.
	if _, err := registry.Parse(doc, "draft", tax); err != nil {
		return fmt.Errorf("drafted registry is invalid (a datamap bug, please report it):\n%s", indentLines(err.Error()))
	}
	if *out == "-" {
		_, err = e.stdout.Write(doc)
		return err
	}
	if err := os.WriteFile(*out, doc, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote %s: %d activities drafted from %d events; review every TODO\n", *out, len(reg.Activities), n)
	return nil
}

// plural picks the word for n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
