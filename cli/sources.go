package cli

import (
	"context"
	"fmt"

	"github.com/back-trace/datamap/catalog/query"
)

func runSources(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "sources", "[--source NAME] [--format table|wide|json|csv]", `
Show which credentials brought each source's events, and how many: the
evidence that every system spoke only for itself. A credential is named,
never shown: http:<name> is an ingest token of DATAMAP_INGEST_TOKENS (or
http:api-token, the API token), nats:<source> a NATS connection allowed to
publish on that source's subjects (the service's own credential, see
'datamap service'), nats:legacy the old shared subjects, on which any
publisher could speak for any source (DATAMAP_LEGACY_SUBJECTS). A source
brought by more than one credential deserves a look.

Events stored before credentials were recorded show an empty credential.
Only raw events are counted: days older than DATAMAP_RAW_EVENTS_TTL_DAYS
are not.`, `
  datamap sources
  datamap sources --source billing-api --format json`)
	only := fs.String("source", "", "only this source")
	var format string
	formatFlag(fs, &format)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if err := checkFormat(format); err != nil {
		return err
	}
	s, closeStack, err := attach(ctx, e)
	if err != nil {
		return err
	}
	defer closeStack()
	rows, err := query.Credentials(ctx, s.ClickHouse)
	if err != nil {
		return err
	}
	if *only != "" {
		var kept []query.CredentialRow
		for _, r := range rows {
			if r.Source == *only {
				kept = append(kept, r)
			}
		}
		if kept == nil && format == "table" {
			fmt.Fprintf(e.stderr, "no events of source %q\n", *only)
		}
		rows = kept
	}
	for i := range rows {
		if rows[i].Credential == "" && format != "json" {
			rows[i].Credential = "(not recorded)"
		}
	}
	return render(e.stdout, format, rows)
}
