package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/back-trace/datamap/internal/spreadsheet"
)

// Formats the record can be written in.
var Formats = []string{"json", "csv", "md", "html", "xlsx"}

// Write renders the record in format to w. JSON, CSV and Markdown are
// byte-for-byte reproducible: the same record gives the same bytes. HTML
// is too; XLSX is a zip whose entries carry no timestamps we control, so
// compare its cells, not its bytes.
func Write(w io.Writer, rec *Record, format string) error {
	switch format {
	case "json":
		b, err := rec.MarshalJSONCanonical()
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	case "csv":
		return writeCSV(w, rec)
	case "md":
		return writeMarkdown(w, rec)
	case "html":
		return writeHTML(w, rec)
	case "xlsx":
		return writeXLSX(w, rec)
	}
	return fmt.Errorf("report: format %q: use one of %s", format, strings.Join(Formats, ", "))
}

// Section titles, shared by every tabular format.
const (
	titleRecord     = "Record of processing activities (GDPR Article 30)"
	titleController = "Controller: processing activities (Art. 30(1))"
	titleProcessor  = "Processor: processing on behalf of controllers (Art. 30(2))"
	titleUndeclared = "Observed processing that no activity declares"
	titleFindings   = "Drift findings: declared against observed"
	hashNote        = "Content SHA-256 is the SHA-256 of this record's canonical JSON (datamap report --format json) " +
		"with generated_at and content_sha256 empty; it covers every declared and observed fact and the as-of date, " +
		"not the generation time, so every format of the same record carries the same hash. " +
		"Every format carries the record itself, so any copy can be checked with: datamap report verify FILE"
)

// writeCSV writes the sections one after another, each a title line, a
// header and its rows, separated by an empty line: one file that a
// spreadsheet opens and a script can split on the titles.
//
// The CSV is for machines: it keeps the JSON's keys and instants (see
// say). Every cell goes through spreadsheet.Row: names come from events and the
// registry, and one that starts like a formula must stay text.
func writeCSV(w io.Writer, rec *Record) error {
	cw := inertCSV{csv.NewWriter(w)}
	_ = cw.Write([]string{titleRecord})
	_ = cw.Write([]string{"Field", "Value"})
	for _, f := range rec.HeaderBlock() {
		_ = cw.Write([]string{f.Name, f.Value})
	}
	section := func(title string, header []string, rows [][]string) {
		_ = cw.Write(nil)
		_ = cw.Write([]string{title})
		_ = cw.Write(header)
		for _, r := range rows {
			_ = cw.Write(r)
		}
	}
	keys := rec.forMachines()
	if rec.Role != RoleProcessor {
		section(titleController, ControllerColumns, keys.controllerRows())
	}
	if rec.Role != RoleController {
		section(titleProcessor, ProcessorColumns, keys.processorRows())
	}
	section(titleUndeclared, UndeclaredColumns, keys.undeclaredRows())
	section(titleFindings, FindingColumns, keys.findingRows(rec.Findings))
	lines, err := base64Lines(rec)
	if err != nil {
		return err
	}
	_ = cw.Write(nil)
	_ = cw.Write([]string{csvEmbeddedTitle})
	for _, l := range lines {
		_ = cw.Write([]string{l})
	}
	cw.Flush()
	return cw.Error()
}

// inertCSV is a csv.Writer whose rows are made spreadsheet.Inert.
type inertCSV struct{ *csv.Writer }

func (w inertCSV) Write(row []string) error {
	return w.Writer.Write(spreadsheet.Row(append([]string(nil), row...)))
}

// writeMarkdown writes the record for people: each activity as a
// field/value table with its evidence, since a 30-column table is
// unreadable in Markdown.
func writeMarkdown(w io.Writer, rec *Record) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "# %s\n\n", titleRecord)
	mdTable(b, []string{"Field", "Value"}, fieldRows(rec.HeaderBlock()))
	fmt.Fprintf(b, "\n%s\n", hashNote)
	fmt.Fprintf(b, "\n## Summary\n\n%d activities; %d events (%d records) observed up to the as-of date, %d of them in processing no activity declares; findings: %d high, %d medium, %d low.\n",
		rec.Summary.Activities, rec.Summary.ObservedEvents, rec.Summary.ObservedRecords, rec.Summary.UndeclaredEvents,
		rec.Summary.FindingsBySeverity["high"], rec.Summary.FindingsBySeverity["medium"], rec.Summary.FindingsBySeverity["low"])
	activities := func(title string, header []string, rows [][]string, idCol, nameCol int) {
		fmt.Fprintf(b, "\n## %s\n", title)
		if len(rows) == 0 {
			b.WriteString("\nNone declared.\n")
		}
		for _, row := range rows {
			fmt.Fprintf(b, "\n### %s (`%s`)\n\n", mdCell(row[nameCol]), row[idCol])
			var fields [][]string
			for i, h := range header {
				if i != idCol && i != nameCol && row[i] != "" {
					fields = append(fields, []string{h, row[i]})
				}
			}
			mdTable(b, []string{"Field", "Value"}, fields)
		}
	}
	if rec.Role != RoleProcessor {
		activities(titleController, ControllerColumns, rec.ControllerRows(), 0, 1)
	}
	if rec.Role != RoleController {
		activities(titleProcessor, ProcessorColumns, rec.ProcessorRows(), 4, 5)
	}
	fmt.Fprintf(b, "\n## %s\n\n", titleUndeclared)
	if len(rec.Undeclared) == 0 {
		b.WriteString("None.\n")
	} else {
		mdTable(b, UndeclaredColumns, rec.UndeclaredRows())
	}
	fmt.Fprintf(b, "\n## %s\n\n", titleFindings)
	if len(rec.Findings) == 0 {
		b.WriteString("None.\n")
	} else {
		mdTable(b, FindingColumns, rec.FindingRows())
	}
	lines, err := base64Lines(rec)
	if err != nil {
		return err
	}
	fmt.Fprintf(b, "\n%s\n%s\n-->\n", mdEmbeddedOpen, strings.Join(lines, "\n"))
	_, err = io.WriteString(w, b.String())
	return err
}

func fieldRows(fs []Field) [][]string {
	rows := make([][]string, len(fs))
	for i, f := range fs {
		rows[i] = []string{f.Name, f.Value}
	}
	return rows
}

func mdTable(b *strings.Builder, header []string, rows [][]string) {
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|")
	for range header {
		b.WriteString("---|")
	}
	b.WriteByte('\n')
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = mdCell(c)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
}

// mdCell keeps a value inside its table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "\\", "\\\\")
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.ReplaceAll(s, "\n", " ")
}
