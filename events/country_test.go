package events

import (
	"strings"
	"testing"
)

func TestLookupCountry(t *testing.T) {
	cases := []struct {
		code          string
		eea, adequacy bool
		safeguard     bool
	}{
		{"DE", true, false, false},
		{"NO", true, false, false}, // EEA through EFTA, not the EU
		{"IS", true, false, false},
		{"LI", true, false, false},
		{"RE", true, false, false}, // outermost region, part of the EU
		{"CH", false, true, false},
		{"GB", false, true, false},
		{"JP", false, true, false},
		{"CA", false, true, false},
		{"GL", false, false, true}, // overseas territory, outside the EEA
		{"US", false, false, true},
		{"IN", false, false, true},
	}
	for _, c := range cases {
		got, ok := LookupCountry(c.code)
		if !ok {
			t.Errorf("%s: unknown", c.code)
			continue
		}
		if got.Code != c.code || got.Name == "" || got.EEA != c.eea || got.Adequacy != c.adequacy || got.SafeguardRequired() != c.safeguard {
			t.Errorf("%s = %+v (safeguard required %v)", c.code, got, got.SafeguardRequired())
		}
	}
	if us, _ := LookupCountry("US"); !strings.Contains(us.AdequacyNote, "Data Privacy Framework") {
		t.Errorf("US note %q does not mention the DPF", us.AdequacyNote)
	}
	if ca, _ := LookupCountry("CA"); !strings.Contains(ca.AdequacyNote, "commercial") {
		t.Errorf("CA note %q does not say the decision is partial", ca.AdequacyNote)
	}
	for _, code := range []string{"", "de", "De", "XX", "DEU", "EU", "UK"} {
		if c, ok := LookupCountry(code); ok {
			t.Errorf("%q found: %+v", code, c)
		}
	}
}

func TestCountryList(t *testing.T) {
	all := AllCountries()
	if len(all) < 249 {
		t.Errorf("%d countries, want all 249 ISO 3166-1 codes", len(all))
	}
	eea := 0
	for _, c := range all {
		if c.EEA && c.Adequacy {
			t.Errorf("%s: EEA countries need no adequacy decision", c.Code)
		}
		if c.EEA {
			eea++
		}
	}
	// 27 EU + IS, LI, NO, plus the 7 EU territories with their own code.
	if eea != 37 {
		t.Errorf("%d EEA codes, want 37", eea)
	}
	date, source := CountriesAsOf()
	if len(date) != len("2006-01-02") || !strings.Contains(source, "commission.europa.eu") {
		t.Errorf("CountriesAsOf() = %q, %q", date, source)
	}
	all[0].Name = "changed"
	if AllCountries()[0].Name == "changed" {
		t.Error("AllCountries returns shared storage")
	}
}

func TestParseCountriesStrict(t *testing.T) {
	for _, in := range []string{
		"countries: [{code: DE, name: Germany, eu: true}]",
		"countries: [{code: de, name: Germany}]",
		"countries: [{code: DE, name: Germany}, {code: DE, name: Again}]",
		"countries: [{code: DE}]",
	} {
		if _, err := parseCountries([]byte(in)); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}
