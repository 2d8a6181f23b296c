package questions

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/report"
	"github.com/back-trace/datamap/subjects"
)

// Drift and the Article 30 record hold the evidence against the declared
// registry, so they need the registry besides the catalog. `datamap drift`,
// `datamap report article30`, GET /api/v1/drift and GET /api/v1/article30
// all parse their parameters with ParseEvidence and answer with Drift or
// Article30, so the four accept, refuse and answer the same.

// DriftParams are the parameters of drift; RecordParams those of the
// Article 30 record (its format is the caller's business: a flag, or a
// query parameter of the API).
var (
	DriftParams  = []string{"as_of", "stale_days"}
	RecordParams = []string{"as_of", "role", "stale_days"}
)

// RecordRoles are the record's role values: Art. 30(1), 30(2), or both.
var RecordRoles = []string{report.RoleAll, report.RoleController, report.RoleProcessor}

// EvidenceRequest is a parsed drift or record request.
type EvidenceRequest struct {
	AsOf       time.Time // the end of the evidence; the "now" of stale and retention findings
	Role       string
	StaleAfter time.Duration
}

// ParseEvidence checks drift or record parameters (params is DriftParams
// or RecordParams). Empty values take the defaults: as of now, every role,
// report.DefaultStaleAfter. A mistake is a *query.InputError naming the
// parameter.
func ParseEvidence(values map[string]string, params []string) (EvidenceRequest, error) {
	r := EvidenceRequest{AsOf: time.Now().UTC(), Role: report.RoleAll, StaleAfter: report.DefaultStaleAfter}
	for name, v := range values {
		if v == "" {
			continue
		}
		if !slices.Contains(params, name) {
			return r, &query.InputError{Param: name, Value: v, Msg: "unknown parameter; it takes " + strings.Join(params, ", ")}
		}
		switch name {
		case "as_of":
			t, err := query.ParseTime(name, v, true)
			if err != nil {
				return r, err
			}
			r.AsOf = t
		case "role":
			if !slices.Contains(RecordRoles, v) {
				return r, &query.InputError{Param: name, Value: v, Msg: "must be one of " + strings.Join(RecordRoles, ", ")}
			}
			r.Role = v
		case "stale_days":
			days, err := strconv.Atoi(v)
			if err != nil || days < 1 || days > 36600 {
				return r, &query.InputError{Param: name, Value: v, Msg: "must be a whole number of days from 1 to 36600"}
			}
			r.StaleAfter = time.Duration(days) * 24 * time.Hour
		}
	}
	return r, nil
}

// Drift returns where the processing observed up to r.AsOf departs from
// the registry, most severe first.
func Drift(ctx context.Context, conn driver.Conn, tax *taxonomy.Taxonomy, reg *registry.Registry, r EvidenceRequest) ([]report.Finding, error) {
	obs, rights, err := observe(ctx, conn, r.AsOf)
	if err != nil {
		return nil, err
	}
	findings := report.Drift(reg, tax, obs, r.AsOf, report.DriftOptions{StaleAfter: r.StaleAfter, Rights: rights})
	if findings == nil {
		findings = []report.Finding{}
	}
	return findings, nil
}

// Article30 builds the Article 30 record as of r.AsOf, sealed with its
// content SHA-256. generatedAt and version are stamped on it; neither is
// part of the hash.
func Article30(ctx context.Context, conn driver.Conn, tax *taxonomy.Taxonomy, reg *registry.Registry, r EvidenceRequest, generatedAt time.Time, version string) (*report.Record, error) {
	obs, rights, err := observe(ctx, conn, r.AsOf)
	if err != nil {
		return nil, err
	}
	rec, err := report.Build(reg, tax, obs, report.Options{AsOf: r.AsOf, Role: r.Role, GeneratedAt: generatedAt,
		Version: version, StaleAfter: r.StaleAfter, Rights: rights})
	if err != nil {
		return nil, fmt.Errorf("article 30 record: %w", err)
	}
	return rec, nil
}

// observe reads the observations and judges the findings about people's
// rights as of asOf. The rights findings sum the people concerned and name
// none, so drift and the record stay read-role answers.
func observe(ctx context.Context, conn driver.Conn, asOf time.Time) ([]report.Observation, []subjects.Finding, error) {
	obs, err := query.Observations(ctx, conn, asOf)
	if err != nil {
		return nil, nil, err
	}
	facts, err := query.RightsFacts(ctx, conn, asOf)
	if err != nil {
		return nil, nil, err
	}
	return obs, subjects.Findings(facts, asOf), nil
}
