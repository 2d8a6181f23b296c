package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/catalog/consumer"
	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/catalog/schema"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/server"
	"github.com/back-trace/datamap/sinks/clickhouse"
	"github.com/back-trace/datamap/stack"
)

// stageStack is a fresh embedded stack in its own temporary directory.
type stageStack struct {
	*stack.Stack
	dir string
}

func startStack(ctx context.Context, o Options, name string) (*stageStack, error) {
	// Each stage starts from a collected heap, not paying for the garbage
	// that generating the workload or the stage before left behind.
	runtime.GC()
	dir, err := os.MkdirTemp(o.TempDir, "datamap-bench-"+name+"-")
	if err != nil {
		return nil, err
	}
	cfg := o.Config
	cfg.DataDir, cfg.HTTPAddr, cfg.NATSPort, cfg.NATSURL, cfg.ClickHouseDSN = dir, "127.0.0.1:0", 0, "", ""
	cfg.BatchSize = o.BatchSize
	if cfg.BatchWait <= 0 {
		cfg.BatchWait = 200 * time.Millisecond
	}
	if cfg.StreamDuplicates <= 0 {
		cfg.StreamDuplicates = consumer.DefaultStreamSettings.Duplicates
	}
	s, err := stack.Start(ctx, cfg, o.Logger)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &stageStack{Stack: s, dir: dir}, nil
}

// close stops the stack, deletes its directory and returns the peak RSS of
// its ClickHouse child.
func (s *stageStack) close() uint64 {
	var peak uint64
	if srv := s.EmbeddedClickHouse(); srv != nil {
		_, peak = processRSS(srv.PID())
	}
	_ = s.Close(context.Background())
	os.RemoveAll(s.dir)
	return peak
}

// publisher connects a second NATS client, as a service would, and returns
// its JetStream context.
func (s *stageStack) publisher() (jetstream.JetStream, func(), error) {
	nc, err := nats.Connect(s.NATSURL, nats.Name("datamap-bench-publisher"),
		nats.Token(stack.ReadSecret(s.dir, stack.NATSTokenFile)))
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return js, func() { _ = nc.Drain() }, nil
}

// startConsumer runs the real catalog consumer of the stack until stop.
func (s *stageStack) startConsumer(ctx context.Context) (stop func(), err error) {
	c, err := server.NewConsumer(ctx, s.Stack, taxonomy.Default(), nil)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	return func() { cancel(); <-done }, nil
}

// startFolder folds the stack's rollups until stop, as serve does.
func (s *stageStack) startFolder(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = server.NewFolder(s.Stack, nil).Run(ctx) }()
	return func() { cancel(); <-done }
}

// Consume is stage (a): pre-publish the workload, then time a pull
// consumer (the catalog's durable consumer settings) fetching batches of
// BatchSize and acking every message, without decoding, until the server
// has processed every ack.
func Consume(ctx context.Context, o Options, w *Workload) (*Throughput, error) {
	t, _, err := consume(ctx, o, w)
	return t, err
}

// consume is Consume that also returns the rate of the untimed pre-fill:
// the raw JetStream publish rate (async, Nats-Msg-Id, nobody consuming).
func consume(ctx context.Context, o Options, w *Workload) (t, publish *Throughput, err error) {
	o = o.withDefaults()
	s, err := startStack(ctx, o, "consume")
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if peak := s.close(); t != nil {
			t.ClickHousePeakRSS = peak
		}
	}()
	filling := time.Now()
	if err := publishAll(ctx, s.JS, w, o.progress("consume: filling the stream", len(w.Events))); err != nil {
		return nil, nil, err
	}
	publish = newThroughput(len(w.Events), time.Since(filling))
	cons, err := consumer.EnsureDurable(ctx, s.JS, consumer.DefaultSettings)
	if err != nil {
		return nil, nil, err
	}
	var consumed atomic.Int64
	show := o.progress("(a) JetStream consume + ack", len(w.Events))
	stop := every(progressEvery, func() { report(show, int(consumed.Load())) })
	defer stop()
	start := time.Now()
	lastProgress := start
	for int(consumed.Load()) < len(w.Events) {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		// Ask for no more than is left: a fetch waits for its full batch.
		want := min(o.BatchSize, len(w.Events)-int(consumed.Load()))
		batch, err := cons.Fetch(want, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return nil, nil, fmt.Errorf("fetch: %w", err)
		}
		n := 0
		for m := range batch.Messages() {
			if err := m.Ack(); err != nil {
				return nil, nil, fmt.Errorf("ack: %w", err)
			}
			n++
		}
		consumed.Add(int64(n))
		if n > 0 {
			lastProgress = time.Now()
		} else if time.Since(lastProgress) > 30*time.Second {
			return nil, nil, fmt.Errorf("%w: %d of %d consumed", errStalled, consumed.Load(), len(w.Events))
		}
	}
	if err := s.NATS.Flush(); err != nil { // the acks have left
		return nil, nil, err
	}
	// Acks are fire-and-forget: stop the clock only once the server has
	// processed them all, so (a) is "consumed and acknowledged".
	for {
		info, err := cons.Info(ctx)
		if err != nil {
			return nil, nil, err
		}
		if info.NumAckPending == 0 && info.NumPending == 0 {
			break
		}
		if time.Since(lastProgress) > 30*time.Second {
			return nil, nil, fmt.Errorf("%w: %d acks still pending", errStalled, info.NumAckPending)
		}
		time.Sleep(time.Millisecond)
	}
	t = newThroughput(len(w.Events), time.Since(start))
	return t, publish, nil
}

// Insert is stage (b): decode the workload once (untimed), then time
// clickhouse.Writer.Write in batches of BatchSize into a fresh table.
func Insert(ctx context.Context, o Options, w *Workload) (*Throughput, error) {
	o = o.withDefaults()
	s, err := startStack(ctx, o, "insert")
	if err != nil {
		return nil, err
	}
	var t *Throughput
	defer func() {
		if peak := s.close(); t != nil {
			t.ClickHousePeakRSS = peak
		}
	}()
	v := events.NewValidator(taxonomy.Default())
	decoded := make([]*events.Event, len(w.Raw))
	for i, raw := range w.Raw {
		if decoded[i], err = v.Decode(raw); err != nil {
			return nil, err
		}
	}
	writer := clickhouse.NewWriter(s.ClickHouse)
	show := o.progress("(b) ClickHouse batch insert", len(decoded))
	start := time.Now()
	for off := 0; off < len(decoded); off += o.BatchSize {
		if err := writer.Write(ctx, decoded[off:min(off+o.BatchSize, len(decoded))]); err != nil {
			return nil, err
		}
		report(show, min(off+o.BatchSize, len(decoded)))
	}
	t = newThroughput(len(decoded), time.Since(start))
	if n, err := query.CountEvents(ctx, s.ClickHouse); err != nil || n.Events != uint64(len(decoded)) {
		return nil, fmt.Errorf("after the inserts the table has %d rows, want %d (%v)", n.Events, len(decoded), err)
	}
	return t, nil
}

// Pipeline is stage (c): with the real catalog consumer running, time from
// the first publish of the workload (asynchronous, Nats-Msg-Id, from a
// separate NATS connection; events are encoded beforehand, as their
// services would) until ClickHouse holds every event: query.CountRows is polled
// every 50 ms (it reads part metadata, so polling costs nothing), then
// query.CountEvents (distinct events, FINAL) confirms N.
func Pipeline(ctx context.Context, o Options, w *Workload) (*Throughput, error) {
	return pipeline(ctx, o, w, true, "(c) pipeline: publish → queryable")
}

// PipelineWithoutRollups is Pipeline on a catalog whose rollups are off:
// inserts count no day, and nothing is folded.
func PipelineWithoutRollups(ctx context.Context, o Options, w *Workload) (*Throughput, error) {
	return pipeline(ctx, o, w, false, "(d) pipeline without rollups")
}

// WarmUp runs the pipeline once, untimed, so that no measured stage is the
// first in the process. Run first, the same work measured up to a fifth
// slower than run second (the Go heap still growing, the engine's files
// not yet in the page cache), so that (c)/(d) — always run in that
// order — measured the order more than the rollups: (c) against itself
// gave 74–81 % without a warm-up, 95–104 % with one.
func WarmUp(ctx context.Context, o Options, w *Workload) error {
	o.CPUProfile = nil
	_, err := pipeline(ctx, o, w, false, "pipeline warm-up (not measured)")
	return err
}

func pipeline(ctx context.Context, o Options, w *Workload, rollups bool, label string) (*Throughput, error) {
	o = o.withDefaults()
	name := "pipeline"
	if !rollups {
		name = "pipeline-no-rollups"
	}
	s, err := startStack(ctx, o, name)
	if err != nil {
		return nil, err
	}
	var t *Throughput
	defer func() {
		if peak := s.close(); t != nil {
			t.ClickHousePeakRSS = peak
		}
	}()
	if rollups {
		stopFolding := s.startFolder(ctx)
		defer stopFolding()
	} else if err := schema.StopCountingArrivals(ctx, s.ClickHouse, schema.Dialect{}); err != nil {
		return nil, err
	}
	stopConsumer, err := s.startConsumer(ctx)
	if err != nil {
		return nil, err
	}
	defer stopConsumer()
	js, closePub, err := s.publisher()
	if err != nil {
		return nil, err
	}
	defer closePub()
	if o.CPUProfile != nil {
		if err := pprof.StartCPUProfile(o.CPUProfile); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	chPID := 0
	if srv := s.EmbeddedClickHouse(); srv != nil {
		chPID = srv.PID()
	}
	cpuAtStart := cpuTime(chPID)
	start := time.Now()
	published := make(chan error, 1)
	var publishedAt time.Duration
	go func() {
		err := publishAll(ctx, js, w, nil)
		publishedAt = time.Since(start)
		published <- err
	}()
	n := len(w.Events)
	if err := waitForRows(ctx, s.ClickHouse, n, published, o.progress(label+o.round, n)); err != nil {
		return nil, err
	}
	t = newThroughput(n, time.Since(start))
	t.PublishSeconds = publishedAt.Seconds()
	t.CPUSeconds = (cpuTime(chPID) - cpuAtStart).Seconds()
	return t, nil
}

// waitForRows polls until the events table holds n distinct events.
// published delivers the publisher's outcome.
func waitForRows(ctx context.Context, conn driver.Conn, n int, published <-chan error, show func(int)) error {
	last, lastChange := uint64(0), time.Now()
	for {
		rows, err := query.CountRows(ctx, conn)
		if err != nil {
			return err
		}
		report(show, int(rows))
		if rows >= uint64(n) {
			// Distinct events in the raw table: what every question
			// answers, folded or not.
			final, err := query.CountEvents(query.FromEventsOnly(ctx), conn)
			if err != nil {
				return err
			}
			if final.Events >= uint64(n) {
				return nil
			}
		}
		if rows != last {
			last, lastChange = rows, time.Now()
		} else if time.Since(lastChange) > 60*time.Second {
			return fmt.Errorf("%w: ClickHouse holds %d of %d events and has not grown for a minute", errStalled, rows, n)
		}
		select {
		case err := <-published:
			if err != nil {
				return fmt.Errorf("publishing: %w", err)
			}
			published = nil
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// MeasureLatency publishes fresh events at rate events/s for
// LatencyDuration with the real consumer running, and measures each
// event's publish→queryable latency; see Latency for the precision.
func MeasureLatency(ctx context.Context, o Options, rate float64) (*Latency, error) {
	o = o.withDefaults()
	if rate <= 0 {
		return nil, errors.New("latency: the publish rate must be positive")
	}
	n := max(1, int(rate*o.LatencyDuration.Seconds()))
	w, err := NewWorkload(n, o.EventSize, o.Seed+1)
	if err != nil {
		return nil, err
	}
	s, err := startStack(ctx, o, "latency")
	if err != nil {
		return nil, err
	}
	var l *Latency
	defer func() {
		if peak := s.close(); l != nil {
			l.ClickHousePeakRSS = peak
		}
	}()
	stopConsumer, err := s.startConsumer(ctx)
	if err != nil {
		return nil, err
	}
	defer stopConsumer()
	js, closePub, err := s.publisher()
	if err != nil {
		return nil, err
	}
	defer closePub()

	index := make(map[string]int, n)
	for i, ev := range w.Events {
		index[ev.ID] = i
	}
	sentAt := make([]time.Time, n)
	visibleAt := make([]time.Time, n)
	ingestedAt := make([]time.Time, n)

	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	var sent atomic.Int64
	show := o.progress(fmt.Sprintf("latency at %.0f events/s", rate), n)
	type pollResult struct {
		visible  int
		maxQuery time.Duration
		err      error
	}
	polled := make(chan pollResult, 1)
	go func() {
		var res pollResult
		defer func() { polled <- res }()
		since := int64(0) // ingested_at, Unix ms
		tick := time.NewTicker(o.PollInterval)
		defer tick.Stop()
		lastGrowth := time.Now()
		for res.visible < n {
			select {
			case <-pollCtx.Done():
				res.err = pollCtx.Err()
				return
			case <-tick.C:
			}
			began := time.Now()
			arrived, err := query.ArrivedSince(pollCtx, s.ClickHouse, time.UnixMilli(since))
			if err != nil {
				res.err = err
				return
			}
			var found []int
			var foundAt []int64
			newest := since
			for _, a := range arrived {
				ms := a.IngestedAt.UnixMilli()
				if i, ok := index[a.ID]; ok && visibleAt[i].IsZero() {
					found, foundAt = append(found, i), append(foundAt, ms)
				}
				newest = max(newest, ms)
			}
			done := time.Now()
			res.maxQuery = max(res.maxQuery, done.Sub(began))
			for k, i := range found {
				visibleAt[i], ingestedAt[i] = done, time.UnixMilli(foundAt[k])
			}
			res.visible += len(found)
			// Inserts are serial, so a row cannot appear with an
			// ingested_at much older than the newest seen; keep a margin.
			since = max(0, newest-2000)
			report(show, res.visible)
			if len(found) > 0 || int(sent.Load()) < n {
				lastGrowth = done
			} else if done.Sub(lastGrowth) > 30*time.Second {
				res.err = fmt.Errorf("%w: %d of %d events visible 30s after the last publish", errStalled, res.visible, n)
				return
			}
		}
	}()

	p := newAsyncPublisher(ctx, js)
	start := time.Now()
	interval := float64(time.Second) / rate
	for i := range n {
		if wait := time.Until(start.Add(time.Duration(float64(i) * interval))); wait > time.Millisecond {
			time.Sleep(wait)
		}
		sentAt[i] = time.Now()
		if err := p.publish(ctx, w, i); err != nil {
			p.finish(ctx, w)
			return nil, err
		}
		sent.Add(1)
	}
	elapsed := time.Since(start)
	if err := p.finish(ctx, w); err != nil {
		return nil, err
	}
	res := <-polled
	if res.err != nil {
		return nil, res.err
	}
	l = &Latency{Rate: rate, Duration: elapsed, Published: n, Visible: res.visible,
		PollInterval: o.PollInterval, MaxQuery: res.maxQuery, Load: loadAvg()[0]}
	var poll, ingest []time.Duration
	for i := range n {
		if !visibleAt[i].IsZero() {
			poll = append(poll, visibleAt[i].Sub(sentAt[i]))
			ingest = append(ingest, ingestedAt[i].Sub(sentAt[i]))
		}
	}
	l.P50, l.P99, l.Max = percentile(poll, 0.50), percentile(poll, 0.99), percentile(poll, 1)
	l.IngestP50, l.IngestP99 = percentile(ingest, 0.50), percentile(ingest, 0.99)
	return l, nil
}

// percentile is the nearest-rank percentile q (0 < q ≤ 1) of ds; it sorts ds.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	rank := int(q*float64(len(ds))+0.999999) - 1
	return ds[min(max(rank, 0), len(ds)-1)]
}

// drainChunk bounds the events generated at once while filling the
// backlog, so the bench's own memory stays small.
const drainChunk = 50_000

// MeasureDrain pre-fills the stream with Backlog events, then starts the
// catalog consumer and times it draining them, sampling its resident set.
// With ConsumerCommand the consumer is a child process attached to this
// stack (as a second `datamap serve` would be), so its RSS is its own.
func MeasureDrain(ctx context.Context, o Options) (*Drain, error) {
	o = o.withDefaults()
	s, err := startStack(ctx, o, "drain")
	if err != nil {
		return nil, err
	}
	var d *Drain
	defer func() {
		if peak := s.close(); d != nil {
			d.ClickHousePeakRSS = peak
		}
	}()
	fillStart := time.Now()
	show := o.progress("drain: filling the backlog", o.Backlog)
	for off := 0; off < o.Backlog; off += drainChunk {
		w, err := NewWorkload(min(drainChunk, o.Backlog-off), o.EventSize, o.Seed+2+int64(off))
		if err != nil {
			return nil, err
		}
		var chunkShow func(int)
		if show != nil {
			chunkShow = func(n int) { show(off + n) }
		}
		if err := publishAll(ctx, s.JS, w, chunkShow); err != nil {
			return nil, err
		}
	}
	d = &Drain{Backlog: o.Backlog, FillSeconds: time.Since(fillStart).Seconds(), ChildProcess: o.ConsumerCommand != nil}
	freeMemory()

	var pid int
	var stop func() error
	if o.ConsumerCommand != nil {
		if err := s.Publish(""); err != nil { // lets the child Attach
			return nil, err
		}
		child, err := startConsumerChild(ctx, o, s.dir)
		if err != nil {
			return nil, err
		}
		pid, stop = child.pid(), child.stop
	} else {
		stopConsumer, err := s.startConsumer(ctx)
		if err != nil {
			return nil, err
		}
		pid, stop = os.Getpid(), func() error { stopConsumer(); return nil }
	}
	start := time.Now()
	var peak atomic.Uint64
	sample := every(20*time.Millisecond, func() {
		rss, _ := processRSS(pid)
		if rss > peak.Load() {
			peak.Store(rss)
		}
	})
	err = waitForRows(ctx, s.ClickHouse, o.Backlog, nil, o.progress("drain: consumer draining", o.Backlog))
	elapsed := time.Since(start)
	sample()
	if o.ConsumerCommand != nil {
		if _, hwm := processRSS(pid); hwm > 0 {
			peak.Store(hwm) // the kernel's own peak, not a sample
		}
	}
	stopErr := stop()
	if err != nil {
		return nil, err
	}
	if stopErr != nil {
		return nil, fmt.Errorf("consumer child: %w", stopErr)
	}
	d.Seconds, d.PerSecond = elapsed.Seconds(), float64(o.Backlog)/elapsed.Seconds()
	d.ConsumerPeakRSS, d.Load = peak.Load(), loadAvg()[0]
	return d, nil
}
