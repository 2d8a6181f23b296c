package bench_test

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/back-trace/datamap/bench"
	"github.com/back-trace/datamap/config"
	"github.com/back-trace/datamap/internal/testkit/testservers"
)

func TestMain(m *testing.M) {
	bench.RunConsumerIfRequested() // the drain stage's consumer child is this binary
	testservers.Main(m)
}

// TestRun is functional, not timed: a tiny run must report every stage
// with positive rates, the ratios computed from this run's own figures, and
// a drain whose consumer ran in a child process.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts six embedded stacks")
	}
	testservers.SkipWithoutEngine(t)
	var progressed []string
	o := bench.Options{
		Config:          testConfig(t),
		TempDir:         t.TempDir(),
		Events:          3000,
		BatchSize:       1000,
		Backlog:         2000,
		LatencyDuration: time.Second,
		ConsumerCommand: func() *exec.Cmd { return exec.Command(os.Args[0], "-test.run=^$") },
		Progress: func(what string, done, total int) {
			if len(progressed) == 0 || progressed[len(progressed)-1] != what {
				progressed = append(progressed, what)
			}
		},
	}
	r, err := bench.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	for name, tp := range map[string]*bench.Throughput{"publish": r.Publish, "consume": r.Consume, "insert": r.Insert,
		"pipeline": r.Pipeline, "pipeline without rollups": r.NoRollups} {
		if tp == nil || tp.Events != o.Events || tp.Seconds <= 0 || tp.PerSecond <= 0 {
			t.Errorf("%s: %+v, want %d events at a positive rate", name, tp, o.Events)
		}
	}
	if r.Consume == nil || r.Insert == nil || r.Pipeline == nil || r.NoRollups == nil {
		t.FailNow()
	}
	for name, tp := range map[string]*bench.Throughput{"pipeline": r.Pipeline, "pipeline without rollups": r.NoRollups} {
		if tp.CPUSeconds <= 0 || tp.CPUSeconds > 2*tp.Seconds*float64(runtime.NumCPU()) {
			t.Errorf("%s: CPU %.2fs in %.2fs on %d CPUs: not a CPU time", name, tp.CPUSeconds, tp.Seconds, runtime.NumCPU())
		}
	}
	if want := r.Pipeline.PerSecond / r.NoRollups.PerSecond; r.RollupsRatio != want {
		t.Errorf("rollups ratio %v, want pipeline/pipeline without rollups of this run %v", r.RollupsRatio, want)
	}
	slower := min(r.Consume.PerSecond, r.Insert.PerSecond)
	if want := r.Pipeline.PerSecond / slower; r.Ratio != want {
		t.Errorf("ratio %v, want pipeline/slower of this run %v", r.Ratio, want)
	}
	if (r.Slower == bench.StageConsume) != (r.Consume.PerSecond <= r.Insert.PerSecond) {
		t.Errorf("slower stage %q for consume %.0f/s, insert %.0f/s", r.Slower, r.Consume.PerSecond, r.Insert.PerSecond)
	}
	if r.EventBytes < 450 || r.EventBytes > 600 {
		t.Errorf("mean event size %.0f bytes, want about %d", r.EventBytes, bench.DefaultEventSize)
	}
	l := r.Latency
	if l == nil || l.Published == 0 || l.Visible != l.Published || l.P50 <= 0 || l.P99 < l.P50 || l.Max < l.P99 {
		t.Errorf("latency: %+v", l)
	} else if want := r.Pipeline.PerSecond / 2; l.Rate != want {
		t.Errorf("latency rate %.0f, want half the pipeline's %.0f", l.Rate, want)
	}
	d := r.Drain
	if d == nil || d.Backlog != o.Backlog || d.PerSecond <= 0 || !d.ChildProcess || d.ConsumerPeakRSS == 0 {
		t.Errorf("drain: %+v", d)
	}
	if r.PeakRSS == 0 || r.ClickHousePeakRSS == 0 {
		t.Errorf("peak RSS %d, ClickHouse %d", r.PeakRSS, r.ClickHousePeakRSS)
	}
	if len(r.Targets) != 5 {
		t.Errorf("targets: %+v", r.Targets)
	}
	for _, tg := range r.Targets {
		if tg.Status == "not run" || tg.Measured == "" {
			t.Errorf("target %q not evaluated: %+v", tg.Name, tg)
		}
	}
	if !strings.Contains(strings.Join(progressed, "|"), "pipeline") {
		t.Errorf("progress reported %q", progressed)
	}
}

// TestLatencyNeedsPipeline: asking for latency alone measures the
// pipeline first, since latency runs at half its rate.
func TestLatencyNeedsPipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("starts embedded stacks")
	}
	testservers.SkipWithoutEngine(t)
	r, err := bench.Run(context.Background(), bench.Options{Config: testConfig(t), TempDir: t.TempDir(),
		Events: 500, Stages: []bench.Stage{bench.StageLatency}, LatencyDuration: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.Pipeline == nil || r.Latency == nil || r.Consume != nil || r.Ratio != 0 {
		t.Fatalf("pipeline %+v, latency %+v, consume %+v, ratio %v", r.Pipeline, r.Latency, r.Consume, r.Ratio)
	}
}

func TestWorkloadIsValidAndPadded(t *testing.T) {
	w, err := bench.NewWorkload(2000, 500, 1)
	if err != nil {
		t.Fatal(err)
	}
	if m := w.MeanSize(); m < 490 || m > 530 {
		t.Errorf("mean size %.0f, want about 500", m)
	}
	plain, err := bench.NewWorkload(2000, -1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if plain.MeanSize() >= w.MeanSize() {
		t.Errorf("unpadded mean %.0f not below padded %.0f", plain.MeanSize(), w.MeanSize())
	}
}

func testConfig(t *testing.T) config.Config {
	t.Helper()
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestRoundsInTurn: with three rounds, (c) and (d) each run three times in
// turn; each is reported by its median round, and the share is theirs.
func TestRoundsInTurn(t *testing.T) {
	if testing.Short() {
		t.Skip("starts seven embedded stacks")
	}
	testservers.SkipWithoutEngine(t)
	var progressed []string
	r, err := bench.Run(context.Background(), bench.Options{Config: testConfig(t), TempDir: t.TempDir(), Events: 500,
		Stages: []bench.Stage{bench.StagePipeline, bench.StageNoRollups}, Rounds: 3,
		Progress: func(what string, _, _ int) {
			if len(progressed) == 0 || progressed[len(progressed)-1] != what {
				progressed = append(progressed, what)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Rounds) != 3 {
		t.Fatalf("%d rounds reported, want 3", len(r.Rounds))
	}
	var rates, without []float64
	for i, rd := range r.Rounds {
		if rd.Pipeline == nil || rd.NoRollups == nil || rd.PipelineRefs != nil {
			t.Fatalf("round %d: %+v, want (c) and (d) only", i+1, rd)
		}
		if want := rd.Pipeline.PerSecond / rd.NoRollups.PerSecond; rd.RollupsRatio != want {
			t.Errorf("round %d: share %v, want %v", i+1, rd.RollupsRatio, want)
		}
		rates, without = append(rates, rd.Pipeline.PerSecond), append(without, rd.NoRollups.PerSecond)
	}
	slices.Sort(rates)
	slices.Sort(without)
	if r.Pipeline.PerSecond != rates[1] || r.NoRollups.PerSecond != without[1] {
		t.Errorf("reported (c) %.0f/s and (d) %.0f/s, want the medians %.0f/s and %.0f/s", r.Pipeline.PerSecond, r.NoRollups.PerSecond, rates[1], without[1])
	}
	if want := rates[1] / without[1]; r.RollupsRatio != want {
		t.Errorf("share %v, want that of the medians %v", r.RollupsRatio, want)
	}
	for _, want := range []string{"(c) pipeline: publish → queryable (round 1 of 3)", "(d) pipeline without rollups (round 3 of 3)"} {
		if !slices.Contains(progressed, want) {
			t.Errorf("progress %q lacks %q", progressed, want)
		}
	}
	if m := r.Targets[3].Measured; !strings.Contains(m, "medians of 3 rounds") {
		t.Errorf("rollups target %q does not list the rounds", m)
	}
}

// An even number of rounds has no median round: refused before any stage
// starts.
func TestEvenRoundsRefused(t *testing.T) {
	var progressed []string
	_, err := bench.Run(context.Background(), bench.Options{Stages: []bench.Stage{bench.StagePipeline}, Rounds: 2,
		Progress: func(what string, _, _ int) { progressed = append(progressed, what) }})
	if err == nil || !strings.Contains(err.Error(), "must be odd") {
		t.Fatalf("error %v, want the rounds refused as even", err)
	}
	if len(progressed) > 0 {
		t.Errorf("refused after %q had started", progressed[0])
	}
}
