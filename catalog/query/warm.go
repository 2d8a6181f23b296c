package query

import (
	"context"
	"errors"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Warm asks the catalog what the data-map pages ask first, and discards
// the answers, so that the first person to open a page after a start or
// a folding does not pay for what is loaded once and kept: the driver's
// connections, the primary keys and marks of the parts these reads touch
// (new parts prewarm their marks themselves, migration 0012), and this
// process's first use of each statement. It reads the catalog as a
// person would, at most a few hundred milliseconds; the Folder calls it
// after each round that changed the rollups, and serve at start.
func Warm(ctx context.Context, conn driver.Conn) error {
	ctx = OneState(ctx)
	var errs []error
	_, err := Inventory(ctx, conn, Filter{})
	errs = append(errs, err)
	_, err = Flows(ctx, conn, Filter{})
	errs = append(errs, err)
	_, err = Retention(ctx, conn, Filter{})
	errs = append(errs, err)
	_, err = Systems(ctx, conn)
	errs = append(errs, err)
	return errors.Join(errs...)
}
