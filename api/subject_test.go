package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/back-trace/datamap/access"
	"github.com/back-trace/datamap/api"
	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/testkit/testservers"
)

const annRef = "sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a"

func subjectServer(t *testing.T) (*httptest.Server, func() []query.AuditEntry) {
	t.Helper()
	conn := testservers.ClickHouse(t)
	ctx := context.Background()
	if err := conn.Exec(ctx, `INSERT INTO subject_refs (ref, source, id, kind, time, category, data_subject, purpose, legal_basis, keep_until)
		VALUES (?, 'crm', '1', 'collected', now64(3) - INTERVAL 1 DAY, 'account.contact', 'customer', 'service_delivery', 'contract', now() + INTERVAL 1 YEAR)`, annRef); err != nil {
		t.Fatal(err)
	}
	s := api.New(api.Options{Catalog: conn, Taxonomy: taxonomy.Default(), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Credentials: access.Credentials{{Role: access.Full, Secret: "full-token"}, {Role: access.Read, Secret: "read-1"},
			{Role: access.Ingest, Secret: "ingest-1"}, {Role: access.Subject, Name: "dpo", Secret: "subject-token-0123456789"}}})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	trail := func() []query.AuditEntry {
		es, err := query.Audit(ctx, conn, query.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	return srv, trail
}

func call(t *testing.T, method, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// TestSubjectRole: only subject tokens ask subject questions; the others
// get 403 naming the role; each asking is audited under the token's name,
// never the token.
func TestSubjectRole(t *testing.T) {
	srv, trail := subjectServer(t)
	show := srv.URL + "/api/v1/subject/show?ref=" + annRef
	for _, c := range []struct {
		token string
		want  int
	}{{"read-1", 403}, {"full-token", 403}, {"ingest-1", 403}, {"nonsense", 401}, {"", 401}} {
		code, body := call(t, "GET", show, c.token)
		if code != c.want {
			t.Errorf("token %q: %d %s; want %d", c.token, code, body, c.want)
		}
		if code == 403 && !strings.Contains(body, "DATAMAP_SUBJECT_TOKENS") {
			t.Errorf("token %q: 403 does not name the role it needs: %s", c.token, body)
		}
	}
	if n := len(trail()); n != 0 {
		t.Fatalf("refused calls left %d audit rows; nothing was asked", n)
	}
	code, body := call(t, "GET", show, "subject-token-0123456789")
	if code != 200 {
		t.Fatalf("subject token: %d %s", code, body)
	}
	var p struct {
		Ref      string `json:"subject_ref"`
		Holdings []struct {
			System string `json:"system"`
		} `json:"holdings"`
	}
	if err := json.Unmarshal([]byte(body), &p); err != nil || p.Ref != annRef || len(p.Holdings) != 1 || p.Holdings[0].System != "crm" {
		t.Errorf("subject show: %s (%v)", body, err)
	}
	if code, body := call(t, "GET", srv.URL+"/api/v1/subject/requests", "subject-token-0123456789"); code != 200 || !strings.Contains(body, `"items":[]`) {
		t.Errorf("subject requests: %d %s", code, body)
	}
	es := trail()
	if len(es) != 2 || es[1].Who != "dpo" || es[1].Surface != "api" || es[1].Question != "subject show" || es[1].Ref != annRef ||
		es[0].Question != "subject requests" {
		t.Fatalf("audit trail %+v; want show then requests by dpo over the api", es)
	}
	for _, e := range es {
		if strings.Contains(e.Who, "subject-token") {
			t.Errorf("the audit trail holds a token: %+v", e)
		}
	}
	// A subject token opens nothing else.
	if code, body := call(t, "GET", srv.URL+"/api/v1/inventory", "subject-token-0123456789"); code != 403 || !strings.Contains(body, "read role") {
		t.Errorf("subject token on inventory: %d %s; want 403 naming the read role", code, body)
	}
	// The audit list is itself audited.
	if code, _ := call(t, "GET", srv.URL+"/api/v1/audit", "subject-token-0123456789"); code != 200 || len(trail()) != 3 {
		t.Errorf("audit listing: %d, %d rows; want 200 and recorded", code, len(trail()))
	}
}

// TestAuditTrailCannotBeChanged: the API has no route that writes,
// updates or truncates the audit trail; a parameter cannot smuggle SQL.
func TestAuditTrailCannotBeChanged(t *testing.T) {
	srv, trail := subjectServer(t)
	token := "subject-token-0123456789"
	if code, _ := call(t, "GET", srv.URL+"/api/v1/audit", token); code != 200 {
		t.Fatal("audit listing refused")
	}
	before := len(trail())
	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		if code, body := call(t, m, srv.URL+"/api/v1/audit", token); code != http.StatusMethodNotAllowed {
			t.Errorf("%s /api/v1/audit: %d %s; want 405", m, code, body)
		}
	}
	code, body := call(t, "GET", srv.URL+"/api/v1/audit?ref=x%27%3B%20TRUNCATE%20TABLE%20subject_audit%3B--", token)
	if code != 400 || !strings.Contains(body, `"parameter":"ref"`) {
		t.Errorf("audit with SQL in ref: %d %s; want 400 on ref", code, body)
	}
	// The refused listing is recorded, without the value refused; the
	// rows before it are all still there.
	after := trail()
	if len(after) != before+1 || after[0].Outcome != "refused: ref" || after[0].Ref != "" ||
		strings.Contains(fmt.Sprint(after), "TRUNCATE") {
		t.Errorf("the trail went from %d to %d rows through refused calls, newest %+v; want one more, refused on ref",
			before, len(after), after[0])
	}
}

// TestSubjectBadInput: a malformed reference — an e-mail above all — is a
// 400 on ref that does not repeat the value; an unknown parameter too. Each
// refusal is in the audit trail, under the token's name, with the
// parameter refused and without its value.
func TestSubjectBadInput(t *testing.T) {
	srv, trail := subjectServer(t)
	token := "subject-token-0123456789"
	for _, c := range []struct{ query, want string }{
		{"ref=ann%40example.org", "looks like an e-mail address"},
		{"ref=sr1%3Aabc", "characters long"},
		{"", "required"},
		{"ref=" + annRef + "&email=ann%40example.org", "not a parameter"},
	} {
		code, body := call(t, "GET", srv.URL+"/api/v1/subject/show?"+c.query, token)
		if code != 400 || !strings.Contains(body, c.want) {
			t.Errorf("subject show?%s: %d %s; want 400 saying %q", c.query, code, body, c.want)
		}
		if strings.Contains(body, "ann@example.org") && !strings.Contains(c.query, "email=") {
			t.Errorf("subject show?%s: the error repeats the address: %s", c.query, body)
		}
	}
	if code, body := call(t, "GET", srv.URL+"/api/v1/subject/requests?all=maybe", token); code != 400 || !strings.Contains(body, "true or false") {
		t.Errorf("requests?all=maybe: %d %s", code, body)
	}
	var refused []string
	for _, e := range trail() {
		if strings.Contains(fmt.Sprintf("%+v", e), "example.org") || strings.Contains(e.Ref+e.Outcome, "sr1:abc") {
			t.Errorf("the audit trail keeps a refused value: %+v", e)
		}
		if e.Who != "dpo" || e.Surface != "api" {
			t.Errorf("audit row %+v, want who dpo on api", e)
		}
		refused = append(refused, e.Question+" "+e.Outcome)
	}
	slices.Sort(refused)
	want := []string{"subject requests refused: all", "subject show refused: email", "subject show refused: ref",
		"subject show refused: ref", "subject show refused: ref"}
	if !slices.Equal(refused, want) {
		t.Errorf("audit trail of the refusals: %q, want %q", refused, want)
	}
}

// No answer about a person is kept by a browser or a proxy, whoever asks.
func TestSubjectAnswersAreNotStored(t *testing.T) {
	srv, _ := subjectServer(t)
	for _, path := range []string{"/api/v1/subject/show?ref=" + annRef, "/api/v1/subject/requests", "/api/v1/audit"} {
		for _, token := range []string{"subject-token-0123456789", "read-1", "full-token", "ingest-1", "", "wrong"} {
			req, _ := http.NewRequest("GET", srv.URL+path, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if got := res.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("GET %s with token %q: %d, Cache-Control %q, want no-store", path, token, res.StatusCode, got)
			}
		}
	}
}

// A person the catalog knows nothing of is a profile of empty lists,
// never null, with every field the OpenAPI document requires.
func TestUnknownPersonIsAnEmptyProfile(t *testing.T) {
	srv, _ := subjectServer(t)
	unknown := "sr1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	code, body := call(t, "GET", srv.URL+"/api/v1/subject/show?ref="+unknown, "subject-token-0123456789")
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); code != 200 || err != nil {
		t.Fatalf("subject show of an unknown person: %d %s", code, body)
	}
	for _, list := range []string{"data_subjects", "holdings", "disclosures", "consents", "requests", "findings"} {
		if v, ok := got[list].([]any); !ok || len(v) != 0 {
			t.Errorf("%s = %#v, want []", list, got[list])
		}
	}
}
