package words

import (
	"maps"

	"github.com/back-trace/datamap/events"
)

// Glossary is every key a page can show with its words, by the field
// (the API's JSON name) that holds it; the web pages fetch it once and
// show the words, with the key on hover.
type Glossary struct {
	Fields map[string]map[string]string `json:"fields"`
	// Countries are each country's transfer status (a key of
	// Fields["country_status"]), by ISO code.
	Countries map[string]string `json:"countries"`
	// NoSafeguardNeeded and SafeguardMissing are what a transfer without a
	// safeguard is, depending on its country.
	NoSafeguardNeeded string `json:"no_safeguard_needed"`
	SafeguardMissing  string `json:"safeguard_missing"`
	// Units say ISO 8601 durations in words.
	Units []Unit `json:"units"`
}

// Glossary returns the words of every key: the taxonomy's and the fixed
// ones.
func (n Names) Glossary() Glossary {
	g := Glossary{Fields: map[string]map[string]string{}, Countries: map[string]string{},
		NoSafeguardNeeded: NoSafeguardNeeded, SafeguardMissing: SafeguardMissing, Units: Units}
	add := func(field, key, name string) {
		if g.Fields[field] == nil {
			g.Fields[field] = map[string]string{}
		}
		if name != "" && name != key {
			g.Fields[field][key] = name
		}
	}
	for _, c := range n.tax.Categories {
		add("category", c.Key, c.Name)
	}
	for _, p := range n.tax.Purposes {
		add("purpose", p.Key, p.Name)
	}
	for _, d := range n.tax.DataSubjects {
		add("data_subject", d.Key, d.Name)
	}
	for _, k := range events.LegalBases {
		add("legal_basis", k, LegalBasis(k))
	}
	for _, k := range events.SpecialConditions {
		add("special_condition", k, SpecialCondition(k))
	}
	for _, k := range events.Roles {
		add("role", k, Role(k))
	}
	for _, k := range events.Safeguards {
		add("safeguard", k, Safeguard(k))
	}
	for _, k := range events.Kinds {
		add("kind", string(k), Kind(string(k)))
	}
	for _, k := range events.Origins {
		add("origin", k, Origin(k))
	}
	for _, k := range Statuses {
		add("country_status", k, Status(k))
	}
	for _, c := range events.AllCountries() {
		add("country_name", c.Code, c.Name)
		g.Countries[c.Code] = CountryStatus(c.Code)
	}
	// The same words under the other names the answers give these fields.
	g.Fields["categories"] = maps.Clone(g.Fields["category"])
	g.Fields["data_subjects"] = maps.Clone(g.Fields["data_subject"])
	g.Fields["purposes"] = maps.Clone(g.Fields["purpose"])
	return g
}
