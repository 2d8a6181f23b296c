package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/back-trace/datamap/catalog/deadletter"
	"github.com/back-trace/datamap/events"
)

// dlqCommands are the subcommands of `datamap dlq`.
var dlqCommands = []struct {
	name, summary string
	run           func(context.Context, *env, []string) error
}{
	{"list", "list the dead letters, oldest first", runDLQList},
	{"show", "show one dead letter: reason, headers, body", runDLQShow},
	{"replay", "republish dead letters to the event stream (after a fix)", runDLQReplay},
	{"purge", "delete dead letters older than a duration", runDLQPurge},
}

func runDLQ(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand: one of list, show, replay, purge")
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printDLQUsage(e.stdout)
		return nil
	}
	for _, c := range dlqCommands {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	return usagef("unknown subcommand %q: one of list, show, replay, purge", args[0])
}

func printDLQUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: datamap dlq <subcommand> [flags]

Dead letters are events the catalog could not store: invalid events (bad
JSON, unknown taxonomy keys, personal values…) and events that failed
every delivery attempt. The consumer moves them to the dead-letter stream
(DATAMAP_DEADLETTER) with the reason, the original subject and headers and
the delivery count, and goes on with the events behind them. Each dead
letter has an ID (its sequence in that stream) that never changes.

Subcommands:
`)
	for _, c := range dlqCommands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Examples:
  datamap dlq list
  datamap dlq show 17
  DATAMAP_TAXONOMY=taxonomy.yaml datamap dlq replay --all --dry-run
  datamap dlq replay --id 17,18
  datamap dlq purge --older-than 30d

Run 'datamap dlq <subcommand> --help' for its flags.
`)
}

func runDLQList(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "dlq list", "[flags]", `
List the dead letters, oldest first: ID, when the event failed, its original
subject, its source and id (when the body has them), how often it was
delivered, its size and the reason. The table shortens long reasons; json
and csv print them whole, and 'datamap dlq show ID' prints everything.`, `
  datamap dlq list
  datamap dlq list --limit 0 --format csv > dead-letters.csv
  datamap dlq list --format json | jq -r '.[] | select(.source == "billing-api") | .id'`)
	format := new(string)
	formatFlag(fs, format)
	limit := fs.Int("limit", 100, "show at most this many (the oldest); 0 shows all")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q; to see one dead letter use 'datamap dlq show %s'", fs.Arg(0), fs.Arg(0))
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if *limit < 0 {
		return usagef("--limit must be 0 (all) or more")
	}
	s, closeStack, err := attach(ctx, e)
	if err != nil {
		return err
	}
	defer closeStack()
	letters, err := deadletter.List(ctx, s.JS, deadletter.Filter{Limit: *limit})
	if err != nil {
		return err
	}
	rows := make([]deadletter.Summary, len(letters))
	for i, l := range letters {
		rows[i] = l.Summary()
		if *format == "table" {
			rows[i].Reason = shorten(rows[i].Reason, 100)
		}
	}
	if err := render(e.stdout, *format, rows); err != nil {
		return err
	}
	if total, err := deadletter.Count(ctx, s.JS); err == nil && *limit > 0 && total > uint64(len(rows)) {
		fmt.Fprintf(e.stderr, "showing the oldest %d of %d dead letters; --limit 0 shows all\n", len(rows), total)
	}
	return nil
}

// shorten puts s on one line of at most n runes.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// dlqLetter is one dead letter in `dlq show --format json`.
type dlqLetter struct {
	ID               uint64              `json:"id"`
	FailedAt         time.Time           `json:"failed_at"`
	StoredAt         time.Time           `json:"stored_at"`
	Subject          string              `json:"subject"`
	Reason           string              `json:"reason"`
	Deliveries       uint64              `json:"deliveries"`
	OriginalSequence uint64              `json:"original_sequence"`
	Source           string              `json:"source"`
	EventID          string              `json:"event_id"`
	Size             int                 `json:"size"`
	Headers          map[string][]string `json:"headers"`
	// Body is the event as JSON, or a string when it is not valid JSON.
	Body any `json:"body"`
}

func runDLQShow(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "dlq show", "ID [flags]", `
Show one dead letter: why it failed, its original subject, delivery count,
every header, and the event itself (pretty-printed when it is JSON). IDs are
in 'datamap dlq list'.`, `
  datamap dlq show 17
  datamap dlq show 17 --format json | jq .body`)
	format := fs.String("format", "text", "output format: text or json")
	id, err := parseWithID(fs, args)
	if err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return usagef("--format %q is not supported; use text or json", *format)
	}
	s, closeStack, err := attach(ctx, e)
	if err != nil {
		return err
	}
	defer closeStack()
	l, err := deadletter.Get(ctx, s.JS, id)
	if errors.Is(err, deadletter.ErrNotFound) {
		return usagef("no dead letter %d (replayed or purged?); 'datamap dlq list' shows the IDs", id)
	}
	if err != nil {
		return err
	}
	if *format == "json" {
		out := dlqLetter{ID: l.ID, FailedAt: l.FailedAt, StoredAt: l.StoredAt, Subject: l.Subject, Reason: l.Reason,
			Deliveries: l.Deliveries, OriginalSequence: l.OriginalSequence, Source: l.Source, EventID: l.EventID,
			Size: l.Size, Headers: l.Header, Body: string(l.Body)}
		if out.Headers == nil {
			out.Headers = map[string][]string{}
		}
		if json.Valid(l.Body) {
			out.Body = json.RawMessage(l.Body)
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	w := e.stdout
	fmt.Fprintf(w, "Dead letter %d\n", l.ID)
	fmt.Fprintf(w, "  failed at    %s\n", l.FailedAt.Format(time.RFC3339))
	fmt.Fprintf(w, "  subject      %s\n", l.Subject)
	if l.Identity() != "" {
		fmt.Fprintf(w, "  event        %s\n", l.Identity())
	}
	fmt.Fprintf(w, "  deliveries   %d\n", l.Deliveries)
	if l.OriginalSequence > 0 {
		fmt.Fprintf(w, "  stream seq   %d (%s)\n", l.OriginalSequence, events.StreamName)
	}
	fmt.Fprintf(w, "  size         %d bytes\n", l.Size)
	fmt.Fprintf(w, "\nReason:\n  %s\n", l.Reason)
	fmt.Fprint(w, "\nHeaders:\n")
	keys := make([]string, 0, len(l.Header))
	for k := range l.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range l.Header[k] {
			fmt.Fprintf(w, "  %s: %s\n", k, v)
		}
	}
	fmt.Fprint(w, "\nBody:\n")
	var pretty bytes.Buffer
	if json.Indent(&pretty, l.Body, "  ", "  ") == nil {
		fmt.Fprintf(w, "  %s\n", pretty.String())
	} else {
		fmt.Fprintf(w, "  %q\n  (not valid JSON)\n", l.Body)
	}
	return nil
}

// parseWithID parses flags and one ID argument, in either order.
func parseWithID(fs *flag.FlagSet, args []string) (uint64, error) {
	// Allow "show 17 --format json" as well as "show --format json 17".
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		args = append(args[1:], args[0])
	}
	if err := parse(fs, args); err != nil {
		return 0, err
	}
	rest := fs.Args()
	if len(rest) != 1 {
		return 0, usagef("want one dead-letter ID, e.g. 'datamap dlq show 17'; 'datamap dlq list' shows the IDs")
	}
	return parseDLQID(rest[0])
}

func parseDLQID(s string) (uint64, error) {
	id, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil || id == 0 {
		return 0, usagef("%q is not a dead-letter ID (a positive number from 'datamap dlq list')", s)
	}
	return id, nil
}

// idList is a flag holding IDs: --id 1,2 --id 3.
type idList []uint64

func (l *idList) String() string {
	parts := make([]string, len(*l))
	for i, id := range *l {
		parts[i] = strconv.FormatUint(id, 10)
	}
	return strings.Join(parts, ",")
}

func (l *idList) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		id, err := parseDLQID(part)
		if err != nil {
			return err
		}
		*l = append(*l, id)
	}
	return nil
}

func runDLQReplay(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "dlq replay", "(--id ID[,ID…] | --all) [flags]", `
Republish dead letters to their original subject, typically after a fix:
a taxonomy that now has the category, a publisher that was corrected, a
catalog that is reachable again. Each replayed event is deleted from the
dead-letter stream once the event stream has it, and the running
'datamap serve' validates it again like any event: if it is still invalid
it comes back as a new dead letter with the new reason. Replaying twice
never counts an event twice.

Before replaying, each event is validated here with DATAMAP_TAXONOMY (set it
to the taxonomy 'datamap serve' uses); those that would still fail are
listed and kept, unless --force. Exit code 3 when some were kept.`, `
  DATAMAP_TAXONOMY=taxonomy.yaml datamap dlq replay --all --dry-run
  DATAMAP_TAXONOMY=taxonomy.yaml datamap dlq replay --all
  datamap dlq replay --id 17,18
  datamap dlq replay --id 17 --force      # replay even if it would still fail`)
	var ids idList
	fs.Var(&ids, "id", "dead letters to replay: `ID[,ID…]` (repeatable)")
	all := fs.Bool("all", false, "replay every dead letter")
	dryRun := fs.Bool("dry-run", false, "only say what would be replayed and what would still fail")
	force := fs.Bool("force", false, "replay also the events that would still fail validation here")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usagef("unexpected argument %q; pass IDs with --id %s", fs.Arg(0), fs.Arg(0))
	case len(ids) > 0 && *all:
		return usagef("--id and --all exclude each other; pass one")
	case len(ids) == 0 && !*all:
		return usagef("say which dead letters: --id ID[,ID…] or --all")
	}
	tax, err := loadTaxonomy(e)
	if err != nil {
		return err
	}
	v := events.NewValidator(tax)
	s, closeStack, err := attach(ctx, e)
	if err != nil {
		return err
	}
	defer closeStack()

	var letters []deadletter.Letter
	if *all {
		if letters, err = deadletter.List(ctx, s.JS, deadletter.Filter{}); err != nil {
			return err
		}
	} else {
		seen := map[uint64]bool{}
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			l, err := deadletter.Get(ctx, s.JS, id)
			if errors.Is(err, deadletter.ErrNotFound) {
				return usagef("no dead letter %d (replayed or purged?); 'datamap dlq list' shows the IDs; nothing was replayed", id)
			}
			if err != nil {
				return err
			}
			letters = append(letters, l)
		}
	}
	if len(letters) == 0 {
		fmt.Fprintln(e.stdout, "no dead letters to replay")
		return nil
	}

	var replay []uint64
	kept := 0
	for _, l := range letters {
		var still *deadletter.StillFailsError
		switch err := deadletter.Check(l, v); {
		case err == nil:
		case errors.As(err, &still) && *force:
			fmt.Fprintf(e.stderr, "dead letter %d will fail again (--force): %v\n", l.ID, still.Err)
		case errors.As(err, &still):
			kept++
			fmt.Fprintf(e.stderr, "%v\n", err)
			continue
		default:
			kept++
			fmt.Fprintf(e.stderr, "dead letter %d cannot be replayed: %v\n", l.ID, err)
			continue
		}
		replay = append(replay, l.ID)
	}
	if *dryRun {
		fmt.Fprintf(e.stdout, "%d dead letters would be replayed, %d kept (dry run, nothing replayed)\n", len(replay), kept)
	} else {
		res, err := deadletter.Replay(ctx, s.JS, replay)
		if err != nil {
			return fmt.Errorf("replayed %d of %d dead letters, then: %w", len(res.Replayed), len(replay), err)
		}
		fmt.Fprintf(e.stdout, "%d dead letters replayed to the event stream, %d kept", len(res.Replayed), kept)
		if len(res.Missing) > 0 {
			fmt.Fprintf(e.stdout, ", %d already gone (replayed or purged meanwhile)", len(res.Missing))
		}
		fmt.Fprintln(e.stdout)
		if len(res.Replayed) > 0 {
			fmt.Fprintln(e.stdout, "the catalog consumer validates them again; any still invalid return as new dead letters ('datamap dlq list')")
		}
	}
	if kept > 0 {
		fmt.Fprintf(e.stderr, "%d dead letters kept: fix the taxonomy (DATAMAP_TAXONOMY) or the events, or pass --force\n", kept)
		return errRejected
	}
	return nil
}

func runDLQPurge(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "dlq purge", "--older-than DURATION [flags]", `
Delete the dead letters whose event failed more than DURATION ago (by the
Datamap-Failed-At header the consumer sets). They cannot be replayed
afterwards. DURATION is a Go duration (90m, 12h) or a number of days (30d),
or both (1d12h).`, `
  datamap dlq purge --older-than 30d
  datamap dlq purge --older-than 12h --dry-run`)
	olderThan := fs.String("older-than", "", "delete dead letters that failed longer ago than this, e.g. 30d or 12h (required)")
	dryRun := fs.Bool("dry-run", false, "only count what would be deleted")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *olderThan == "" {
		return usagef("--older-than is required, e.g. --older-than 30d")
	}
	age, err := parseAge(*olderThan)
	if err != nil {
		return err
	}
	s, closeStack, err := attach(ctx, e)
	if err != nil {
		return err
	}
	defer closeStack()
	cutoff := time.Now().Add(-age)
	if *dryRun {
		old, err := deadletter.List(ctx, s.JS, deadletter.Filter{FailedBefore: cutoff})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%d dead letters failed before %s and would be purged (dry run, nothing deleted)\n", len(old), cutoff.UTC().Format(time.RFC3339))
		return nil
	}
	n, err := deadletter.Purge(ctx, s.JS, age)
	if err != nil {
		return fmt.Errorf("purged %d dead letters, then: %w", n, err)
	}
	fmt.Fprintf(e.stdout, "%d dead letters that failed before %s purged\n", n, cutoff.UTC().Format(time.RFC3339))
	return nil
}

// parseAge reads a Go duration, a number of days ("30d"), or days followed
// by a Go duration ("1d12h").
func parseAge(s string) (time.Duration, error) {
	bad := usagef("--older-than %q is not a duration such as 30d, 12h or 90m", s)
	var days time.Duration
	rest := s
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseUint(s[:i], 10, 32)
		if err != nil || n > 100_000 {
			return 0, bad
		}
		days, rest = time.Duration(n)*24*time.Hour, s[i+1:]
	}
	var d time.Duration
	if rest != "" {
		var err error
		if d, err = time.ParseDuration(rest); err != nil || d < 0 {
			return 0, bad
		}
	}
	return days + d, nil
}
