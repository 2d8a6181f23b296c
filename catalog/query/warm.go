package query

import (
	"context"
	"errors"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Warm asks the catalog what the data-map pages ask first, and discards
// the answers, so that the first person to open a page after a start or
// a folding does not pay for what is loaded or compiled once and kept: the
// driver's connections, the primary keys and marks of the parts these
// reads touch (new parts prewarm their marks themselves, migration 0012),
// and ClickHouse's JIT compilation of their expressions, which it does the
// third time it runs one (min_count_to_compile_expression): the first runs
// and the compilation take up to twice as long as the later ones. So Warm
// asks each question times times — Compiled the first time in a process,
// once after that. The Folder calls it at start and after each round that
// changed the rollups.
func Warm(ctx context.Context, conn driver.Conn, times int) error {
	var errs []error
	for range times {
		ctx := OneState(ctx)
		_, err := Inventory(ctx, conn, Filter{})
		errs = append(errs, err)
		_, err = Flows(ctx, conn, Filter{})
		errs = append(errs, err)
		_, err = Retention(ctx, conn, Filter{})
		errs = append(errs, err)
		_, err = Systems(ctx, conn)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Compiled is how many times Warm asks each question so that ClickHouse
// compiles their expressions: its min_count_to_compile_expression and
// min_count_to_compile_aggregate_expression, both 3 by default.
const Compiled = 3
