// Command otelcol measures datamap's traffic receiver beside the
// OpenTelemetry Collector's otlpreceiver feeding its spanmetrics connector
// (grouping by service.name and server.address), the closest thing a user
// would run instead. It lives in a module of its own so that datamap does
// not depend on the collector's contrib modules.
//
// Both paths get the same pre-encoded OTLP/HTTP protobuf requests over
// loopback: spans from 50 services to 500 hosts, decoded, classified and
// aggregated (datamap), or decoded and turned into span metrics (the
// collector). Each run is a child process, so that RSS is its own.
//
//	go run . -runs 3            # both paths, medians of three runs each
//	go run . -path datamap      # one run of one path, a JSON line
package main

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/connector/spanmetricsconnector"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/back-trace/datamap/traffic"
	"github.com/back-trace/datamap/traffic/aggregate"
	"github.com/back-trace/datamap/traffic/otlp"
)

var (
	path     = flag.String("path", "", "datamap or collector: one run of that path; empty runs both -runs times")
	runs     = flag.Int("runs", 3, "runs of each path")
	spans    = flag.Int("spans", 1_000_000, "spans per run")
	services = flag.Int("services", 50, "emitting services")
	hosts    = flag.Int("hosts", 500, "peer hosts")
	batch    = flag.Int("batch", 1000, "spans per request (a collector's batch processor default is 8192)")
	clients  = flag.Int("clients", 4, "concurrent senders")
)

// result is one run's figures.
type result struct {
	Path        string  `json:"path"`
	Spans       int     `json:"spans"`
	Seconds     float64 `json:"seconds"`
	SpansPerSec float64 `json:"spans_per_sec"`
	RSSBaseMB   float64 `json:"rss_base_mb"` // after building the requests, before receiving
	RSSPeakMB   float64 `json:"rss_peak_mb"`
}

func main() {
	flag.Parse()
	if *path == "" {
		compare()
		return
	}
	r, err := run(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(r)
}

// compare runs each path -runs times, alternating, each in a child
// process, and prints the medians as a Markdown table.
func compare() {
	byPath := map[string][]result{}
	for i := 0; i < *runs; i++ {
		for _, p := range []string{"datamap", "collector"} {
			args := append([]string{"-path", p}, os.Args[1:]...)
			out, err := exec.Command(os.Args[0], args...).Output()
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s run %d: %v\n", p, i+1, err)
				os.Exit(1)
			}
			var r result
			if err := json.Unmarshal(out, &r); err != nil {
				fmt.Fprintf(os.Stderr, "%s run %d: %v: %s\n", p, i+1, err, out)
				os.Exit(1)
			}
			fmt.Fprintf(os.Stderr, "%s run %d: %.0f spans/s, RSS %.0f MB (base %.0f)\n", p, i+1, r.SpansPerSec, r.RSSPeakMB, r.RSSBaseMB)
			byPath[p] = append(byPath[p], r)
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("%d spans from %d services to %d hosts, %d spans a request, %d senders, %d CPUs; load average %s\n\n",
		*spans, *services, *hosts, *batch, *clients, runtime.NumCPU(), strings.Join(strings.Fields(string(load))[:3], " "))
	fmt.Println("| path | spans/s (median) | RSS peak MB | RSS growth MB | runs (spans/s) |")
	fmt.Println("|---|---:|---:|---:|---|")
	for _, p := range []string{"datamap", "collector"} {
		rs := byPath[p]
		all := make([]string, len(rs))
		for i, r := range rs {
			all[i] = strconv.FormatFloat(r.SpansPerSec, 'f', 0, 64)
		}
		name := map[string]string{"datamap": "datamap traffic receiver (decode, classify, aggregate)",
			"collector": "Collector otlpreceiver → spanmetrics (service.name, server.address)"}[p]
		fmt.Printf("| %s | %.0f | %.0f | %.0f | %s |\n", name, median(rs, func(r result) float64 { return r.SpansPerSec }),
			median(rs, func(r result) float64 { return r.RSSPeakMB }),
			median(rs, func(r result) float64 { return r.RSSPeakMB - r.RSSBaseMB }), strings.Join(all, ", "))
	}
}

func median(rs []result, f func(result) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// requests builds distinct protobuf requests that together cover every
// service and host; a run sends them round robin.
func requests() [][]byte {
	const distinct = 64
	start := time.Now()
	out := make([][]byte, distinct)
	n := 0
	for i := range out {
		td := ptrace.NewTraces()
		per := *batch / *services
		if per == 0 {
			per = 1
		}
		for s := 0; s < *services && s*per < *batch; s++ {
			rs := td.ResourceSpans().AppendEmpty()
			rs.Resource().Attributes().PutStr("service.name", fmt.Sprintf("service-%02d", s))
			rs.Resource().Attributes().PutStr("telemetry.sdk.language", "go")
			ss := rs.ScopeSpans().AppendEmpty()
			ss.Scope().SetName("go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp")
			for k := 0; k < per; k++ {
				n++
				host := fmt.Sprintf("api-%03d.vendor%d.example", n%*hosts, n%*hosts%7)
				sp := ss.Spans().AppendEmpty()
				sp.SetKind(ptrace.SpanKindClient)
				sp.SetName("POST")
				sp.SetTraceID(pcommon.TraceID([16]byte{byte(i), byte(s), byte(k), byte(n), 1}))
				sp.SetSpanID(pcommon.SpanID([8]byte{byte(n), byte(n >> 8), byte(n >> 16), 2}))
				sp.SetStartTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(n) * time.Millisecond)))
				sp.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(n)*time.Millisecond + 30*time.Millisecond)))
				a := sp.Attributes()
				a.PutStr("http.request.method", "POST")
				a.PutStr("server.address", host)
				a.PutInt("server.port", 443)
				a.PutStr("url.full", "https://"+host+"/v1/customers/"+strconv.Itoa(n))
				a.PutInt("http.response.status_code", 200)
				a.PutStr("network.protocol.version", "1.1")
				if n%50 == 0 {
					sp.Status().SetCode(ptrace.StatusCodeError)
				}
			}
		}
		b, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
		if err != nil {
			panic(err)
		}
		out[i] = b
	}
	return out
}

func run(which string) (result, error) {
	bodies := requests()
	perRequest := func() int {
		req := ptraceotlp.NewExportRequest()
		_ = req.UnmarshalProto(bodies[0])
		return req.Traces().SpanCount()
	}()
	runtime.GC()
	r := result{Path: which, RSSBaseMB: rssMB("VmRSS")}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return r, err
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	token := ""
	switch which {
	case "datamap":
		token = "bench-token"
		agg := aggregate.New(discard{}, aggregate.Options{})
		go func() { _ = agg.Run(ctx) }()
		authorize := func(req *http.Request) (func(string) bool, bool) {
			return nil, subtle.ConstantTimeCompare([]byte(req.Header.Get("Authorization")), []byte("Bearer "+token)) == 1
		}
		rc := otlp.New(traffic.NewObserver(traffic.NewClassifier(nil, nil, nil)), agg, authorize, otlp.Limits{}, nil)
		mux := http.NewServeMux()
		mux.Handle(otlp.Path, rc)
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
	case "collector":
		ln.Close() // the receiver listens itself
		stop, err := collector(ctx, addr)
		if err != nil {
			return r, err
		}
		defer stop()
	default:
		return r, fmt.Errorf("-path %q: use datamap or collector", which)
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *clients}}
	total := (*spans + perRequest - 1) / perRequest
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	began := time.Now()
	for c := 0; c < *clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(total) {
					return
				}
				if err := send(client, addr, token, bodies[i%int64(len(bodies))]); err != nil {
					failed.Add(1)
					fmt.Fprintln(os.Stderr, err)
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(began)
	if failed.Load() > 0 {
		return r, fmt.Errorf("%d requests failed", failed.Load())
	}
	r.Spans = total * perRequest
	r.Seconds = took.Seconds()
	r.SpansPerSec = float64(r.Spans) / took.Seconds()
	r.RSSPeakMB = rssMB("VmHWM")
	return r, nil
}

func send(client *http.Client, addr, token string, body []byte) error {
	for attempt := 0; ; attempt++ {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/traces", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-protobuf")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			if attempt < 50 { // the collector's listener may not be up yet
				time.Sleep(20 * time.Millisecond)
				continue
			}
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
}

// discard stands for the catalog: the write is not what is measured.
type discard struct{}

func (discard) WriteTraffic(context.Context, []traffic.Observation) error { return nil }

// collector starts the otlpreceiver (HTTP only) on addr, feeding the
// spanmetrics connector grouped by service.name and server.address (its
// other default dimensions excluded, histograms off: the cheapest
// configuration that counts calls per service and peer), whose metrics go
// to a sink that drops them.
func collector(ctx context.Context, addr string) (func(), error) {
	cf := spanmetricsconnector.NewFactory()
	ccfg := cf.CreateDefaultConfig().(*spanmetricsconnector.Config)
	ccfg.Dimensions = []spanmetricsconnector.Dimension{{Name: "server.address"}}
	ccfg.ExcludeDimensions = []string{"span.name", "span.kind", "status.code"}
	ccfg.Histogram.Disable = true
	ccfg.MetricsFlushInterval = 5 * time.Second
	conn, err := cf.CreateTracesToMetrics(ctx, connectortest.NewNopSettings(cf.Type()), ccfg, consumertest.NewNop())
	if err != nil {
		return nil, fmt.Errorf("spanmetrics: %w", err)
	}
	rf := otlpreceiver.NewFactory()
	rcfg := rf.CreateDefaultConfig().(*otlpreceiver.Config)
	rcfg.Protocols.GRPC = configoptional.None[configgrpc.ServerConfig]()
	httpcfg := otlpreceiver.HTTPConfig{ServerConfig: confighttp.NewDefaultServerConfig(),
		TracesURLPath: "/v1/traces", MetricsURLPath: "/v1/metrics", LogsURLPath: "/v1/logs"}
	httpcfg.ServerConfig.NetAddr.Endpoint = addr
	rcfg.Protocols.HTTP = configoptional.Some(httpcfg)
	rec, err := rf.CreateTraces(ctx, receivertest.NewNopSettings(rf.Type()), rcfg, conn)
	if err != nil {
		return nil, fmt.Errorf("otlpreceiver: %w", err)
	}
	host := componenttest.NewNopHost()
	if err := conn.Start(ctx, host); err != nil {
		return nil, err
	}
	if err := rec.Start(ctx, host); err != nil {
		return nil, err
	}
	return func() {
		_ = rec.Shutdown(context.Background())
		_ = conn.Shutdown(context.Background())
	}, nil
}

var _ component.Config = (*otlpreceiver.Config)(nil)

// rssMB reads a line of /proc/self/status (VmRSS now, VmHWM the peak).
func rssMB(field string) float64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
