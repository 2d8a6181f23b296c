package cli_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/cli"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/sdk"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/stack"
)

// A service added with `datamap service add` publishes its own events to
// a running serve with the credential printed; an ingest token bound to
// the same source sends over HTTP; `datamap sources` then shows which
// credential brought how many of them, by name, never by secret.
func TestServicesSpeakForThemselvesAndSourcesShowsWhoBroughtWhat(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	dir := isolate(t)
	const ingestSecret = "billing-ingest-secret-0123456789"
	t.Setenv("DATAMAP_INGEST_TOKENS", "billing-team:"+ingestSecret+":billing-api")
	serve(t)

	code, out, errOut := run(t, "", "service", "add", "billing-api")
	if code != cli.ExitOK || !strings.Contains(out, "sdk.ServiceCredentials") {
		t.Fatalf("service add: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := run(t, "", "service", "add", "billing-api"); code == cli.ExitOK || !strings.Contains(errOut, "service remove") {
		t.Errorf("adding a service twice: %d %s", code, errOut)
	}
	if code, out, _ := run(t, "", "service", "list"); code != cli.ExitOK || !strings.Contains(out, "datamap.events.billing-api.<kind>") {
		t.Errorf("service list: %d %s", code, out)
	}
	services, err := stack.ListServices(dir)
	if err != nil || len(services) != 1 {
		t.Fatalf("services = %+v %v", services, err)
	}
	rt, _ := stack.FindRunning(dir)

	// serve picks the new service up by itself.
	opts, err := sdk.ServiceCredentials("billing-api", services[0].File)
	if err != nil {
		t.Fatal(err)
	}
	var nc *nats.Conn
	for deadline := time.Now().Add(3 * stack.ServicesPollInterval); ; {
		if nc, err = nats.Connect(rt.NATSURL, opts...); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the added service cannot connect: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	pub, err := sdk.NewPublisher(js, sdk.WithSource("billing-api"))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := pub.Collected(context.Background(), sdk.Collection{Category: "billing.payment_token", DataSubject: "customer",
			Purpose: "payment_processing", LegalBasis: events.LegalBasisContract, Retention: "P7Y"}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pub.Close(ctx); err != nil {
		t.Fatal(err)
	}

	req, _ := http.NewRequest(http.MethodPost, "http://"+rt.HTTPAddr+"/v1/events", strings.NewReader(event(1, "billing.invoice", "")))
	req.Header.Set("Authorization", "Bearer "+ingestSecret)
	req.Header.Set("Content-Type", "application/cloudevents+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ingest with the bound token: %d", resp.StatusCode)
	}

	want := map[string]uint64{"nats:billing-api": 3, "http:billing-team": 1}
	var rows []query.CredentialRow
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		code, out, errOut := run(t, "", "sources", "--format", "json")
		if code != cli.ExitOK {
			t.Fatalf("sources: %d %s", code, errOut)
		}
		if strings.Contains(out, ingestSecret) {
			t.Fatalf("sources shows a secret: %s", out)
		}
		rows = nil
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatal(err)
		}
		got := map[string]uint64{}
		for _, r := range rows {
			if r.Source == "billing-api" {
				got[r.Credential] = r.Events
			}
		}
		if len(got) == len(want) && got["nats:billing-api"] == want["nats:billing-api"] && got["http:billing-team"] == want["http:billing-team"] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sources = %+v, want billing-api brought by %v", rows, want)
		}
	}

	// Removed, the service is refused by the running serve.
	if code, _, errOut := run(t, "", "service", "remove", "billing-api"); code != cli.ExitOK {
		t.Fatalf("service remove: %d %s", code, errOut)
	}
	for deadline := time.Now().Add(3 * stack.ServicesPollInterval); ; time.Sleep(100 * time.Millisecond) {
		c, err := nats.Connect(rt.NATSURL, opts...)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("a removed service still connects to the running serve")
		}
	}
}
