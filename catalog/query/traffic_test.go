package query_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/back-trace/datamap/access"
	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/internal/testkit/otlptest"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/schemas"
	"github.com/back-trace/datamap/sinks/clickhouse"
	"github.com/back-trace/datamap/traffic"
	"github.com/back-trace/datamap/traffic/aggregate"
	"github.com/back-trace/datamap/traffic/otlp"
)

// personal values a careless instrumentation puts in spans: none may
// reach the catalog.
var personal = []string{"jane.doe@example.com", "jane.doe%40example.com", "+31612345678", "4111111111111111", "customers"}

// leakyTraces are CLIENT spans of billing-api full of personal values in
// URLs, names, attributes, events and the resource; peers: Stripe (a
// registry recipient), Mailgun's EU endpoint (a vendor), an unknown host
// behind user information, an internal one, example.com behind an e-mail
// written as user information, and a host that is a phone number.
func leakyTraces(at time.Time, copies int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "billing-api")
	rs.Resource().Attributes().PutStr("enduser.id", "jane.doe@example.com")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("jane.doe@example.com")
	for i := 0; i < copies; i++ {
		for j, peer := range []string{
			"https://api.stripe.com/v1/customers?email=jane.doe%40example.com&phone=+31612345678",
			"https://api.eu.mailgun.net/v3/customers/jane.doe@example.com/messages",
			"https://jane.doe%40example.com:4111111111111111@tracker.unknown-analytics.example/customers",
			"http://10.0.0.7:8080/customers/4111111111111111",
			"https://jane.doe@example.com/customers",
			"https://+31612345678.example.com/customers",
		} {
			s := ss.Spans().AppendEmpty()
			s.SetKind(ptrace.SpanKindClient)
			s.SetName("GET /customers/jane.doe@example.com")
			s.SetStartTimestamp(pcommon.NewTimestampFromTime(at.Add(time.Duration(i) * time.Second)))
			s.SetEndTimestamp(pcommon.NewTimestampFromTime(at.Add(time.Duration(i)*time.Second + time.Millisecond)))
			s.Attributes().PutStr("url.full", peer)
			s.Attributes().PutStr("user.email", "jane.doe@example.com")
			s.Attributes().PutStr("user.phone", "+31612345678")
			s.Attributes().PutStr("card", "4111111111111111")
			s.Events().AppendEmpty().Attributes().PutStr("exception.message", "no customer jane.doe@example.com")
			s.Status().SetMessage("jane.doe@example.com not found")
			if j == 0 && i%2 == 1 {
				s.Status().SetCode(ptrace.StatusCodeError)
			}
		}
	}
	return td
}

// post sends body to h with the billing API's token and returns the
// receiver's answer; anything but 200 stops the test.
func post(h http.Handler, contentType, encoding string, body []byte) ptraceotlp.ExportResponse {
	w := otlptest.Post(h, contentType, encoding, "billing-token", body)
	resp := ptraceotlp.NewExportResponse()
	if w.Code != http.StatusOK {
		panic(fmt.Sprintf("status %d: %s", w.Code, w.Body))
	}
	if contentType == otlp.ContentTypeJSON {
		_ = resp.UnmarshalJSON(w.Body.Bytes())
	} else {
		_ = resp.UnmarshalProto(w.Body.Bytes())
	}
	return resp
}

// The receiver, aggregates, writer and query together, on a real catalog.
func TestTracesFullOfPersonalValuesLeaveOnlyHostsInTheCatalog(t *testing.T) {
	db := testservers.NewDatabase(t)
	ctx := context.Background()
	reg, err := registry.Parse(schemas.BackTraceRegistry(), "backtrace-registry.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	agg := aggregate.New(clickhouse.NewTrafficWriter(db.Conn), aggregate.Options{})
	authorize := func(r *http.Request) (func(string) bool, bool) {
		return func(s string) bool { return s == "billing-api" }, bearerAllows(r)
	}
	rc := otlp.New(traffic.NewObserver(traffic.NewClassifier(reg, nil, nil)), agg, authorize, otlp.Limits{}, nil)

	day := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	body := otlptest.Protobuf(t, leakyTraces(day, 4))
	for attempt := 0; attempt < 2; attempt++ { // a retried batch counts twice: at least once
		if got := post(rc, otlp.ContentTypeProtobuf, "gzip", otlptest.Gzip(body)).PartialSuccess(); got.RejectedSpans() != 4 || !strings.Contains(got.ErrorMessage(), "looks like personal data") {
			t.Errorf("partial success = %d %q, want the 4 spans to a personal host refused", got.RejectedSpans(), got.ErrorMessage())
		}
		if err := agg.Flush(ctx); err != nil { // two inserts: the table adds them up
			t.Fatal(err)
		}
	}
	// A later day, JSON this time.
	post(rc, otlp.ContentTypeJSON, "", otlptest.JSON(t, leakyTraces(day.Add(24*time.Hour), 1)))
	if err := agg.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	rows, err := query.Traffic(ctx, db.Conn, query.TrafficFilter{})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		host, class, recipient, country string
		spans, errors, days             uint64
		first, last                     time.Time
	}
	// External destinations first, busiest first, then by host.
	want := []row{
		{"api.eu.mailgun.net", "vendor", "Mailgun", "DE", 9, 0, 2, day, day.Add(24 * time.Hour)},
		{"api.stripe.com", "recipient", "Stripe", "US", 9, 4, 2, day, day.Add(24 * time.Hour)},
		{"example.com", "unknown", "", "", 9, 0, 2, day, day.Add(24 * time.Hour)},
		{"tracker.unknown-analytics.example", "unknown", "", "", 9, 0, 2, day, day.Add(24 * time.Hour)},
		{traffic.PrivateAddress, "internal", "", "", 9, 0, 2, day, day.Add(24 * time.Hour)},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d: %+v", len(rows), len(want), rows)
	}
	for i, r := range rows {
		got := row{r.Host, r.Class, r.Recipient, r.Country, r.Spans, r.Errors, r.Days, r.FirstSeen, r.LastSeen}
		if r.System != "billing-api" || got != want[i] {
			t.Errorf("row %d = %s %+v\nwant %+v", i, r.System, got, want[i])
		}
	}

	// The filters: a class, and as of the first day (the second is left
	// out, and a destination first seen after it would be too).
	vendorRows, err := query.Traffic(ctx, db.Conn, query.TrafficFilter{Class: "vendor"})
	if err != nil || len(vendorRows) != 1 || vendorRows[0].Recipient != "Mailgun" {
		t.Errorf("class=vendor: %+v, %v", vendorRows, err)
	}
	asOf, err := query.Traffic(ctx, db.Conn, query.TrafficFilter{Filter: query.Filter{AsOf: day.Add(time.Hour)}})
	if err != nil || len(asOf) != 5 || asOf[0].Spans != 8 || asOf[0].Days != 1 {
		t.Errorf("as of the first day: %+v, %v", asOf, err)
	}
	if none, err := query.Traffic(ctx, db.Conn, query.TrafficFilter{Filter: query.Filter{AsOf: day.Add(-time.Hour)}}); err != nil || len(none) != 0 {
		t.Errorf("as of before any traffic: %+v, %v", none, err)
	}

	// No table of the catalog holds any of the personal values.
	tables, err := db.Conn.Query(ctx, "SELECT name FROM system.tables WHERE database = currentDatabase() AND NOT is_temporary")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var n string
		if err := tables.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	tables.Close()
	if len(names) < 5 {
		t.Fatalf("found %d tables: %v", len(names), names)
	}
	searched := 0
	for _, table := range names {
		rs, err := db.Conn.Query(ctx, "SELECT formatRow('TSV', *) FROM `"+table+"`")
		if err != nil {
			continue // views without rows of their own, dictionaries…
		}
		for rs.Next() {
			var line string
			if err := rs.Scan(&line); err != nil {
				t.Fatal(err)
			}
			searched++
			for _, p := range personal {
				if strings.Contains(line, p) {
					t.Errorf("table %s holds %q: %s", table, p, line)
				}
			}
		}
		rs.Close()
	}
	if searched < 4 {
		t.Errorf("searched %d rows, want at least the traffic rows", searched)
	}
}

// bearerAllows admits the one ingest token of the test.
func bearerAllows(r *http.Request) bool {
	_, ok := access.Credentials{{Role: access.Ingest, Secret: "billing-token"}}.Bearer(r)
	return ok
}
