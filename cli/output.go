package cli

import (
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/back-trace/datamap/catalog/deadletter"
	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/internal/spreadsheet"
	"github.com/back-trace/datamap/lineage"
)

// formats a query result can be printed in: table shows the essential
// columns, fitted to the terminal; wide every column, in full.
var formats = []string{"table", "wide", "json", "csv"}

func checkFormat(f string) error {
	for _, ok := range formats {
		if f == ok {
			return nil
		}
	}
	return usagef("--format %q is not supported; use table, wide, json or csv", f)
}

// formatFlag registers --format and its short form -o on p.
func formatFlag(fs *flag.FlagSet, p *string) {
	const usage = "output: table (essential columns, fitted to the terminal), wide (every column), json or csv"
	fs.StringVar(p, "format", "table", usage)
	fs.StringVar(p, "o", "table", "short for --format (-o wide shows every column)")
}

// essentialColumns are the columns a table shows by default, by row type;
// --format wide (and json, csv) show every column. Types not listed show
// every column.
var essentialColumns = map[reflect.Type][]string{
	reflect.TypeFor[query.InventoryRow]():   {"system", "category", "data_subject", "purpose", "retention", "records", "last_seen"},
	reflect.TypeFor[query.FlowRow]():        {"system", "category", "recipient", "role", "country", "safeguard", "records", "last_seen"},
	reflect.TypeFor[query.FlowGroup]():      {"key", "recipients", "countries", "safeguards", "flows", "records", "last_seen"},
	reflect.TypeFor[query.TransferRow]():    {"system", "category", "recipient", "country", "safeguard", "records", "finding"},
	reflect.TypeFor[query.RetentionRow]():   {"system", "category", "retention", "held_records", "oldest_held", "finding"},
	reflect.TypeFor[query.DestinationRow](): {"system", "host", "class", "recipient", "country", "reported", "declared", "spans", "last_seen"},
	reflect.TypeFor[lineage.ReachRow]():     {"node", "category", "hops", "path", "country", "safeguard", "records"},
	reflect.TypeFor[findingSummary]():       {"severity", "kind", "activity", "subject", "events", "message"},
	reflect.TypeFor[deadletter.Summary]():   {"id", "failed_at", "subject", "source", "reason"},
	reflect.TypeFor[configRow]():            {"variable", "value", "default"},
	reflect.TypeFor[alertRow]():             {"opened_at", "announcement", "severity", "kind", "about", "target", "status"},
}

// render prints rows (a slice of structs with json tags) as a table, a
// JSON array or CSV with a header line. A table shows the essential
// columns and, when the output's width is known (a terminal, or COLUMNS),
// shortens long values with an ellipsis to fit it; wide shows every column
// in full. JSON and CSV are never shortened.
func render[T any](w io.Writer, format string, rows []T) error {
	if rows == nil {
		rows = []T{}
	}
	return renderRows(w, format, rows)
}

// renderRows is render for rows whose type is known only when the program
// runs: a slice of structs with json tags, as a question's answer holds.
func renderRows(w io.Writer, format string, rows any) error {
	v := reflect.ValueOf(rows)
	t := v.Type().Elem()
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write(header(t))
		for i := range v.Len() {
			// Names come from events: a source named =HYPERLINK(…) must
			// stay text in a spreadsheet.
			_ = cw.Write(spreadsheet.Row(cells(v.Index(i).Interface(), time.RFC3339Nano)))
		}
		cw.Flush()
		return cw.Error()
	}
	names := header(t)
	keep := make([]int, 0, len(names))
	essential := essentialColumns[t]
	for i, n := range names {
		if format == "wide" || essential == nil || contains(essential, n) {
			keep = append(keep, i)
		}
	}
	table := make([][]string, 0, v.Len()+1)
	h := make([]string, len(keep))
	for j, i := range keep {
		h[j] = strings.ToUpper(names[i])
	}
	table = append(table, h)
	for i := range v.Len() {
		all := cells(v.Index(i).Interface(), time.RFC3339)
		row := make([]string, len(keep))
		for j, i := range keep {
			row[j] = all[i]
		}
		table = append(table, row)
	}
	width := 0
	if format == "table" {
		width = outputWidth(w)
		table, keep = withoutRepeats(table, keep)
		table, keep = dropToFit(table, keep, names, droppedFirst[t], shortenedFirst[t], width)
	}
	whole := make([]bool, len(keep)) // counts and times are never shortened
	for j, i := range keep {
		switch k := t.Field(i).Type; {
		case k == reflect.TypeFor[time.Time](), k == reflect.TypeFor[*time.Time]():
			whole[j] = true
		default:
			whole[j] = k.Kind() >= reflect.Int && k.Kind() <= reflect.Float64
		}
	}
	return writeTable(w, table, width, whole)
}

// droppedFirst are the columns a table drops, in this order, when its
// lines would not fit the terminal: a narrow terminal loses the least
// essential columns before a key is shortened into an ambiguous prefix.
var droppedFirst = map[reflect.Type][]string{
	reflect.TypeFor[query.InventoryRow](): {"last_seen", "retention", "data_subject"},
	reflect.TypeFor[query.FlowRow]():      {"last_seen", "role", "safeguard"},
	reflect.TypeFor[query.FlowGroup]():    {"last_seen", "safeguards", "countries"},
	reflect.TypeFor[query.TransferRow]():  {"records", "safeguard"},
	reflect.TypeFor[query.RetentionRow](): {"oldest_held", "held_records"},
	reflect.TypeFor[findingSummary]():     {"activity", "events", "subject", "kind"},
	reflect.TypeFor[deadletter.Summary](): {"failed_at", "subject"},
}

// shortenedFirst are the columns of prose a table shortens, down to a
// width of their own, before it drops any column: a drift finding's
// message, and a long subject, end in "…" (json and csv carry them whole)
// rather than the table losing its kind and what it is about.
var shortenedFirst = map[reflect.Type]map[string]int{
	reflect.TypeFor[findingSummary](): {"subject": 32, "message": 40},
}

// dropToFit drops the columns of dropOrder, one at a time, while the
// table's lines are wider than width (0: no limit), counting the columns
// of shortened no wider than their width there.
func dropToFit(table [][]string, keep []int, names, dropOrder []string, shortened map[string]int, width int) ([][]string, []int) {
	for _, name := range dropOrder {
		caps := make([]int, len(keep))
		for j, i := range keep {
			caps[j] = shortened[names[i]]
		}
		if width <= 0 || tableWidth(table, caps) <= width {
			break
		}
		for j, i := range keep {
			if names[i] == name {
				table, keep = withoutColumn(table, j), slices.Delete(keep, j, j+1)
				break
			}
		}
	}
	return table, keep
}

// withoutRepeats drops the columns that only repeat the first one, as the
// recipients of flows grouped by recipient do.
func withoutRepeats(table [][]string, keep []int) ([][]string, []int) {
	if len(table) < 2 {
		return table, keep
	}
	for j := len(keep) - 1; j > 0; j-- {
		same := true
		for _, row := range table[1:] {
			same = same && row[j] == row[0]
		}
		if same {
			table, keep = withoutColumn(table, j), slices.Delete(keep, j, j+1)
		}
	}
	return table, keep
}

func withoutColumn(table [][]string, j int) [][]string {
	for i, row := range table {
		table[i] = slices.Delete(slices.Clone(row), j, j+1)
	}
	return table
}

// tableWidth is the width of a table's lines with every value whole but
// those of the columns with a cap (not 0), no wider than it.
func tableWidth(table [][]string, caps []int) int {
	if len(table) == 0 {
		return 0
	}
	cols := make([]int, len(table[0]))
	for _, r := range table {
		for i, c := range r {
			cols[i] = max(cols[i], utf8.RuneCountInString(c))
		}
	}
	for i, c := range caps {
		if c > 0 {
			cols[i] = min(cols[i], c)
		}
	}
	n := columnGap * (len(cols) - 1)
	for _, c := range cols {
		n += c
	}
	return n
}

// columnGap separates table columns.
const columnGap = 2

// writeTable aligns the rows (the first is the header) in columns. With a
// width, the widest columns not marked whole are narrowed until a line
// fits it, and values longer than their column end in "…".
func writeTable(w io.Writer, rows [][]string, width int, whole []bool) error {
	if len(rows) == 0 {
		return nil
	}
	cols := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			cols[i] = max(cols[i], utf8.RuneCountInString(c))
		}
	}
	if width > 0 {
		fitColumns(cols, rows[0], width, whole)
	}
	var b strings.Builder
	for _, r := range rows {
		b.Reset()
		for i, c := range r {
			c = ellipsis(c, cols[i])
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", cols[i]-utf8.RuneCountInString(c)+columnGap))
			}
		}
		if _, err := fmt.Fprintln(w, strings.TrimRight(b.String(), " ")); err != nil {
			return err
		}
	}
	return nil
}

// fitColumns narrows the widest columns, one character at a time, until
// the line fits width, keeping each at least as wide as its header's
// first few characters, and whole columns as they are.
func fitColumns(cols []int, header []string, width int, whole []bool) {
	floor := make([]int, len(cols))
	for i, h := range header {
		floor[i] = min(cols[i], max(6, min(utf8.RuneCountInString(h), 10)))
		if whole[i] {
			floor[i] = cols[i]
		}
	}
	total := func() int {
		n := columnGap * (len(cols) - 1)
		for _, c := range cols {
			n += c
		}
		return n
	}
	for total() > width {
		widest := -1
		for i, c := range cols {
			if c > floor[i] && (widest < 0 || c > cols[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			return // as narrow as it gets; the terminal wraps the rest
		}
		cols[widest]--
	}
}

// ellipsis shortens s to n characters, the last being "…".
func ellipsis(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return "…"
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// outputWidth is the width tables must fit on w: COLUMNS when set, else
// the terminal's when w is one; 0 (no limit) for files and pipes.
func outputWidth(w io.Writer) int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if n, _, err := term.GetSize(int(f.Fd())); err == nil && n > 0 {
			return n
		}
	}
	return 0
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func header(t reflect.Type) []string {
	out := make([]string, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out = append(out, name)
	}
	return out
}

// cells are the values of a row as text, times in layout: CSV keeps every
// digit JSON keeps (RFC3339Nano); a table shows whole seconds.
func cells(row any, layout string) []string {
	v := reflect.ValueOf(row)
	out := make([]string, 0, v.NumField())
	for i := 0; i < v.NumField(); i++ {
		switch x := v.Field(i).Interface().(type) {
		case time.Time:
			out = append(out, timeCell(x, layout))
		case *time.Time:
			if x == nil {
				out = append(out, "")
			} else {
				out = append(out, timeCell(*x, layout))
			}
		case []string:
			out = append(out, strings.Join(x, ", "))
		default:
			out = append(out, fmt.Sprint(x))
		}
	}
	return out
}

func timeCell(t time.Time, layout string) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(layout)
}

// renderValue prints one JSON document.
func renderValue(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
