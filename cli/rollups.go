package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/back-trace/datamap/catalog/rollup"
	"github.com/back-trace/datamap/server"
)

func runRollups(ctx context.Context, e *env, args []string) error {
	action := ""
	if len(args) > 0 && (args[0] == "fold" || args[0] == "rebuild") {
		action, args = args[0], args[1:]
	}
	fs := newFlags(e, "rollups", "[fold | rebuild] [--format table|json]", `
Show the state of the rollups: the per-day and per-month flow rows every
question reads instead of the raw events. A day is dirty from the moment it
receives events until 'datamap serve' folds them in (every
DATAMAP_ROLLUP_INTERVAL); answers are exact either way, since a dirty day is
read from its raw events, only slower. After an upgrade to rollups every day
is dirty until the backfill is done.

'rollups fold' folds every dirty day now, with a progress bar when stderr is a
terminal; interrupting it is safe (the days not done stay dirty) and it may
run while serve runs and events arrive.

'rollups rebuild' marks every day dirty first, so every rollup row is recomputed
from the raw events: after restoring a backup of the events table, or a
power failure with DATAMAP_CLICKHOUSE_FSYNC=false. Days sealed by
DATAMAP_RAW_EVENTS_TTL_DAYS keep their rows (their raw events are gone).`, `
  datamap rollups
  datamap rollups fold
  datamap rollups rebuild --format json`)
	fold := fs.Bool("fold", false, "deprecated: use 'datamap rollups fold'")
	rebuild := fs.Bool("rebuild", false, "deprecated: use 'datamap rollups rebuild'")
	format := fs.String("format", "table", "output format: table or json")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *format != "table" && *format != "json" {
		return usagef("--format %q is not supported; use table or json", *format)
	}
	if *fold && *rebuild {
		return usagef("rebuild folds too: run 'datamap rollups rebuild' alone")
	}
	for flagName, set := range map[string]bool{"fold": *fold, "rebuild": *rebuild} {
		if set {
			if action != "" {
				return usagef("--%s repeats the subcommand %q: drop it", flagName, action)
			}
			fmt.Fprintf(e.stderr, "datamap rollups: --%s is deprecated; run 'datamap rollups %s'\n", flagName, flagName)
			action = flagName
		}
	}
	*fold, *rebuild = action == "fold", action == "rebuild"
	s, closeStack, err := attach(ctx, e)
	if err != nil {
		return err
	}
	defer closeStack()
	if *rebuild {
		if err := rollup.MarkAllDirty(ctx, s.ClickHouse); err != nil {
			return err
		}
	}
	if *fold || *rebuild {
		started := time.Now()
		var bar *progress
		show := func(done, total int) {
			if bar == nil {
				bar = newProgress(e, "days folded", total)
			}
			bar.update(done)
		}
		r, err := server.NewFolder(s, nil).FoldAll(ctx, show)
		if bar != nil {
			bar.end()
		}
		if err != nil {
			return fmt.Errorf("folding stopped after %d days (the others stay dirty; run it again to go on): %w", r.Folded, err)
		}
		fmt.Fprintf(e.stderr, "folded %d days in %s\n", r.Folded, time.Since(started).Round(time.Millisecond))
	}
	st, err := rollup.ReadStatus(ctx, s.ClickHouse)
	if err != nil {
		return err
	}
	if *format == "json" {
		return renderValue(e.stdout, st)
	}
	oldest := "-"
	if !st.OldestDirty.IsZero() {
		oldest = st.OldestDirty.Format(time.DateOnly)
	}
	fmt.Fprintf(e.stdout, "days with events   %d\ndirty days         %d (oldest %s)\nrows pending       %d\nsealed days        %d\n",
		st.Days, st.DirtyDays, oldest, st.PendingRows, st.SealedDays)
	return nil
}
