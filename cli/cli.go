// Package cli is the datamap command line: one binary, one file per
// subcommand. Commands parse flags, call the library and print; they hold
// no logic of their own.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"

	"github.com/back-trace/datamap/config"
	"github.com/back-trace/datamap/internal/suggest"
	"github.com/back-trace/datamap/questions"
	"github.com/back-trace/datamap/stack"
)

// Exit codes scripts can rely on.
const (
	ExitOK       = 0
	ExitFailure  = 1 // something went wrong at run time
	ExitUsage    = 2 // bad flags, arguments or input values
	ExitRejected = 3 // emit: some events were rejected (the valid ones were published)
	// ExitFindings (4, in drift.go): drift at or above --fail-on, and
	// transfers or retention with --exit-code when the answer holds findings.
)

// Version is set at build time with -ldflags "-X github.com/back-trace/datamap/cli.Version=…".
var Version = "dev"

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what every command gets: its streams and configuration.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	cfg            config.Config
	log            *slog.Logger
}

func commands() []command {
	return withQuestions([]command{
		{"demo", "run the BackTrace demo: embedded stack, simulated services, data map", runDemo},
		{"serve", "run the consumer and the HTTP API (embedded NATS and ClickHouse by default)", runServe},
		{"emit", "validate and publish events from files or stdin", runEmit},
		asked(questions.Inventory),
		asked(questions.Flows),
		asked(questions.Transfers),
		asked(questions.Retention),
		{"lineage", "where data can end up (reach), what a breach exposes (blast), graph exports", runLineage},
		asked(questions.Search),
		{"subject", "a person's data by subject reference: show, open requests, forget (subject role, audited)", runSubject},
		{questions.Audit.Name, questions.Audit.Command.Listed, runAudit},
		{"report", "the GDPR Article 30 record, backed by observed evidence (xlsx, html, pdf, csv, md, json)", runReport},
		{questions.Drift.Name, questions.Drift.Command.Listed, runDrift},
		{"registry", "validate the declared registry (datamap.yaml), or draft one from what was observed", runRegistry},
		{"bench", "measure ingestion here: JetStream, ClickHouse, the pipeline, latency, memory", runBench},
		{"taxonomy", "list the categories, purposes and data subjects events may use", runTaxonomy},
		{"dlq", "list, show, replay or purge dead letters: events the catalog could not store", runDLQ},
		{"rollups", "the state of the rollups every question reads; fold or rebuild them now", runRollups},
		{"config", "print the effective configuration (secrets masked)", runConfig},
		{"version", "print the version", runVersion},
	})
}

// asked is the command of a question, made from its entry.
func asked(q questions.Question) command {
	return command{q.Name, q.Command.Listed, questionCommand{q}.run}
}

// withQuestions adds the command of every question of the table that cmds
// does not list yet, after the questions they list (the last of which is
// drift), so that a new question is a command without an edit here.
func withQuestions(cmds []command) []command {
	at := slices.IndexFunc(cmds, func(c command) bool { return c.name == questions.Drift.Name }) + 1
	for _, q := range questions.All() {
		word := q.CommandPath()
		if !strings.Contains(word, " ") && !slices.ContainsFunc(cmds, func(c command) bool { return c.name == word }) {
			cmds = slices.Insert(cmds, at, asked(q))
			at++
		}
	}
	return cmds
}

// usageError marks errors caused by the caller's input: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// errRejected marks a partial success: exit code 3.
var errRejected = errors.New("some events were rejected")

// Main runs the datamap command line and returns the process exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 {
			args = []string{args[1], "--help"}
		} else {
			printUsage(stdout)
			return ExitOK
		}
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == args[0] {
			cmd = &c
			break
		}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "datamap: unknown command %q%s\nRun 'datamap --help' for the list of commands.\n", args[0], suggestCommand(args[0]))
		return ExitUsage
	}
	cfg, cfgErr := config.Load()
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, cfg: cfg, log: newLogger(stderr, cfg)}
	if cfgErr != nil && cmd.name != "config" && cmd.name != "version" {
		fmt.Fprintf(stderr, "datamap: invalid configuration:\n%s\nRun 'datamap config' to see every variable.\n", indent(cfgErr.Error()))
		return ExitUsage
	}
	err := cmd.run(ctx, e, args[1:])
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.Is(err, errRejected):
		return ExitRejected
	case errors.Is(err, errFindings):
		return ExitFindings
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "datamap %s: %v\nRun 'datamap %s --help' for usage.\n", cmd.name, err, cmd.name)
		return ExitUsage
	default:
		fmt.Fprintf(stderr, "datamap %s: %v\n", cmd.name, err)
		return ExitFailure
	}
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `datamap — an inventory of the personal data your services hold, and where it goes.

Services publish events when they collect, share or erase a category of
personal data; datamap keeps a ClickHouse catalog of them and answers what is
held, why, for how long, and who received it.

Usage:
  datamap <command> [flags]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Start here:
  datamap demo                      see it work end to end in under a minute
  datamap serve                     run it; then, in another terminal:
  datamap emit events.jsonl         publish events
  datamap inventory --category billing
  datamap flows --country US --format csv

Configuration comes from DATAMAP_* variables: 'datamap config' lists them.
Exit codes: 0 ok, 1 failure, 2 bad usage or input, 3 some events rejected,
4 findings: drift at or above --fail-on; transfers, retention with --exit-code.
Run 'datamap <command> --help' for a command's flags.
`)
}

// newFlags returns a flag set whose --help prints a description, the flags
// and examples.
func newFlags(e *env, name, synopsis, description, examples string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		w := e.stdout
		fmt.Fprintf(w, "Usage: datamap %s %s\n\n%s\n", name, synopsis, strings.TrimSpace(description))
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprint(w, "\nFlags:\n")
			fs.SetOutput(w)
			fs.PrintDefaults()
			fs.SetOutput(e.stderr)
		}
		if examples != "" {
			fmt.Fprintf(w, "\nExamples:\n%s\n", strings.TrimRight(examples, "\n"))
		}
	}
	return fs
}

// parse parses flags, turning flag errors into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	return nil
}

func newLogger(w io.Writer, cfg config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// suggestCommand proposes the closest command name for a typo.
func suggestCommand(name string) string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	if best := suggest.Closest(name, names, 3); best != "" {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return ""
}

func indent(s string) string {
	lines := strings.Split(s, "\n")
	sort.Strings(lines)
	return "  " + strings.Join(lines, "\n  ")
}

func runVersion(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "version", "", "Print the datamap version.", "")
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "datamap %s\n", Version)
	return nil
}

// attach connects a client command to the stack of the `datamap serve`
// running on the data directory, or, when none runs, to one started for
// this command (stack.Attach), logging only warnings. The returned close
// stops what attach started; defer it.
func attach(ctx context.Context, e *env) (s *stack.Stack, close func(), err error) {
	s, err = stack.Attach(ctx, e.cfg, quiet(e))
	if err != nil {
		return nil, nil, err
	}
	return s, func() { s.Close(context.WithoutCancel(ctx)) }, nil
}

// quiet is the logger of short client commands: only warnings and errors,
// so that their stdout stays the answer.
func quiet(e *env) *slog.Logger {
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
