package web

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/people"
	"github.com/back-trace/datamap/questions"
	"github.com/back-trace/datamap/report"
)

// The pages about people are rendered here, on the server, from package
// questions, rather than by scripts calling the API as the map's pages do:
// the API's subject routes take the reference in the query string, and an
// address ends up in the browser's history, its address bar suggestions
// and the access logs of every proxy in between. A reference is personal
// data, so it only ever travels in the body of a POST.

// webSurface is the surface the audit trail records for the web map.
const webSurface = "web"

// maxAuditRows bounds the audit trail one page shows, newest first.
const maxAuditRows = 1000

// subjectView is the answer a page about people shows.
type subjectView struct {
	// Error is why the question was refused or failed. It never repeats a
	// value typed as a reference: that may be the identity itself.
	Error string
	// Asked says a person was looked up; Profile is what was found.
	Asked   bool
	Profile people.Profile
	// Requests and All: the requests page, with closed requests or not.
	Requests []people.Request
	All      bool
	// Audit is the audit trail (at most maxAuditRows of AuditTotal),
	// filtered by Who and by a reference when Filtered.
	Audit      []query.AuditEntry
	AuditTotal int
	Who        string
	Filtered   bool
}

func (s *Server) subjectRoutes(mux *http.ServeMux) {
	person, requests, audit := subjectPages()[0], subjectPages()[1], subjectPages()[2]
	mux.Handle("GET "+person.Path, s.loggedIn(s.allowed(person, s.personForm)))
	mux.Handle("POST "+person.Path, s.loggedIn(s.allowed(person, s.personLookup)))
	mux.Handle("POST "+statementPath, s.loggedIn(s.allowed(person, s.statement)))
	mux.Handle("GET "+requests.Path, s.loggedIn(s.allowed(requests, s.requests)))
	mux.Handle("GET "+audit.Path, s.loggedIn(s.allowed(audit, s.auditTrail)))
	mux.Handle("POST "+audit.Path, s.loggedIn(s.allowed(audit, s.auditTrail)))
}

// ask asks a subject question on behalf of the session, as the API does
// for a subject token: questions.WithAsker says who asks (the subject
// token's name, never the token) and from where, and the question records
// that in the audit trail before it answers — or does not answer.
func (s *Server) ask(r *http.Request, q questions.Question, values map[string]string) (questions.Answer, error) {
	ctx := questions.WithAsker(r.Context(), questions.Asker{Who: sessionOf(r).name, Surface: webSurface})
	ctx = questions.WithRegistry(ctx, s.opts.Declared) // the statement's declared parts
	return q.Ask(ctx, s.opts.Catalog, s.opts.Taxonomy, values)
}

// refuse renders the page with why its question was not answered: 400
// for the caller's mistake, 503 when the catalog could not answer.
func (s *Server) refuse(w http.ResponseWriter, d pageData, err error) {
	var ie *questions.InputError
	if errors.As(err, &ie) {
		d.Subject.Error = refusal(ie)
		s.render(w, d.Page.Name, http.StatusBadRequest, d)
		return
	}
	// The error is about the catalog, not the person: the question's
	// values are bound as parameters, never spelled into its text.
	s.opts.Log.Error("web subject question", "page", d.Page.Name, "err", err)
	d.Subject.Error = "The catalog could not answer, so nothing was looked up; see the server log, and try again."
	s.render(w, d.Page.Name, http.StatusServiceUnavailable, d)
}

// refusal says what is wrong with a parameter. For a reference it gives
// only what is wrong, never the value: what was typed may be an e-mail
// address or a phone number.
func refusal(ie *questions.InputError) string {
	if ie.Param == "ref" {
		return "Subject reference: " + ie.Msg
	}
	return ie.Error()
}

func (s *Server) personForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, "person", http.StatusOK, s.data(r, subjectPages()[0]))
}

// personLookup answers `datamap subject show` for the reference posted.
func (s *Server) personLookup(w http.ResponseWriter, r *http.Request) {
	if !checkCSRF(w, r) {
		return
	}
	d := s.data(r, subjectPages()[0])
	ref := strings.TrimSpace(r.PostForm.Get("ref"))
	if ref == "" {
		d.Subject.Error = "Subject reference: enter one (sr1: and 52 characters)."
		s.render(w, "person", http.StatusBadRequest, d)
		return
	}
	a, err := s.ask(r, questions.SubjectShow, map[string]string{"ref": ref})
	if err != nil {
		s.refuse(w, d, err)
		return
	}
	d.Subject.Profile, d.Subject.Asked = questions.DocumentOf[people.Profile](a)
	d.PDF = s.opts.PDF
	s.render(w, d.Page.Name, http.StatusOK, d)
}

// statementPath is where the person page posts for a person's statement.
const statementPath = "/subject/statement"

// statement answers `subject statement` for the reference posted: what the
// person is told on access (GDPR Art. 15), as a file to download — HTML to
// print or send, PDF, or JSON. Asking is recorded in the audit trail, as
// every subject question is.
func (s *Server) statement(w http.ResponseWriter, r *http.Request) {
	if !checkCSRF(w, r) {
		return
	}
	d := s.data(r, subjectPages()[0])
	d.PDF = s.opts.PDF
	ref := strings.TrimSpace(r.PostForm.Get("ref"))
	format := cmp.Or(r.PostForm.Get("format"), "html")
	switch {
	case ref == "":
		d.Subject.Error = "Subject reference: enter one (sr1: and 52 characters)."
	case !slices.Contains(report.StatementFormats, format):
		d.Subject.Error = "Statement format " + strconv.Quote(format) + ": use " + strings.Join(report.StatementFormats, ", ") + "."
	case format == "pdf" && !s.opts.PDF:
		d.Subject.Error = "No PDF: Chromium is not installed on the server; download the HTML and print it."
	}
	if d.Subject.Error != "" {
		s.render(w, "person", http.StatusBadRequest, d)
		return
	}
	a, err := s.ask(r, questions.SubjectStatement, map[string]string{"ref": ref})
	if err != nil {
		s.refuse(w, d, err)
		return
	}
	st, _ := questions.DocumentOf[people.Statement](a)
	var body bytes.Buffer
	if format == "pdf" {
		body, err = statementPDF(r.Context(), st)
	} else {
		err = report.WriteStatement(&body, st, format)
	}
	if err != nil {
		s.opts.Log.Error("web subject statement", "format", format, "err", err)
		d.Subject.Error = "The statement could not be written; see the server log, and try again."
		s.render(w, "person", http.StatusServiceUnavailable, d)
		return
	}
	types := map[string]string{"html": "text/html; charset=utf-8", "pdf": "application/pdf", "json": "application/json"}
	w.Header().Set("Content-Type", types[format])
	w.Header().Set("Content-Disposition", `attachment; filename="art15-statement-`+st.Date+`.`+format+`"`)
	w.Header().Set("Cache-Control", "no-store") // it is about a person
	_, _ = w.Write(body.Bytes())
}

// statementPDF prints a statement to PDF in a directory of its own.
func statementPDF(ctx context.Context, st people.Statement) (bytes.Buffer, error) {
	var out bytes.Buffer
	dir, err := os.MkdirTemp("", "datamap-statement-")
	if err != nil {
		return out, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "statement.pdf")
	if err := report.WriteStatementPDF(ctx, st, path); err != nil {
		return out, err
	}
	b, err := os.ReadFile(path)
	out.Write(b)
	return out, err
}

// requests answers `datamap subject requests [--all]`. The only parameter
// is all, which says nothing about anyone, so it may be in the address.
func (s *Server) requests(w http.ResponseWriter, r *http.Request) {
	d := s.data(r, subjectPages()[1])
	all := r.URL.Query().Get("all")
	d.Subject.All = all == "true"
	a, err := s.ask(r, questions.SubjectRequests, map[string]string{"all": all})
	if err != nil {
		s.refuse(w, d, err)
		return
	}
	d.Subject.Requests = questions.RowsOf[people.Request](a)
	s.render(w, "requests", http.StatusOK, d)
}

// auditTrail answers `datamap audit`: GET lists it whole, POST filters it
// by who and by reference (posted, like every reference).
func (s *Server) auditTrail(w http.ResponseWriter, r *http.Request) {
	values := map[string]string{}
	if r.Method == http.MethodPost {
		if !checkCSRF(w, r) {
			return
		}
		values["who"] = strings.TrimSpace(r.PostForm.Get("who"))
		values["ref"] = strings.TrimSpace(r.PostForm.Get("ref"))
	}
	d := s.data(r, subjectPages()[2])
	d.Subject.Who, d.Subject.Filtered = values["who"], values["ref"] != ""
	a, err := s.ask(r, questions.Audit, values)
	if err != nil {
		s.refuse(w, d, err)
		return
	}
	rows := questions.RowsOf[query.AuditEntry](a)
	d.Subject.AuditTotal = len(rows)
	d.Subject.Audit = rows[:min(len(rows), maxAuditRows)]
	s.render(w, d.Page.Name, http.StatusOK, d)
}

// The subject pages write dates and where a request stands in the words
// of package subjects, which the CLI uses too.
var (
	day = people.Day
	due = people.Request.Due
)

// stamp formats a moment to the second, in UTC.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

// findingMeaning says what a finding about a person means.
var findingMeaning = map[string]string{
	people.FindingProcessingAfterWithdrawal: "the system collected or disclosed the person's data for this purpose after they withdrew consent to it (Art. 7(3))",
	people.FindingErasureIncomplete:         "the person's erasure is completed or past its deadline, and this system held their data and never reported erasing it (Art. 17)",
	people.FindingRequestOverdue:            "the request is still open past its deadline (Art. 12(3))",
	people.FindingProcessingAfterErasure:    "the system collected the person's data again after reporting its erasure on their request",
}

// requestsTable is what the requests table shows: the requests, and the
// session's CSRF token for the buttons that look a person up.
type requestsTable struct {
	Requests []people.Request
	CSRF     string
	// Lookup adds each request's person with a button to look them up
	// (the requests page; the person page is about one person already).
	Lookup bool
}

func newRequestsTable(rs []people.Request, csrf string, lookup bool) requestsTable {
	return requestsTable{Requests: rs, CSRF: csrf, Lookup: lookup}
}
