package query

import (
	"context"
	"errors"
	"time"

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
//
// It also asks the inventory as of noon of an early day whose raw events
// are kept: whole days from the rollups and half a day from the raw
// events, the shape of every answer as of an instant inside an older
// day. The first such answer in a process cost twice the later ones,
// whatever the day asked (at 100M events 99–150 ms against 55–68,
// measured); once one was answered, the first answers at other days and
// instants were not slower than the later ones.
func Warm(ctx context.Context, conn driver.Conn, times int) error {
	noon, err := secondNoon(ctx, conn)
	if err != nil {
		return err
	}
	var errs []error
	for range times {
		ctx := OneState(ctx)
		_, err := Inventory(ctx, conn, Filter{})
		errs = append(errs, err)
		if !noon.IsZero() {
			_, err = Inventory(ctx, conn, Filter{AsOf: noon})
			errs = append(errs, err)
		}
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

// secondNoon is noon of the second day with events, or of the first day
// after the last whose raw events may have expired; zero when there is no
// such day.
func secondNoon(ctx context.Context, conn driver.Conn) (time.Time, error) {
	b, err := readBookkeeping(ctx, conn)
	if err != nil {
		return time.Time{}, err
	}
	sealed := b.state().sealed
	for i, d := range b.days {
		if i > 0 && d.Day.After(sealed) {
			return d.Day.Add(12 * time.Hour), nil
		}
	}
	return time.Time{}, nil
}
