package suggest

import "testing"

func TestClosest(t *testing.T) {
	names := []string{"inventory", "flows", "retention"}
	for in, want := range map[string]string{"inventroy": "inventory", "flow": "flows", "retenion": "retention", "zzz": ""} {
		if got := Closest(in, names, 3); got != want {
			t.Errorf("Closest(%q) = %q, want %q", in, got, want)
		}
	}
}
