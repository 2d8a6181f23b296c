package cli_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/back-trace/datamap/cli"
	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/questions"
	"github.com/back-trace/datamap/stack"
)

// TestCLIAndAPIGiveTheSameAnswers runs every question on the shared
// fixture through the command line and through the HTTP API (with a read
// token), and requires the same JSON — and the same refusals.
func TestCLIAndAPIGiveTheSameAnswers(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	dir := isolate(t)
	t.Setenv("DATAMAP_READ_TOKENS", "officer-token-0123456789abcdefghijklmnopqrstuv, auditor-token-0123456789abcdefghijklmnopqrstuv")
	t.Setenv("DATAMAP_INGEST_TOKENS", "ingest-token-0123456789abcdefghijklmnopqrstuv")
	serve(t)
	fixture, err := os.ReadFile("../catalog/query/testdata/fixture.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run(t, string(fixture), "emit"); code != 0 {
		t.Fatalf("emit fixture: %d %s %s", code, out, errOut)
	}
	waitForInventoryRecords(t, 20+100+15+50+30+7)
	rt, ok := stack.FindRunning(dir)
	if !ok {
		t.Fatal("serve published no runtime file")
	}
	api := func(path string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+rt.HTTPAddr+path, nil)
		req.Header.Set("Authorization", "Bearer auditor-token-0123456789abcdefghijklmnopqrstuv")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}

	cases := []struct {
		args    []string
		path    string
		mention string // something the answer must contain
	}{
		{[]string{"inventory"}, "/api/v1/inventory", `"records": 100`},
		{[]string{"inventory", "--category", "billing.payment_token", "--as-of", "2026-10-01"}, "/api/v1/inventory?category=billing.payment_token&as_of=2026-10-01", `"records": 10,`},
		{[]string{"inventory", "--category", "billing.payment_token", "--as-of", "2026-10-05"}, "/api/v1/inventory?category=billing.payment_token&as_of=2026-10-05", `"records": 15,`},
		{[]string{"inventory", "--data-subject", "end_user", "--legal-basis", "legitimate_interests"}, "/api/v1/inventory?data_subject=end_user&legal_basis=legitimate_interests", "support.chat"},
		{[]string{"flows", "--recipient", "Stripe"}, "/api/v1/flows?recipient=Stripe", "web-frontend"},
		{[]string{"flows", "--group-by", "recipient"}, "/api/v1/flows?group_by=recipient", `"key": "Stripe"`},
		{[]string{"flows", "--group-by", "country", "--as-of", "2026-10-01"}, "/api/v1/flows?group_by=country&as_of=2026-10-01", `"key": "IN"`},
		{[]string{"flows", "--group-by", "safeguard"}, "/api/v1/flows?group_by=safeguard", `"key": "none"`},
		{[]string{"transfers"}, "/api/v1/transfers", "no transfer safeguard"},
		{[]string{"retention", "--as-of", "2026-10-01"}, "/api/v1/retention?as_of=2026-10-01", "held past retention"},
		{[]string{"lineage", "reach", "--from", "support-desk", "--category", "support"}, "/api/v1/lineage/reach?from=support-desk&category=support", `"Cloudflare"`},
		{[]string{"lineage", "blast", "--recipient", "Zendesk"}, "/api/v1/lineage/blast?recipient=Zendesk", `"passed_on"`},
		{[]string{"search", "zendesk"}, "/api/v1/search?q=zendesk", `"kind": "system"`},
	}
	for _, c := range cases {
		code, out, errOut := run(t, "", append(c.args, "--format", "json")...)
		if code != 0 {
			t.Errorf("datamap %s: exit %d: %s", strings.Join(c.args, " "), code, errOut)
			continue
		}
		status, body := api(c.path)
		if status != 200 {
			t.Errorf("GET %s: %d %s", c.path, status, body)
			continue
		}
		var fromAPI any
		if err := json.Unmarshal(body, &fromAPI); err != nil {
			t.Fatal(err)
		}
		if page, ok := fromAPI.(map[string]any); ok && page["items"] != nil {
			fromAPI = page["items"]
		}
		var fromCLI any
		if err := json.Unmarshal([]byte(out), &fromCLI); err != nil {
			t.Fatalf("datamap %s printed %q: %v", strings.Join(c.args, " "), out, err)
		}
		a, _ := json.MarshalIndent(fromCLI, "", "  ")
		b, _ := json.MarshalIndent(fromAPI, "", "  ")
		if !bytes.Equal(a, b) {
			t.Errorf("datamap %s and GET %s differ:\nCLI %s\nAPI %s", strings.Join(c.args, " "), c.path, a, b)
		}
		if !strings.Contains(string(a), c.mention) {
			t.Errorf("datamap %s: answer lacks %q:\n%s", strings.Join(c.args, " "), c.mention, a)
		}
	}

	// A read token cannot ingest, an ingest token cannot read.
	req, _ := http.NewRequest("POST", "http://"+rt.HTTPAddr+"/v1/events", strings.NewReader(strings.SplitN(string(fixture), "\n", 2)[0]))
	req.Header.Set("Authorization", "Bearer auditor-token-0123456789abcdefghijklmnopqrstuv")
	req.Header.Set("Content-Type", "application/cloudevents+json")
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST /v1/events with a read token: %d, want 401 or 403", resp.StatusCode)
	}
	req, _ = http.NewRequest("GET", "http://"+rt.HTTPAddr+"/api/v1/inventory", nil)
	req.Header.Set("Authorization", "Bearer ingest-token-0123456789abcdefghijklmnopqrstuv")
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/inventory with an ingest token: %d, want 401", resp.StatusCode)
	}

	// The exports are byte for byte the same.
	for _, format := range []string{"dot", "mermaid", "json", "openlineage"} {
		_, out, _ := run(t, "", "lineage", "export", "--format", format)
		status, body := api("/api/v1/lineage/export?format=" + format)
		if status != 200 || out != string(body) || out == "" {
			t.Errorf("lineage export %s: CLI and API differ (%d)", format, status)
		}
	}

	// Findings: exit 4 only when asked for, and documented.
	if code, _, _ := run(t, "", "transfers", "--exit-code"); code != cli.ExitFindings {
		t.Errorf("transfers --exit-code with a finding: exit %d, want %d", code, cli.ExitFindings)
	}
	if code, _, _ := run(t, "", "transfers", "--exit-code", "--system", "billing-api"); code != 0 {
		t.Errorf("transfers --exit-code without findings: exit %d, want 0", code)
	}
	if _, out, _ := run(t, "", "retention", "--help"); !strings.Contains(out, "exits 4") {
		t.Errorf("retention --help does not document exit code 4:\n%s", out)
	}
	if _, out, _ := run(t, "", "transfers"); !strings.Contains(out, "EEA and adequacy as of") {
		t.Errorf("transfers table does not date its country list:\n%s", out)
	}

	// Refusals agree too: exit 2 and HTTP 400.
	bad := []struct {
		args []string
		path string
	}{
		{[]string{"inventory", "--as-of", "01/10/2026"}, "/api/v1/inventory?as_of=01/10/2026"},
		{[]string{"inventory", "--category", "billing.cvv"}, "/api/v1/inventory?category=billing.cvv"},
		{[]string{"inventory", "--system", "biling-api"}, "/api/v1/inventory?system=biling-api"},
		{[]string{"flows", "--group-by", "planet"}, "/api/v1/flows?group_by=planet"},
		{[]string{"flows", "--safeguard", "pinky_promise"}, "/api/v1/flows?safeguard=pinky_promise"},
		{[]string{"lineage", "reach", "--from", "support-desk"}, "/api/v1/lineage/reach?from=support-desk"},
		{[]string{"lineage", "blast", "--recipient", "Nobody"}, "/api/v1/lineage/blast?recipient=Nobody"},
		{[]string{"lineage", "export", "--format", "png"}, "/api/v1/lineage/export?format=png"},
		{[]string{"search"}, "/api/v1/search"},
	}
	for _, c := range bad {
		code, _, errOut := run(t, "", c.args...)
		status, body := api(c.path)
		if code != cli.ExitUsage || status != 400 {
			t.Errorf("datamap %s: exit %d (%s); GET %s: %d %s; want 2 and 400", strings.Join(c.args, " "), code, errOut, c.path, status, body)
		}
	}
	if code, _, errOut := run(t, "", "inventory", "--as-of", "yesterday"); !strings.Contains(errOut, "YYYY-MM-DD") {
		t.Errorf("malformed --as-of: exit %d, stderr %q lacks the expected format", code, errOut)
	}
	if code, _, _ := run(t, "", "lineage", "teleport"); code != cli.ExitUsage {
		t.Errorf("unknown lineage subcommand: exit %d", code)
	}
}

func TestQuestionCommandsTeach(t *testing.T) {
	for _, args := range [][]string{{"transfers"}, {"retention"}, {"search"}, {"lineage", "reach"}, {"lineage", "blast"}, {"lineage", "export"}} {
		code, out, _ := run(t, "", append(args, "--help")...)
		if code != 0 || !strings.Contains(out, "Usage: datamap "+strings.Join(args, " ")) || !strings.Contains(out, "Examples:") {
			t.Errorf("%s --help: %d %s", strings.Join(args, " "), code, out)
		}
	}
	if _, out, _ := run(t, "", "inventory", "--help"); !strings.Contains(out, "-as-of") || !strings.Contains(out, "end of that day") {
		t.Errorf("inventory --help does not explain --as-of:\n%s", out)
	}
}

// Every question of the table is a command: `datamap --help` lists it (or
// its group), its --help answers and shows a flag for each parameter (or
// the positional argument that fills it).
func TestEveryQuestionIsACommand(t *testing.T) {
	_, top, _ := run(t, "", "--help")
	for _, q := range questions.All() {
		words := strings.Fields(q.CommandPath())
		if !strings.Contains(top, "\n  "+words[0]+" ") {
			t.Errorf("%s: datamap --help does not list %q", q.Name, words[0])
		}
		code, out, errOut := run(t, "", append(words, "--help")...)
		help := out + errOut
		if code != cli.ExitOK || !strings.Contains(help, "Usage: datamap "+q.CommandPath()) {
			t.Errorf("%s: datamap %s --help exits %d:\n%s", q.Name, q.CommandPath(), code, help)
			continue
		}
		for _, p := range q.Params {
			if p.Name != q.Command.Positional && !strings.Contains(help, "-"+p.FlagName()) {
				t.Errorf("%s: its help shows no flag for %s:\n%s", q.Name, p.Name, help)
			}
		}
		if len(words) > 1 {
			_, group, _ := run(t, "", words[0], "--help")
			if !strings.Contains(group, "  "+words[1]+" ") && !strings.Contains(group, "Usage: datamap "+q.CommandPath()+" ") {
				t.Errorf("%s: datamap %s --help does not list %s:\n%s", q.Name, words[0], words[1], group)
			}
		}
	}
}
