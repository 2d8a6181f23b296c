package report

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// Every format the record is written in carries the record's canonical
// JSON (the JSON format's bytes), so a copy can be checked on its own:
// Verify takes the JSON out, recomputes its Content SHA-256, then renders
// the same format again from it and compares that with what a reader sees.
// An edit to the visible text, to the embedded JSON or to the stated hash
// shows up as ErrModified.
//
//	json      the file is the canonical JSON
//	html      <script type="application/json" id="datamap-record">; the page is rendered again and compared byte for byte
//	md        a closing HTML comment, base64; rendered again and compared byte for byte
//	csv       a last section, base64, one line per row; rendered again and compared byte for byte
//	xlsx      a very hidden sheet "Verification"; every cell of every sheet compared with a new rendering
//	pdf       an attachment datamap-record.json and the SHA-256 of the pages' content (datamap-pages.sha256)

// ErrModified says a record's content no longer matches what was generated.
var ErrModified = errors.New("the record was modified after it was generated")

// Verified names the record a file holds, once its hash is checked.
type Verified struct {
	Format        string
	Controller    string
	AsOf          time.Time
	GeneratedAt   string
	ContentSHA256 string
}

// Names of the embedded copy in each format.
const (
	embeddedID        = "datamap-record"
	embeddedFile      = "datamap-record.json"
	pagesDigestFile   = "datamap-pages.sha256"
	SheetVerification = "Verification"
	csvEmbeddedTitle  = "Canonical record (base64 of the JSON format; read by datamap report verify)"
	mdEmbeddedOpen    = "<!-- datamap-record: base64 of the JSON format; read by datamap report verify"
)

// DetectFormat says which of the record's formats data is in, from its
// first bytes.
func DetectFormat(data []byte) string {
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	switch {
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return "pdf"
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return "xlsx"
	case bytes.HasPrefix(trimmed, []byte("{")):
		return "json"
	case bytes.HasPrefix(trimmed, []byte("<!DOCTYPE html")), bytes.HasPrefix(trimmed, []byte("<html")):
		return "html"
	case bytes.HasPrefix(trimmed, []byte("# ")):
		return "md"
	}
	return "csv"
}

// Verify checks a record in any format it is written in: the embedded
// record's hash, and that the file shows that record. A file that is not
// a record is an error of its own; a changed record wraps ErrModified.
func Verify(ctx context.Context, data []byte) (Verified, error) {
	format := DetectFormat(data)
	embedded, err := extractRecord(ctx, format, data)
	if err != nil {
		return Verified{Format: format}, err
	}
	var rec Record
	if err := json.Unmarshal(embedded, &rec); err != nil {
		return Verified{Format: format}, fmt.Errorf("the %s file's embedded record is not JSON (%v): %w", format, err, ErrModified)
	}
	if rec.Format != FormatID {
		return Verified{Format: format}, fmt.Errorf("format %q is not %q; is this a datamap Article 30 record?", rec.Format, FormatID)
	}
	v := Verified{Format: format, Controller: rec.Controller.Name, AsOf: rec.AsOf, GeneratedAt: rec.GeneratedAt, ContentSHA256: rec.ContentSHA256}
	ok, err := rec.Verify()
	if err != nil {
		return v, err
	}
	if !ok {
		return v, fmt.Errorf("its content does not match the stated SHA-256 %s: %w", rec.ContentSHA256, ErrModified)
	}
	if err := compareRendering(ctx, format, data, &rec); err != nil {
		return v, err
	}
	return v, nil
}

// extractRecord returns the canonical JSON a file carries.
func extractRecord(ctx context.Context, format string, data []byte) ([]byte, error) {
	missing := fmt.Errorf("the %s file carries no datamap record; was it written by datamap report article30?", format)
	switch format {
	case "json":
		return data, nil
	case "html":
		open := []byte(`<script type="application/json" id="` + embeddedID + `">`)
		_, rest, ok := bytes.Cut(data, open)
		if !ok {
			return nil, missing
		}
		body, _, ok := bytes.Cut(rest, []byte("</script>"))
		if !ok {
			return nil, missing
		}
		return body, nil
	case "md":
		_, rest, ok := bytes.Cut(data, []byte(mdEmbeddedOpen))
		if !ok {
			return nil, missing
		}
		body, _, ok := bytes.Cut(rest, []byte("-->"))
		if !ok {
			return nil, missing
		}
		return decodeBase64Lines(strings.Fields(string(body)), format)
	case "csv":
		r := csv.NewReader(bytes.NewReader(data))
		r.FieldsPerRecord = -1
		rows, err := r.ReadAll()
		if err != nil {
			return nil, fmt.Errorf("the csv file cannot be read (%v): %w", err, ErrModified)
		}
		for i, row := range rows {
			if len(row) > 0 && row[0] == csvEmbeddedTitle {
				var lines []string
				for _, l := range rows[i+1:] {
					if len(l) > 0 {
						lines = append(lines, l[0])
					}
				}
				return decodeBase64Lines(lines, format)
			}
		}
		return nil, missing
	case "xlsx":
		f, err := excelize.OpenReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("the xlsx file cannot be opened (%v): %w", err, ErrModified)
		}
		defer f.Close()
		rows, err := f.GetRows(SheetVerification)
		if err != nil {
			return nil, missing
		}
		var b strings.Builder
		for _, r := range rows {
			if len(r) > 0 {
				b.WriteString(r[0])
			}
		}
		return []byte(b.String()), nil
	case "pdf":
		return pdfAttachment(ctx, data, embeddedFile)
	}
	return nil, fmt.Errorf("format %q: use one of %s, pdf", format, strings.Join(Formats, ", "))
}

// compareRendering checks that the file shows the record it embeds.
func compareRendering(ctx context.Context, format string, data []byte, rec *Record) error {
	switch format {
	case "json":
		return nil
	case "pdf":
		stated, err := pdfAttachment(ctx, data, pagesDigestFile)
		if err != nil {
			return err
		}
		actual, err := pagesDigest(ctx, data)
		if err != nil {
			return err
		}
		if strings.TrimSpace(string(stated)) != actual {
			return fmt.Errorf("its pages differ from the record it embeds: %w", ErrModified)
		}
		return nil
	}
	var again bytes.Buffer
	if err := Write(&again, rec, format); err != nil {
		return err
	}
	if format == "xlsx" {
		return sameCells(data, again.Bytes())
	}
	if !bytes.Equal(data, again.Bytes()) {
		return fmt.Errorf("its text differs from the record it embeds: %w", ErrModified)
	}
	return nil
}

// sameCells compares every cell of every sheet of two workbooks.
func sameCells(got, want []byte) error {
	g, err := excelize.OpenReader(bytes.NewReader(got))
	if err != nil {
		return err
	}
	defer g.Close()
	w, err := excelize.OpenReader(bytes.NewReader(want))
	if err != nil {
		return err
	}
	defer w.Close()
	if !slices.Equal(g.GetSheetList(), w.GetSheetList()) {
		return fmt.Errorf("its sheets %v are not the record's %v: %w", g.GetSheetList(), w.GetSheetList(), ErrModified)
	}
	for _, sheet := range w.GetSheetList() {
		gr, err := g.GetRows(sheet)
		if err != nil {
			return err
		}
		wr, err := w.GetRows(sheet)
		if err != nil {
			return err
		}
		if !slices.EqualFunc(gr, wr, slices.Equal) {
			return fmt.Errorf("sheet %s differs from the record it embeds: %w", sheet, ErrModified)
		}
	}
	return nil
}

// base64Lines is the canonical JSON as base64 in lines of 76 characters,
// the form CSV and Markdown carry it in.
func base64Lines(rec *Record) ([]string, error) {
	b, err := rec.MarshalJSONCanonical()
	if err != nil {
		return nil, err
	}
	s := base64.StdEncoding.EncodeToString(b)
	var lines []string
	for len(s) > 76 {
		lines, s = append(lines, s[:76]), s[76:]
	}
	return append(lines, s), nil
}

func decodeBase64Lines(lines []string, format string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.Join(lines, ""))
	if err != nil {
		return nil, fmt.Errorf("the %s file's embedded record is damaged (%v): %w", format, err, ErrModified)
	}
	return b, nil
}

// htmlEmbedded is the canonical JSON made safe inside a script element:
// "<" only occurs inside JSON strings, where \u003c decodes to the same
// text, so no "</script>" can end the element early.
func htmlEmbedded(rec *Record) (string, error) {
	b, err := rec.MarshalJSONCanonical()
	if err != nil {
		return "", err
	}
	return strings.ReplaceAll(string(b), "<", `\u003c`), nil
}
