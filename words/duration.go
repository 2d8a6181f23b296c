package words

import (
	"strconv"
	"strings"

	"github.com/back-trace/datamap/events"
)

// Unit is one component of a duration in words: its ISO 8601 letter and
// its singular and plural names.
type Unit struct {
	Designator string `json:"designator"` // "Y", "M", "W", "D" before the T; "H", "M", "S" after
	Time       bool   `json:"time"`       // after the T
	One        string `json:"one"`
	Many       string `json:"many"`
}

// Units are the components of an ISO 8601 duration, in the order they
// are written and read.
var Units = []Unit{
	{"Y", false, "year", "years"}, {"M", false, "month", "months"}, {"W", false, "week", "weeks"},
	{"D", false, "day", "days"}, {"H", true, "hour", "hours"}, {"M", true, "minute", "minutes"},
	{"S", true, "second", "seconds"},
}

// Duration says an ISO 8601 duration in words: "P24M" is "24 months",
// "P1Y6M" is "1 year 6 months", "PT12H" is "12 hours". Months are not
// folded into years: a retention is said as it was declared. A value that
// is not a duration is an error (events.ParseISODuration's).
func Duration(iso string) (string, error) {
	d, err := events.ParseISODuration(iso)
	if err != nil {
		return "", err
	}
	var parts []string
	for i, v := range []int{d.Years, d.Months, d.Weeks, d.Days, d.Hours, d.Minutes, d.Seconds} {
		if v == 0 {
			continue
		}
		name := Units[i].Many
		if v == 1 {
			name = Units[i].One
		}
		parts = append(parts, strconv.Itoa(v)+" "+name)
	}
	if len(parts) == 0 {
		return "0 days", nil
	}
	return strings.Join(parts, " "), nil
}

// DurationOr is Duration, or the value as it is when it is not a
// duration, so that a reader sees what was declared ("" stays "").
func DurationOr(iso string) string {
	if w, err := Duration(iso); err == nil {
		return w
	}
	return iso
}
