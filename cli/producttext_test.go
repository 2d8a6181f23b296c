package cli_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/back-trace/datamap/internal/testkit/testservers"
	"github.com/back-trace/datamap/people"
	"github.com/back-trace/datamap/report"
)

// issueRef matches a reference to a tracker entry ("issue 4", "issue #4"):
// the product's help, output, docs and comments speak of the product, and a
// reader has no access to that tracker.
var issueRef = regexp.MustCompile(`(?i)\bissues? #?[0-9]+`)

// TestProductTextCitesNoIssueNumbers reads every source, doc, manifest and
// schema of the repository and the help and output of `datamap bench`.
func TestProductTextCitesNoIssueNumbers(t *testing.T) {
	root := filepath.Join("..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == ".git" || name == "bin" || name == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".md", ".yaml", ".yml", ".json", ".tmpl", ".sql", ".conf", ".sh", ".txt", "":
		default:
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if m := issueRef.FindString(line); m != "" && !strings.Contains(line, "issueRef") {
				t.Errorf("%s:%d cites %q; name what it is about instead", path, i+1, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, _ := run(t, "", "bench", "--help")
	if code != 0 || issueRef.MatchString(stdout) || !strings.Contains(stdout, "drain") {
		t.Errorf("bench --help (exit %d) cites an issue or lost its text:\n%s", code, stdout)
	}
}

// datamapCommand matches a command line quoted in prose: `datamap taxonomy`.
var datamapCommand = regexp.MustCompile("`datamap ([a-z-]+)")

// TestQuotedCommandsExist checks that every `datamap …` command the
// schemas and docs tell readers to run exists.
func TestQuotedCommandsExist(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "schemas", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs, _ := filepath.Glob(filepath.Join("..", "docs", "*.md"))
	files = append(append(files, docs...), filepath.Join("..", "README.md"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range datamapCommand.FindAllStringSubmatch(string(b), -1) {
			if code, _, stderr := run(t, "", m[1], "--help"); code != 0 {
				t.Errorf("%s tells readers to run `datamap %s`, which does not exist: %s", f, m[1], stderr)
			}
		}
	}
}

// TestDemoOutputFitsAndLogsCleanly runs the demo as `make demo > log` does,
// in a 120-column terminal's width: every table line fits, and stderr,
// not a terminal, holds one line per stage, no carriage returns and no
// escape codes.
func TestDemoOutputFitsAndLogsCleanly(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	isolate(t)
	t.Setenv("COLUMNS", "120")
	t.Setenv("NO_COLOR", "1")
	code, stdout, stderr := run(t, "", "demo", "--events", "400", "--out", t.TempDir())
	if code != 0 {
		t.Fatalf("demo exited %d:\n%s\n%s", code, stdout, stderr)
	}
	for _, l := range strings.Split(stdout, "\n") {
		if n := utf8.RuneCountInString(l); n > 120 && !strings.HasPrefix(strings.TrimSpace(l), "/") { // a path is as long as it is
			t.Errorf("a %d-character line in 120 columns: %q", n, l)
		}
	}
	if strings.ContainsAny(stdout+stderr, "\r\x1b") {
		t.Errorf("carriage returns or escape codes in the output:\n%q", stderr)
	}
	for _, stage := range []string{"published: ", "in catalog: "} {
		if strings.Count(stderr, stage) != 1 {
			t.Errorf("stderr should have one line %q:\n%s", stage, stderr)
		}
	}
	// The services' traces: the traffic table, and the two calls only
	// traffic shows, each one drift row.
	// (Columns are shortened to fit: the patterns match their starts.)
	if !strings.Contains(stdout, "TRAFFIC — ") || !regexp.MustCompile(`(?m)^website +static\.hotjar\.c\S* +vendor +Hotjar +MT +false +false`).MatchString(stdout) {
		t.Errorf("no traffic table with website's calls to Hotjar:\n%s", stdout)
	}
	for kind, subject := range map[string]string{report.KindTrafficUndeclaredRecipient: "website → Hotjar (MT)",
		report.KindTrafficUnknownDestination: "ingest.feedback-widget"} {
		pattern := `(?m)^(high|medium|low) +` + regexp.QuoteMeta(kind[:20]) + `\S* +` + regexp.QuoteMeta(subject)
		if rows := regexp.MustCompile(pattern).FindAllString(stdout, -1); len(rows) != 1 {
			t.Errorf("%d drift rows of %s, want 1:\n%s", len(rows), kind, stdout)
		}
	}
}

// TestDemoShowsEachFindingAboutPeopleOnce: the demo's people stories make
// each finding about people's rights appear once in the drift table it
// prints — which needs the consents and requests, written to the subject
// tables after their batch's events, to be in the catalog before the demo
// asks.
func TestDemoShowsEachFindingAboutPeopleOnce(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	isolate(t)
	// The default size: with it the services publish for long enough that
	// the people's events are in the last batches.
	code, stdout, stderr := run(t, "", "demo", "--out", t.TempDir())
	if code != 0 {
		t.Fatalf("demo exited %d:\n%s\n%s", code, stdout, stderr)
	}
	for _, kind := range []string{people.FindingProcessingAfterWithdrawal, people.FindingErasureIncomplete,
		people.FindingRequestOverdue, people.FindingProcessingAfterErasure, report.KindChildrenData} {
		rows := regexp.MustCompile(`(?m)^(high|medium|low) +`+kind+` `).FindAllString(stdout, -1)
		if len(rows) != 1 {
			t.Errorf("%d drift rows of %s, want 1:\n%s", len(rows), kind, stdout)
		}
	}
	if !strings.Contains(stdout, "open data-subject requests (1)") {
		t.Errorf("the overdue portability request is not listed:\n%s\nstderr:\n%s", stdout, stderr)
	}
}
