package registry

import (
	"testing"

	"github.com/back-trace/datamap/schemas"
)

func TestBackTraceRegistryIsValid(t *testing.T) {
	r, err := Parse(schemas.BackTraceRegistry(), "schemas/backtrace-registry.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.AllActivities()) < 10 {
		t.Errorf("%d activities", len(r.AllActivities()))
	}
}
