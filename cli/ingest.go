package cli

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/sdk"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/ingest"
	"github.com/back-trace/datamap/stack"
)

// IngestSpoolDir is where `datamap serve` spools ingested events that
// cannot reach JetStream yet, under the data directory.
const IngestSpoolDir = "ingest-spool"

// withIngest mounts POST /v1/events (package ingest) in front of the API
// handler. The ingest publishes through an sdk.Publisher with a spool in
// the data directory; the returned close drains it (what is left stays in
// the spool for the next start).
func withIngest(e *env, s *stack.Stack, tax *taxonomy.Taxonomy, apiToken string, apiHandler http.Handler) (http.Handler, func(context.Context) error, error) {
	pub, err := sdk.NewPublisher(s.JS, sdk.WithSource("datamap-ingest"), sdk.WithTaxonomy(tax),
		sdk.WithSpool(filepath.Join(e.cfg.DataDir, IngestSpoolDir)), sdk.WithLogger(e.log))
	if err != nil {
		return nil, nil, err
	}
	tokens := append(strings.Split(e.cfg.IngestTokens, ","), apiToken)
	h, err := ingest.New(pub, events.NewValidator(tax), ingest.Options{Tokens: tokens, Logger: e.log})
	if err != nil {
		_ = pub.Close(context.Background())
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("POST "+ingest.Path, h)
	mux.Handle("/", apiHandler)
	return mux, pub.Close, nil
}
