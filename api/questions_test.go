package api_test

import (
	"encoding/json"
	"github.com/back-trace/datamap/access"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/back-trace/datamap/api"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/questions"
)

// Every question of the table is in the OpenAPI document, at its path,
// with its summary and every parameter, and is a route the server
// answers (a request without a token is refused, not unknown).
func TestEveryQuestionIsARoute(t *testing.T) {
	type param struct {
		Name     string `json:"name"`
		Required bool   `json:"required"`
	}
	var doc struct {
		Paths map[string]struct {
			Get struct {
				Summary    string  `json:"summary"`
				Parameters []param `json:"parameters"`
			} `json:"get"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Options{Taxonomy: taxonomy.Default(), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Credentials: access.Credentials{{Role: access.Full, Secret: "full-token"}}}).Handler())
	t.Cleanup(srv.Close)
	for _, q := range questions.All() {
		path, ok := doc.Paths[q.Path()]
		if !ok {
			t.Errorf("%s: no %s in the OpenAPI document", q.Name, q.Path())
			continue
		}
		if !strings.HasPrefix(path.Get.Summary, q.Summary) {
			t.Errorf("%s: summary %q, want %q", q.Name, path.Get.Summary, q.Summary)
		}
		for _, p := range q.Params {
			i := slices.IndexFunc(path.Get.Parameters, func(d param) bool { return d.Name == p.Name })
			if i < 0 || path.Get.Parameters[i].Required != p.Required {
				t.Errorf("%s: parameter %s (required %v) not documented as such", q.Name, p.Name, p.Required)
			}
		}
		resp, err := http.Get(srv.URL + q.Path())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: GET %s without a token answers %d, want 401", q.Name, q.Path(), resp.StatusCode)
		}
	}
}
