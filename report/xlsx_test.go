package report_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/thedatashed/xlsxreader"

	"github.com/back-trace/datamap/report"
)

// icoControllerColumns are the column titles of the UK ICO's
// documentation template for controllers (sheet Template, row 9), the
// Article 30 part, verbatim and in order.
var icoControllerColumns = []string{
	"Business function",
	"Purpose of processing",
	"Name and contact details of joint controller (if applicable)",
	"Categories of individuals",
	"Categories of personal data",
	"Categories of recipients",
	"Link to contract with processor",
	"Names of third countries or international organisations that personal data are transferred to (if applicable)",
	"Safeguards for exceptional transfers of personal data to third countries or international organisations (if applicable)",
	"Retention schedule (if possible)",
	"General description of technical and organisational security measures (if possible)",
	"Article 6 lawful basis for processing personal data",
	"Article 9 condition for processing special category data",
	"Legitimate interests for the processing (if applicable)",
	"Link to record of legitimate interests assessment (if applicable)",
	"Rights available to individuals",
	"Existence of automated decision-making, including profiling (if applicable)",
	"The source of the personal data (if applicable)",
	"Link to record of consent",
	"Location of personal data",
	"Data Protection Impact Assessment required?",
	"Data Protection Impact Assessment progress",
	"Link to Data Protection Impact Assessment",
	"Has a personal data breach occurred?",
	"Link to record of personal data breach",
}

func xlsxOf(t *testing.T, role string) (*report.Record, []byte) {
	t.Helper()
	rec := fixtureRecord(t, role)
	var buf bytes.Buffer
	if err := report.Write(&buf, rec, "xlsx"); err != nil {
		t.Fatal(err)
	}
	return rec, buf.Bytes()
}

// readSheet reads a sheet with xlsxreader, a reader independent of the
// library that wrote the workbook, into cells by row and column (1-based).
func readSheet(t *testing.T, x *xlsxreader.XlsxFile, sheet string) map[int]map[int]xlsxreader.Cell {
	t.Helper()
	out := map[int]map[int]xlsxreader.Cell{}
	for row := range x.ReadRows(sheet) {
		if row.Error != nil {
			t.Fatalf("%s row %d: %v", sheet, row.Index, row.Error)
		}
		out[row.Index] = map[int]xlsxreader.Cell{}
		for _, c := range row.Cells {
			out[row.Index][c.ColumnIndex()+1] = c
		}
	}
	return out
}

// TestXLSXCellsAndTypes reads the workbook with xlsxreader and checks every
// table cell against the record's rows: counts are numbers, times are
// dates, the rest text; the controller columns follow the ICO template.
func TestXLSXCellsAndTypes(t *testing.T) {
	rec, data := xlsxOf(t, report.RoleAll)
	x, err := xlsxreader.NewReader(data)
	if err != nil {
		t.Fatal(err)
	}
	// the record's JSON, for report verify, is last and very hidden
	want := []string{report.SheetRecord, report.SheetController, report.SheetCNIL, report.SheetProcessor, report.SheetUndeclared, report.SheetFindings, report.SheetVerification}
	if !slices.Equal(x.Sheets, want) {
		t.Fatalf("sheets %v, want %v", x.Sheets, want)
	}
	// The header block, on a sheet of its own.
	block := readSheet(t, x, report.SheetRecord)
	for i, fl := range rec.HeaderBlock() {
		if a, b := block[i+2][1].Value, block[i+2][2].Value; a != fl.Name || b != fl.Value {
			t.Errorf("Record row %d = %q, %q; want %q, %q", i+2, a, b, fl.Name, fl.Value)
		}
	}
	check := func(sheet string, columns []string, rows [][]string) {
		t.Helper()
		cells := readSheet(t, x, sheet)
		for c, h := range columns {
			if got := cells[1][c+1]; got.Value != h || got.Type != xlsxreader.TypeString {
				t.Errorf("%s header col %d = %q (%s), want %q", sheet, c+1, got.Value, got.Type, h)
			}
		}
		for r, row := range rows {
			for c, v := range row {
				got, ok := cells[r+2][c+1]
				if v == "" {
					if ok && got.Value != "" {
						t.Errorf("%s r%dc%d = %q, want empty", sheet, r+2, c+1, got.Value)
					}
					continue
				}
				wantType := xlsxreader.TypeString
				switch columns[c] {
				case "Observed events", "Observed records", "Erased records", "Events", "Records":
					wantType = xlsxreader.TypeNumerical
				case "First seen", "Last seen":
					wantType = xlsxreader.TypeDateTime
				}
				if wantType == xlsxreader.TypeDateTime && got.Type == wantType && sameInstant(got.Value, v) {
					continue
				}
				if got.Value != v || got.Type != wantType {
					t.Errorf("%s %s (%s) = %q (%s), want %q (%s)", sheet, got.Column+strconv.Itoa(r+2), columns[c], got.Value, got.Type, v, wantType)
				}
			}
		}
		if len(cells[len(rows)+2]) != 0 {
			t.Errorf("%s: a row after the table: %v", sheet, cells[len(rows)+2])
		}
	}
	check(report.SheetController, report.ControllerColumns, rec.ControllerRows())
	check(report.SheetProcessor, report.ProcessorColumns, rec.ProcessorRows())
	check(report.SheetUndeclared, report.UndeclaredColumns, rec.UndeclaredRows())
	check(report.SheetFindings, report.FindingColumns, rec.FindingRows())

	// The ICO template's columns, in its order, right after id and name.
	header := readSheet(t, x, report.SheetController)[1]
	qualifier := regexp.MustCompile(` \((if applicable|if possible)\)$`)
	for i, ico := range icoControllerColumns {
		if got := header[3+i].Value; got != qualifier.ReplaceAllString(ico, "") {
			t.Errorf("controller column %d = %q, want the ICO template's %q", 3+i, got, ico)
		}
	}
	// Names, not keys, for purposes and legal bases; rights from the basis.
	first := readSheet(t, x, report.SheetController)[2]
	col := func(title string) string { return first[slices.Index(report.ControllerColumns, title)+1].Value }
	if got := col("Purpose of processing"); got != "Invoicing and collections; Payment processing" {
		t.Errorf("purposes %q", got)
	}
	if got := col("Article 6 lawful basis for processing personal data"); got != "Contract (Art. 6(1)(b)); Legal obligation (Art. 6(1)(c))" {
		t.Errorf("legal bases %q", got)
	}
	if got := col("Rights available to individuals"); !strings.Contains(got, "portability (Art. 20) where based on contract") {
		t.Errorf("rights %q", got)
	}
	if got := col("Observed events"); got != "270" {
		t.Errorf("observed events of billing %q", got)
	}
}

// sameInstant compares a date as xlsxreader renders it (a date alone at
// midnight; the serial number truncated, not rounded, to the second) with
// an RFC 3339 instant.
func sameInstant(read, want string) bool {
	w, err := time.Parse(time.RFC3339, want)
	if err != nil {
		return false
	}
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if r, err := time.Parse(layout, read); err == nil {
			d := w.Sub(r)
			return d >= 0 && d <= time.Second
		}
	}
	return false
}

// xlsxPart reads one part of the workbook's zip as XML into v, with the
// standard library: a reader independent of the one that wrote it.
func xlsxPart(t *testing.T, data []byte, name string, v any) {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := z.Open(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	if err := xml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// xmlTrue reads an xsd:boolean.
func xmlTrue(s string) bool { return s == "1" || s == "true" }

type sheetXML struct {
	SheetPr struct {
		PageSetUpPr struct {
			FitToPage string `xml:"fitToPage,attr"`
		} `xml:"pageSetUpPr"`
	} `xml:"sheetPr"`
	Pane struct {
		YSplit string `xml:"ySplit,attr"`
		State  string `xml:"state,attr"`
	} `xml:"sheetViews>sheetView>pane"`
	Rows []struct {
		R            int     `xml:"r,attr"`
		Ht           float64 `xml:"ht,attr"`
		CustomHeight string  `xml:"customHeight,attr"`
	} `xml:"sheetData>row"`
	AutoFilter struct {
		Ref string `xml:"ref,attr"`
	} `xml:"autoFilter"`
	PageSetup struct {
		Orientation string `xml:"orientation,attr"`
		FitToWidth  string `xml:"fitToWidth,attr"`
		FitToHeight string `xml:"fitToHeight,attr"`
		PaperSize   string `xml:"paperSize,attr"`
	} `xml:"pageSetup"`
	OddHeader string `xml:"headerFooter>oddHeader"`
}

// TestXLSXPrintsAndFilters checks the workbook's XML for what a reader and
// a printer need: a frozen, filtered header row repeated on every page,
// landscape pages one table wide, rows tall enough for wrapped text, a
// named font on every style, and document properties of the record.
func TestXLSXPrintsAndFilters(t *testing.T) {
	rec, data := xlsxOf(t, report.RoleAll)
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
		Defined []struct {
			Name  string `xml:"name,attr"`
			Local string `xml:"localSheetId,attr"`
			Ref   string `xml:",chardata"`
		} `xml:"definedNames>definedName"`
	}
	xlsxPart(t, data, "xl/workbook.xml", &wb)
	var rels struct {
		Rel []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	xlsxPart(t, data, "xl/_rels/workbook.xml.rels", &rels)
	part := map[string]string{} // sheet name → its part in the zip
	for _, s := range wb.Sheets {
		for _, r := range rels.Rel {
			if r.ID == s.RID {
				part[s.Name] = "xl/" + strings.TrimPrefix(r.Target, "/xl/")
			}
		}
	}
	rows := map[string]int{report.SheetController: len(rec.ControllerRows()), report.SheetProcessor: len(rec.ProcessorRows()),
		report.SheetUndeclared: len(rec.UndeclaredRows()), report.SheetFindings: len(rec.FindingRows())}
	for i, s := range wb.Sheets {
		if s.Name == report.SheetVerification {
			continue // very hidden, never printed
		}
		var ws sheetXML
		xlsxPart(t, data, part[s.Name], &ws)
		if ws.PageSetup.Orientation != "landscape" || ws.PageSetup.FitToWidth != "1" || ws.PageSetup.FitToHeight != "0" || !xmlTrue(ws.SheetPr.PageSetUpPr.FitToPage) {
			t.Errorf("%s: page setup %+v, fitToPage %q; want landscape, fit to 1 page wide", s.Name, ws.PageSetup, ws.SheetPr.PageSetUpPr.FitToPage)
		}
		if ws.Pane.YSplit != "1" || ws.Pane.State != "frozen" {
			t.Errorf("%s: pane %+v; want only the header row frozen", s.Name, ws.Pane)
		}
		if ref := strings.ReplaceAll(ws.AutoFilter.Ref, "$", ""); !strings.HasPrefix(ref, "A1:") {
			t.Errorf("%s: autofilter %q; want one over the table from A1", s.Name, ws.AutoFilter.Ref)
		}
		if !strings.Contains(ws.OddHeader, rec.Controller.Name) {
			t.Errorf("%s: the page header %q does not name the controller", s.Name, ws.OddHeader)
		}
		titles := false
		for _, d := range wb.Defined {
			if d.Name == "_xlnm.Print_Titles" && d.Local == strconv.Itoa(i) && strings.HasSuffix(d.Ref, "!$1:$1") {
				titles = true
			}
		}
		if !titles {
			t.Errorf("%s: the header row is not repeated on printed pages (%+v)", s.Name, wb.Defined)
		}
		if n, ok := rows[s.Name]; ok {
			for _, r := range ws.Rows {
				if r.R <= n+1 && (!xmlTrue(r.CustomHeight) || r.Ht < 15) {
					t.Errorf("%s row %d: height %v (custom %q); want a set height", s.Name, r.R, r.Ht, r.CustomHeight)
				}
			}
		}
	}
	// The billing row wraps its rights text: it must be taller than a line.
	var ctl sheetXML
	xlsxPart(t, data, part[report.SheetController], &ctl)
	if ctl.Rows[1].Ht < 3*15 {
		t.Errorf("controller row 2 is %v pt tall; its wrapped text needs several lines", ctl.Rows[1].Ht)
	}
	var styles struct {
		Fonts []struct {
			Name struct {
				Val string `xml:"val,attr"`
			} `xml:"name"`
			Sz struct {
				Val string `xml:"val,attr"`
			} `xml:"sz"`
		} `xml:"fonts>font"`
	}
	xlsxPart(t, data, "xl/styles.xml", &styles)
	for i, f := range styles.Fonts {
		if f.Name.Val == "" || f.Sz.Val == "" {
			t.Errorf("font %d has no name or size (%+v): readers fall back to their own", i, f)
		}
	}
	var core struct {
		Title    string `xml:"title"`
		Creator  string `xml:"creator"`
		Created  string `xml:"created"`
		Modified string `xml:"modified"`
	}
	xlsxPart(t, data, "docProps/core.xml", &core)
	if core.Creator != rec.Controller.Name || core.Created != "2026-12-01T09:00:00Z" || core.Modified != core.Created ||
		!strings.Contains(core.Title, "Article 30") {
		t.Errorf("document properties %+v; want the record's title, its controller, its generation time", core)
	}
	var app struct {
		Application string `xml:"Application"`
	}
	xlsxPart(t, data, "docProps/app.xml", &app)
	if app.Application != "datamap" {
		t.Errorf("application %q", app.Application)
	}
}

// libreOffice returns soffice, skipping the test when it is absent unless
// DATAMAP_REQUIRE_LIBREOFFICE is set.
func libreOffice(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"soffice", "libreoffice"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("DATAMAP_REQUIRE_LIBREOFFICE") != "" {
		t.Fatal("DATAMAP_REQUIRE_LIBREOFFICE is set but LibreOffice is not installed (apt-get install -y libreoffice-calc-nogui)")
	}
	t.Skip("skipping the LibreOffice check: not installed (apt-get install -y libreoffice-calc-nogui)")
	return ""
}

// convert runs LibreOffice headless to convert the workbook.
func convert(t *testing.T, soffice string, data []byte, to string) []byte {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "record.xlsx")
	if err := os.WriteFile(in, data, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, soffice, "-env:UserInstallation=file://"+filepath.Join(dir, "profile"),
		"--headless", "--convert-to", to, "--outdir", dir, in)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice --convert-to %s: %v\n%s", to, err, out)
	}
	ext, _, _ := strings.Cut(to, ":")
	b, err := os.ReadFile(filepath.Join(dir, "record."+ext))
	if err != nil {
		t.Fatalf("soffice wrote no %s: %v", ext, err)
	}
	return b
}

// TestXLSXInLibreOffice opens the workbook in LibreOffice, as auditors do:
// its own reading (flat ODS) has numbers and dates where the record has
// counts and times, the header row repeated, landscape pages scaled to one
// page wide; and its PDF is landscape.
func TestXLSXInLibreOffice(t *testing.T) {
	soffice := libreOffice(t)
	rec, data := xlsxOf(t, report.RoleAll)
	fods := string(convert(t, soffice, data, "fods"))
	i := strings.Index(fods, `<table:table table:name="Controller"`)
	if i < 0 {
		t.Fatal("LibreOffice reads no Controller sheet")
	}
	table := fods[i:]
	table = table[:strings.Index(table, "</table:table>")]
	if !strings.Contains(table, "<table:table-header-rows>") {
		t.Error("the Controller sheet's header row is not a repeated print row in LibreOffice")
	}
	// The billing row: 270 observed events, first seen 2026-09-01.
	if !strings.Contains(table, `office:value-type="float" office:value="270"`) {
		t.Error("LibreOffice does not read observed events as a number")
	}
	if !strings.Contains(table, `office:value-type="date" office:date-value="2026-09-01"`) ||
		!strings.Contains(table, `office:value-type="date" office:date-value="2026-11-30T10:00:00"`) {
		t.Error("LibreOffice does not read first seen as a date")
	}
	if !regexp.MustCompile(`style:print-orientation="landscape"[^>]*style:scale-to-X="1"|style:scale-to-X="1"[^>]*style:print-orientation="landscape"`).MatchString(fods) {
		t.Error("LibreOffice's page layout is not landscape, one page wide")
	}
	if !strings.Contains(fods, "<dc:creator>"+rec.Controller.Name+"</dc:creator>") {
		t.Error("LibreOffice reads another author than the controller")
	}
	pdf := convert(t, soffice, data, "pdf")
	boxes := regexp.MustCompile(`/MediaBox\s*\[\s*0 0 ([0-9.]+) ([0-9.]+)\s*\]`).FindAllSubmatch(pdf, -1)
	if len(boxes) == 0 {
		t.Fatal("no pages in LibreOffice's PDF")
	}
	for _, b := range boxes {
		w, _ := strconv.ParseFloat(string(b[1]), 64)
		h, _ := strconv.ParseFloat(string(b[2]), 64)
		if w <= h {
			t.Errorf("a %v×%v pt page is portrait", w, h)
		}
	}
	t.Logf("LibreOffice prints the record on %d landscape pages", len(boxes))
}
