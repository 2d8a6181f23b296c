package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/back-trace/datamap/bench"
)

func runBench(ctx context.Context, e *env, args []string) error {
	bench.RunConsumerIfRequested() // this process may be the drain stage's consumer child
	fs := newFlags(e, "bench", "[flags]", `
Measure ingestion on this machine, in one run, each stage on a fresh
embedded stack (NATS JetStream + ClickHouse) in a temporary directory:

  (a) consume   raw JetStream pull consume of N stored events, per-message ack, no decode
  (b) insert    raw ClickHouse batch inserts of the same N rows (sinks/clickhouse.Writer)
  (c) pipeline  publish N events (async, Nats-Msg-Id) → queryable in ClickHouse,
                with the real catalog consumer and the rollups folded as serve folds them;
                printed as a ratio of the slower of (a), (b)
  (d) pipeline-no-rollups
                (c) with the rollups off; (c) is printed as a share of it
  (c') pipeline-refs
                (c) with one event in five about one person (a subject
                reference): the subject table's cost, as a share of (c)
  latency       publish→queryable p50/p99 at half of (c)'s rate for --latency-duration
  drain         the consumer draining a pre-filled --backlog, in a child process,
                with its peak RSS

Before the first of (c), (d) and (c'), the pipeline runs once unmeasured,
so that none of them pays for being the first in the process. On a shared
machine, --rounds 3 runs (c), (d) and (c') three times in turn, so that a
change in load falls on each of them: each stage is then printed as its
median round, the shares are those of these medians, and every round is
listed below with its own shares.

Figures depend on the machine's load: the load average is printed with
each. Progress goes to stderr. The drain target (a 1M-event backlog):
  datamap bench --stage drain --backlog 1000000`, `
  datamap bench
  datamap bench --events 500000 --format json > bench.json
  datamap bench --stage pipeline --cpuprofile pipeline.pprof
  datamap bench --stage pipeline,pipeline-no-rollups,pipeline-refs --rounds 3
  datamap bench --stage drain --backlog 1000000`)
	n := fs.Int("events", bench.DefaultEvents, "events N of stages consume, insert and pipeline")
	size := fs.Int("event-size", bench.DefaultEventSize, "pad events towards this many encoded bytes with legitimate metadata (-1: no padding)")
	batch := fs.Int("batch", bench.DefaultBatchSize, "fetch and INSERT batch size of every stage, the consumer's included")
	format := fs.String("format", "table", "output: table or json")
	stages := fs.String("stage", "all", "stages, comma-separated: all, "+stageNames())
	backlog := fs.Int("backlog", bench.DefaultBacklog, "events pre-filled for the drain stage")
	latencyFor := fs.Duration("latency-duration", bench.DefaultLatencyDuration, "how long the latency stage publishes")
	rate := fs.Float64("rate", 0, "publish rate of the latency stage in events/s (0: half the pipeline rate)")
	inProcess := fs.Bool("in-process", false, "drain: run the consumer in this process instead of a child (its RSS then includes the NATS server)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the pipeline stage to this file (go tool pprof)")
	rounds := fs.Int("rounds", 1, "run the pipeline stages (c), (d), (c') this many times in turn and report medians (odd: 1, 3, 5…)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *format != "table" && *format != "json" {
		return usagef("--format %q is not supported; use table or json", *format)
	}
	if *n < 1 || *backlog < 1 || *batch < 1 || *batch > 100_000 {
		return usagef("--events and --backlog must be at least 1, --batch 1 to 100000")
	}
	if *rounds < 1 || *rounds > 99 || *rounds%2 == 0 {
		return usagef("--rounds %d: give an odd number from 1 to 99 (e.g. 3), so that each stage has a median round", *rounds)
	}
	o := bench.Options{Config: e.cfg, Events: *n, EventSize: *size, BatchSize: *batch, Backlog: *backlog,
		LatencyDuration: *latencyFor, LatencyRate: *rate, Rounds: *rounds, Logger: quiet(e)}
	if *size == 0 {
		o.EventSize = -1
	}
	for s := range strings.SplitSeq(*stages, ",") {
		s = strings.TrimSpace(s)
		switch {
		case s == "all":
			o.Stages = append(o.Stages, bench.Stages...)
		case isStage(s):
			o.Stages = append(o.Stages, bench.Stage(s))
		default:
			return usagef("--stage %q is not one of all, %s", s, stageNames())
		}
	}
	if *rounds > 1 && !slices.ContainsFunc(o.Stages, isPipelineStage) {
		return usagef("--rounds repeats the pipeline stages; add pipeline, pipeline-no-rollups or pipeline-refs to --stage")
	}
	if !*inProcess {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		o.ConsumerCommand = func() *exec.Cmd { return exec.Command(exe, "bench") }
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		o.CPUProfile = f
	}
	var endProgress func()
	o.Progress, endProgress = stageProgress(e)
	r, err := bench.Run(ctx, o)
	endProgress()
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	printBench(e.stdout, r)
	return nil
}

// stageNames lists the stages for --stage errors.
func stageNames() string {
	names := make([]string, len(bench.Stages))
	for i, st := range bench.Stages {
		names[i] = string(st)
	}
	return strings.Join(names, ", ")
}

// isPipelineStage reports whether s is one of the stages --rounds repeats.
func isPipelineStage(s bench.Stage) bool {
	return s == bench.StagePipeline || s == bench.StageNoRollups || s == bench.StagePipelineRefs
}

func isStage(s string) bool {
	for _, st := range bench.Stages {
		if string(st) == s {
			return true
		}
	}
	return false
}

// stageProgress reports each stage's progress on stderr (see progress);
// end closes the last stage's line.
func stageProgress(e *env) (report func(what string, done, total int), end func()) {
	var current *progress
	report = func(what string, done, total int) {
		if current == nil || what != current.what {
			if current != nil {
				current.end()
			}
			current = newProgress(e, what, total)
		}
		current.update(done)
	}
	end = func() {
		if current != nil {
			current.end()
		}
	}
	return report, end
}

func printBench(w io.Writer, r *bench.Report) {
	m := r.Machine
	fmt.Fprintf(w, "datamap bench: %d CPUs (%s), %.1f GiB RAM, %s; load at start %.2f %.2f %.2f\n",
		m.CPUs, m.CPUModel, float64(m.MemTotal)/(1<<30), m.GoVersion, m.Load[0], m.Load[1], m.Load[2])
	if r.Events > 0 && r.EventBytes > 0 {
		fmt.Fprintf(w, "workload: %d events, %.0f bytes each on average, batches of %d\n\n", r.Events, r.EventBytes, r.BatchSize)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "STAGE\tEVENTS\tSECONDS\tEVENTS/S\tLOAD\t")
	row := func(name string, t *bench.Throughput, extra string) {
		if t != nil {
			fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.0f\t%.2f\t%s\n", name, t.Events, t.Seconds, t.PerSecond, t.Load, extra)
		}
	}
	row("JetStream publish (async)", r.Publish, "  (while (a) fills its stream; bounds (c))")
	row("(a) JetStream consume+ack", r.Consume, "")
	row("(b) ClickHouse insert", r.Insert, "")
	if p := r.Pipeline; p != nil {
		extra := fmt.Sprintf("  (publishing took %.2fs, CPU %.1fs)", p.PublishSeconds, p.CPUSeconds)
		if r.Ratio > 0 {
			extra = fmt.Sprintf("  %.0f%% of (%s)%s", r.Ratio*100, map[bench.Stage]string{bench.StageConsume: "a", bench.StageInsert: "b"}[r.Slower], extra)
		}
		row("(c) pipeline publish→queryable", p, extra)
	}
	if p := r.NoRollups; p != nil {
		extra := fmt.Sprintf("  (publishing took %.2fs, CPU %.1fs)", p.PublishSeconds, p.CPUSeconds)
		if r.RollupsRatio > 0 {
			extra = fmt.Sprintf("  (c) is %.0f%% of it%s", r.RollupsRatio*100, extra)
		}
		row("(d) pipeline, rollups off", p, extra)
	}
	if p := r.PipelineRefs; p != nil {
		extra := fmt.Sprintf("  (CPU %.1fs)", p.CPUSeconds)
		if r.RefsRatio > 0 {
			extra = fmt.Sprintf("  %.0f%% of (c)%s", r.RefsRatio*100, extra)
		}
		row("(c') pipeline, 1 in 5 with a subject ref", p, extra)
	}
	if d := r.Drain; d != nil {
		row(fmt.Sprintf("drain of a %d backlog", d.Backlog), &bench.Throughput{Events: d.Backlog, Seconds: d.Seconds, PerSecond: d.PerSecond, Load: d.Load}, "")
	}
	tw.Flush()
	printRounds(w, r.Rounds)
	if l := r.Latency; l != nil {
		ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
		fmt.Fprintf(w, "\nlatency publish→queryable at %.0f events/s for %s (load %.2f): p50 %s, p99 %s, max %s; %d of %d visible\n",
			l.Rate, l.Duration.Round(time.Millisecond), l.Load, ms(l.P50), ms(l.P99), ms(l.Max), l.Visible, l.Published)
		fmt.Fprintf(w, "  by ingested_at (lower bound): p50 %s, p99 %s; polls every %s, slowest poll %s, so the first figures are late by at most %s\n",
			ms(l.IngestP50), ms(l.IngestP99), l.PollInterval, ms(l.MaxQuery), ms(l.PollInterval+l.MaxQuery))
	}
	mib := func(b uint64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
	fmt.Fprintf(w, "\npeak RSS: bench process %s (workloads, in-process NATS servers and consumers); ClickHouse child %s\n",
		mib(r.PeakRSS), mib(r.ClickHousePeakRSS))
	if d := r.Drain; d != nil {
		where := "consumer child process (VmHWM)"
		if !d.ChildProcess {
			where = "this process, sampled: includes the NATS server and the bench"
		}
		fmt.Fprintf(w, "drain: consumer peak RSS %s, %s\n", mib(d.ConsumerPeakRSS), where)
	}
	fmt.Fprintln(w, "\nTARGETS (ingestion: pipeline throughput, latency, drain memory)")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, t := range r.Targets {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", t.Name, t.Goal, strings.ToUpper(t.Status), t.Measured)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nbench took %s\n", r.Elapsed.Round(time.Second))
}

// printRounds lists the rounds of the pipeline stages, in the order they
// ran, when there was more than one.
func printRounds(w io.Writer, rounds []bench.Round) {
	if len(rounds) < 2 {
		return
	}
	fmt.Fprintf(w, "\n%d rounds, in the order they ran (above: each stage's median round, and the shares of these):\n", len(rounds))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ROUND\t(c) EVENTS/S\t(d) EVENTS/S\t(c') EVENTS/S\t(c) OF (d)\t(c') OF (c)\tLOAD\t")
	rate := func(t *bench.Throughput) string {
		if t == nil {
			return "-"
		}
		return fmt.Sprintf("%.0f", t.PerSecond)
	}
	share := func(v float64) string {
		if v == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f%%", v*100)
	}
	for i, rd := range rounds {
		load := 0.0
		for _, t := range []*bench.Throughput{rd.Pipeline, rd.NoRollups, rd.PipelineRefs} {
			if t != nil {
				load = max(load, t.Load)
			}
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%.2f\t\n", i+1, rate(rd.Pipeline), rate(rd.NoRollups), rate(rd.PipelineRefs),
			share(rd.RollupsRatio), share(rd.RefsRatio), load)
	}
	tw.Flush()
}
