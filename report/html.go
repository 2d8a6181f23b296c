package report

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

//go:embed templates/record.html.tmpl templates/statement.html.tmpl
var templates embed.FS

var recordTemplate = template.Must(template.ParseFS(templates, "templates/record.html.tmpl"))

type htmlActivity struct {
	ID, Name string
	Fields   []Field
}

type htmlPart struct {
	Title      string
	Activities []htmlActivity
}

// writeHTML writes a self-contained page laid out for A4: each activity a
// field/value block kept on one page where it fits, the wide tables in a
// smaller font. Print it, or turn it into PDF with headless Chromium.
func writeHTML(w io.Writer, rec *Record) error {
	part := func(title string, header []string, rows [][]string, idCol, nameCol int) htmlPart {
		p := htmlPart{Title: title}
		for _, row := range rows {
			a := htmlActivity{ID: row[idCol], Name: row[nameCol]}
			for i, h := range header {
				if i != idCol && i != nameCol && row[i] != "" {
					a.Fields = append(a.Fields, Field{h, keepCitations(row[i])})
				}
			}
			p.Activities = append(p.Activities, a)
		}
		return p
	}
	var parts []htmlPart
	if rec.Role != RoleProcessor {
		parts = append(parts, part(titleController, ControllerColumns, rec.ControllerRows(), 0, 1))
	}
	if rec.Role != RoleController {
		parts = append(parts, part(titleProcessor, ProcessorColumns, rec.ProcessorRows(), 4, 5))
	}
	embedded, err := htmlEmbedded(rec)
	if err != nil {
		return err
	}
	running := fmt.Sprintf("%s · record of processing as of %s", rec.Controller.Name, rec.AsOf.Format(time.DateOnly))
	return recordTemplate.Execute(w, map[string]any{
		"Embedded": template.JS(embedded), "RunningHeader": running,
		"Title": titleRecord, "Rec": rec, "AsOf": rec.AsOf.Format(time.DateOnly), "HashNote": hashNote,
		"Parts": parts, "UndeclaredTitle": titleUndeclared, "UndeclaredColumns": UndeclaredColumns,
		"Undeclared": keepCitationsIn(rec.UndeclaredRows()), "FindingsTitle": titleFindings, "FindingColumns": FindingColumns,
		"Findings": keepCitationsIn(rec.FindingRows()), "UndeclaredNowrap": nowrap(UndeclaredColumns), "FindingNowrap": nowrap(FindingColumns),
	})
}

// citationJoint is where browsers would break a citation such as
// "Art. 6(1)(f)" (between ")" and "("); a word joiner (U+2060) there keeps
// it on one line, as lines break only at spaces and hyphens.
var citationJoint = strings.NewReplacer(")(", ")\u2060(")

func keepCitations(s string) string { return citationJoint.Replace(s) }

func keepCitationsIn(rows [][]string) [][]string {
	for _, r := range rows {
		for i := range r {
			r[i] = keepCitations(r[i])
		}
	}
	return rows
}

// nowrap marks the columns of counts and times, which never break. Other
// cells break lines at spaces and hyphens only (the stylesheet's
// overflow-wrap: normal), so a word, key or number is never split.
func nowrap(columns []string) []bool {
	out := make([]bool, len(columns))
	for i, c := range columns {
		out[i] = columnKindOf(c) != kindText
	}
	return out
}
