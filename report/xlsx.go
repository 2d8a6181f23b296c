package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// Sheet names of the XLSX record.
const (
	SheetRecord     = "Record"
	SheetController = "Controller"
	SheetCNIL       = "CNIL register"
	SheetProcessor  = "Processor"
	SheetUndeclared = "Undeclared"
	SheetFindings   = "Findings"
)

// The workbook's look: the font excelize's default style uses, named on
// every style so that no reader falls back to its own default.
const (
	xlsxFont     = "Calibri"
	xlsxFontSize = 11.0
	// xlsxLineHeight is the height in points of one line of xlsxFont at
	// xlsxFontSize; with column widths in characters it sizes rows to show
	// their wrapped text.
	xlsxLineHeight = 15.0
	xlsxDateFormat = `yyyy-mm-dd`
	xlsxPaperA3    = 8
	xlsxPaperA4    = 9
)

// writeXLSX writes the record as a workbook an auditor can sort, filter,
// sum and print. The Record sheet holds the header block (controller,
// representative, DPO, as-of, hash). Each table sheet starts with its
// header row: in the column order of the UK ICO documentation templates
// for controllers and processors, followed by datamap's evidence; then
// undeclared processing and findings. Counts are numbers and times are
// dates; the header row is frozen, filtered and repeated on every printed
// page; pages are landscape and fit the table's width; rows are as tall as
// their wrapped text. The document properties name the record and its
// controller, and date it at its generation.
func writeXLSX(w io.Writer, rec *Record) error {
	f := excelize.NewFile()
	defer f.Close()
	x, err := newXLSXStyles(f)
	if err != nil {
		return err
	}
	header := rec.HeaderBlock()
	rows := make([][]string, 0, len(header))
	for _, fl := range header {
		rows = append(rows, []string{fl.Name, fl.Value})
	}
	if err := x.table(SheetRecord, []string{"Field", "Value"}, rows, xlsxPaperA4, rec); err != nil {
		return fmt.Errorf("report: xlsx %s sheet: %w", SheetRecord, err)
	}
	note := len(rows) + 3 // below the block, after an empty row
	if err := f.SetCellValue(SheetRecord, cellRef(1, note), hashNote); err != nil {
		return err
	}
	if err := f.MergeCell(SheetRecord, cellRef(1, note), cellRef(2, note)); err != nil {
		return err
	}
	if err := f.SetCellStyle(SheetRecord, cellRef(1, note), cellRef(2, note), x.text); err != nil {
		return err
	}
	if err := f.SetRowHeight(SheetRecord, note, float64(wrappedLines(hashNote, 70))*xlsxLineHeight+2); err != nil {
		return err
	}
	type table struct {
		name    string
		columns []string
		rows    [][]string
		paper   int
	}
	var tables []table
	if rec.Role != RoleProcessor {
		tables = append(tables, table{SheetController, ControllerColumns, rec.ControllerRows(), xlsxPaperA3},
			table{SheetCNIL, CNILColumns, rec.CNILRows(), xlsxPaperA3})
	}
	if rec.Role != RoleController {
		tables = append(tables, table{SheetProcessor, ProcessorColumns, rec.ProcessorRows(), xlsxPaperA3})
	}
	tables = append(tables, table{SheetUndeclared, UndeclaredColumns, rec.UndeclaredRows(), xlsxPaperA4},
		table{SheetFindings, FindingColumns, rec.FindingRows(), xlsxPaperA4})
	for _, s := range tables {
		if err := x.table(s.name, s.columns, s.rows, s.paper, rec); err != nil {
			return fmt.Errorf("report: xlsx %s sheet: %w", s.name, err)
		}
	}
	if err := embedXLSX(f, rec); err != nil {
		return err
	}
	if err := f.DeleteSheet("Sheet1"); err != nil {
		return err
	}
	f.SetActiveSheet(0)
	if err := setXLSXProperties(f, rec); err != nil {
		return err
	}
	return f.Write(w)
}

// embedXLSX writes the record's canonical JSON into a very hidden sheet
// (no reader shows it; Verify reads it), in cells of at most 32,000
// characters, the limit a cell holds.
func embedXLSX(f *excelize.File, rec *Record) error {
	b, err := rec.MarshalJSONCanonical()
	if err != nil {
		return err
	}
	if _, err := f.NewSheet(SheetVerification); err != nil {
		return err
	}
	s := string(b)
	for row := 1; s != ""; row++ {
		n := min(len(s), 32000)
		for n < len(s) && !utf8.RuneStart(s[n]) {
			n--
		}
		if err := f.SetCellStr(SheetVerification, cellRef(1, row), s[:n]); err != nil {
			return err
		}
		s = s[n:]
	}
	return f.SetSheetVisible(SheetVerification, false, true)
}

// xlsxStyles are the workbook's cell styles.
type xlsxStyles struct {
	f                         *excelize.File
	header, text, count, date int
}

func newXLSXStyles(f *excelize.File) (*xlsxStyles, error) {
	top := &excelize.Alignment{WrapText: true, Vertical: "top"}
	font := &excelize.Font{Family: xlsxFont, Size: xlsxFontSize}
	x := &xlsxStyles{f: f}
	var err error
	if x.header, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Family: xlsxFont, Size: xlsxFontSize},
		Fill: excelize.Fill{Type: "pattern", Color: []string{"DDEBF7"}, Pattern: 1}, Alignment: top}); err != nil {
		return nil, err
	}
	if x.text, err = f.NewStyle(&excelize.Style{Font: font, Alignment: top}); err != nil {
		return nil, err
	}
	if x.count, err = f.NewStyle(&excelize.Style{Font: font, Alignment: &excelize.Alignment{Vertical: "top"}, NumFmt: 3}); err != nil { // #,##0
		return nil, err
	}
	date := xlsxDateFormat
	if x.date, err = f.NewStyle(&excelize.Style{Font: font, Alignment: &excelize.Alignment{Vertical: "top", Horizontal: "left"}, CustomNumFmt: &date}); err != nil {
		return nil, err
	}
	return x, nil
}

// table writes one sheet: the header row, then the rows, typed by column.
func (x *xlsxStyles) table(name string, columns []string, rows [][]string, paper int, rec *Record) error {
	f := x.f
	if _, err := f.NewSheet(name); err != nil {
		return err
	}
	widths := columnWidths(columns, rows)
	for c, w := range widths {
		col, _ := excelize.ColumnNumberToName(c + 1)
		if err := f.SetColWidth(name, col, col, w); err != nil {
			return err
		}
	}
	if err := x.row(name, 1, columns, widths, nil); err != nil {
		return err
	}
	kinds := make([]columnKind, len(columns))
	for c, title := range columns {
		kinds[c] = columnKindOf(title)
	}
	for r, row := range rows {
		if err := x.row(name, r+2, row, widths, kinds); err != nil {
			return err
		}
	}
	// Styles by range, a column at a time: one call per column, not per cell.
	if err := f.SetCellStyle(name, "A1", cellRef(len(columns), 1), x.header); err != nil {
		return err
	}
	if len(rows) > 0 {
		for c, kind := range kinds {
			style := map[columnKind]int{kindText: x.text, kindCount: x.count, kindTime: x.date}[kind]
			if err := f.SetCellStyle(name, cellRef(c+1, 2), cellRef(c+1, len(rows)+1), style); err != nil {
				return err
			}
		}
	}
	last := cellRef(len(columns), max(len(rows)+1, 2))
	if err := f.AutoFilter(name, "A1:"+last, nil); err != nil {
		return err
	}
	if err := f.SetPanes(name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	return x.printSetup(name, paper, rec)
}

// row writes one row: counts as numbers, times as dates, the rest as text
// (the table styles them by column), and sets its height to show its
// tallest wrapped cell. kinds are the columns' kinds; nil writes the
// header row, all text.
func (x *xlsxStyles) row(sheet string, r int, values []string, widths []float64, kinds []columnKind) error {
	lines := 1
	for c, v := range values {
		var value any = v
		kind := kindText
		if kinds != nil {
			kind = kinds[c]
		}
		switch kind {
		case kindCount:
			if n, err := strconv.ParseUint(v, 10, 64); err == nil {
				value = n
			}
		case kindTime:
			if t, err := time.Parse(time.DateOnly, v); err == nil {
				value = t.UTC()
			}
		}
		if v != "" {
			if err := x.f.SetCellValue(sheet, cellRef(c+1, r), value); err != nil {
				return err
			}
		}
		if kind == kindText {
			lines = max(lines, wrappedLines(v, widths[c]))
		}
	}
	return x.f.SetRowHeight(sheet, r, float64(lines)*xlsxLineHeight+2)
}

// printSetup makes the sheet print legibly: landscape, as wide as one
// page, the header row on every page, the record's identity in the page
// header and its hash in the footer.
func (x *xlsxStyles) printSetup(sheet string, paper int, rec *Record) error {
	f := x.f
	landscape, one, any := "landscape", 1, 0
	if err := f.SetPageLayout(sheet, &excelize.PageLayoutOptions{Size: &paper, Orientation: &landscape,
		FitToWidth: &one, FitToHeight: &any}); err != nil {
		return err
	}
	fit := true
	if err := f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return err
	}
	margin, edge := 0.4, 0.2
	if err := f.SetPageMargins(sheet, &excelize.PageLayoutMarginsOptions{Left: &margin, Right: &margin,
		Top: &margin, Bottom: &margin, Header: &edge, Footer: &edge}); err != nil {
		return err
	}
	if err := f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles", Scope: sheet,
		RefersTo: "'" + sheet + "'!$1:$1"}); err != nil {
		return err
	}
	amp := strings.NewReplacer("&", "&&")
	return f.SetHeaderFooter(sheet, &excelize.HeaderFooterOptions{
		OddHeader: "&L" + amp.Replace(titleRecord) + "&C" + amp.Replace(rec.Controller.Name) + ", as of " +
			rec.AsOf.Format(time.DateOnly) + "&R" + amp.Replace(sheet) + ", page &P of &N",
		OddFooter: "&LContent SHA-256 " + rec.ContentSHA256 + "&Rdatamap " + amp.Replace(rec.DatamapVersion),
	})
}

// setXLSXProperties names the document after the record and its
// controller and dates it at the record's generation (its as-of date when
// it has no generation time), not at the library's template.
func setXLSXProperties(f *excelize.File, rec *Record) error {
	when := rec.AsOf
	if t, err := time.Parse(time.RFC3339, rec.GeneratedAt); err == nil {
		when = t
	}
	stamp := when.UTC().Format(time.RFC3339)
	if err := f.SetDocProps(&excelize.DocProperties{
		Title:          titleRecord + ": " + rec.Controller.Name + " as of " + rec.AsOf.Format(time.DateOnly),
		Subject:        "Record of processing activities under GDPR Article 30",
		Creator:        rec.Controller.Name,
		LastModifiedBy: rec.Controller.Name,
		Created:        stamp,
		Modified:       stamp,
		Description:    "Content SHA-256 " + rec.ContentSHA256 + " (datamap report verify FILE checks it)",
		Keywords:       "GDPR; Article 30; record of processing activities",
		Category:       "Record of processing activities",
		Version:        rec.DatamapVersion,
		Language:       "en",
	}); err != nil {
		return err
	}
	return f.SetAppProps(&excelize.AppProperties{Application: "datamap", Company: rec.Controller.Name})
}

// columnWidths sizes each column to its content: counts and dates to fit,
// text between the header's longest word and a readable line.
func columnWidths(columns []string, rows [][]string) []float64 {
	widths := make([]float64, len(columns))
	for c, title := range columns {
		switch columnKindOf(title) {
		case kindCount:
			widths[c] = 12
			continue
		case kindTime:
			widths[c] = 12
			continue
		}
		longest := 0
		for _, word := range strings.Fields(title) {
			longest = max(longest, utf8.RuneCountInString(word))
		}
		for _, r := range rows {
			if c < len(r) {
				longest = max(longest, utf8.RuneCountInString(r[c]))
			}
		}
		widths[c] = float64(min(max(longest+2, 14), 40))
	}
	return widths
}

// wrappedLines estimates the lines text takes in a column of width chars,
// wrapping at spaces as spreadsheets do.
func wrappedLines(text string, width float64) int {
	limit := max(int(width)-1, 1)
	lines := 0
	for _, para := range strings.Split(text, "\n") {
		lines++
		n := 0
		for _, word := range strings.Fields(para) {
			w := utf8.RuneCountInString(word)
			switch {
			case n == 0:
				n = w
			case n+1+w <= limit:
				n += 1 + w
			default:
				lines++
				n = w
			}
			for n > limit { // a word longer than the column wraps by itself
				lines++
				n -= limit
			}
		}
	}
	return lines
}

func cellRef(col, row int) string {
	s, _ := excelize.CoordinatesToCellName(col, row)
	return s
}
