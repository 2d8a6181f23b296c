package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/people"
)

// StatementFormats are the formats a person's Art. 15 statement is written in.
var StatementFormats = []string{"html", "pdf", "json"}

var statementTemplate = template.Must(template.New("statement.html.tmpl").
	Funcs(template.FuncMap{"join": strings.Join, "country": countryName}).ParseFS(templates, "templates/statement.html.tmpl"))

// countryName is how the statement names a country to the person: by its
// name ("Sweden"), not its code; a code the country list does not know is
// shown as it is.
func countryName(code string) string {
	if c, ok := events.LookupCountry(code); ok {
		return c.Name
	}
	return code
}

// WriteStatement writes a person's statement as HTML (for print and
// e-mail) or JSON (for other tools).
func WriteStatement(w io.Writer, st people.Statement, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	case "html":
		return statementTemplate.Execute(w, st)
	}
	return fmt.Errorf("report: statement format %q: use html or json (pdf through WriteStatementPDF)", format)
}

// WriteStatementPDF prints the statement's HTML to a PDF at path.
func WriteStatementPDF(ctx context.Context, st people.Statement, path string) error {
	var html bytes.Buffer
	if err := WriteStatement(&html, st, "html"); err != nil {
		return err
	}
	if d := filepath.Dir(path); d != "." {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	return PrintPDF(ctx, html.Bytes(), path)
}
