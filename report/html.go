package report

import (
	"embed"
	"html/template"
	"io"
	"time"
)

//go:embed templates/record.html.tmpl
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
					a.Fields = append(a.Fields, Field{h, row[i]})
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
	return recordTemplate.Execute(w, map[string]any{
		"Title": titleRecord, "Rec": rec, "AsOf": rec.AsOf.Format(time.DateOnly), "HashNote": hashNote,
		"Parts": parts, "UndeclaredTitle": titleUndeclared, "UndeclaredColumns": UndeclaredColumns,
		"Undeclared": rec.UndeclaredRows(), "FindingsTitle": titleFindings, "FindingColumns": FindingColumns,
		"Findings": rec.FindingRows(), "UndeclaredNowrap": nowrap(UndeclaredColumns), "FindingNowrap": nowrap(FindingColumns),
	})
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
