package cli_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/back-trace/datamap/events/subjectref"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/people"
	"github.com/back-trace/datamap/stack"
)

// TestSubjectBadUsage: every way of naming a person wrongly is exit 2 with
// what to do, before anything is sent; no identifier is repeated.
func TestSubjectBadUsage(t *testing.T) {
	isolate(t)
	t.Setenv("DATAMAP_SUBJECT_KEY", "")
	for _, c := range []struct {
		args []string
		key  string
		want string
	}{
		{[]string{"subject"}, "", "name a subcommand"},
		{[]string{"subject", "erase"}, "", "unknown subcommand"},
		{[]string{"subject", "show"}, "", "name the person"},
		{[]string{"subject", "show", "ann@example.org"}, "", "looks like an e-mail address"},
		{[]string{"subject", "show", "sr1:abc"}, "", "characters long"},
		{[]string{"subject", "show", "--email", "ann@example.org"}, "", "DATAMAP_SUBJECT_KEY"},
		{[]string{"subject", "show", "--email", "ann@example.org"}, "c2hvcnQ=", "at least 32"},
		{[]string{"subject", "show", "--email", "ann(at)example.org"}, subjectref.NewKey(), "--email: invalid identifier: the e-mail address has no @"},
		{[]string{"subject", "show", "--phone", "020 123 4567"}, subjectref.NewKey(), "country code"},
		{[]string{"subject", "show", "--email", "a@example.org", "--customer", "C-1"}, subjectref.NewKey(), "give one of"},
		{[]string{"subject", "show", "sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a", "--customer", "C-1"}, subjectref.NewKey(), "not both"},
		{[]string{"subject", "show", "sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a", "--format", "xml"}, "", "use table or json"},
		{[]string{"subject", "requests", "extra"}, "", "unexpected argument"},
		{[]string{"subject", "forget"}, "", "name the person"},
		{[]string{"audit", "--format", "xml"}, "", "xml"},
	} {
		t.Setenv("DATAMAP_SUBJECT_KEY", c.key)
		code, _, errOut := run(t, "", c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("datamap %s: exit %d, %q; want 2 saying %q", strings.Join(c.args, " "), code, errOut, c.want)
		}
		for _, id := range []string{"ann(at)example.org", "020 123 4567"} {
			if strings.Contains(strings.Join(c.args, " "), id) && strings.Contains(errOut, id) {
				t.Errorf("datamap %s: the error repeats the identifier: %s", strings.Join(c.args, " "), errOut)
			}
		}
	}
}

func TestSubjectKeyPrintsAUsableKey(t *testing.T) {
	isolate(t)
	code, out, errOut := run(t, "", "subject", "key")
	if code != 0 {
		t.Fatalf("subject key: %d %s", code, errOut)
	}
	if _, err := subjectref.ParseKey(strings.TrimSpace(out)); err != nil {
		t.Fatalf("subject key printed %q: %v", out, err)
	}
	_, again, _ := run(t, "", "subject", "key")
	if again == out {
		t.Error("two keys are the same")
	}
}

// TestSubjectQuestionsEndToEnd: events with a reference emitted through the
// running serve are answered the same by the CLI and by the API (subject
// token), the CLI computes the reference from --customer locally, both
// askings are audited by name, and forget removes the person.
func TestSubjectQuestionsEndToEnd(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	dir := isolate(t)
	key := "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	t.Setenv("DATAMAP_SUBJECT_TOKENS", "dpo:dpo-token-0123456789abcdefghijklmnop")
	t.Setenv("DATAMAP_READ_TOKENS", "read-token-0123456789abcdefghijklmnopqrstuv")
	t.Setenv("DATAMAP_SUBJECT_KEY", key)
	serve(t)
	k, _ := subjectref.ParseKey(key)
	ref, _ := k.Ref(subjectref.CustomerNumber, "C-10042")
	in := event(1, "billing.invoice", `,"subject_ref":"`+ref+`"`) + "\n" +
		`{"specversion":"1.0","id":"cli-req","source":"support-desk","type":"com.back-trace.datamap.data.request_received.v1","time":"2026-11-02T10:00:00Z","data":{"data_subject":"customer","subject_ref":"` + ref + `","right":"access","channel":"email"}}` + "\n" +
		event(2, "billing.invoice", `,"subject_ref":"ann@example.org"`) + "\n"
	code, out, errOut := run(t, in, "emit")
	if code != 3 || !strings.Contains(out, "2 events published, 1 rejected") || !strings.Contains(errOut, "data.subject_ref") || strings.Contains(errOut, "ann@example.org") {
		t.Fatalf("emit: %d %q %q", code, out, errOut)
	}
	var cli string
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, cli, errOut = run(t, "", "subject", "show", "--customer", "C-10042", "--format", "json", "--as-of", "2026-12-01")
		if code != 0 {
			t.Fatalf("subject show: %d %s", code, errOut)
		}
		if strings.Contains(cli, `"billing.invoice"`) && strings.Contains(cli, `"access"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the person never showed up: %s", cli)
		}
		time.Sleep(200 * time.Millisecond)
	}
	rt, ok := stack.FindRunning(dir)
	if !ok {
		t.Fatal("no running serve")
	}
	get := func(path, token string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+rt.HTTPAddr+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	status, body := get("/api/v1/subject/show?ref="+ref+"&as_of=2026-12-01", "dpo-token-0123456789abcdefghijklmnop")
	if status != 200 {
		t.Fatalf("API: %d %s", status, body)
	}
	var fromCLI, fromAPI any
	if err := json.Unmarshal([]byte(cli), &fromCLI); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(body), &fromAPI); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromCLI, fromAPI) {
		t.Errorf("CLI and API disagree:\nCLI %s\nAPI %s", cli, body)
	}
	if status, body := get("/api/v1/subject/show?ref="+ref, "read-token-0123456789abcdefghijklmnopqrstuv"); status != 403 || !strings.Contains(body, "DATAMAP_SUBJECT_TOKENS") {
		t.Errorf("read token: %d %s", status, body)
	}
	code, trail, _ := run(t, "", "audit", "--format", "json")
	if code != 0 || !strings.Contains(trail, `"who": "dpo"`) || !strings.Contains(trail, `"surface": "api"`) || !strings.Contains(trail, `"surface": "cli"`) || strings.Contains(trail, "dpo-token") {
		t.Errorf("audit: %d %s", code, trail)
	}
	if code, out, errOut := run(t, "", "subject", "forget", ref); code != 0 || !strings.Contains(out, "2 rows") {
		t.Fatalf("forget: %d %s %s", code, out, errOut)
	}
	if _, after, _ := run(t, "", "subject", "show", ref); !strings.Contains(after, "Nothing is held") {
		t.Errorf("after forget: %s", after)
	}
}

// TestSubjectStatementNamesWhatShowLists asks a person's Art. 15
// statement: it names every recipient subject show lists, with the
// registry's safeguard, holds no reference, and its asking is audited.
func TestSubjectStatementNamesWhatShowLists(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	isolate(t)
	key := "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	t.Setenv("DATAMAP_SUBJECT_KEY", key)
	serve(t)
	k, _ := subjectref.ParseKey(key)
	ref, _ := k.Ref(subjectref.CustomerNumber, "C-10042")
	share := func(id, category, name, country, safeguard string) string {
		return `{"specversion":"1.0","id":"` + id + `","source":"billing-api","type":"com.back-trace.datamap.data.shared.v1","time":"2026-11-01T11:00:00Z","data":{"category":"` + category + `","data_subject":"customer","purpose":"payment_processing","legal_basis":"contract","activity":"payments","count":1,"subject_ref":"` + ref + `","recipient":{"name":"` + name + `","role":"processor","country":"` + country + `","safeguard":"` + safeguard + `"}}}`
	}
	// billing.transaction reaches Stripe without billing-api reporting that
	// it holds it: disclosed only, it is still the person's data.
	in := event(1, "billing.payment_token", `,"subject_ref":"`+ref+`"`) + "\n" + share("s1", "billing.payment_token", "Stripe", "US", "scc") + "\n" +
		share("s2", "billing.payment_token", "Adyen", "NL", "none") + "\n" + share("s3", "billing.transaction", "Stripe", "US", "scc") + "\n"
	if code, out, errOut := run(t, in, "emit"); code != 0 {
		t.Fatalf("emit: %d %s %s", code, out, errOut)
	}
	var profile people.Profile
	deadline := time.Now().Add(30 * time.Second)
	for len(profile.Disclosures) < 3 {
		code, out, errOut := run(t, "", "subject", "show", "--customer", "C-10042", "--format", "json", "--as-of", "2026-12-01")
		if code != 0 {
			t.Fatalf("subject show: %d %s", code, errOut)
		}
		profile = people.Profile{}
		if err := json.Unmarshal([]byte(out), &profile); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the disclosures never showed up: %s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	code, out, errOut := run(t, "", "subject", "statement", "--customer", "C-10042", "--registry", "backtrace", "--as-of", "2026-12-01", "--format", "json", "--out", "-")
	if code != 0 {
		t.Fatalf("subject statement: %d %s", code, errOut)
	}
	var st people.Statement
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	for _, d := range profile.Disclosures {
		i := slices.IndexFunc(st.Recipients, func(r people.StatementRecipient) bool { return r.Name == d.To && r.Country == d.Country })
		if i < 0 {
			t.Errorf("subject show lists %s (%s); the statement does not: %+v", d.To, d.Country, st.Recipients)
			continue
		}
		if !slices.ContainsFunc(st.Recipients[i].Categories, func(c people.Named) bool { return c.Key == d.Category }) ||
			!slices.ContainsFunc(st.Categories, func(c people.Named) bool { return c.Key == d.Category }) {
			t.Errorf("subject show lists %s → %s; the statement's recipient has %v, its categories %v", d.Category, d.To, st.Recipients[i].Categories, st.Categories)
		}
	}
	if strings.Contains(out, ref) || st.Controller.Name != "BackTrace" {
		t.Errorf("statement holds the reference or lacks the controller: %s", out)
	}
	if _, trail, _ := run(t, "", "audit", "--format", "json"); !strings.Contains(trail, `"question": "subject statement"`) {
		t.Errorf("the statement's asking is not in the audit trail: %s", trail)
	}
	html := filepath.Join(t.TempDir(), "statement.html")
	if code, _, errOut := run(t, "", "subject", "statement", ref, "--registry", "backtrace", "--format", "html", "--out", html); code != 0 {
		t.Fatalf("subject statement --format html: %d %s", code, errOut)
	}
	if b, _ := os.ReadFile(html); !strings.Contains(string(b), "Stripe") || !strings.Contains(string(b), "supervisory authority") {
		t.Errorf("the HTML statement lacks a recipient or the right to complain")
	}
	// Stripe's row names what it received by the taxonomy's names, and
	// its country by name.
	if b, _ := os.ReadFile(html); !regexp.MustCompile(`<td>Stripe</td><td>[^<]*</td><td>[^<]*Transaction records[^<]*</td><td>United States</td>`).Match(b) {
		t.Errorf("the HTML statement's row of Stripe does not name the transaction records it received, or its country:\n%s", b)
	}
}

// TestSubjectShowFindsChildrenData: a child's contact form in a system
// whose activities declare no children is a children_data finding in the
// person's profile once subject show has the registry to judge by.
func TestSubjectShowFindsChildrenData(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	isolate(t)
	key := "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	t.Setenv("DATAMAP_SUBJECT_KEY", key)
	serve(t)
	k, _ := subjectref.ParseKey(key)
	ref, _ := k.Ref(subjectref.CustomerNumber, "C-20077")
	form := `{"specversion":"1.0","id":"child-1","source":"website","type":"com.back-trace.datamap.data.collected.v1","time":"2026-11-01T10:00:00Z","data":{"category":"web.forms","data_subject":"child","purpose":"support","legal_basis":"legitimate_interests","retention":"P12M","count":1,"subject_ref":"` + ref + `"}}`
	if code, out, errOut := run(t, form+"\n", "emit"); code != 0 {
		t.Fatalf("emit: %d %s %s", code, out, errOut)
	}
	show := func(args ...string) people.Profile {
		t.Helper()
		code, out, errOut := run(t, "", append([]string{"subject", "show", ref, "--format", "json", "--as-of", "2026-12-01"}, args...)...)
		if code != 0 {
			t.Fatalf("subject show %v: %d %s", args, code, errOut)
		}
		var p people.Profile
		if err := json.Unmarshal([]byte(out), &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(show().Holdings) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the child's form never showed up")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if p := show(); slices.ContainsFunc(p.Findings, func(f people.Finding) bool { return f.Kind == people.FindingChildrenData }) {
		t.Errorf("without a registry there is nothing to judge children_data by, yet: %+v", p.Findings)
	}
	p := show("--registry", "backtrace")
	if !slices.ContainsFunc(p.Findings, func(f people.Finding) bool {
		return f.Kind == people.FindingChildrenData && f.System == "website" && f.Topic == "child" && f.Events == 1
	}) {
		t.Errorf("with the BackTrace registry, which declares no children, findings are %+v; want children_data website child", p.Findings)
	}
}
