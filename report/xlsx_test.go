package report_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/back-trace/datamap/report"
)

// TestXLSXCells opens the workbook with excelize and checks it cell by cell
// against the same record's table rows.
func TestXLSXCells(t *testing.T) {
	rec := fixtureRecord(t, report.RoleAll)
	var buf bytes.Buffer
	if err := report.Write(&buf, rec, "xlsx"); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := []string{report.SheetController, report.SheetProcessor, report.SheetUndeclared, report.SheetFindings}
	if got := f.GetSheetList(); !slices.Equal(got, want) {
		t.Fatalf("sheets %v, want %v", got, want)
	}
	cell := func(sheet, ref string) string {
		t.Helper()
		v, err := f.GetCellValue(sheet, ref)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// The header block: controller, representative, DPO, as-of, hash.
	header := rec.HeaderBlock()
	for _, sheet := range []string{report.SheetController, report.SheetProcessor} {
		if got := cell(sheet, "A1"); got != "Record of processing activities (GDPR Article 30)" {
			t.Errorf("%s!A1 = %q", sheet, got)
		}
		for i, fl := range header {
			row := i + 2
			if a, b := cell(sheet, cellName(1, row)), cell(sheet, cellName(2, row)); a != fl.Name || b != fl.Value {
				t.Errorf("%s row %d = %q, %q; want %q, %q", sheet, row, a, b, fl.Name, fl.Value)
			}
		}
	}
	if got := cell(report.SheetController, "B4"); got != "Privacy office, privacy@example.test, +31 20 000 0000" {
		t.Errorf("controller contact B4 = %q", got)
	}
	check := func(sheet string, first int, columns []string, rows [][]string) {
		t.Helper()
		for c, h := range columns {
			if got := cell(sheet, cellName(c+1, first)); got != h {
				t.Errorf("%s header col %d = %q, want %q", sheet, c+1, got, h)
			}
		}
		for r, row := range rows {
			for c, v := range row {
				if got := cell(sheet, cellName(c+1, first+1+r)); got != v {
					t.Errorf("%s!%s = %q, want %q", sheet, cellName(c+1, first+1+r), got, v)
				}
			}
		}
		if got := cell(sheet, cellName(1, first+1+len(rows))); got != "" {
			t.Errorf("%s: unexpected row after the table: %q", sheet, got)
		}
	}
	tableRow := len(header) + 3 // title, header block, an empty row
	check(report.SheetController, tableRow, report.ControllerColumns, rec.ControllerRows())
	check(report.SheetProcessor, tableRow, report.ProcessorColumns, rec.ProcessorRows())
	check(report.SheetUndeclared, 1, report.UndeclaredColumns, rec.UndeclaredRows())
	check(report.SheetFindings, 1, report.FindingColumns, rec.FindingRows())

	// Spot checks in the ICO layout, independent of the row builders.
	if got := cell(report.SheetController, cellName(1, tableRow+1)); got != "billing" {
		t.Errorf("first activity id %q", got)
	}
	if got := cell(report.SheetController, cellName(4, tableRow+1)); got != "invoicing; payment_processing" {
		t.Errorf("purpose of processing %q", got)
	}
	if got := cell(report.SheetController, cellName(14, tableRow+1)); got != "contract; legal_obligation" {
		t.Errorf("Article 6 lawful basis %q", got)
	}
	if got := cell(report.SheetController, cellName(23, tableRow+1)); got != "270" {
		t.Errorf("observed events of billing %q", got)
	}
	if got := cell(report.SheetFindings, "A2"); got != "high" {
		t.Errorf("first finding severity %q", got)
	}
}

func cellName(col, row int) string {
	s, _ := excelize.CoordinatesToCellName(col, row)
	return s
}
