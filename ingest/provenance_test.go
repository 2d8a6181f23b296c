package ingest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/back-trace/datamap/access"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/sdk"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/ingest"
	"github.com/back-trace/datamap/internal/testkit/testservers"
)

const (
	billingToken = "billing-token-0123456789"
	supportToken = "support-token-0123456789"
)

// boundCredentials hold a token per role; the ingest tokens are bound to
// their sources, as DATAMAP_INGEST_TOKENS=billing:…:billing-api,…
var boundCredentials = access.Credentials{
	{Role: access.Full, Name: "api-token", Secret: apiToken},
	{Role: access.Read, Secret: readToken},
	{Role: access.Subject, Name: "dpo", Secret: "subject-token-0123456789"},
	{Role: access.Metrics, Secret: "metrics-token-0123456789"},
	{Role: access.Ingest, Name: "billing", Secret: billingToken, Sources: access.SourcesOf("billing-api", "billing-worker")},
	{Role: access.Ingest, Name: "support", Secret: supportToken, Sources: access.SourcesOf("support-desk")},
}

func startBound(t *testing.T) server {
	t.Helper()
	_, js := testservers.NATS(t)
	pub, err := sdk.NewPublisher(js, sdk.WithSource("datamap-ingest"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close(context.Background()) })
	h, err := ingest.New(pub, events.NewValidator(taxonomy.Default()), ingest.Options{Credentials: boundCredentials})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return server{url: srv.URL, js: js, pub: pub}
}

// eventFrom is a valid collected or erased event of source.
func eventFrom(source, id, kind string) string {
	if kind == "erased" {
		return `{"specversion":"1.0","id":"` + id + `","source":"` + source + `","type":"com.back-trace.datamap.data.erased.v1",
 "time":"2026-11-01T10:00:00Z","data":{"category":"billing.payment_token","data_subject":"customer","reason":"subject_request","count":1}}`
	}
	return strings.Replace(event(id), `"source":"php-shop"`, `"source":"`+source+`"`, 1)
}

// Every token that may send events over HTTP is refused, event by event,
// when it speaks for a source it is not bound to; the other roles' tokens
// cannot send at all. The refusal names the token's name and the source,
// never the secret.
func TestATokenCannotSpeakForAnotherSource(t *testing.T) {
	s := startBound(t)
	batch := map[string]string{"Content-Type": ingest.ContentTypeBatch}
	for _, c := range []struct {
		token, name, own, forged string
	}{
		{billingToken, "billing", "billing-api", "support-desk"},
		{supportToken, "support", "support-desk", "billing-api"},
	} {
		status, r := post(t, s, c.token, batch, "["+eventFrom(c.own, c.name+"-own", "collected")+","+eventFrom(c.forged, c.name+"-forged", "erased")+"]")
		if status != http.StatusForbidden || r.Accepted != 1 || r.Forbidden != 1 {
			t.Fatalf("%s forging %s: %d %+v; want 403 with the own event accepted and the forged one forbidden", c.name, c.forged, status, r)
		}
		res := r.Results[1]
		if res.Status != ingest.StatusForbidden || !strings.Contains(res.Error, `"`+c.name+`"`) || !strings.Contains(res.Error, `"`+c.forged+`"`) {
			t.Errorf("%s: result %+v; want forbidden naming the token %q and the source %q", c.name, res, c.name, c.forged)
		}
		if strings.Contains(res.Error, c.token) {
			t.Errorf("%s: the refusal shows the token: %s", c.name, res.Error)
		}
	}
	for role, token := range map[string]string{"read": readToken, "subject": "subject-token-0123456789", "metrics": "metrics-token-0123456789"} {
		// Known but not allowed to publish: 403 naming the role, and nothing stored.
		if status, r := post(t, s, token, batch, "["+eventFrom("support-desk", role, "erased")+"]"); status != http.StatusForbidden || r.Accepted != 0 || !strings.Contains(r.Error, role+" role") {
			t.Errorf("the %s token sends events: %d %+v", role, status, r)
		}
	}
	// A second source of the same token is its own.
	if status, r := post(t, s, billingToken, batch, "["+eventFrom("billing-worker", "worker-1", "collected")+"]"); status != http.StatusAccepted {
		t.Errorf("billing for billing-worker: %d %+v", status, r)
	}
	// The API token is the administrator's: any source, recorded as such.
	if status, r := post(t, s, apiToken, batch, "["+eventFrom("support-desk", "admin-1", "erased")+"]"); status != http.StatusAccepted {
		t.Errorf("api token: %d %+v", status, r)
	}

	got := stored(t, s)
	if len(got) != 4 {
		t.Fatalf("stream holds %d events, want the 4 own ones: %v", len(got), got)
	}
	for id := range got {
		if strings.HasSuffix(id, "-forged") {
			t.Errorf("forged event %s reached the stream", id)
		}
	}
}

// Relayed events go on the ingest's subjects with the token's name, which
// the consumer records as the credential that brought them.
func TestRelayedEventsCarryTheTokenName(t *testing.T) {
	s := startBound(t)
	if status, r := post(t, s, billingToken, map[string]string{"Content-Type": ingest.ContentTypeStructured},
		eventFrom("billing-api", "relayed-1", "collected")); status != http.StatusAccepted {
		t.Fatalf("%d %+v", status, r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.pub.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := s.js.Stream(ctx, events.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := events.IngestSubject("billing-api", events.KindCollected); m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	if got := m.Header.Get(events.CredentialHeader); got != "http:billing" {
		t.Errorf("%s = %q, want http:billing", events.CredentialHeader, got)
	}
}
