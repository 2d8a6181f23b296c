package api

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/back-trace/datamap/catalog/deadletter"
	"github.com/back-trace/datamap/questions"
	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/report"
)

// Evidence is what the drift and Article 30 routes need besides the
// catalog: the declared registry (nil when none is configured) and its
// name, and the version stamped on records.
type Evidence struct {
	Registry *registry.Registry
	Name     string // DATAMAP_REGISTRY, for messages
	Version  string
}

// DeadLettersPath is the dead-letter summary's route; drift and the
// record are at their questions' paths.
const DeadLettersPath = "/api/v1/deadletters"

// RecordFormats are the formats of GET /api/v1/article30; pdf needs
// Chromium on the server.
var RecordFormats = append(slices.Clone(report.Formats), "pdf")

// recordMIME is the media type of each record format.
var recordMIME = map[string]string{
	"json": "application/json", "csv": "text/csv; charset=utf-8", "md": "text/markdown; charset=utf-8",
	"html": "text/html; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"pdf": "application/pdf",
}

// ContentSHA256Header carries the record's content hash on every format,
// so a download can be checked against the record without opening it.
const ContentSHA256Header = "Datamap-Content-Sha256"

// Dead-letter summary sizes.
const (
	defaultDeadLetters = 20
	maxDeadLetters     = 1000
)

func (s *Server) recordRoutes(mux *http.ServeMux) {
	mux.Handle("GET "+questions.Drift.Path(), s.readable(s.drift))
	mux.Handle("GET "+questions.Article30.Path(), s.readable(s.article30))
	mux.Handle("GET "+DeadLettersPath, s.readable(s.deadLetterSummary))
}

// evidenceRequest reads the query of a drift or record request; the
// format of a record is read apart.
func (s *Server) evidenceRequest(w http.ResponseWriter, r *http.Request, q questions.Question, skip ...string) (questions.ParsedEvidence, bool) {
	if s.evidence.Registry == nil {
		writeError(w, http.StatusNotFound, "no declared registry: start serve with DATAMAP_REGISTRY set to the registry file (datamap.yaml), or to backtrace for the embedded one")
		return questions.ParsedEvidence{}, false
	}
	values, ok := singleValues(w, r, skip...)
	if !ok {
		return questions.ParsedEvidence{}, false
	}
	req, err := q.ParseEvidence(values)
	if err != nil {
		s.respondInputError(w, err)
		return req, false
	}
	return req, true
}

// singleValues returns the query parameters, refusing one given twice.
func singleValues(w http.ResponseWriter, r *http.Request, skip ...string) (map[string]string, bool) {
	values := map[string]string{}
	for name, vs := range r.URL.Query() {
		if slices.Contains(skip, name) {
			continue
		}
		if len(vs) > 1 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": name + ": given " + strconv.Itoa(len(vs)) + " times; give it once", "parameter": name})
			return nil, false
		}
		values[name] = vs[0]
	}
	return values, true
}

// evidenceDeps are what drift and the record read.
func (s *Server) evidenceDeps() questions.Deps {
	return questions.Deps{Catalog: s.catalog, Taxonomy: s.taxonomy, Registry: s.evidence.Registry}
}

// respondInputError answers 400 naming the parameter, or 503.
func (s *Server) respondInputError(w http.ResponseWriter, err error) {
	var ie *questions.InputError
	if errors.As(err, &ie) {
		badParameter(w, ie)
		return
	}
	s.respond(w, nil, err)
}

// driftAnswer is GET /api/v1/drift.
type driftAnswer struct {
	Registry string           `json:"registry"`
	AsOf     time.Time        `json:"as_of"`
	Total    int              `json:"total"`
	Items    []report.Finding `json:"items"`
}

func (s *Server) drift(w http.ResponseWriter, r *http.Request) {
	req, ok := s.evidenceRequest(w, r, questions.Drift)
	if !ok {
		return
	}
	findings, err := s.evidenceDeps().Drift(r.Context(), req)
	if err != nil {
		s.respond(w, nil, err)
		return
	}
	writeJSON(w, http.StatusOK, driftAnswer{Registry: s.evidence.Name, AsOf: req.AsOf, Total: len(findings), Items: findings})
}

func (s *Server) article30(w http.ResponseWriter, r *http.Request) {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "json"
	}
	if !slices.Contains(RecordFormats, format) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "format " + strconv.Quote(format) + ": must be one of " + strings.Join(RecordFormats, ", "), "parameter": "format"})
		return
	}
	req, ok := s.evidenceRequest(w, r, questions.Article30, "format")
	if !ok {
		return
	}
	rec, err := s.evidenceDeps().Article30(r.Context(), req, time.Now().UTC(), s.evidence.Version)
	if err != nil {
		s.respond(w, nil, err)
		return
	}
	var body []byte
	if format == "pdf" {
		body, err = printPDF(r.Context(), rec)
		if errors.Is(err, report.ErrNoChromium) {
			writeError(w, http.StatusNotImplemented, "no PDF on this server: "+err.Error())
			return
		}
	} else {
		var buf bytes.Buffer
		err = report.Write(&buf, rec, format)
		body = buf.Bytes()
	}
	if err != nil {
		s.respond(w, nil, err)
		return
	}
	name := "article30-" + req.AsOf.Format(time.DateOnly) + "." + format
	w.Header().Set("Content-Type", recordMIME[format])
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set(ContentSHA256Header, rec.ContentSHA256)
	_, _ = w.Write(body)
}

// printPDF prints the record's HTML with headless Chromium, the record
// attached so that report verify can check the file.
func printPDF(ctx context.Context, rec *report.Record) ([]byte, error) {
	if _, err := report.Chromium(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "datamap-api-pdf-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "record.pdf")
	if err := report.WritePDF(ctx, rec, path); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

// deadLetterAnswer is GET /api/v1/deadletters.
type deadLetterAnswer struct {
	Total uint64               `json:"total"`
	Items []deadletter.Summary `json:"items"`
}

func (s *Server) deadLetterSummary(w http.ResponseWriter, r *http.Request) {
	if s.deadLetters == nil {
		writeError(w, http.StatusNotFound, "this server does not read the dead-letter stream")
		return
	}
	values, ok := singleValues(w, r)
	if !ok {
		return
	}
	limit := defaultDeadLetters
	for name, v := range values {
		if name != "limit" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": name + " " + strconv.Quote(v) + ": unknown parameter; it takes limit", "parameter": name})
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxDeadLetters {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "limit " + strconv.Quote(v) + ": must be a number from 1 to " + strconv.Itoa(maxDeadLetters), "parameter": "limit"})
			return
		}
		limit = n
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	total, err := deadletter.Count(ctx, s.deadLetters)
	if err != nil {
		s.respond(w, nil, err)
		return
	}
	letters, err := deadletter.Latest(ctx, s.deadLetters, limit)
	if err != nil {
		s.respond(w, nil, err)
		return
	}
	out := deadLetterAnswer{Total: total, Items: make([]deadletter.Summary, len(letters))}
	for i, l := range letters {
		out.Items[i] = l.Summary()
	}
	writeJSON(w, http.StatusOK, out)
}
