// Package bench measures datamap's ingestion on the current machine, in one
// run: the raw JetStream consume rate, the raw ClickHouse batch insert rate
// of the same rows, the full pipeline (SDK-style publish → queryable in
// ClickHouse) as a ratio of the slower raw stage, publish→queryable latency
// at half the measured capacity, and the consumer's memory while draining a
// backlog. `datamap bench` prints the Report.
//
// Every stage runs on a fresh embedded stack (in-process NATS JetStream and
// the embedded ClickHouse child) in its own temporary directory, so no stage
// inherits another's stream, parts or caches. The stages are also exported
// one by one (Consume, Insert, Pipeline, Latency, Drain).
package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/back-trace/datamap/config"
)

// Stage names one measurement.
type Stage string

// The stages, in the order Run measures them.
const (
	StageConsume  Stage = "consume"  // (a) raw JetStream pull consume with per-message ack
	StageInsert   Stage = "insert"   // (b) raw ClickHouse batch inserts of the same rows
	StagePipeline Stage = "pipeline" // (c) publish → queryable, real catalog consumer, rollups folded as serve does
	// StageNoRollups is (c) with the rollups off: no day counted at insert,
	// nothing folded. The pipeline's rate as a share of it is what the
	// rollups cost ingestion.
	StageNoRollups Stage = "pipeline-no-rollups"
	StageLatency   Stage = "latency" // publish→queryable latency at half of (c)
	StageDrain     Stage = "drain"   // consumer RSS while draining a pre-filled backlog
)

// Stages lists every stage in run order.
var Stages = []Stage{StageConsume, StageInsert, StagePipeline, StageNoRollups, StagePipelineRefs, StageLatency, StageDrain}

// Defaults of Options.
const (
	DefaultEvents          = 200_000
	DefaultEventSize       = 500
	DefaultBatchSize       = 10_000
	DefaultLatencyDuration = 10 * time.Second
	DefaultPollInterval    = 50 * time.Millisecond
	DefaultBacklog         = 200_000
)

// Options configure a run. The zero value of each field means its default.
type Options struct {
	// Config is the base configuration; every stage runs on a copy with a
	// fresh temporary data directory, free ports and embedded servers.
	// Its BatchSize is replaced by BatchSize.
	Config config.Config
	// TempDir holds the stages' data directories; "" means os.TempDir().
	TempDir string
	// Events is N, the events of stages (a), (b) and (c).
	Events int
	// EventSize pads events towards this many encoded bytes with legitimate
	// metadata; negative means the unpadded demo events (480 bytes on average).
	EventSize int
	// BatchSize is the fetch and INSERT batch of every stage, including the
	// real consumer's (DATAMAP_BATCH_SIZE is overridden).
	BatchSize int
	// Stages to run; nil means all. The latency stage needs the pipeline's
	// rate: without LatencyRate, asking for latency runs the pipeline too.
	Stages []Stage
	// Rounds is how many times the pipeline stages (c), (d) and (c') run,
	// in turn, so that a change in the machine's load falls on all of
	// them; each is then reported by its median round, and the ratios
	// are those of these medians. It must be odd; 0 means 1.
	Rounds int
	// LatencyRate is the publish rate of the latency stage, in events/s;
	// 0 means half of the pipeline rate measured in the same run.
	LatencyRate float64
	// LatencyDuration is how long the latency stage publishes.
	LatencyDuration time.Duration
	// PollInterval is how often the latency stage looks for newly
	// queryable events; it bounds the latency measurement error.
	PollInterval time.Duration
	// Backlog is the number of events the drain stage pre-fills.
	Backlog int
	// ConsumerCommand, if set, returns the command of a child process that
	// runs the drain stage's consumer (a process that calls
	// RunConsumerIfRequested first thing), so that its RSS is the
	// consumer's alone. nil runs the consumer in this process, where the
	// RSS includes the embedded NATS server and the bench.
	ConsumerCommand func() *exec.Cmd
	// CPUProfile, if set, receives a CPU profile (pprof) of this process
	// during the pipeline stage: publisher, NATS server and consumer; the
	// ClickHouse engine is a child process and is not in it.
	CPUProfile io.Writer
	// Seed varies the event mix; ids are always fresh.
	Seed int64
	// Logger receives the stacks' warnings; nil discards them.
	Logger *slog.Logger
	// Progress, if set, is called now and then from one goroutine at a
	// time with what is being done, how far it is and the total.
	Progress func(what string, done, total int)

	round string // which round a pipeline stage is of, for its progress
}

func (o Options) withDefaults() Options {
	if o.Events <= 0 {
		o.Events = DefaultEvents
	}
	if o.EventSize == 0 {
		o.EventSize = DefaultEventSize
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if len(o.Stages) == 0 {
		o.Stages = Stages
	}
	if o.LatencyDuration <= 0 {
		o.LatencyDuration = DefaultLatencyDuration
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.Backlog <= 0 {
		o.Backlog = DefaultBacklog
	}
	if o.Rounds <= 0 {
		o.Rounds = 1
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

func (o Options) progress(what string, total int) func(int) {
	if o.Progress == nil {
		return nil
	}
	return func(done int) { o.Progress(what, done, total) }
}

// Report is the outcome of a run. Stages that did not run are nil.
type Report struct {
	Machine    Machine `json:"machine"`
	Events     int     `json:"events"`
	EventBytes float64 `json:"event_bytes_mean"`
	BatchSize  int     `json:"batch_size"`

	// Publish is the raw JetStream publish rate (async, Nats-Msg-Id,
	// nobody consuming), timed while stage (a) fills its stream. It is
	// not in Ratio, but it bounds the pipeline, which must publish too.
	Publish  *Throughput `json:"publish,omitempty"`
	Consume  *Throughput `json:"consume,omitempty"`  // (a)
	Insert   *Throughput `json:"insert,omitempty"`   // (b)
	Pipeline *Throughput `json:"pipeline,omitempty"` // (c)
	// PipelineRefs is (c) with one event in five carrying a subject
	// reference, and RefsRatio its share of Pipeline's rate.
	PipelineRefs *Throughput `json:"pipeline_refs,omitempty"`
	RefsRatio    float64     `json:"refs_ratio,omitempty"`
	// Ratio is Pipeline / min(Consume, Insert), all three from this run;
	// 0 when one of them did not run.
	Ratio float64 `json:"ratio,omitempty"`
	// Slower names the slower raw stage, the denominator of Ratio.
	Slower Stage `json:"slower_raw_stage,omitempty"`
	// NoRollups is (c) with the rollups off; RollupsRatio is Pipeline /
	// NoRollups, both from this run (0 when one did not run).
	NoRollups    *Throughput `json:"pipeline_no_rollups,omitempty"`
	RollupsRatio float64     `json:"rollups_ratio,omitempty"`
	// Rounds are the rounds of the pipeline stages when there were more
	// than one (Options.Rounds): Pipeline, NoRollups and PipelineRefs are
	// then each stage's median round, and the ratios theirs.
	Rounds []Round `json:"rounds,omitempty"`

	Latency *Latency `json:"latency,omitempty"`
	Drain   *Drain   `json:"drain,omitempty"`

	// PeakRSS is getrusage(RUSAGE_SELF).Maxrss of this process at the end:
	// the bench, its workloads, the in-process NATS servers and consumers.
	PeakRSS uint64 `json:"peak_rss_bytes"`
	// ClickHousePeakRSS is the highest VmHWM of the embedded ClickHouse
	// child processes of the stages.
	ClickHousePeakRSS uint64 `json:"clickhouse_peak_rss_bytes"`

	Targets []Target      `json:"targets"`
	Elapsed time.Duration `json:"elapsed_ns"`
}

// Round is one turn of the pipeline stages, with its own ratios.
type Round struct {
	Pipeline     *Throughput `json:"pipeline,omitempty"`
	NoRollups    *Throughput `json:"pipeline_no_rollups,omitempty"`
	PipelineRefs *Throughput `json:"pipeline_refs,omitempty"`
	RollupsRatio float64     `json:"rollups_ratio,omitempty"`
	RefsRatio    float64     `json:"refs_ratio,omitempty"`
}

// Throughput is one stage's rate.
type Throughput struct {
	Events    int     `json:"events"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"events_per_second"`
	// PublishSeconds (pipeline only) is when the last publish was acked.
	PublishSeconds float64 `json:"publish_seconds,omitempty"`
	// CPUSeconds (pipeline stages only) is the CPU time the stage took,
	// this process (publisher, NATS server, consumer) and the ClickHouse
	// child together: on a shared machine, where the throughput follows
	// whatever else runs, the CPU an event costs moves much less.
	CPUSeconds float64 `json:"cpu_seconds,omitempty"`
	// Load is the 1-minute load average at the end of the stage.
	Load              float64 `json:"load1"`
	ClickHousePeakRSS uint64  `json:"clickhouse_peak_rss_bytes"`
}

func newThroughput(n int, d time.Duration) *Throughput {
	return &Throughput{Events: n, Seconds: d.Seconds(), PerSecond: float64(n) / d.Seconds(), Load: loadAvg()[0]}
}

// Latency is publish→queryable latency at a fixed publish rate.
//
// Each event's publish time is taken just before it is handed to the
// client. Its visible time is when a poll of ClickHouse (every
// PollInterval) that returned it completed: the event became queryable
// at most one poll interval plus one query before, so the P* figures are
// upper bounds, off by at most PollInterval+MaxQuery. The Ingest* figures
// use the row's ingested_at (now64(3) when the server began the INSERT,
// same machine clock): a lower bound, short of the true figure by the
// INSERT's own duration. The truth lies between the two.
type Latency struct {
	Rate         float64       `json:"rate"` // events/s asked for
	Duration     time.Duration `json:"duration_ns"`
	Published    int           `json:"published"`
	Visible      int           `json:"visible"`
	P50          time.Duration `json:"p50_ns"`
	P99          time.Duration `json:"p99_ns"`
	Max          time.Duration `json:"max_ns"`
	IngestP50    time.Duration `json:"ingest_p50_ns"`
	IngestP99    time.Duration `json:"ingest_p99_ns"`
	PollInterval time.Duration `json:"poll_interval_ns"`
	MaxQuery     time.Duration `json:"max_poll_query_ns"`
	Load         float64       `json:"load1"`

	ClickHousePeakRSS uint64 `json:"clickhouse_peak_rss_bytes"`
}

// Drain is the consumer draining a pre-filled backlog.
type Drain struct {
	Backlog     int     `json:"backlog"`
	FillSeconds float64 `json:"fill_seconds"`
	Seconds     float64 `json:"seconds"`
	PerSecond   float64 `json:"events_per_second"`
	// ConsumerPeakRSS is the consumer's peak resident set: the child's
	// VmHWM in child-process mode; in-process, the highest VmRSS sampled
	// during the drain, which includes the NATS server and the bench.
	ConsumerPeakRSS uint64  `json:"consumer_peak_rss_bytes"`
	ChildProcess    bool    `json:"child_process"`
	Load            float64 `json:"load1"`

	ClickHousePeakRSS uint64 `json:"clickhouse_peak_rss_bytes"`
}

// Target is one ingestion goal (pipeline throughput, latency, drain memory)
// and how this run fared against it.
type Target struct {
	Name     string `json:"name"`
	Goal     string `json:"goal"`
	Measured string `json:"measured"`
	// Status is "met", "missed", "not run", or "indicative" when the run
	// was smaller than the goal's conditions (drain backlog < 1M).
	Status string `json:"status"`
}

// Run measures the selected stages, each on a fresh embedded stack.
func Run(ctx context.Context, o Options) (*Report, error) {
	o = o.withDefaults()
	if o.Rounds%2 == 0 {
		return nil, fmt.Errorf("bench: %d rounds; the rounds must be odd (1, 3, 5, …), so that each stage has a median round", o.Rounds)
	}
	started := time.Now()
	r := &Report{Machine: describeMachine(), Events: o.Events, BatchSize: o.BatchSize}
	want := func(s Stage) bool { return slices.Contains(o.Stages, s) }
	if want(StageLatency) && o.LatencyRate <= 0 && !want(StagePipeline) {
		o.Stages = append(o.Stages, StagePipeline)
	}
	var w *Workload
	if want(StageConsume) || want(StageInsert) || want(StagePipeline) || want(StageNoRollups) || want(StagePipelineRefs) {
		report(o.progress("events generated", o.Events), 0)
		var err error
		if w, err = NewWorkload(o.Events, o.EventSize, o.Seed); err != nil {
			return nil, err
		}
		report(o.progress("events generated", o.Events), o.Events)
		r.EventBytes = w.MeanSize()
	}
	var err error
	chPeak := func(t uint64) { r.ClickHousePeakRSS = max(r.ClickHousePeakRSS, t) }
	if want(StageConsume) {
		if r.Consume, r.Publish, err = consume(ctx, o, w); err != nil {
			return nil, fmt.Errorf("stage consume: %w", err)
		}
		chPeak(r.Consume.ClickHousePeakRSS)
	}
	if want(StageInsert) {
		if r.Insert, err = Insert(ctx, o, w); err != nil {
			return nil, fmt.Errorf("stage insert: %w", err)
		}
		chPeak(r.Insert.ClickHousePeakRSS)
	}
	if want(StagePipeline) || want(StageNoRollups) || want(StagePipelineRefs) {
		if err := WarmUp(ctx, o, w); err != nil {
			return nil, fmt.Errorf("pipeline warm-up: %w", err)
		}
	}
	if err := r.runRounds(ctx, o, w); err != nil {
		return nil, err
	}
	w = nil // let the workload go before the drain measures memory
	if r.Consume != nil && r.Insert != nil && r.Pipeline != nil {
		slower := r.Consume
		r.Slower = StageConsume
		if r.Insert.PerSecond < slower.PerSecond {
			slower, r.Slower = r.Insert, StageInsert
		}
		r.Ratio = r.Pipeline.PerSecond / slower.PerSecond
	}
	if want(StageLatency) {
		rate := o.LatencyRate
		if rate <= 0 {
			rate = r.Pipeline.PerSecond / 2
		}
		if r.Latency, err = MeasureLatency(ctx, o, rate); err != nil {
			return nil, fmt.Errorf("stage latency: %w", err)
		}
		chPeak(r.Latency.ClickHousePeakRSS)
	}
	if want(StageDrain) {
		if r.Drain, err = MeasureDrain(ctx, o); err != nil {
			return nil, fmt.Errorf("stage drain: %w", err)
		}
		chPeak(r.Drain.ClickHousePeakRSS)
	}
	r.PeakRSS = selfPeakRSS()
	r.Targets = targets(r)
	r.Elapsed = time.Since(started)
	return r, nil
}

// runRounds runs the pipeline stages the options want, Options.Rounds
// times in turn, and reports each stage's median round.
func (r *Report) runRounds(ctx context.Context, o Options, w *Workload) error {
	want := func(s Stage) bool { return slices.Contains(o.Stages, s) }
	if !want(StagePipeline) && !want(StageNoRollups) && !want(StagePipelineRefs) {
		return nil
	}
	var withRefs *Workload
	if want(StagePipelineRefs) {
		var err error
		if withRefs, err = withSubjectRefs(w); err != nil {
			return err
		}
	}
	chPeak := func(t *Throughput) { r.ClickHousePeakRSS = max(r.ClickHousePeakRSS, t.ClickHousePeakRSS) }
	rounds := make([]Round, o.Rounds)
	for i := range rounds {
		rd := &rounds[i]
		o := o
		if o.Rounds > 1 {
			o.round = fmt.Sprintf(" (round %d of %d)", i+1, o.Rounds)
		}
		if i > 0 {
			o.CPUProfile = nil // one profile, of the first round
		}
		var err error
		if want(StagePipeline) {
			if rd.Pipeline, err = Pipeline(ctx, o, w); err != nil {
				return fmt.Errorf("stage pipeline: %w", err)
			}
			chPeak(rd.Pipeline)
		}
		if want(StageNoRollups) {
			if rd.NoRollups, err = PipelineWithoutRollups(ctx, o, w); err != nil {
				return fmt.Errorf("stage pipeline without rollups: %w", err)
			}
			chPeak(rd.NoRollups)
			if rd.Pipeline != nil {
				rd.RollupsRatio = rd.Pipeline.PerSecond / rd.NoRollups.PerSecond
			}
		}
		if want(StagePipelineRefs) {
			if rd.PipelineRefs, err = Pipeline(ctx, o, withRefs); err != nil {
				return fmt.Errorf("stage pipeline-refs: %w", err)
			}
			chPeak(rd.PipelineRefs)
			if rd.Pipeline != nil {
				rd.RefsRatio = rd.PipelineRefs.PerSecond / rd.Pipeline.PerSecond
			}
		}
	}
	r.Pipeline = medianRound(rounds, func(rd Round) *Throughput { return rd.Pipeline })
	r.NoRollups = medianRound(rounds, func(rd Round) *Throughput { return rd.NoRollups })
	r.PipelineRefs = medianRound(rounds, func(rd Round) *Throughput { return rd.PipelineRefs })
	if r.Pipeline != nil && r.NoRollups != nil {
		r.RollupsRatio = r.Pipeline.PerSecond / r.NoRollups.PerSecond
	}
	if r.Pipeline != nil && r.PipelineRefs != nil {
		r.RefsRatio = r.PipelineRefs.PerSecond / r.Pipeline.PerSecond
	}
	if len(rounds) > 1 {
		r.Rounds = rounds
	}
	return nil
}

// medianRound is the round of a stage with the median rate; nil when the
// stage did not run. The number of rounds is odd.
func medianRound(rounds []Round, stage func(Round) *Throughput) *Throughput {
	var ts []*Throughput
	for _, rd := range rounds {
		if t := stage(rd); t != nil {
			ts = append(ts, t)
		}
	}
	if len(ts) == 0 {
		return nil
	}
	slices.SortFunc(ts, func(a, b *Throughput) int { return cmp.Compare(a.PerSecond, b.PerSecond) })
	return ts[len(ts)/2]
}

// Ingestion goals: the pipeline keeps up with its slower raw stage, events
// are queryable quickly at half capacity, and a consumer drains a large
// backlog in bounded memory.
const (
	GoalRatio      = 0.5
	GoalP99        = 2 * time.Second
	GoalDrainRSS   = 256 << 20
	GoalDrainEvent = 1_000_000
	// GoalRollups is the least share of the ingestion rate without rollups
	// that ingestion keeps with them.
	GoalRollups = 0.85
)

func targets(r *Report) []Target {
	ratio := Target{Name: "pipeline throughput", Goal: fmt.Sprintf("≥ %.0f%% of the slower raw stage, same run", GoalRatio*100), Status: "not run"}
	if r.Ratio > 0 {
		ratio.Measured = fmt.Sprintf("%.0f%% of %s (%.0f of %.0f events/s)", r.Ratio*100, r.Slower,
			r.Pipeline.PerSecond, min(r.Consume.PerSecond, r.Insert.PerSecond))
		ratio.Status = status(r.Ratio >= GoalRatio)
	}
	lat := Target{Name: "publish→queryable p99", Goal: fmt.Sprintf("< %s at half capacity", GoalP99), Status: "not run"}
	if l := r.Latency; l != nil {
		lat.Measured = fmt.Sprintf("%s at %.0f events/s (poll-bound upper bound; %s by ingested_at)",
			l.P99.Round(time.Millisecond), l.Rate, l.IngestP99.Round(time.Millisecond))
		lat.Status = status(l.P99 < GoalP99 && l.Visible == l.Published)
	}
	rss := Target{Name: "consumer RSS draining a backlog", Goal: fmt.Sprintf("< %d MiB with %d events", GoalDrainRSS>>20, GoalDrainEvent), Status: "not run"}
	if d := r.Drain; d != nil {
		where := "child process"
		if !d.ChildProcess {
			where = "in-process, includes NATS server"
		}
		rss.Measured = fmt.Sprintf("%.0f MiB with %d events (%s)", float64(d.ConsumerPeakRSS)/(1<<20), d.Backlog, where)
		rss.Status = status(d.ConsumerPeakRSS < GoalDrainRSS)
		if d.Backlog < GoalDrainEvent && rss.Status == "met" {
			rss.Status = "indicative"
		}
	}
	rollups := Target{Name: "ingestion with rollups", Goal: fmt.Sprintf("≥ %.0f%% of the pipeline without them, same run", GoalRollups*100), Status: "not run"}
	if r.RollupsRatio > 0 {
		rollups.Measured = fmt.Sprintf("%.0f%% (%.0f of %.0f events/s)%s", r.RollupsRatio*100, r.Pipeline.PerSecond, r.NoRollups.PerSecond,
			r.roundsOf(func(rd Round) float64 { return rd.RollupsRatio }))
		rollups.Status = status(r.RollupsRatio >= GoalRollups)
	}

	refs := Target{Name: "pipeline with subject references", Goal: fmt.Sprintf("≥ %.0f%% of the pipeline without, same run", GoalRefsRatio*100), Status: "not run"}
	if r.RefsRatio > 0 {
		refs.Measured = fmt.Sprintf("%.0f%% (%.0f of %.0f events/s, 1 event in %d with a reference)%s", r.RefsRatio*100,
			r.PipelineRefs.PerSecond, r.Pipeline.PerSecond, refsEvery, r.roundsOf(func(rd Round) float64 { return rd.RefsRatio }))
		refs.Status = status(r.RefsRatio >= GoalRefsRatio)
	}
	return []Target{ratio, lat, rss, rollups, refs}
}

// roundsOf lists a ratio's value in each round, in the order they ran,
// after the ratio of the medians a target shows; "" with one round.
func (r *Report) roundsOf(ratio func(Round) float64) string {
	if len(r.Rounds) < 2 {
		return ""
	}
	each := make([]string, len(r.Rounds))
	for i, rd := range r.Rounds {
		each[i] = fmt.Sprintf("%.0f%%", ratio(rd)*100)
	}
	return fmt.Sprintf("; medians of %d rounds, each round: %s", len(r.Rounds), strings.Join(each, ", "))
}

func status(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}

// errStalled is returned when a stage stops making progress.
var errStalled = errors.New("no progress")
