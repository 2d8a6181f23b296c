package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/back-trace/datamap/internal/testkit/testservers"
)

// TestBashCompletion sources the bash script as a user would and asks it
// to complete a command and a flag.
func TestBashCompletion(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	bin := t.TempDir()
	if err := os.Symlink(os.Args[0], filepath.Join(bin, "datamap")); err != nil {
		t.Fatal(err)
	}
	script := `source <(datamap completion bash) && complete -p datamap &&
COMP_WORDS=(datamap invent); COMP_CWORD=1; _datamap; echo "commands: ${COMPREPLY[*]}"
COMP_WORDS=(datamap inventory --as); COMP_CWORD=2; _datamap; echo "flags: ${COMPREPLY[*]}"`
	cmd := exec.Command("bash", "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), cliMode+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	for _, want := range []string{"complete -o default -F _datamap datamap", "commands: inventory\n", "flags: --as-of\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("bash printed:\n%s\nwant %q", out, want)
		}
	}
}

func TestCompletionScripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		if code, out, errOut := run(t, "", "completion", shell); code != 0 || !strings.Contains(out, "datamap __complete") {
			t.Errorf("completion %s: exit %d, %q %s", shell, code, out, errOut)
		}
	}
	if code, _, errOut := run(t, "", "completion", "tcsh"); code != 2 || !strings.Contains(errOut, "bash, zsh or fish") {
		t.Errorf("completion tcsh: exit %d, %s", code, errOut)
	}
}

func TestVersionFlag(t *testing.T) {
	if code, out, _ := run(t, "", "--version"); code != 0 || !strings.HasPrefix(out, "datamap ") {
		t.Errorf("--version: exit %d, %q", code, out)
	}
}

// TestWrongFlagGivesOneShortError: a mistyped flag gives one line naming
// it in --flag form with a suggestion, and the help command, on stderr;
// nothing on stdout.
func TestWrongFlagGivesOneShortError(t *testing.T) {
	code, out, errOut := run(t, "", "inventory", "--asof", "2026-01-01")
	if code != 2 || out != "" {
		t.Errorf("exit %d, stdout %q; want 2 and nothing", code, out)
	}
	want := "datamap inventory: unknown flag --asof; did you mean --as-of?\nRun 'datamap inventory --help' for usage.\n"
	if errOut != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, want)
	}
	if _, _, errOut := run(t, "", "inventory", "--format"); !strings.Contains(errOut, "argument: --format") {
		t.Errorf("a flag without its value: %q, want it named --format", errOut)
	}
}

// TestHelpShowsFlagsAsTheDocsWriteThem: --as-of, not Go's -as-of; -o stays short.
func TestHelpShowsFlagsAsTheDocsWriteThem(t *testing.T) {
	_, out, _ := run(t, "", "inventory", "--help")
	if !strings.Contains(out, "\n  --as-of string") || strings.Contains(out, "\n  -as-of") || !strings.Contains(out, "\n  -o string") {
		t.Errorf("inventory --help:\n%s", out)
	}
}

// TestConfigAndTaxonomyPrintEveryFormat: the commands that print data take
// --format like the questions.
func TestConfigAndTaxonomyPrintEveryFormat(t *testing.T) {
	isolate(t)
	code, out, errOut := run(t, "", "config", "--format", "json")
	var vars []map[string]string
	if err := json.Unmarshal([]byte(out), &vars); code != 0 || err != nil {
		t.Fatalf("config --format json: exit %d, %v: %s", code, err, errOut)
	}
	for _, v := range vars {
		if v["variable"] == "DATAMAP_SUBJECT_EVIDENCE" && v["value"] != "26280h" {
			t.Errorf("DATAMAP_SUBJECT_EVIDENCE = %q, want 26280h", v["value"])
		}
	}
	if _, out, _ := run(t, "", "config"); !strings.Contains(out, "26280h (3y)") || strings.Contains(out, "0m0s") {
		t.Errorf("config prints durations as Go does:\n%s", out)
	}
	code, out, errOut = run(t, "", "taxonomy", "--format", "csv")
	if code != 0 || !strings.HasPrefix(out, "kind,key,name,retention,special\n") || !strings.Contains(out, "purpose,payment_processing,") ||
		!strings.Contains(out, "legal_basis,contract,") {
		t.Errorf("taxonomy --format csv: exit %d %s\n%s", code, errOut, out)
	}
	if code, _, _ := run(t, "", "taxonomy", "--format", "yaml"); code != 2 {
		t.Errorf("taxonomy --format yaml: exit %d, want 2", code)
	}
}

// TestMissingRegistrySaysItIsMissing.
func TestMissingRegistrySaysItIsMissing(t *testing.T) {
	isolate(t)
	code, _, errOut := run(t, "", "drift", "--registry", filepath.Join(t.TempDir(), "datamap.yaml"))
	if code != 2 || !strings.Contains(errOut, "is missing") || strings.Contains(errOut, "invalid") {
		t.Errorf("drift with a missing registry: exit %d, %s", code, errOut)
	}
}

// TestReadOnlyQuestionNeedsOnlyClickHouse: with DATAMAP_CLICKHOUSE_DSN set
// and no NATS reachable, a question is answered from the catalog.
func TestReadOnlyQuestionNeedsOnlyClickHouse(t *testing.T) {
	testservers.SkipWithoutEngine(t)
	isolate(t)
	db := testservers.NewDatabase(t)
	t.Setenv("DATAMAP_CLICKHOUSE_DSN", fmt.Sprintf("clickhouse://%s:%s@%s/%s", "datamap", db.Password, db.Addr, db.Name))
	t.Setenv("DATAMAP_NATS_URL", "nats://127.0.0.1:1") // nothing listens there
	code, out, errOut := run(t, "", "inventory", "--format", "json")
	if code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("inventory with only ClickHouse: exit %d, %q %s", code, out, errOut)
	}
}
