package report_test

import (
	"testing"
	"time"

	"github.com/back-trace/datamap/internal/testservers"
	"github.com/back-trace/datamap/report"
)

func TestMain(m *testing.M) { testservers.Main(m) }

func TestParseAsOf(t *testing.T) {
	d, err := report.ParseAsOf("2026-11-30")
	if err != nil || !d.Equal(time.Date(2026, 11, 30, 23, 59, 59, 999e6, time.UTC)) {
		t.Errorf("date: %v %v", d, err)
	}
	i, err := report.ParseAsOf("2026-11-30T12:00:00+01:00")
	if err != nil || !i.Equal(time.Date(2026, 11, 30, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("instant: %v %v", i, err)
	}
	if _, err := report.ParseAsOf("30/11/2026"); err == nil {
		t.Error("accepted 30/11/2026")
	}
}

func TestParseAsOfRefusesTimesOutsideTheCatalog(t *testing.T) {
	for _, v := range []string{"0001-01-01", "0001-01-01T00:00:00Z", "2300-01-01"} {
		if _, err := report.ParseAsOf(v); err == nil {
			t.Errorf("ParseAsOf(%q) accepted", v)
		}
	}
}
