package query_test

import (
	"context"
	"testing"

	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/internal/testkit/testservers"
)

// Warming reads an empty catalog and a folded one without error: it runs
// at every start and after every folding, so it must not fail on either.
func TestWarmReadsEmptyAndFoldedCatalogs(t *testing.T) {
	ctx := context.Background()
	if err := query.Warm(ctx, testservers.ClickHouse(t), 1); err != nil {
		t.Fatalf("empty catalog: %v", err)
	}
	conn := loadFixture(t)
	foldAll(t, conn)
	if err := query.Warm(ctx, conn, query.Compiled); err != nil {
		t.Fatalf("folded catalog: %v", err)
	}
}
