package report_test

import (
	"testing"

	"github.com/back-trace/datamap/internal/testkit/testservers"
)

func TestMain(m *testing.M) { testservers.Main(m) }
