package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/back-trace/datamap/questions"
	"github.com/back-trace/datamap/report"
)

// ExitFindings is drift's exit code when findings reach --fail-on.
const ExitFindings = 4

// errFindings marks drift findings at or above the threshold: exit code 4.
var errFindings = errors.New("drift findings at or above the --fail-on severity")

func runDrift(ctx context.Context, e *env, args []string) error {
	var ef evidenceFlags
	fs := newFlags(e, questions.Drift.Name, "[flags]", `
Where observed processing departs from the declared registry. Each finding
has a severity, the evidence (events, records, first and last seen, systems,
categories) and what to do. Kinds:

  high    undeclared_purpose           a system processes for a purpose none of its activities declares
  high    undeclared_recipient         data goes to a recipient the activity does not declare
                                       (medium: a declared recipient gets an undeclared category)
  high    legal_basis_mismatch         the legal basis observed is not the one declared
  high    transfer_without_safeguard   a transfer to a third country without adequacy has no safeguard
  high    special_category_without_condition   Art. 9 data without a declared Art. 9(2) condition
  high    children_data                data subjects the taxonomy marks child: true, in a system whose
                                       activities do not declare them
  medium  undeclared_system            a system processes personal data but no activity lists it
  medium  undeclared_category          a category the activity does not declare
  medium  undeclared_data_subject      a category of data subjects the activity does not declare
  medium  transfer_safeguard_mismatch  a transfer under another safeguard or to another country than declared
  medium  retention_exceeded           a service keeps data longer than the declared retention
  low     stale_record                 a declared activity, system or recipient unobserved for --stale-days

Traffic (from the traces services send, 'datamap traffic'; the evidence
counts calls):
  high    traffic_to_undeclared_recipient  a system calls a known vendor no activity declares and no
                                       event reports
  high    traffic_country_mismatch     calls land in another country than declared or reported
                                       (medium when a safeguard covers the transfer or none is needed)
  medium  traffic_to_unknown_destination  an external host nobody knows; the finding proposes the
                                       registry lines (a recipient with hosts:) that declare it
  medium  unreported_disclosure        a system calls a recipient the record knows but never
                                       reports sharing with it

People's rights (from the subject facts; each finding sums the people
concerned and names none — 'datamap subject requests' does, subject role):
  high    processing_after_withdrawal  collection or disclosure for a purpose after the person withdrew consent
  high    erasure_incomplete           an erasure completed or past its deadline; a holder has no evidence
  high    request_overdue              a request still open past its one-month deadline (Art. 12(3))
  medium  processing_after_erasure     a system collects a person's data again after erasing it on request

Gate a deploy on it: with --fail-on, the exit code is 4 when any finding is
at or above that severity.
Exit codes: 0 no findings at or above --fail-on, 1 failure, 2 bad usage or
registry, 4 findings at or above --fail-on.`, `
  datamap drift --registry datamap.yaml
  datamap drift --registry datamap.yaml --fail-on high || echo "blocked: undeclared processing"
  datamap drift --format json --as-of 2026-11-30`)
	ef.register(fs, e)
	failOn := fs.String("fail-on", "none", "exit 4 when a finding is at or above this severity: low, medium, high, or none")
	format := new(string)
	formatFlag(fs, format)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	var threshold report.Severity
	if *failOn != "none" {
		s, err := report.ParseSeverity(*failOn)
		if err != nil {
			return usagef("--fail-on: %v, or none", err)
		}
		threshold = s
	}
	reg, req, err := ef.resolve(e, questions.Drift, nil)
	if err != nil {
		return err
	}
	tax, err := loadTaxonomy(e)
	if err != nil {
		return err
	}
	s, closeStack, err := attach(ctx, e)
	if err != nil {
		return err
	}
	defer closeStack()
	findings, err := questions.Deps{Catalog: s.ClickHouse, Taxonomy: tax, Registry: reg}.Drift(ctx, req)
	if err != nil {
		return err
	}
	if err := renderFindings(e, *format, findings); err != nil {
		return err
	}
	if threshold > 0 && report.MaxSeverity(findings) >= threshold {
		fmt.Fprintf(e.stderr, "datamap drift: %d findings, the highest %s: at or above --fail-on %s\n",
			len(findings), report.MaxSeverity(findings), threshold)
		return errFindings
	}
	return nil
}

// findingRow is a finding flattened for render.
type findingRow struct {
	Severity string `json:"severity"`
	Kind     string `json:"kind"`
	Activity string `json:"activity"`
	Subject  string `json:"subject"`
	Events   uint64 `json:"events"`
	Message  string `json:"message"`
	Action   string `json:"action"`
}

type findingSummary struct {
	Severity string `json:"severity"`
	Kind     string `json:"kind"`
	Activity string `json:"activity"`
	Subject  string `json:"subject"`
	Events   uint64 `json:"events"`
	Message  string `json:"message"`
}

func renderFindings(e *env, format string, fs []report.Finding) error {
	if format == "json" {
		if fs == nil {
			fs = []report.Finding{}
		}
		return render(e.stdout, format, fs)
	}
	rows := make([]findingRow, 0, len(fs))
	for _, f := range fs {
		r := findingRow{Severity: f.Severity.String(), Kind: f.Kind, Activity: f.Activity, Subject: f.About, Message: f.Message, Action: f.Action}
		if f.Command != "" {
			r.Action += " CLI: " + f.Command
		}
		if f.Evidence != nil {
			r.Events = f.Evidence.Events
		}
		rows = append(rows, r)
	}
	if format != "table" {
		return render(e.stdout, format, rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(e.stdout, "no drift: observed processing matches the registry")
		return nil
	}
	// The table stays readable without the advice; json and csv carry it.
	short := make([]findingSummary, len(rows))
	for i, r := range rows {
		short[i] = findingSummary{r.Severity, r.Kind, r.Activity, r.Subject, r.Events, r.Message}
	}
	return render(e.stdout, format, short)
}
