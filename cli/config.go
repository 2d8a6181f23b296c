package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/back-trace/datamap/events"
)

func runConfig(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "config", "", `
Print the effective configuration: every DATAMAP_* variable, its value in
this environment and its default. Secrets are masked. When the configuration
is invalid, every problem is listed and the exit code is 2.`, `
  datamap config
  DATAMAP_LOG_LEVEL=debug datamap config`)
	if err := parse(fs, args); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tVALUE\tDEFAULT")
	for _, v := range e.cfg.Variables() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", v.Name, orDash(v.Value), orDash(v.Default))
	}
	tw.Flush()
	if err := e.cfg.Validate(); err != nil {
		return usagef("invalid configuration:\n%s", indent(err.Error()))
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runTaxonomy(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "taxonomy", "", `
List the keys events may use: data categories (a parent key such as billing
covers billing.*), purposes and data subjects, from DATAMAP_TAXONOMY or the
built-in BackTrace taxonomy. Legal bases, recipient roles and transfer
safeguards are fixed by the GDPR and listed too.`, `
  datamap taxonomy
  DATAMAP_TAXONOMY=./my-taxonomy.yaml datamap taxonomy`)
	if err := parse(fs, args); err != nil {
		return err
	}
	tax, err := loadTaxonomy(e)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CATEGORY\tNAME\tRETENTION\tSPECIAL")
	for _, c := range tax.Categories {
		special := ""
		if c.Special {
			special = "Art. 9"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Key, c.Name, orDash(c.Retention), special)
	}
	fmt.Fprintln(tw, "\nPURPOSE\tNAME")
	for _, p := range tax.Purposes {
		fmt.Fprintf(tw, "%s\t%s\n", p.Key, p.Name)
	}
	fmt.Fprintln(tw, "\nDATA SUBJECT\tNAME")
	for _, p := range tax.DataSubjects {
		fmt.Fprintf(tw, "%s\t%s\n", p.Key, p.Name)
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "\nlegal bases: %s\nroles:       %s\nsafeguards:  %s\norigins:     %s\nerasure reasons: %s\n",
		strings.Join(events.LegalBases, ", "), strings.Join(events.Roles, ", "),
		strings.Join(events.Safeguards, ", "), strings.Join(events.Origins, ", "), strings.Join(events.Reasons, ", "))
	return nil
}
