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
	"testing"

	"github.com/back-trace/datamap/api"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/testservers"
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
	s := api.New(conn, nil, taxonomy.Default(), "full-token", slog.New(slog.NewTextHandler(io.Discard, nil))).
		WithReadTokens([]string{"read-1", "read-2"})
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
	for _, path := range []string{
		"/api/v1/inventory?category=billing.cvv",
		"/api/v1/inventory?as_of=yesterday",
		"/api/v1/inventory?colour=blue",
		"/api/v1/inventory?recipient=Stripe",
		"/api/v1/flows?group_by=planet",
		"/api/v1/flows?legal_basis=because",
		"/api/v1/flows?limit=0",
		"/api/v1/flows?cursor=nonsense",
		"/api/v1/transfers?system=biling-api",
		"/api/v1/retention?purpose=support",
		"/api/v1/lineage/reach?from=support-desk",
		"/api/v1/lineage/blast?recipient=Nobody",
		"/api/v1/lineage/export?format=png",
		"/api/v1/search",
	} {
		code, body := get(t, srv, "read-1", path)
		if code != 400 || body["error"] == nil {
			t.Errorf("GET %s: %d %v, want 400 with an error", path, code, body)
		}
	}
}
