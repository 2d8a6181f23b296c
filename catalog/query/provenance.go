package query

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// CredentialRow says how many events one credential brought for one
// source: the evidence of who speaks for whom.
type CredentialRow struct {
	Source string `json:"source"`
	// Credential is the name of what brought the events ("http:billing",
	// "nats:billing-api", "nats:legacy"); "" for events stored before
	// credentials were recorded.
	Credential string    `json:"credential"`
	Events     uint64    `json:"events"`
	FirstSeen  time.Time `json:"first_seen"` // when the first of them arrived
	LastSeen   time.Time `json:"last_seen"`  // when the last of them arrived
}

// Credentials lists, per source, the credentials that brought its events
// and how many. It reads the raw events — the events table, and the
// consents and requests of subject_refs, without their references — so
// days whose raw events have expired (DATAMAP_RAW_EVENTS_TTL_DAYS) are not
// counted: the rollups keep no credential.
func Credentials(ctx context.Context, conn driver.Conn) ([]CredentialRow, error) {
	rows, err := conn.Query(ctx, `
		SELECT source, credential, count() AS n, min(ingested_at), max(ingested_at)
		FROM (
			SELECT source, credential, ingested_at FROM events FINAL
			UNION ALL
			SELECT source, credential, ingested_at FROM subject_refs FINAL
			WHERE kind NOT IN ('collected', 'shared', 'erased')
		)
		GROUP BY source, credential
		ORDER BY source, credential`)
	if err != nil {
		return nil, fmt.Errorf("credentials query: %w", err)
	}
	defer rows.Close()
	var out []CredentialRow
	for rows.Next() {
		var r CredentialRow
		if err := rows.Scan(&r.Source, &r.Credential, &r.Events, &r.FirstSeen, &r.LastSeen); err != nil {
			return nil, fmt.Errorf("credentials query: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
