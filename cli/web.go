package cli

import (
	"context"
	"net/http"
	"strings"

	"github.com/back-trace/datamap/api"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/report"
	"github.com/back-trace/datamap/sinks/deadletter"
	"github.com/back-trace/datamap/stack"
	"github.com/back-trace/datamap/web"
)

// webAndAPI builds the HTTP API and the web data map in front of it: the
// map's pages, served to browsers logged in with the same tokens, ask the
// API for everything they show; its pages about people, for a login with a
// subject token, ask the same questions on the server.
func webAndAPI(e *env, s *stack.Stack, tax *taxonomy.Taxonomy, token string, ready api.Readiness) (*web.Server, http.Handler, error) {
	var reg *registry.Registry
	if e.cfg.Registry != "" {
		var err error
		if reg, err = registry.Open(e.cfg.Registry, tax); err != nil {
			return nil, nil, usageError{err}
		}
	}
	_, noChromium := report.Chromium()
	w, err := web.New(web.Options{Token: token, ReadTokens: e.cfg.ReadTokenList(), SubjectTokens: subjectTokens(e),
		Catalog: s.ClickHouse, SessionTTL: e.cfg.SessionTTL,
		Taxonomy: tax, Registry: e.cfg.Registry, PDF: noChromium == nil, Log: e.log,
		Replay: func(ctx context.Context, ids []uint64) ([]uint64, []uint64, error) {
			res, err := deadletter.ReplayChecked(ctx, s.JS, events.NewValidator(tax), ids)
			return res.Replayed, res.Missing, err
		}})
	if err != nil {
		return nil, nil, err
	}
	a := api.New(s.ClickHouse, ready, tax, token, e.log).WithReadTokens(e.cfg.ReadTokenList()).
		WithSubjectTokens(subjectTokens(e)).WithIngestTokens(strings.Split(e.cfg.IngestTokens, ",")).
		WithSessions(w.Sessions()).WithDeadLetters(s.JS).
		WithEvidence(api.Evidence{Registry: reg, Name: e.cfg.Registry, Version: Version})
	return w, w.Handler(a.Handler()), nil
}
