package report

import (
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"
)

// Sheet names of the XLSX record.
const (
	SheetController = "Controller"
	SheetProcessor  = "Processor"
	SheetUndeclared = "Undeclared"
	SheetFindings   = "Findings"
)

// writeXLSX writes the record as a workbook in the layout of the UK ICO
// documentation templates: on the controller and processor sheets a header
// block (controller, representative, DPO, as-of, hash), an empty row, then
// one row per activity under the template's column titles followed by
// datamap's evidence columns. Undeclared processing and findings get
// sheets of their own.
func writeXLSX(w io.Writer, rec *Record) error {
	f := excelize.NewFile()
	defer f.Close()
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Color: []string{"DDEBF7"}, Pattern: 1},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return err
	}
	wrap, err := f.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return err
	}
	sheet := func(name string, withHeader bool, header []string, rows [][]string) error {
		if _, err := f.NewSheet(name); err != nil {
			return err
		}
		row := 1
		put := func(values []string) error {
			cells := make([]any, len(values))
			for i, v := range values {
				cells[i] = v
			}
			cell, _ := excelize.CoordinatesToCellName(1, row)
			row++
			return f.SetSheetRow(name, cell, &cells)
		}
		if withHeader {
			if err := put([]string{titleRecord}); err != nil {
				return err
			}
			for _, fl := range rec.HeaderBlock() {
				if err := put([]string{fl.Name, fl.Value}); err != nil {
					return err
				}
			}
			row++ // an empty row between the block and the table
		}
		first := row
		if err := put(header); err != nil {
			return err
		}
		for _, r := range rows {
			if err := put(r); err != nil {
				return err
			}
		}
		last, _ := excelize.CoordinatesToCellName(len(header), first)
		start, _ := excelize.CoordinatesToCellName(1, first)
		if err := f.SetCellStyle(name, start, last, bold); err != nil {
			return err
		}
		if row > first+1 {
			end, _ := excelize.CoordinatesToCellName(len(header), row-1)
			below, _ := excelize.CoordinatesToCellName(1, first+1)
			if err := f.SetCellStyle(name, below, end, wrap); err != nil {
				return err
			}
		}
		endCol, _ := excelize.ColumnNumberToName(len(header))
		if err := f.SetColWidth(name, "A", endCol, 28); err != nil {
			return err
		}
		return f.SetPanes(name, &excelize.Panes{Freeze: true, YSplit: first, TopLeftCell: fmt.Sprintf("A%d", first+1), ActivePane: "bottomLeft"})
	}
	if rec.Role != RoleProcessor {
		if err := sheet(SheetController, true, ControllerColumns, rec.ControllerRows()); err != nil {
			return fmt.Errorf("report: xlsx %s sheet: %w", SheetController, err)
		}
	}
	if rec.Role != RoleController {
		if err := sheet(SheetProcessor, true, ProcessorColumns, rec.ProcessorRows()); err != nil {
			return fmt.Errorf("report: xlsx %s sheet: %w", SheetProcessor, err)
		}
	}
	if err := sheet(SheetUndeclared, false, UndeclaredColumns, rec.UndeclaredRows()); err != nil {
		return fmt.Errorf("report: xlsx %s sheet: %w", SheetUndeclared, err)
	}
	if err := sheet(SheetFindings, false, FindingColumns, rec.FindingRows()); err != nil {
		return fmt.Errorf("report: xlsx %s sheet: %w", SheetFindings, err)
	}
	if err := f.DeleteSheet("Sheet1"); err != nil {
		return err
	}
	f.SetActiveSheet(0)
	return f.Write(w)
}
