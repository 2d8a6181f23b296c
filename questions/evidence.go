package questions

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/people"
	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/report"
)

// Drift and the Article 30 record hold the evidence against the declared
// registry, so they need the registry besides the catalog (Deps). Their
// entries (Drift, Article30) are in the table like every question;
// `datamap drift`, `datamap report article30`, GET /api/v1/drift and
// GET /api/v1/article30 all parse with the entry's ParseEvidence and answer
// with Deps.Drift or Deps.Article30, so the four accept, refuse and answer
// the same.

// ParsedEvidence is a parsed drift or record request.
type ParsedEvidence struct {
	AsOf       time.Time // the end of the evidence; the "now" of stale and retention findings
	Role       string
	StaleAfter time.Duration
}

// ParseEvidence checks the parameters of Drift or Article30. Empty values
// take the defaults: as of now, every role, report.DefaultStaleAfter. A
// mistake is an *InputError naming the parameter.
func (q Question) ParseEvidence(values map[string]string) (ParsedEvidence, error) {
	r := ParsedEvidence{AsOf: time.Now().UTC(), Role: report.RoleAll, StaleAfter: report.DefaultStaleAfter}
	for name, v := range values {
		if v == "" {
			continue
		}
		p, ok := q.Param(name)
		if !ok {
			return r, &InputError{Param: name, Value: v, Msg: "unknown parameter; it takes " + strings.Join(q.ParamNames(), ", ")}
		}
		if p.Values != nil && !slices.Contains(p.Values, v) {
			return r, &InputError{Param: name, Value: v, Msg: "must be one of " + strings.Join(p.Values, ", ")}
		}
		var err error
		switch name {
		case "as_of":
			r.AsOf, err = ParseTime(name, v, true)
		case "role":
			r.Role = v
		case "stale_days":
			r.StaleAfter, err = staleAfter(v)
		}
		if err != nil {
			return r, err
		}
	}
	return r, nil
}

// Deps are what the questions held against the declared registry read:
// the catalog, the taxonomy and the registry, passed as one value.
type Deps struct {
	Catalog  driver.Conn
	Taxonomy *taxonomy.Taxonomy
	Registry *registry.Registry
}

// Drift returns where the processing observed up to r.AsOf departs from
// the registry, most severe first.
func (d Deps) Drift(ctx context.Context, r ParsedEvidence) ([]report.Finding, error) {
	ev, err := observe(ctx, d.Catalog, r.AsOf)
	if err != nil {
		return nil, err
	}
	findings := report.Drift(d.Registry, d.Taxonomy, ev.obs, r.AsOf, report.DriftOptions{StaleAfter: r.StaleAfter,
		Rights: ev.rights, Traffic: ev.traffic})
	if findings == nil {
		findings = []report.Finding{}
	}
	return findings, nil
}

// Article30 builds the Article 30 record as of r.AsOf, sealed with its
// content SHA-256. generatedAt and version are stamped on it; neither is
// part of the hash.
func (d Deps) Article30(ctx context.Context, r ParsedEvidence, generatedAt time.Time, version string) (*report.Record, error) {
	ev, err := observe(ctx, d.Catalog, r.AsOf)
	if err != nil {
		return nil, err
	}
	rec, err := report.Build(d.Registry, d.Taxonomy, ev.obs, report.Options{AsOf: r.AsOf, Role: r.Role, GeneratedAt: generatedAt,
		Version: version, StaleAfter: r.StaleAfter, Rights: ev.rights, Traffic: ev.traffic})
	if err != nil {
		return nil, fmt.Errorf("article 30 record: %w", err)
	}
	return rec, nil
}

// evidence is what drift and the record hold against the registry.
type evidence struct {
	obs     []report.Observation
	rights  []people.Finding
	traffic []report.Traffic
}

// observe reads the observations and the observed traffic, and judges the
// findings about people's rights as of asOf. The rights findings sum the
// people concerned and name none, so drift and the record stay read-role
// answers.
func observe(ctx context.Context, conn driver.Conn, asOf time.Time) (evidence, error) {
	var ev evidence
	var err error
	if ev.obs, err = query.Observations(ctx, conn, asOf); err != nil {
		return ev, err
	}
	facts, err := query.RightsFacts(ctx, conn, asOf)
	if err != nil {
		return ev, err
	}
	ev.rights = people.Findings(facts, asOf)
	ev.traffic, err = query.TrafficObservations(ctx, conn, asOf)
	return ev, err
}
