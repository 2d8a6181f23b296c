package query

import (
	"context"
	"errors"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Warm asks the catalog what the data-map questions ask, and discards the
// answers, so that the first question a person asks does not pay for what
// ClickHouse loads on first use and keeps: the marks and primary keys of
// the parts it reads (loaded lazily, per part and column), their
// LowCardinality dictionaries, their pages in the OS cache, and the
// driver's connections. A new part — each folding writes some, each merge
// replaces some — is cold again, so the Folder warms after every round
// that folded, as well as at start. It reads the rollup rows of every
// span (whole years; the months, ten-day periods and days around the
// newest day), the hourly rows and raw events of the newest day (an
// as-of instant inside it), and the columns every question reads.
func Warm(ctx context.Context, conn driver.Conn) error {
	state, err := readRollupStateNow(ctx, conn)
	if err != nil || state.last.IsZero() {
		return err
	}
	ctx = OneState(ctx)
	// The newest day, as of its middle: its months, ten-day periods and
	// days from the rollups, its first half from its hours or raw events.
	mid := Filter{AsOf: state.last.Add(12*time.Hour - resolution)}
	var errs []error
	for _, f := range []Filter{{}, mid} {
		_, err := Inventory(ctx, conn, f)
		errs = append(errs, err)
		_, err = Flows(ctx, conn, f)
		errs = append(errs, err)
		_, err = Retention(ctx, conn, f)
		errs = append(errs, err)
	}
	_, err = Systems(ctx, conn)
	errs = append(errs, err)
	return errors.Join(errs...)
}
