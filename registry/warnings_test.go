package registry_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/schemas"
)

func warningsOf(t *testing.T, yaml string) []string {
	t.Helper()
	tax := taxonomy.Default()
	r, err := registry.Parse([]byte(yaml), "datamap.yaml", tax)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, w := range r.Warnings(tax) {
		out = append(out, w.Field)
	}
	return out
}

func TestWarningsNamePlaceholdersAndMissingOfficers(t *testing.T) {
	for _, c := range []struct {
		name, yaml string
		want       []string
	}{
		{"complete", valid, nil},
		{"a draft's placeholders", strings.Replace(strings.Replace(valid, "name: Example", "name: 'TODO: legal name of the controller'", 1),
			"name: Billing", "name: TODO describe", 1), []string{"controller.name", "activities[0].name"}},
		{"a telecom declares it needs a DPO and names none", strings.Replace(valid, "  name: Example\n", "  name: Example\n  dpo_required: true\n", 1),
			[]string{"controller.dpo"}},
		{"the DPO is named", strings.Replace(valid, "  name: Example\n", "  name: Example\n  dpo_required: true\n  dpo: {name: Jane, email: dpo@example.test}\n", 1), nil},
		{"established outside the EEA without a representative", strings.Replace(valid, "  name: Example\n", "  name: Example\n  country: US\n", 1),
			[]string{"controller.representative"}},
		{"established in the EEA", strings.Replace(valid, "  name: Example\n", "  name: Example\n  country: NL\n", 1), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := warningsOf(t, c.yaml); !slices.Equal(got, c.want) {
				t.Errorf("warnings on %v, want %v", got, c.want)
			}
		})
	}
}

func TestBackTraceRegistryWarnsOfItsMissingDPO(t *testing.T) {
	tax := taxonomy.Default()
	r, err := registry.Parse(schemas.BackTraceRegistry(), "backtrace-registry.yaml", tax)
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	for _, w := range r.Warnings(tax) {
		fields = append(fields, w.Field)
	}
	if !slices.Equal(fields, []string{"controller.dpo"}) {
		t.Errorf("the example registry warns on %v; its policy names no DPO, and nothing else is missing", fields)
	}
	if required, why := r.DPORequired(tax); !required || why == "" {
		t.Errorf("DPORequired = %v, %q; a telecom processing traffic data needs a DPO", required, why)
	}
}
