package events

import (
	"strings"
	"testing"
	"time"
)

func TestParseISODuration(t *testing.T) {
	good := []struct {
		in   string
		want ISODuration
		str  string
	}{
		{"P7Y", ISODuration{Years: 7}, "P7Y"},
		{"P18M", ISODuration{Months: 18}, "P18M"},
		{"P30D", ISODuration{Days: 30}, "P30D"},
		{"PT12H", ISODuration{Hours: 12}, "PT12H"},
		{"P1Y6M", ISODuration{Years: 1, Months: 6}, "P1Y6M"},
		{"P2W", ISODuration{Weeks: 2}, "P2W"},
		{"P1DT2H3M4S", ISODuration{Days: 1, Hours: 2, Minutes: 3, Seconds: 4}, "P1DT2H3M4S"},
		{"PT90M", ISODuration{Minutes: 90}, "PT90M"},
		{"P0D", ISODuration{}, "P0D"},
		{"P01Y", ISODuration{Years: 1}, "P1Y"},
	}
	for _, c := range good {
		d, err := ParseISODuration(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if d != c.want || d.String() != c.str {
			t.Errorf("%s = %+v (%s), want %+v (%s)", c.in, d, d, c.want, c.str)
		}
	}
	for _, in := range []string{"", "P", "PT", "P1YT", "7Y", "p7y", "P7", "P7y", "P1M1Y", "P1Y1Y", "PT1D", "P1H",
		"P1.5Y", "PT1,5H", "-P1Y", "P-1Y", "P1Y ", " P1Y", "PTT1H", "P1DT1H1H", "P99999999999999999999Y", "P1000000Y", "P1X"} {
		if d, err := ParseISODuration(in); err == nil {
			t.Errorf("%q accepted as %+v", in, d)
		} else if !strings.Contains(err.Error(), "P7Y") {
			t.Errorf("%q: error does not show an example: %v", in, err)
		}
	}
}

func TestISODurationArithmetic(t *testing.T) {
	mustParse := func(s string) ISODuration {
		d, err := ParseISODuration(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if a, b := mustParse("P18M").Approx(), mustParse("P1Y6M").Approx(); a != b {
		t.Errorf("P18M (%v) != P1Y6M (%v)", a, b)
	}
	if mustParse("P24M").Approx() <= mustParse("P1Y").Approx() || mustParse("P7Y").Approx() <= mustParse("P24M").Approx() {
		t.Error("Approx does not order durations")
	}
	if got := mustParse("PT12H").Approx(); got != 12*time.Hour {
		t.Errorf("PT12H = %v", got)
	}
	if got := mustParse("P999999Y").Approx(); got <= 0 {
		t.Errorf("P999999Y overflowed to %v", got)
	}
	start := time.Date(2024, 2, 29, 10, 0, 0, 0, time.UTC)
	if got := mustParse("P1Y1DT1H").AddTo(start); !got.Equal(time.Date(2025, 3, 2, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("AddTo = %v", got)
	}
	if !mustParse("P0D").IsZero() || mustParse("PT1S").IsZero() {
		t.Error("IsZero wrong")
	}
}

func FuzzParseISODuration(f *testing.F) {
	for _, s := range []string{"P7Y", "P1Y6M", "PT12H", "P1DT2H3M4S", "P", "PT1.5H"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseISODuration(s)
		if err != nil {
			return
		}
		// The canonical spelling must parse back to the same value.
		d2, err := ParseISODuration(d.String())
		if err != nil || d2 != d {
			t.Fatalf("%q -> %q -> %+v, %v", s, d.String(), d2, err)
		}
		_ = d.Approx()
	})
}
