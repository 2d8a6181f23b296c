package sdk_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/events/sdk"
	"github.com/back-trace/datamap/internal/testkit/testservers"
)

// TestAggregationKeepsRecordTotals runs the same workload with aggregation
// off and on, each into its own stream and catalog: the records totals —
// overall and per flow — must be identical, with far fewer events.
func TestAggregationKeepsRecordTotals(t *testing.T) {
	const calls = 3000
	type totals struct {
		events, records uint64
		flows           string
	}
	run := func(opts ...sdk.Option) totals {
		_, js := testservers.NATS(t)
		conn := testservers.ClickHouse(t)
		p := newPublisher(t, js, opts...)
		ctx := context.Background()
		carriers := []string{"Twilio", "Sinch", "Vonage"}
		for i := range calls {
			s := smsToCarrier
			s.Recipient.Name = carriers[i%len(carriers)]
			s.Count = int64(i%5 + 1)
			if _, err := p.Shared(ctx, s); err != nil {
				t.Fatal(err)
			}
			if i%10 == 0 {
				if _, err := p.Collected(ctx, paymentToken); err != nil {
					t.Fatal(err)
				}
			}
		}
		flush(t, p, 20*time.Second)
		published := p.Stats().Published
		startConsumer(t, js, conn)
		var got query.Totals
		waitFor(t, 30*time.Second, "the catalog to hold every event", func() bool {
			var err error
			if got, err = query.CountEvents(ctx, conn); err != nil {
				t.Fatal(err)
			}
			return got.Events == published
		})
		flows, err := query.Flows(ctx, conn, query.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		perFlow := map[string]uint64{}
		for _, f := range flows {
			perFlow[f.System+" → "+f.Recipient+" "+f.Category] = f.Records
		}
		return totals{events: got.Events, records: got.Records, flows: fmt.Sprint(perFlow)}
	}
	off := run()
	on := run(sdk.WithAggregation(50 * time.Millisecond))
	if off.records != on.records || off.flows != on.flows {
		t.Errorf("aggregation changed the records: off %d %s, on %d %s", off.records, off.flows, on.records, on.flows)
	}
	if off.events != calls+calls/10 || on.events >= off.events/10 {
		t.Errorf("events: off %d (want %d), on %d (want far fewer)", off.events, calls+calls/10, on.events)
	}
	t.Logf("aggregation off: %d events, %d records; on: %d events, %d records", off.events, off.records, on.events, on.records)
}
