package sdk_test

import (
	"context"
	"encoding/json"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/sdk"
	"github.com/back-trace/datamap/internal/testkit/testservers"
)

// The SDK's benchmarks; docs/benchmarks.md ("SDK") has the figures and the
// command. All run against a real in-process NATS JetStream.

// BenchmarkEmit is the cost of one call on the caller's goroutine.
func BenchmarkEmit(b *testing.B) {
	// The caller's cost alone: NATS is down, so the background delivery
	// is idle and does not share the CPU. Run with -benchtime=200000x so
	// that every call is queued (the queue holds 2^18; beyond, calls take
	// the cheaper drop path).
	b.Run("Publisher.Collected", func(b *testing.B) {
		js := connect(b, "nats://127.0.0.1:1")
		p := newPublisher(b, js, sdk.WithBuffer(1<<18), sdk.WithDropOnFull(), sdk.WithAckTimeout(time.Hour))
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := p.Collected(ctx, paymentToken); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		if s := p.Stats(); s.Dropped > 0 {
			b.Logf("%d of %d calls took the drop path; use -benchtime=200000x", s.Dropped, b.N)
		}
	})
	// The same with a subject reference: checked on every call (the flow
	// cache knows flows, not people), never aggregated, encoded with the
	// event. docs/benchmarks.md compares the two.
	b.Run("Publisher.Collected/with-subject-ref", func(b *testing.B) {
		js := connect(b, "nats://127.0.0.1:1")
		p := newPublisher(b, js, sdk.WithBuffer(1<<18), sdk.WithDropOnFull(), sdk.WithAckTimeout(time.Hour))
		ctx := context.Background()
		c := paymentToken
		c.SubjectRef = "sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a"
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := p.Collected(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		if s := p.Stats(); s.Dropped > 0 {
			b.Logf("%d of %d calls took the drop path; use -benchtime=200000x", s.Dropped, b.N)
		}
	})
	// Wall time per event with delivery running on the same 2 cores as
	// the caller and the NATS server: the amortized cost of the whole
	// pipeline, for comparison with the synchronous baseline below.
	b.Run("Publisher.Collected/delivered", func(b *testing.B) {
		_, js := testservers.NATS(b)
		p := newPublisher(b, js, sdk.WithMaxInFlight(4000))
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := p.Collected(ctx, paymentToken); err != nil {
				b.Fatal(err)
			}
		}
		flush(b, p, 5*time.Minute)
	})
	b.Run("Publisher.Collected/aggregated", func(b *testing.B) {
		_, js := testservers.NATS(b)
		p := newPublisher(b, js, sdk.WithAggregation(0))
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := p.Collected(ctx, paymentToken); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The baseline: what a service does by hand — build the CloudEvent with
	// sdk-go, encode it, publish it with nats.go and wait for the ack.
	// (sdk-go's NATS JetStream binding is not in this module graph, and it
	// sets no Nats-Msg-Id; see DESIGN.md.)
	b.Run("cloudevents-sdk+nats.go", func(b *testing.B) {
		_, js := testservers.NATS(b)
		ctx := context.Background()
		data := map[string]any{"category": "billing.payment_token", "data_subject": "customer",
			"purpose": "payment_processing", "legal_basis": "contract", "retention": "P7Y", "count": 1}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			ce := cloudevents.NewEvent()
			ce.SetID(uuid.Must(uuid.NewV7()).String())
			ce.SetSource("billing-api")
			ce.SetType(events.KindCollected.Type())
			ce.SetSubject("billing.payment_token")
			ce.SetTime(time.Now())
			if err := ce.SetData(cloudevents.ApplicationJSON, data); err != nil {
				b.Fatal(err)
			}
			if err := ce.Validate(); err != nil {
				b.Fatal(err)
			}
			raw, err := json.Marshal(ce)
			if err != nil {
				b.Fatal(err)
			}
			msg := nats.NewMsg(events.Subject(events.KindCollected))
			msg.Data = raw
			msg.Header.Set(jetstream.MsgIDHeader, "billing-api/"+ce.ID())
			if _, err := js.PublishMsg(ctx, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkThroughput is events acknowledged by JetStream per second.
func BenchmarkThroughput(b *testing.B) {
	b.Run("Publisher", func(b *testing.B) {
		_, js := testservers.NATS(b)
		p := newPublisher(b, js, sdk.WithMaxInFlight(4000))
		ctx := context.Background()
		b.ResetTimer()
		for b.Loop() {
			if _, err := p.Collected(ctx, paymentToken); err != nil {
				b.Fatal(err)
			}
		}
		flush(b, p, 5*time.Minute)
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("raw-PublishMsgAsync", func(b *testing.B) {
		_, js := testservers.NATS(b)
		p := newPublisher(b, js)
		if _, err := p.Collected(context.Background(), paymentToken); err != nil {
			b.Fatal(err)
		}
		flush(b, p, time.Minute)
		raw := lastRaw(b, js)
		b.ResetTimer()
		i := 0
		for b.Loop() {
			i++
			msg := nats.NewMsg(events.Subject(events.KindCollected))
			msg.Data = raw
			msg.Header.Set(jetstream.MsgIDHeader, "raw/"+strconv.Itoa(i))
			for {
				_, err := js.PublishMsgAsync(msg)
				if err == nil {
					break
				}
			}
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-time.After(5 * time.Minute):
			b.Fatal("acks did not come")
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}

func lastRaw(b *testing.B, js jetstream.JetStream) []byte {
	s, err := js.Stream(context.Background(), events.StreamName)
	if err != nil {
		b.Fatal(err)
	}
	m, err := s.GetLastMsgForSubject(context.Background(), events.SubjectPrefix+".>")
	if err != nil {
		b.Fatal(err)
	}
	return m.Data
}

// TestMemoryBoundedWithNATSDown: a 1M-event burst with NATS down and no
// spool keeps the heap bounded by the queue, not the burst. (A test, not a
// benchmark, so that it guards the property; it logs the figures.)
func TestMemoryBoundedWithNATSDown(t *testing.T) {
	if testing.Short() {
		t.Skip("1M events")
	}
	down := reserveNATS(t)
	js := connect(t, down.url)
	const buffer = 10_000
	p := newPublisher(t, js, sdk.WithBuffer(buffer), sdk.WithDropOnFull(), sdk.WithAckTimeout(time.Hour))
	runtime.GC()
	before := heapInUse()
	ctx := context.Background()
	peak := uint64(0)
	for i := range 1_000_000 {
		if _, err := p.Collected(ctx, paymentToken); err != nil {
			t.Fatal(err)
		}
		if i%100_000 == 0 {
			peak = max(peak, heapInUse())
		}
	}
	runtime.GC()
	peak = max(peak, heapInUse())
	s := p.Stats()
	grown := int64(peak) - int64(before)
	t.Logf("1M events, NATS down, buffer %d: queued %d, dropped %d; heap grew %.1f MiB (peak in-use %.1f MiB), RSS %s",
		buffer, s.Queued, s.Dropped, float64(grown)/(1<<20), float64(peak)/(1<<20), rss())
	if grown > 64<<20 {
		t.Errorf("heap grew by %d MiB over a 1M burst; it should be bounded by the queue", grown>>20)
	}
}

func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func rss() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") || strings.HasPrefix(line, "VmRSS:") {
			return strings.Join(strings.Fields(line), " ")
		}
	}
	return "?"
}
