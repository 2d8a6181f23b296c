package events

import "testing"

// TestEveryFieldHasACheck fails when a payload field has no check of its
// value: a kind that allows it would then take any value, personal ones
// included.
func TestEveryFieldHasACheck(t *testing.T) {
	for i := range Fields {
		f := &Fields[i]
		if f.InRecipient() || f.Type == Integer {
			continue // checked with the recipient; count by Decode and Validate
		}
		if fieldChecks[f.Key] == nil {
			t.Errorf("data.%s has no entry in fieldChecks (validate.go): say what a valid value is", f.Key)
		}
	}
	for key := range fieldChecks {
		if fieldIndex(dataFields, key) < 0 {
			t.Errorf("fieldChecks checks %q, which Fields does not describe", key)
		}
	}
}
