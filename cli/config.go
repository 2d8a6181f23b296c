package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/back-trace/datamap/events"
)

// configRow is one variable as `datamap config` prints it.
type configRow struct {
	Variable    string `json:"variable"`
	Value       string `json:"value"`
	Default     string `json:"default"`
	Description string `json:"description"`
}

func runConfig(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "config", "[--format table|wide|json|csv]", `
Print the effective configuration: every DATAMAP_* variable, its value in
this environment and its default. Secrets are masked. Durations are printed
as they are written (26280h, not 26280h0m0s), with the years or days they
make. When the configuration is invalid, every problem is listed and the
exit code is 2.`, `
  datamap config
  datamap config --format json
  DATAMAP_LOG_LEVEL=debug datamap config`)
	var format string
	formatFlag(fs, &format)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkFormat(format); err != nil {
		return err
	}
	table := format == "table" || format == "wide"
	shown := func(value string) string {
		if table {
			return orDash(durationAsWritten(value, true))
		}
		return durationAsWritten(value, false)
	}
	var rows []configRow
	for _, v := range e.cfg.Variables() {
		rows = append(rows, configRow{Variable: v.Name, Value: shown(v.Value), Default: shown(v.Default), Description: v.Description})
	}
	if err := render(e.stdout, format, rows); err != nil {
		return err
	}
	if err := e.cfg.Validate(); err != nil {
		return usagef("invalid configuration:\n%s", indent(err.Error()))
	}
	return nil
}

// durationAsWritten prints a Go duration the way one writes it — 26280h,
// 2m, 1h30m, without Go's trailing 0m0s — and, with gloss, names the years
// or days a long one makes: "26280h (3y)". Other values are returned as
// they are.
func durationAsWritten(value string, gloss bool) string {
	d, err := time.ParseDuration(value)
	if err != nil || !strings.ContainsAny(value, "hms") {
		return value
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	const day, year = 24 * time.Hour, 365 * 24 * time.Hour
	switch {
	case !gloss:
	case d >= year && d%year == 0:
		s += fmt.Sprintf(" (%dy)", d/year)
	case d >= 2*day && d%day == 0:
		s += fmt.Sprintf(" (%dd)", d/day)
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// taxonomyRow is one key of the taxonomy as `datamap taxonomy` prints it:
// a category, a purpose, a data subject, or one of the values the GDPR
// fixes (legal basis, role, safeguard, origin, erasure reason).
type taxonomyRow struct {
	Kind      string `json:"kind"`
	Key       string `json:"key"`
	Name      string `json:"name"`
	Retention string `json:"retention"`
	Special   bool   `json:"special"`
}

func runTaxonomy(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "taxonomy", "[--format table|json|csv]", `
List the keys events may use: data categories (a parent key such as billing
covers billing.*), purposes and data subjects, from DATAMAP_TAXONOMY or the
built-in BackTrace taxonomy. Legal bases, recipient roles and transfer
safeguards are fixed by the GDPR and listed too. JSON and CSV print one row
per key, with its kind.`, `
  datamap taxonomy
  datamap taxonomy --format csv
  DATAMAP_TAXONOMY=./my-taxonomy.yaml datamap taxonomy`)
	var format string
	formatFlag(fs, &format)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkFormat(format); err != nil {
		return err
	}
	tax, err := loadTaxonomy(e)
	if err != nil {
		return err
	}
	if format == "json" || format == "csv" {
		var rows []taxonomyRow
		for _, c := range tax.Categories {
			rows = append(rows, taxonomyRow{Kind: "category", Key: c.Key, Name: c.Name, Retention: c.Retention, Special: c.Special})
		}
		for _, p := range tax.Purposes {
			rows = append(rows, taxonomyRow{Kind: "purpose", Key: p.Key, Name: p.Name})
		}
		for _, p := range tax.DataSubjects {
			rows = append(rows, taxonomyRow{Kind: "data_subject", Key: p.Key, Name: p.Name})
		}
		for _, fixed := range []struct {
			kind string
			keys []string
		}{{"legal_basis", events.LegalBases}, {"role", events.Roles}, {"safeguard", events.Safeguards},
			{"origin", events.Origins}, {"reason", events.Reasons}} {
			for _, k := range fixed.keys {
				rows = append(rows, taxonomyRow{Kind: fixed.kind, Key: k})
			}
		}
		return render(e.stdout, format, rows)
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
