package query_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// writingSQL matches the statements that change the catalog. A query
// package that only reads can be given a read-only ClickHouse user, and
// its callers can ask it anything without changing what later answers see.
var writingSQL = regexp.MustCompile(`\b(INSERT|ALTER|DELETE|UPDATE|DROP|TRUNCATE|OPTIMIZE|CREATE|RENAME|EXCHANGE)\b`)

// writingCalls are the driver calls that write: reads go through Query,
// QueryRow and Select.
var writingCalls = map[string]bool{"Exec": true, "PrepareBatch": true, "AsyncInsert": true}

// TestQueryOnlyReads fails when the package's code writes to the catalog:
// folding the rollups belongs in catalog/rollup, the audit trail and
// forgetting a person in catalog/peoplestore, events in sinks/clickhouse,
// tables in catalog/schema.
func TestQueryOnlyReads(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BasicLit:
				if n.Kind == token.STRING {
					if w := writingSQL.FindString(n.Value); w != "" {
						t.Errorf("%s: %s in a statement; package query only reads: write in the package that owns the table", fset.Position(n.Pos()), w)
					}
				}
			case *ast.SelectorExpr:
				if writingCalls[n.Sel.Name] {
					t.Errorf("%s: call of %s; package query only reads: write in the package that owns the table", fset.Position(n.Pos()), n.Sel.Name)
				}
			}
			return true
		})
	}
	if checked == 0 {
		t.Fatal("no source file found: the test must run in the package's directory")
	}
}

// TestDomainPackagesOwnTheirTypes fails when a domain package imports the
// catalog: dependencies point one way, from catalog/query to the types it
// fills (report.Observation, people.Fact), never back.
func TestDomainPackagesOwnTheirTypes(t *testing.T) {
	for _, dir := range []string{"../../report", "../../people", "../../registry"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no source files (%v)", dir, err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				if strings.Contains(imp.Path.Value, "/datamap/catalog/") {
					t.Errorf("%s imports %s: a domain package owns its types; let the catalog fill them", name, imp.Path.Value)
				}
			}
		}
	}
}
