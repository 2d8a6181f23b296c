package cli_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
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
