package personal

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite the rate table in docs/personal-values.md")

// entry is one line of a corpus file.
type entry struct {
	kind, value string
	line        int
}

func readCorpus(t testing.TB, name string) []entry {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []entry
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		kind, value, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("%s:%d: want kind<TAB>value", name, n)
		}
		if strings.HasPrefix(value, `"`) {
			if value, err = strconv.Unquote(value); err != nil {
				t.Fatalf("%s:%d: %v", name, n, err)
			}
		}
		out = append(out, entry{kind, value, n})
	}
	return out
}

// rate counts, per kind, how many values of a corpus were judged right.
type rate struct{ right, all int }

// TestCorpus holds the detector to its corpus: every personal value found
// as its kind, every legitimate value passed. The rates per kind are the
// table of docs/personal-values.md (go test -run TestCorpus -update
// rewrites it).
func TestCorpus(t *testing.T) {
	found := map[string]*rate{}
	for _, e := range readCorpus(t, "personal.txt") {
		r := found[e.kind]
		if r == nil {
			r = &rate{}
			found[e.kind] = r
		}
		r.all++
		got := Find(e.value)
		if got != "" {
			r.right++
		}
		if got == "" {
			t.Errorf("personal.txt:%d: %q passes; it is %s", e.line, e.value, Kind(e.kind).Describe())
		} else if string(got) != e.kind {
			t.Logf("personal.txt:%d: %q found as %s, listed as %s", e.line, e.value, got, e.kind)
		}
		if red := Redact(e.value); Find(red) != "" || strings.Contains(red, e.value) {
			t.Errorf("personal.txt:%d: Redact(%q) = %q still holds it", e.line, e.value, red)
		}
	}
	passed := map[string]*rate{}
	for _, e := range readCorpus(t, "legitimate.txt") {
		r := passed[e.kind]
		if r == nil {
			r = &rate{}
			passed[e.kind] = r
		}
		r.all++
		if got := Find(e.value); got != "" {
			t.Errorf("legitimate.txt:%d: %q refused as %s", e.line, e.value, got.Describe())
		} else {
			r.right++
		}
		if red := Redact(e.value); red != e.value {
			t.Errorf("legitimate.txt:%d: Redact(%q) = %q", e.line, e.value, red)
		}
	}
	table := rateTable(found, passed)
	t.Log("\n" + table)
	checkDocTable(t, table)
}

func rateTable(found, passed map[string]*rate) string {
	var b strings.Builder
	b.WriteString("| personal values | found |\n|---|---|\n")
	for _, k := range Kinds {
		if r := found[string(k)]; r != nil {
			fmt.Fprintf(&b, "| %s | %d of %d (%.0f%%) |\n", k.Describe(), r.right, r.all, 100*float64(r.right)/float64(r.all))
		}
	}
	b.WriteString("\n| legitimate values | passed |\n|---|---|\n")
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range passed {
			if !yield(k) {
				return
			}
		}
	}) {
		r := passed[k]
		fmt.Fprintf(&b, "| %s | %d of %d (%.0f%%) |\n", k, r.right, r.all, 100*float64(r.right)/float64(r.all))
	}
	return b.String()
}

const (
	docPath    = "../../docs/personal-values.md"
	tableBegin = "<!-- rates: begin -->\n"
	tableEnd   = "<!-- rates: end -->\n"
)

// checkDocTable keeps the documented rates those of the corpus.
func checkDocTable(t *testing.T, table string) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok1 := strings.Cut(string(doc), tableBegin)
	_, after, ok2 := strings.Cut(rest, tableEnd)
	if !ok1 || !ok2 {
		t.Fatalf("%s: no %q … %q around the rate table", docPath, tableBegin, tableEnd)
	}
	want := before + tableBegin + table + tableEnd + after
	if *update {
		if err := os.WriteFile(docPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want != string(doc) {
		t.Errorf("%s: the rate table is not the corpus's; run go test ./events/personal -run TestCorpus -update", docPath)
	}
}

// Every value of the product's own files must pass: the taxonomy, the
// BackTrace registry, the demo's strings, the events in the docs. Two
// kinds of value are personal on purpose and never travel in an event:
// the controller's contact address in the registry (an Article 30 record
// names it), and the demo people's phone numbers, from which their subject
// references are computed.
func TestProductValuesPass(t *testing.T) {
	check := func(where, s string) {
		if k := Find(s); k != "" {
			t.Errorf("%s: %q refused as %s", where, s, k.Describe())
		}
	}
	for _, file := range []string{"../../schemas/taxonomy.yaml", "../../schemas/backtrace-registry.yaml"} {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		var walk func(n *yaml.Node)
		walk = func(n *yaml.Node) {
			if n.Kind == yaml.ScalarNode {
				check(fmt.Sprintf("%s:%d", file, n.Line), n.Value)
			}
			for i, c := range n.Content {
				if n.Kind == yaml.MappingNode && i%2 == 1 && n.Content[i-1].Value == "email" {
					continue
				}
				walk(c)
			}
		}
		walk(&doc)
	}
	files, _ := filepath.Glob("../../demo/*.go")
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		identifiers := map[ast.Node]bool{} // {subjectref.Phone, "+31 6 …", …}
		ast.Inspect(f, func(n ast.Node) bool {
			if c, ok := n.(*ast.CompositeLit); ok && len(c.Elts) > 1 {
				if sel, ok := c.Elts[0].(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == "subjectref" {
						identifiers[c.Elts[1]] = true
					}
				}
			}
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING && !identifiers[lit] {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					check(fset.Position(lit.Pos()).String(), s)
				}
			}
			return true
		})
	}
	docs, _ := filepath.Glob("../../docs/*.md")
	block := regexp.MustCompile("(?s)```json\n(.*?)```")
	for _, file := range docs {
		raw, _ := os.ReadFile(file)
		for _, m := range block.FindAllSubmatch(raw, -1) {
			var ev map[string]any
			if json.Unmarshal(m[1], &ev) != nil || ev["specversion"] == nil {
				continue
			}
			var walk func(v any)
			walk = func(v any) {
				switch v := v.(type) {
				case string:
					check(file, v)
				case map[string]any:
					for _, x := range v {
						walk(x)
					}
				}
			}
			walk(ev)
		}
	}
}

// Event ids are UUIDs; none may ever read as personal data (digit groups
// of a UUID once passed the card-number checksum about 1 time in 600).
func TestUUIDsAreNeverPersonalValues(t *testing.T) {
	for i := 0; i < 20_000; i++ {
		v4, v7 := uuid.NewString(), uuid.Must(uuid.NewV7()).String()
		// The scan too: the UUID shortcut of Find must never hide what
		// the scan would find.
		if Find(v4) != "" || Find(v7) != "" || findPlain(v4, traitsOf(v4)) != "" || findPlain(v7, traitsOf(v7)) != "" || Find("id "+v4) != "" {
			t.Fatalf("UUID flagged: %s %s", v4, v7)
		}
	}
}

func TestAdvice(t *testing.T) {
	for _, k := range Kinds {
		if k.Advice() == "" || strings.HasPrefix(k.Describe(), string(k)) && k != Email {
			t.Errorf("%s: describe %q, advice %q", k, k.Describe(), k.Advice())
		}
	}
	if !strings.Contains(Phone.Advice(), "not a number that dials") {
		t.Errorf("the phone advice must say what to send instead: %q", Phone.Advice())
	}
}

func TestRedactKeepsTheRest(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`call bob@example.com now`, `call [redacted: e-mail] now`},
		{`from 203.0.113.9:8080, card 4111.1111.1111.1111`, `from [redacted: IP address], card [redacted: payment card number]`},
		{`phone +44(0)20 7946 0958 or 0612345678`, `phone [redacted: phone number] or [redacted: phone number]`},
		{`pay to DE89 3704 0044 0532 0130 00 by 2026-11-01`, `pay to [redacted: IBAN] by 2026-11-01`},
		{`ann＠example.org`, `[redacted: e-mail]`},
		{`01934f7e-7c1a-7b3e-9d2a-5f0c8e1b2a43 at 2026-11-01T10:00:00Z`, `01934f7e-7c1a-7b3e-9d2a-5f0c8e1b2a43 at 2026-11-01T10:00:00Z`},
	} {
		if got := Redact(c.in); got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzFind: whatever the text, Find and Redact do not panic, and nothing
// is left for Find in what Redact returns.
func FuzzFind(f *testing.F) {
	for _, name := range []string{"personal.txt", "legitimate.txt"} {
		for _, e := range readCorpus(f, name) {
			f.Add(e.value)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		Find(s)
		if red := Redact(s); Find(red) != "" {
			t.Fatalf("Redact(%q) = %q: Find still finds %s", s, red, Find(red))
		}
	})
}

func BenchmarkFind(b *testing.B) {
	for _, s := range []string{
		"SMS delivery — processing activity recorded in the BackTrace register under the operations and billing domain",
		"billing.payment_token",
		"DPA-TWILIO-2023",
	} {
		b.Run(s[:min(len(s), 12)], func(b *testing.B) {
			for b.Loop() {
				if Find(s) != "" {
					b.Fatal("flagged")
				}
			}
		})
	}
}
