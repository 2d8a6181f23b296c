package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/back-trace/datamap/access"
	"github.com/back-trace/datamap/api"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/sdk"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/ingest"
	"github.com/back-trace/datamap/internal/testkit/testservers"
)

const (
	ingestToken = "ingest-only-token"
	apiToken    = "full-access-token"
	readToken   = "read-only-token"
)

func event(id string) string {
	return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"php-shop","type":"com.back-trace.datamap.data.collected.v1",
 "subject":"billing.payment_token","time":"2026-11-01T10:00:00Z","datacontenttype":"application/json",
 "data":{"category":"billing.payment_token","data_subject":"customer","purpose":"payment_processing",
 "legal_basis":"contract","retention":"P7Y","count":3}}`, id)
}

const collectedData = `{"category":"billing.payment_token","data_subject":"customer","purpose":"payment_processing","legal_basis":"contract","retention":"P7Y"}`

type server struct {
	url string
	js  jetstream.JetStream
	pub *sdk.Publisher
}

// credentials are the server's: ingest and full publish, read does not.
var credentials = access.Credentials{{Role: access.Full, Secret: apiToken}, {Role: access.Read, Secret: readToken},
	{Role: access.Ingest, Secret: ingestToken}}

func start(t *testing.T, maxBody int64) server {
	t.Helper()
	_, js := testservers.NATS(t)
	pub, err := sdk.NewPublisher(js, sdk.WithSource("datamap-ingest"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close(context.Background()) })
	h, err := ingest.New(pub, events.NewValidator(taxonomy.Default()), ingest.Options{Credentials: credentials, MaxBodyBytes: maxBody})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST "+ingest.Path, h)
	mux.Handle("/", api.New(api.Options{Taxonomy: taxonomy.Default(), Credentials: credentials}).Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return server{url: srv.URL, js: js, pub: pub}
}

func post(t *testing.T, s server, token string, header map[string]string, body string) (int, ingest.Response) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.url+ingest.Path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var r ingest.Response
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		t.Fatalf("status %d, body not JSON: %v", res.StatusCode, err)
	}
	return res.StatusCode, r
}

// stored waits for the publisher, then returns the ids in the stream.
func stored(t *testing.T, s server) map[string]*events.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.pub.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := s.js.Stream(ctx, events.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*events.Event{}
	n := st.CachedInfo().State.Msgs
	for seq := uint64(1); seq <= n; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := events.NewValidator(taxonomy.Default()).Decode(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		if m.Header.Get(jetstream.MsgIDHeader) != ev.Identity() {
			t.Errorf("Nats-Msg-Id %q, want %q", m.Header.Get(jetstream.MsgIDHeader), ev.Identity())
		}
		out[ev.ID] = ev
	}
	return out
}

func TestIngestModes(t *testing.T) {
	s := start(t, 0)
	status, r := post(t, s, ingestToken, map[string]string{"Content-Type": ingest.ContentTypeStructured}, event("structured-1"))
	if status != http.StatusAccepted || r.Accepted != 1 {
		t.Errorf("structured: %d %+v", status, r)
	}
	status, r = post(t, s, apiToken, map[string]string{"Content-Type": ingest.ContentTypeBatch},
		"["+event("batch-1")+","+event("batch-2")+"]")
	if status != http.StatusAccepted || r.Accepted != 2 {
		t.Errorf("batch: %d %+v", status, r)
	}
	status, r = post(t, s, ingestToken, map[string]string{"Content-Type": "application/json",
		"ce-specversion": "1.0", "ce-id": "binary-1", "ce-source": "node%20api", "ce-time": "2026-11-01T10:00:00Z",
		"ce-type": events.KindCollected.Type(), "ce-subject": "billing.payment_token",
		"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}, collectedData)
	if status != http.StatusAccepted || r.Accepted != 1 {
		t.Errorf("binary: %d %+v", status, r)
	}
	got := stored(t, s)
	if len(got) != 4 {
		t.Fatalf("stream has %d events, want 4: %v", len(got), got)
	}
	if b := got["binary-1"]; b == nil || b.Source != "node api" || b.TraceParent == "" {
		t.Errorf("binary event = %+v, want source 'node api' (percent-decoded) and the traceparent header", b)
	}
	if got["batch-2"].Data.Count != 3 {
		t.Errorf("batch-2 count = %d", got["batch-2"].Data.Count)
	}
}

func TestIngestMixedBatchPublishesTheGoodOnes(t *testing.T) {
	s := start(t, 0)
	pii := strings.Replace(event("bad-pii"), `"purpose":"payment_processing"`, `"purpose":"payment_processing","activity":"call +33 6 12 34 56 78"`, 1)
	batch := "[" + event("good-0") + `,{"specversion":"1.0"},` + event("good-2") + "," + pii + `,"not an object"]`
	status, r := post(t, s, ingestToken, map[string]string{"Content-Type": ingest.ContentTypeBatch}, batch)
	if status != http.StatusBadRequest || r.Accepted != 2 || r.Rejected != 3 {
		t.Fatalf("mixed batch: %d %+v", status, r)
	}
	for _, i := range []int{1, 3, 4} {
		if res := r.Results[i]; res.Index != i || res.Status != "rejected" || (len(res.Problems) == 0 && res.Error == "") {
			t.Errorf("result %d = %+v, want rejected with reasons", i, res)
		}
	}
	if field := r.Results[3].Problems[0].Field; field != "data.activity" {
		t.Errorf("the personal value is reported on %q, want data.activity", field)
	}
	got := stored(t, s)
	if len(got) != 2 || got["good-0"] == nil || got["good-2"] == nil {
		t.Errorf("stream = %v, want good-0 and good-2", got)
	}
}

func TestIngestRefusals(t *testing.T) {
	s := start(t, 2048)
	for name, c := range map[string]struct {
		token  string
		header map[string]string
		body   string
		want   int
	}{
		"no token":           {"", map[string]string{"Content-Type": ingest.ContentTypeStructured}, event("a"), http.StatusUnauthorized},
		"read token":         {readToken, map[string]string{"Content-Type": ingest.ContentTypeStructured}, event("a"), http.StatusForbidden},
		"wrong token":        {"nope", map[string]string{"Content-Type": ingest.ContentTypeStructured}, event("a"), http.StatusUnauthorized},
		"too large":          {ingestToken, map[string]string{"Content-Type": ingest.ContentTypeBatch}, "[" + strings.Repeat(event("a")+",", 10) + event("a") + "]", http.StatusRequestEntityTooLarge},
		"plain json":         {ingestToken, map[string]string{"Content-Type": "application/json"}, event("a"), http.StatusUnsupportedMediaType},
		"batch not array":    {ingestToken, map[string]string{"Content-Type": ingest.ContentTypeBatch}, event("a"), http.StatusBadRequest},
		"invalid structured": {ingestToken, map[string]string{"Content-Type": ingest.ContentTypeStructured}, `{"id":1}`, http.StatusBadRequest},
	} {
		if status, r := post(t, s, c.token, c.header, c.body); status != c.want {
			t.Errorf("%s: status %d (%+v), want %d", name, status, r, c.want)
		}
	}
	// The 401 names every kind of token ingest accepts.
	if _, r := post(t, s, "nope", map[string]string{"Content-Type": ingest.ContentTypeStructured}, event("a")); !strings.Contains(r.Error, "DATAMAP_INGEST_TOKENS") || !strings.Contains(r.Error, "DATAMAP_API_TOKEN") {
		t.Errorf("401 does not name both token kinds: %q", r.Error)
	}
	// A right token in the wrong role is told which role it has.
	if _, r := post(t, s, readToken, map[string]string{"Content-Type": ingest.ContentTypeStructured}, event("a")); !strings.Contains(r.Error, "read role") {
		t.Errorf("403 does not name the role: %q", r.Error)
	}
	// An ingest token cannot read the catalog; the full-access token can get past auth.
	for token, want := range map[string]int{ingestToken: http.StatusUnauthorized, "": http.StatusUnauthorized} {
		req, _ := http.NewRequest(http.MethodGet, s.url+"/api/v1/inventory", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET /api/v1/inventory with %q: %d, want %d", token, res.StatusCode, want)
		}
	}
}

// TestIngestTimeDefaultsToNow: an event without "time" happened when it
// was sent, as with the SDK; a wrong time is still refused.
func TestIngestTimeDefaultsToNow(t *testing.T) {
	s := start(t, 0)
	noTime := strings.Replace(event("no-time"), `"time":"2026-11-01T10:00:00Z",`, "", 1)
	before := time.Now()
	if status, r := post(t, s, ingestToken, map[string]string{"Content-Type": ingest.ContentTypeStructured}, noTime); status != http.StatusAccepted {
		t.Fatalf("an event without time: %d %+v", status, r)
	}
	binary := map[string]string{"Content-Type": "application/json", "Ce-Specversion": "1.0", "Ce-Id": "binary-no-time",
		"Ce-Source": "php-shop", "Ce-Type": "com.back-trace.datamap.data.collected.v1"}
	if status, r := post(t, s, ingestToken, binary, collectedData); status != http.StatusAccepted {
		t.Fatalf("a binary event without ce-time: %d %+v", status, r)
	}
	for _, id := range []string{"no-time", "binary-no-time"} {
		ev := stored(t, s)[id]
		if ev == nil || ev.Time.Before(before.Add(-time.Second)) || ev.Time.After(time.Now().Add(time.Second)) {
			t.Errorf("event %s stored with time %v, want now", id, ev)
		}
	}
	wrong := strings.Replace(event("bad-time"), `"2026-11-01T10:00:00Z"`, `"yesterday"`, 1)
	if status, r := post(t, s, ingestToken, map[string]string{"Content-Type": ingest.ContentTypeStructured}, wrong); status != http.StatusBadRequest {
		t.Errorf("an event with a wrong time: %d %+v, want 400", status, r)
	}
}

// recorder is a Publisher for fuzzing: no NATS needed.
type recorder struct {
	mu  sync.Mutex
	evs []*events.Event
}

func (r *recorder) PublishEvent(_ context.Context, ev *events.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, ev)
	return nil
}

func FuzzIngestRequest(f *testing.F) {
	f.Add(ingest.ContentTypeStructured, "", []byte(event("x")))
	f.Add(ingest.ContentTypeStructured, "", []byte(strings.Replace(event("x"), `"source"`, `"partitionkey":"p","Bad":1,"source"`, 1)))
	f.Add(ingest.ContentTypeBatch, "", []byte("["+event("x")+`,{"id":2},[],null]`))
	f.Add("application/json", "1.0", []byte(collectedData))
	f.Add("text/plain; charset=", "", []byte("{"))
	f.Add(ingest.ContentTypeBatch, "", []byte(`[{"specversion":"1.0","data":{"count":1e400}}]`))
	v := events.NewValidator(taxonomy.Default())
	f.Fuzz(func(t *testing.T, contentType, specversion string, body []byte) {
		rec := &recorder{}
		h, err := ingest.New(rec, v, ingest.Options{Credentials: access.Credentials{{Role: access.Ingest, Secret: "t"}}, MaxBodyBytes: 1 << 16})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, ingest.Path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer t")
		req.Header.Set("Content-Type", contentType)
		if specversion != "" {
			req.Header.Set("ce-specversion", specversion)
			req.Header.Set("ce-id", "fuzz")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		var r ingest.Response
		if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
			t.Fatalf("status %d with a non-JSON body %q", w.Code, w.Body.String())
		}
		switch w.Code {
		case http.StatusAccepted:
			if r.Accepted != len(r.Results) || r.Accepted == 0 {
				t.Fatalf("202 with %+v", r)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		default:
			t.Fatalf("unexpected status %d", w.Code)
		}
		if len(rec.evs) != r.Accepted {
			t.Fatalf("published %d, reported %d accepted", len(rec.evs), r.Accepted)
		}
		for _, ev := range rec.evs { // what is published is valid
			if err := v.Validate(ev); err != nil {
				t.Fatalf("published an invalid event: %v", err)
			}
		}
	})
}

// TestIngestKeepsExtensionAttributes: relayed events carry extension
// attributes (ce-* headers in binary mode, members in structured mode);
// they are accepted, checked and published with the event.
func TestIngestKeepsExtensionAttributes(t *testing.T) {
	s := start(t, 0)
	status, r := post(t, s, ingestToken, map[string]string{"Content-Type": "application/json",
		"ce-specversion": "1.0", "ce-id": "binary-ext", "ce-source": "relay", "ce-time": "2026-11-01T10:00:00Z",
		"ce-type": events.KindCollected.Type(), "ce-partitionkey": "tenant-7", "ce-knativearrivaltime": "2026-11-01T10:00:01Z"}, collectedData)
	if status != http.StatusAccepted || r.Accepted != 1 {
		t.Errorf("binary with extensions: %d %+v", status, r)
	}
	structured := strings.Replace(event("structured-ext"), `"source":"php-shop",`, `"source":"php-shop","partitionkey":"tenant-8",`, 1)
	status, r = post(t, s, ingestToken, map[string]string{"Content-Type": ingest.ContentTypeStructured}, structured)
	if status != http.StatusAccepted || r.Accepted != 1 {
		t.Errorf("structured with extensions: %d %+v", status, r)
	}
	got := stored(t, s)
	if e := got["binary-ext"]; e == nil || e.Extensions["partitionkey"] != "tenant-7" || e.Extensions["knativearrivaltime"] == "" {
		t.Errorf("binary event published as %+v", e)
	}
	if e := got["structured-ext"]; e == nil || e.Extensions["partitionkey"] != "tenant-8" {
		t.Errorf("structured event published as %+v", e)
	}
}

// TestIngestNamesOnlyRealProblemsAndRepeatsNoPersonalData: an unknown data
// field holding an e-mail address is the one problem reported, named as an
// e-mail address, and the answer does not repeat the address.
func TestIngestNamesOnlyRealProblemsAndRepeatsNoPersonalData(t *testing.T) {
	s := start(t, 0)
	leaky := strings.Replace(event("leaky"), `"count":3}`, `"count":3,"note":"call bob@example.com"}`, 1)
	bad := strings.Replace(event("bad-ext"), `"source":"php-shop",`, `"source":"php-shop","owner":"bob@example.com",`, 1)
	req, _ := http.NewRequest(http.MethodPost, s.url+ingest.Path, strings.NewReader("["+leaky+","+bad+"]"))
	req.Header.Set("Authorization", "Bearer "+ingestToken)
	req.Header.Set("Content-Type", ingest.ContentTypeBatch)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusBadRequest || strings.Contains(string(body), "bob@example.com") || strings.Contains(string(body), "required") {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	var r ingest.Response
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	for i, field := range []string{"data.note", "owner"} {
		ps := r.Results[i].Problems
		if len(ps) != 1 || ps[0].Field != field || !strings.Contains(ps[0].Message, "looks like an e-mail address") {
			t.Errorf("event %d: problems %+v, want one on %s naming the e-mail address", i, ps, field)
		}
	}
}
