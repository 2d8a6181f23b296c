package cli_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/stack"
)

// TestServeIngestsOverHTTP: events POSTed to datamap serve with an ingest
// token land in the catalog; the ingest token cannot read the catalog.
func TestServeIngestsOverHTTP(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	dir := isolate(t)
	t.Setenv("DATAMAP_INGEST_TOKENS", "tok-a-0123456789abcdefghijklmnopqrstuv, tok-b-0123456789abcdefghijklmnopqrstuv")
	serve(t)
	rt, ok := stack.FindRunning(dir)
	if !ok {
		t.Fatal("serve published no runtime file")
	}
	batch := "[" + event(1, "billing.payment_token", `,"count":4`) + "," + event(2, "billing.payment_token", "") + "]"
	req, _ := http.NewRequest(http.MethodPost, "http://"+rt.HTTPAddr+"/v1/events", strings.NewReader(batch))
	req.Header.Set("Content-Type", "application/cloudevents-batch+json")
	req.Header.Set("Authorization", "Bearer tok-b-0123456789abcdefghijklmnopqrstuv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /v1/events: %d, want 202", resp.StatusCode)
	}
	if rows := waitForInventoryRecords(t, 5); len(rows) != 1 || rows[0].Events != 2 {
		t.Errorf("inventory = %+v, want the 2 ingested events", rows)
	}
	req, _ = http.NewRequest(http.MethodGet, "http://"+rt.HTTPAddr+"/api/v1/inventory", nil)
	req.Header.Set("Authorization", "Bearer tok-a-0123456789abcdefghijklmnopqrstuv")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/inventory with an ingest token: %d, want 401", resp.StatusCode)
	}
}
