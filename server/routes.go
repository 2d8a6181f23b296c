package server

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/back-trace/datamap/access"
	"github.com/back-trace/datamap/access/attempts"
	"github.com/back-trace/datamap/api"
	"github.com/back-trace/datamap/catalog/deadletter"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/sdk"
	"github.com/back-trace/datamap/ingest"
	"github.com/back-trace/datamap/report"
	"github.com/back-trace/datamap/stack"
	"github.com/back-trace/datamap/web"
)

// IngestSpoolDir is where the HTTP ingest spools events that cannot reach
// JetStream yet, under the data directory.
const IngestSpoolDir = "ingest-spool"

// routes is the one HTTP mux: /metrics, and either health alone
// (ConsumerOnly) or the HTTP ingest at POST /v1/events in front of the web
// data map at /, which passes the API's routes through to the API.
func (s *Server) routes(tel *telemetry) (http.Handler, error) {
	o, st := s.opts, s.opts.Stack
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", tel.handler)
	if o.ConsumerOnly {
		mux.Handle("/", api.Health(st.ClickHouse, s.consumer, o.Log))
		return s.limitFailures(mux), nil
	}
	creds, err := s.credentials()
	if err != nil {
		return nil, err
	}
	_, noChromium := report.Chromium()
	validator := events.NewValidator(o.Taxonomy)
	s.web, err = web.New(web.Options{Credentials: creds, Catalog: st.ClickHouse, SessionTTL: o.Config.SessionTTL,
		Taxonomy: o.Taxonomy, Registry: o.Config.Registry, Declared: o.Registry, PDF: noChromium == nil, Log: o.Log,
		Replay: func(ctx context.Context, ids []uint64) ([]uint64, []uint64, error) {
			res, err := deadletter.ReplayChecked(ctx, st.JS, validator, ids)
			return res.Replayed, res.Missing, err
		}})
	if err != nil {
		return nil, err
	}
	catalogAPI := api.New(api.Options{Catalog: st.ClickHouse, Ready: s.consumer, Taxonomy: o.Taxonomy,
		Credentials: creds, Sessions: s.web.Sessions(), DeadLetters: st.JS, Log: o.Log,
		Evidence: api.Evidence{Registry: o.Registry, Name: o.Config.Registry, Version: o.Version}})

	// The ingest publishes through an SDK publisher with a spool in the
	// data directory; Run drains it when it stops.
	pub, err := sdk.NewPublisher(st.JS, sdk.WithSource("datamap-ingest"), sdk.WithTaxonomy(o.Taxonomy),
		sdk.WithSpool(filepath.Join(o.Config.DataDir, IngestSpoolDir)), sdk.WithLogger(o.Log), sdk.WithMeterProvider(tel.provider))
	if err != nil {
		return nil, err
	}
	in, err := ingest.New(pub, validator, ingest.Options{Credentials: creds, Logger: o.Log, MeterProvider: tel.provider})
	if err != nil {
		_ = pub.Close(context.Background())
		return nil, err
	}
	s.closeIngest = pub.Close
	mux.Handle("POST "+ingest.Path, in)
	mux.Handle("/", s.web.Handler(catalogAPI.Handler()))
	return s.limitFailures(mux), nil
}

// limitFailures counts the failed attempts to present a token — a bearer
// token on any route, a token typed into the web login — per client and
// per token prefix, and refuses with 429 those who made too many.
func (s *Server) limitFailures(h http.Handler) http.Handler {
	return attempts.New(attempts.Options{Log: s.opts.Log, Secret: func(r *http.Request) string {
		if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			return bearer
		}
		return web.LoginToken(r)
	}}).Handler(h)
}

// credentials are every credential the server accepts: the configured
// tokens and the API token (DATAMAP_API_TOKEN, or the generated one).
func (s *Server) credentials() (access.Credentials, error) {
	token, err := stack.APIToken(s.opts.Config)
	if err != nil {
		return nil, err
	}
	return s.opts.Config.Credentials(token), nil
}
