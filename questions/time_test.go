package questions_test

import (
	"errors"
	"testing"

	"github.com/back-trace/datamap/questions"
)

// A time the catalog cannot hold is an input error: as_of=0001-01-01 once
// read as the zero time, i.e. "now".
func TestTimesOutsideTheCatalogAreInputErrors(t *testing.T) {
	for _, v := range []string{"0001-01-01", "0001-01-01T00:00:00Z", "1899-12-31", "2300-01-01", "9999-12-31T23:59:59Z"} {
		_, err := questions.ParseTime("as_of", v, true)
		var ie *questions.InputError
		if !errors.As(err, &ie) {
			t.Errorf("as_of=%s: %v, want an input error", v, err)
		}
	}
	for _, v := range []string{"1900-01-01", "2026-11-30", "2299-12-30T12:00:00Z"} {
		if _, err := questions.ParseTime("as_of", v, true); err != nil {
			t.Errorf("as_of=%s: %v", v, err)
		}
	}
}
