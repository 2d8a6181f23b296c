package events

import (
	"bytes"
	"fmt"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/back-trace/datamap/schemas"
)

// Country is an ISO 3166-1 country with its GDPR transfer status, from
// schemas/countries.yaml.
type Country struct {
	Code string // ISO 3166-1 alpha-2, upper case, e.g. "DE"
	Name string // English short name
	// EEA is true inside the European Economic Area (EU, Iceland,
	// Liechtenstein, Norway), where data moves without a transfer safeguard.
	EEA bool
	// Adequacy is true when an EU Commission adequacy decision covers the
	// country, possibly only in part (see AdequacyNote). False for the US,
	// where the Data Privacy Framework covers certified organisations only.
	Adequacy     bool
	AdequacyNote string // the decision and its limits, or why not adequate
}

// SafeguardRequired reports whether a transfer of personal data from the
// EEA to this country needs a GDPR Chapter V safeguard (SCC, BCR, DPF, or
// an Art. 49 derogation).
func (c Country) SafeguardRequired() bool { return !c.EEA && !c.Adequacy }

type countryTable struct {
	asOf, source string
	list         []Country
	byCode       map[string]int
}

// countries parses the embedded list once; it is data shipped with the
// binary, so a parse error is a build defect and panics (a test guards it).
var countries = sync.OnceValue(func() *countryTable {
	t, err := parseCountries(schemas.Countries())
	if err != nil {
		panic("events: embedded schemas/countries.yaml is invalid: " + err.Error())
	}
	return t
})

func parseCountries(data []byte) (*countryTable, error) {
	var f struct {
		AsOf      string `yaml:"as_of"`
		Source    string `yaml:"source"`
		Countries []struct {
			Code         string `yaml:"code"`
			Name         string `yaml:"name"`
			EEA          bool   `yaml:"eea"`
			Adequacy     bool   `yaml:"adequacy"`
			AdequacyNote string `yaml:"adequacy_note"`
		} `yaml:"countries"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	t := &countryTable{asOf: f.AsOf, source: f.Source, byCode: make(map[string]int, len(f.Countries))}
	for _, c := range f.Countries {
		if len(c.Code) != 2 || c.Code[0] < 'A' || c.Code[0] > 'Z' || c.Code[1] < 'A' || c.Code[1] > 'Z' {
			return nil, fmt.Errorf("country code %q is not two upper-case letters", c.Code)
		}
		if _, dup := t.byCode[c.Code]; dup {
			return nil, fmt.Errorf("country code %q is listed twice", c.Code)
		}
		if c.Name == "" {
			return nil, fmt.Errorf("country %s has no name", c.Code)
		}
		t.byCode[c.Code] = len(t.list)
		t.list = append(t.list, Country(c))
	}
	return t, nil
}

// LookupCountry returns the country with this ISO 3166-1 alpha-2 code. The
// match is case-sensitive: events must write codes in upper case ("DE"), as
// the JSON Schemas require, so "de" is reported as unknown rather than
// silently accepted.
func LookupCountry(code string) (Country, bool) {
	t := countries()
	i, ok := t.byCode[code]
	if !ok {
		return Country{}, false
	}
	return t.list[i], true
}

// AllCountries returns every country, ordered by code. The slice is a copy.
func AllCountries() []Country {
	return append([]Country(nil), countries().list...)
}

// CountriesAsOf returns the date the country list (EEA membership,
// adequacy decisions) was last checked, and where it was checked, so that
// reports can state what their transfer findings rely on.
func CountriesAsOf() (date, source string) {
	t := countries()
	return t.asOf, t.source
}
