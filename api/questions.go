package api

import (
	"crypto/hmac"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/questions"
)

// Pagination of list answers: limit rows per page (default and maximum
// below), cursor from the previous page's next_cursor.
const (
	defaultLimit = 500
	maxLimit     = 10000
)

//go:embed openapi.json
var openAPI []byte

// questionRoutes serves every question of package questions at its path,
// and the OpenAPI document that describes them. Subject questions need a
// subject token; the others a read token or the full-access one.
func (s *Server) questionRoutes(mux *http.ServeMux) {
	for _, q := range questions.All() {
		if q.Shape == questions.Record {
			continue // served against the registry: recordRoutes
		}
		if q.Role == questions.RoleSubject {
			mux.Handle("GET "+q.Path(), s.subjectOnly(s.question(q)))
			continue
		}
		mux.Handle("GET "+q.Path(), s.readable(s.question(q)))
	}
	mux.Handle("GET /api/v1/openapi.json", s.readable(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
	}))
}

// page is one page of a list answer.
type page struct {
	Items      any    `json:"items"`
	Total      int    `json:"total"`
	NextCursor string `json:"next_cursor,omitempty"`
	Next       string `json:"next,omitempty"` // the URL of the next page
	Findings   *int   `json:"findings,omitempty"`
	// CountriesAsOf and CountriesSource say which EEA/adequacy list
	// transfer findings rely on.
	CountriesAsOf   string `json:"countries_as_of,omitempty"`
	CountriesSource string `json:"countries_source,omitempty"`
}

func (s *Server) question(q questions.Question) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		params := r.URL.Query()
		values := map[string]string{}
		accepted := q.ParamNames()
		if q.Paged() {
			accepted = append(accepted, pageParamNames...)
		}
		refuse := func(ie *questions.InputError) {
			if err := q.Refused(r.Context(), s.catalog, ie); err != nil {
				s.log.Error("a refused subject question was not recorded", "question", q.Name, "err", err)
			}
			badParameter(w, ie)
		}
		for name, vs := range params {
			if !slices.Contains(accepted, name) {
				refuse(&questions.InputError{Param: name, Value: vs[0],
					Msg: "not a parameter of " + q.Path() + "; it takes " + strings.Join(accepted, ", ")})
				return
			}
			if len(vs) > 1 {
				refuse(&questions.InputError{Param: name, Value: vs[0], Msg: "given " + strconv.Itoa(len(vs)) + " times; give it once"})
				return
			}
			if !slices.Contains(pageParamNames, name) {
				values[name] = vs[0]
			}
		}
		limit, offset, err := s.cursors.pageParams(params)
		var ie *questions.InputError
		if errors.As(err, &ie) {
			refuse(ie)
			return
		}
		a, err := q.Ask(r.Context(), s.catalog, s.taxonomy, values)
		if err != nil {
			s.respondInputError(w, err)
			return
		}
		if a.Text != nil {
			w.Header().Set("Content-Type", a.MIME)
			_, _ = w.Write(a.Text)
			return
		}
		if !q.Paged() {
			writeJSON(w, http.StatusOK, a.Document)
			return
		}
		p := page{Total: a.Rows.Len()}
		end := min(offset+limit, a.Rows.Len())
		start := min(offset, end)
		p.Items = a.Rows.Slice(start, end)
		if end < a.Rows.Len() {
			p.NextCursor = s.cursors.encode(end, params)
			next := url.Values{}
			for k, v := range params {
				next[k] = v
			}
			next.Set("cursor", p.NextCursor)
			p.Next = q.Path() + "?" + next.Encode()
		}
		if q.Findings {
			p.Findings = &a.Findings
		}
		if q.Countries {
			p.CountriesAsOf, p.CountriesSource = events.CountriesAsOf()
		}
		writeJSON(w, http.StatusOK, p)
	}
}

// pageParamNames are the parameters of a list answer's paging.
var pageParamNames = []string{"limit", "cursor"}

// badParameter answers 400 with the error and the parameter it is about.
func badParameter(w http.ResponseWriter, ie *questions.InputError) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": ie.Error(), "parameter": ie.Param})
}

// maxOffset bounds the row a cursor may point at: no answer is that long,
// and it keeps offset+limit far from overflowing.
const maxOffset = 1 << 40

// cursors signs and reads the cursors of list answers. A cursor is the
// offset of the next row and a MAC, under a key only this server knows,
// of that offset and of the query it came from: a cursor reused with other
// parameters would skip or repeat rows, and a forged one could point
// anywhere, so both are refused.
type cursors struct{ key []byte }

// pageParams reads limit and cursor; a bad one is a *questions.InputError.
func (c cursors) pageParams(params url.Values) (limit, offset int, err error) {
	limit = defaultLimit
	if v := params.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > maxLimit {
			return 0, 0, &questions.InputError{Param: "limit", Value: v, Msg: "must be a number from 1 to " + strconv.Itoa(maxLimit)}
		}
	}
	if v := params.Get("cursor"); v != "" {
		raw, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(raw) != 8+cursorMACSize || !hmac.Equal(raw[8:], c.mac(raw[:8], params)) {
			return 0, 0, &questions.InputError{Param: "cursor", Msg: "not a next_cursor of this query from this server; start again without cursor"}
		}
		o := binary.BigEndian.Uint64(raw[:8])
		if o > maxOffset {
			return 0, 0, &questions.InputError{Param: "cursor", Msg: "points past any answer; start again without cursor"}
		}
		offset = int(o)
	}
	return limit, offset, nil
}

// cursorMACSize is how much of the HMAC-SHA256 a cursor carries.
const cursorMACSize = 16

func (c cursors) encode(offset int, query url.Values) string {
	raw := binary.BigEndian.AppendUint64(nil, uint64(offset))
	return base64.RawURLEncoding.EncodeToString(append(raw, c.mac(raw, query)...))
}

// mac is the HMAC of the offset and the query's parameters except the
// page position.
func (c cursors) mac(offset []byte, query url.Values) []byte {
	var names []string
	for k := range query {
		if k != "cursor" && k != "limit" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	h := hmac.New(sha256.New, c.key)
	h.Write(offset)
	for _, k := range names {
		h.Write([]byte(k + "=" + strings.Join(query[k], ",") + "\x00"))
	}
	return h.Sum(nil)[:cursorMACSize]
}
