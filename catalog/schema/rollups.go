package schema

import (
	"context"
	"fmt"
	"regexp"
	"strconv"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// SetRawEventsTTL makes ClickHouse delete raw events days after the day
// they happened, or keeps them forever (days = 0). The rows go at merges,
// not at once (materialize_ttl_after_modify = 0: no rewrite of every part).
// Call it only once every day that is about to lose its raw events has
// been folded into the rollups and sealed: package catalog/rollup does.
func SetRawEventsTTL(ctx context.Context, conn driver.Conn, d Dialect, days int) error {
	var stmt string
	switch {
	case days > 0:
		stmt = fmt.Sprintf("ALTER TABLE events MODIFY TTL toDate(time) + toIntervalDay(%d) SETTINGS materialize_ttl_after_modify = 0", days)
	case days < 0:
		return fmt.Errorf("catalog: raw events TTL of %d days: must be 0 (forever) or positive", days)
	default:
		current, err := RawEventsTTL(ctx, conn, d)
		if err != nil || current == 0 {
			return err
		}
		stmt = "ALTER TABLE events REMOVE TTL" // fails on a table without a TTL
	}
	m, err := d.Render(Migration{Name: "raw events TTL", Statements: []string{stmt}})
	if err != nil {
		return err
	}
	for _, s := range m.Statements {
		if err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("catalog: set the raw events TTL: %w", err)
		}
	}
	return nil
}

// ttlExpression is the TTL SetRawEventsTTL writes, as ClickHouse shows it
// in system.tables.
var (
	ttlExpression = regexp.MustCompile(`\bTTL toDate\(time\) \+ toIntervalDay\((\d+)\)`)
	anyTTL        = regexp.MustCompile(`\bTTL\b`)
)

// RawEventsTTL returns the raw-event TTL in force, in days; 0 means the
// events are kept forever. A TTL that SetRawEventsTTL did not write is an
// error: datamap cannot tell which days it expires.
func RawEventsTTL(ctx context.Context, conn driver.Conn, d Dialect) (int, error) {
	table := "events"
	if d.Cluster != "" {
		table += LocalSuffix
	}
	var engine string
	if err := conn.QueryRow(ctx, `SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = ?`,
		table).Scan(&engine); err != nil {
		return 0, fmt.Errorf("catalog: read the raw events TTL: %w", err)
	}
	if m := ttlExpression.FindStringSubmatch(engine); m != nil {
		return strconv.Atoi(m[1])
	}
	if anyTTL.MatchString(engine) {
		return 0, fmt.Errorf("catalog: the %s table has a TTL datamap did not set (%s): remove it (ALTER TABLE %s REMOVE TTL) and set DATAMAP_RAW_EVENTS_TTL_DAYS instead",
			table, engine, table)
	}
	return 0, nil
}

// StopCountingArrivals drops the view that counts each hour's arrivals: the
// catalog then ingests exactly as it did before rollups, and its rollups
// stop following the events. Only `datamap bench` calls it, on a
// throw-away catalog, to measure what the rollups cost ingestion; a
// catalog without the view must not be queried.
func StopCountingArrivals(ctx context.Context, conn driver.Conn, d Dialect) error {
	m, err := d.Render(Migration{Name: "no rollups", Statements: []string{"DROP VIEW IF EXISTS rollup_arrivals_mv"}})
	if err != nil {
		return err
	}
	for _, s := range m.Statements {
		if err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("catalog: drop the arrivals view: %w", err)
		}
	}
	return nil
}
