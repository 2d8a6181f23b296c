package query_test

import (
	"testing"

	"github.com/back-trace/datamap/internal/testkit/testservers"
)

// TestMain lets the test binary double as the embedded ClickHouse's child
// process (see internal/testkit/testservers).
func TestMain(m *testing.M) { testservers.Main(m) }
