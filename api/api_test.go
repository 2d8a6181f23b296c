package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/back-trace/datamap/access"
	"github.com/back-trace/datamap/api"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/sinks/clickhouse"
)

var update = flag.Bool("update", false, "rewrite openapi.json from the code")

func TestMain(m *testing.M) { testservers.Main(m) }

func TestOpenAPIDocumentIsCurrent(t *testing.T) {
	got := api.OpenAPI()
	if *update {
		if err := os.WriteFile("openapi.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("api/openapi.json is not what the code describes; run go test ./api -update and review the diff")
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Servers []map[string]any          `json:"servers"`
		Info    map[string]any            `json:"info"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(want, &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/api/v1/inventory", "/api/v1/flows", "/api/v1/transfers", "/api/v1/retention",
		"/api/v1/lineage/reach", "/api/v1/lineage/blast", "/api/v1/lineage/export", "/api/v1/search"} {
		if doc.Paths[p]["get"] == nil {
			t.Errorf("openapi.json lacks GET %s", p)
		}
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if doc.Paths[p]["get"] == nil {
			t.Errorf("openapi.json lacks GET %s", p)
		}
	}
	post, _ := doc.Paths["/v1/events"]["post"].(map[string]any)
	body, _ := json.Marshal(post)
	for _, s := range []string{`"application/cloudevents+json"`, `"application/cloudevents-batch+json"`, `"ce-specversion"`, `IngestResponse`, `"503"`} {
		if !bytes.Contains(body, []byte(s)) {
			t.Errorf("POST /v1/events does not describe %s", s)
		}
	}
	if len(doc.Servers) == 0 || doc.Info["license"] == nil {
		t.Errorf("openapi.json lacks servers or a licence: %v %v", doc.Servers, doc.Info)
	}
}

// server serves the API over a catalog holding the shared fixture.
func server(t *testing.T) *httptest.Server {
	t.Helper()
	conn := testservers.ClickHouse(t)
	f, err := os.Open("../catalog/query/testdata/fixture.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v := events.NewValidator(taxonomy.Default())
	var evs []*events.Event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		ev, err := v.Decode(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	if err := clickhouse.NewWriter(conn).Write(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	s := api.New(api.Options{Catalog: conn, Taxonomy: taxonomy.Default(), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Credentials: access.Credentials{{Role: access.Full, Secret: "full-token"}, {Role: access.Read, Secret: "read-1"}, {Role: access.Read, Secret: "read-2"}}})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, srv *httptest.Server, token, path string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func TestReadTokensOpenQueriesOnly(t *testing.T) {
	srv := server(t)
	for token, want := range map[string]int{"full-token": 200, "read-1": 200, "read-2": 200, "": 401, "read-3": 401, "full-toke": 401} {
		if code, _ := get(t, srv, token, "/api/v1/inventory"); code != want {
			t.Errorf("token %q: %d, want %d", token, code, want)
		}
	}
	if code, _ := get(t, srv, "read-1", "/api/v1/openapi.json"); code != 200 {
		t.Errorf("openapi.json with a read token: %d", code)
	}
}

func TestPagesFollowTheNextLink(t *testing.T) {
	srv := server(t)
	_, all := get(t, srv, "read-1", "/api/v1/flows")
	total := int(all["total"].(float64))
	if total != 9 || len(all["items"].([]any)) != 9 || all["next"] != nil {
		t.Fatalf("flows in one page: total %v, %d items, next %v", all["total"], len(all["items"].([]any)), all["next"])
	}
	var items []any
	path := "/api/v1/flows?limit=3"
	for pages := 0; path != ""; pages++ {
		if pages > 5 {
			t.Fatal("more pages than rows")
		}
		code, body := get(t, srv, "read-1", path)
		if code != 200 {
			t.Fatalf("%s: %d %v", path, code, body)
		}
		items = append(items, body["items"].([]any)...)
		path, _ = body["next"].(string)
	}
	a, _ := json.Marshal(items)
	b, _ := json.Marshal(all["items"])
	if !bytes.Equal(a, b) {
		t.Errorf("pages of 3 do not add up to the whole answer:\n%s\n%s", a, b)
	}
	_, first := get(t, srv, "read-1", "/api/v1/flows?limit=3")
	if code, body := get(t, srv, "read-1", "/api/v1/flows?limit=3&country=US&cursor="+first["next_cursor"].(string)); code != 400 {
		t.Errorf("cursor reused with another filter: %d %v", code, body)
	}
}

func TestBadParametersAre400(t *testing.T) {
	srv := server(t)
	for path, param := range map[string]string{
		"/api/v1/inventory?category=billing.cvv":         "category",
		"/api/v1/inventory?as_of=yesterday":              "as_of",
		"/api/v1/inventory?colour=blue":                  "colour",
		"/api/v1/inventory?recipient=Stripe":             "recipient",
		"/api/v1/flows?group_by=planet":                  "group_by",
		"/api/v1/flows?legal_basis=because":              "legal_basis",
		"/api/v1/flows?limit=0":                          "limit",
		"/api/v1/flows?cursor=nonsense":                  "cursor",
		"/api/v1/flows?system=a&system=b":                "system",
		"/api/v1/transfers?system=biling-api":            "system",
		"/api/v1/retention?purpose=support":              "purpose",
		"/api/v1/lineage/reach?from=support-desk":        "category",
		"/api/v1/lineage/blast?recipient=Nobody":         "recipient",
		"/api/v1/lineage/blast?recipient=Stripe&limit=3": "limit",
		"/api/v1/lineage/export?format=png":              "format",
		"/api/v1/search":                                 "q",
	} {
		code, body := get(t, srv, "read-1", path)
		if code != 400 || body["error"] == nil || body["parameter"] != param {
			t.Errorf("GET %s: %d %v, want 400 with an error about %q", path, code, body, param)
			continue
		}
		// A route an error points to exists.
		msg := body["error"].(string)
		for _, m := range routeInMessage.FindAllStringSubmatch(msg, -1) {
			if code, _ := get(t, srv, "read-1", m[1]); code == http.StatusNotFound {
				t.Errorf("GET %s: the error points to %s, which is 404: %s", path, m[1], msg)
			}
		}
	}
	// An unknown parameter lists every accepted one, paging included.
	_, body := get(t, srv, "read-1", "/api/v1/inventory?foo=bar")
	for _, p := range []string{"system", "category", "as_of", "limit", "cursor"} {
		if msg, _ := body["error"].(string); !strings.Contains(msg, p) {
			t.Errorf("?foo=bar: the error does not list %s: %v", p, body)
		}
	}
}

// routeInMessage finds an HTTP route an error message tells the reader to call.
var routeInMessage = regexp.MustCompile(`GET (/[^ ;,]+)`)

// TestUnknownRoutesAnswerJSON: a path no route takes is a 404, a known
// path with another method a 405, both in the API's error shape.
func TestUnknownRoutesAnswerJSON(t *testing.T) {
	s := api.New(api.Options{Taxonomy: taxonomy.Default(), Credentials: access.Credentials{{Role: access.Read, Secret: "read-1"}}})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	for _, c := range []struct {
		method, path string
		want         int
	}{{"GET", "/api/v1/nope", 404}, {"GET", "/api/v2/inventory", 404}, {"DELETE", "/api/v1/inventory", 405}} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		req.Header.Set("Authorization", "Bearer read-1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]string
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != c.want || err != nil || body["error"] == "" || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: %d %v %v, want %d with a JSON error", c.method, c.path, resp.StatusCode, body, err, c.want)
		}
	}
}
