package registry

import (
	"slices"
	"strconv"
	"strings"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/traffic/hostpattern"
)

// located is an activity with the pointer path to it, for error lines.
type located struct {
	a    *Activity
	path []string
}

// check validates what the schema cannot: references to the taxonomy,
// countries, durations, unique ids, and the GDPR's cross-field rules.
func (p *parser) check(r *Registry, tax *taxonomy.Taxonomy) {
	var all []located
	for i := range r.Activities {
		all = append(all, located{&r.Activities[i], []string{"activities", strconv.Itoa(i)}})
	}
	if r.Processor != nil {
		for i := range r.Processor.Controllers {
			c := &r.Processor.Controllers[i]
			for j := range c.Activities {
				c.Activities[j].Client = c.Name
				all = append(all, located{&c.Activities[j], []string{"processor", "controllers", strconv.Itoa(i), "activities", strconv.Itoa(j)}})
			}
		}
	}
	ids := map[string]int{}
	for _, l := range all {
		field, line := p.locate(at(l.path, "id"))
		if first, dup := ids[l.a.ID]; dup {
			p.Errorf(line, field, "activity id %q is used twice (first on line %d); ids must be unique across the registry", l.a.ID, first)
		} else {
			ids[l.a.ID] = line
		}
		p.activity(l, tax)
	}
	for i, jc := range r.JointControllers {
		for j, id := range jc.Activities {
			if _, ok := ids[id]; !ok {
				field, line := p.locate([]string{"joint_controllers", strconv.Itoa(i), "activities", strconv.Itoa(j)})
				p.Errorf(line, field, "%q is not the id of an activity in this registry", id)
			}
		}
	}
}

func at(path []string, more ...any) []string {
	out := slices.Clone(path)
	for _, m := range more {
		switch v := m.(type) {
		case string:
			out = append(out, v)
		case int:
			out = append(out, strconv.Itoa(v))
		}
	}
	return out
}

func (p *parser) activity(l located, tax *taxonomy.Taxonomy) {
	a, path := l.a, l.path
	keys := func(list []string, field string, known func(string) bool, what string) {
		for i, k := range list {
			if !known(k) {
				f, line := p.locate(at(path, field, i))
				p.Errorf(line, f, "%q is not a %s of the taxonomy; `datamap taxonomy` lists them", k, what)
			}
		}
	}
	isCategory := func(k string) bool { _, ok := tax.Category(k); return ok }
	keys(a.Purposes, "purposes", func(k string) bool { _, ok := tax.Purpose(k); return ok }, "purpose")
	keys(a.DataSubjects, "data_subjects", func(k string) bool { _, ok := tax.DataSubject(k); return ok }, "data subject category")
	keys(a.DataCategories, "data_categories", isCategory, "data category")

	controller := a.Client == ""
	if controller && len(a.LegalBases) == 0 {
		f, line := p.locate(path)
		p.Errorf(line, joinField(f, "legal_bases"), "missing; a controller activity needs its Art. 6 lawful basis (e.g. [contract])")
	}
	if slices.Contains(a.LegalBases, events.LegalBasisLegitimateInterests) && strings.TrimSpace(a.LegitimateInterest) == "" {
		f, line := p.locate(at(path, "legal_bases"))
		p.Errorf(line, strings.TrimSuffix(f, ".legal_bases")+".legitimate_interest", "missing; with legitimate_interests, say which interest is pursued (Art. 6(1)(f))")
	}
	if controller && a.SpecialCondition == "" {
		for i, k := range a.DataCategories {
			if c, ok := tax.Category(k); ok && c.Special {
				f, line := p.locate(at(path, "data_categories", i))
				p.Errorf(line, f, "%q is a special category (Art. 9); set special_condition on the activity", k)
			}
		}
	}
	if a.DPIAProgress != "" && a.DPIARequired != nil && !*a.DPIARequired {
		f, line := p.locate(at(path, "dpia_progress"))
		p.Errorf(line, f, "set, but dpia_required is false; remove it, or set dpia_required: true")
	}
	if a.BreachRecord != "" && (a.BreachOccurred == nil || !*a.BreachOccurred) {
		f, line := p.locate(at(path, "breach_record"))
		p.Errorf(line, f, "set, but breach_occurred is not true; set breach_occurred: true, or remove the record")
	}
	if a.ConsentRecord != "" && !slices.Contains(a.LegalBases, events.LegalBasisConsent) && a.SpecialCondition != "explicit_consent" {
		f, line := p.locate(at(path, "consent_record"))
		p.Errorf(line, f, "set, but the activity rests on no consent (neither legal_bases: [consent] nor special_condition: explicit_consent); remove it, or declare the consent basis")
	}
	for i, c := range a.Locations {
		if _, ok := events.LookupCountry(c); !ok {
			f, line := p.locate(at(path, "locations", i))
			p.Errorf(line, f, "%q is not an ISO 3166-1 alpha-2 country code", c)
		}
	}
	for i, rt := range a.Retention {
		if !isCategory(rt.Category) {
			f, line := p.locate(at(path, "retention", i, "category"))
			p.Errorf(line, f, "%q is not a data category of the taxonomy; `datamap taxonomy` lists them", rt.Category)
		} else if !a.CoversCategory(rt.Category) && !slices.ContainsFunc(a.DataCategories, func(k string) bool { return isUnder(k, rt.Category) }) {
			f, line := p.locate(at(path, "retention", i, "category"))
			p.Errorf(line, f, "%q is not among the activity's data_categories; add it there or remove this entry", rt.Category)
		}
		if _, err := events.ParseISODuration(rt.Period); err != nil {
			f, line := p.locate(at(path, "retention", i, "period"))
			p.Errorf(line, f, "%v", err)
		}
	}
	names := map[string]bool{}
	for i, rc := range a.Recipients {
		if names[rc.Name] {
			f, line := p.locate(at(path, "recipients", i, "name"))
			p.Errorf(line, f, "%q is listed twice in this activity; list each recipient once", rc.Name)
		}
		names[rc.Name] = true
		if _, ok := events.LookupCountry(rc.Country); !ok {
			f, line := p.locate(at(path, "recipients", i, "country"))
			p.Errorf(line, f, "%q is not an ISO 3166-1 alpha-2 country code", rc.Country)
		} else if rc.Safeguard == "" && requiresSafeguard(rc.Country) {
			f, line := p.locate(at(path, "recipients", i, "country"))
			p.Errorf(line, strings.TrimSuffix(f, ".country")+".safeguard",
				"missing; %s is outside the EEA without an adequacy decision, so name the transfer safeguard (scc, bcr, dpf, derogation, or none if there is none)", rc.Country)
		}
		for j, h := range rc.Hosts {
			if msg := hostpattern.Check(h); msg != "" {
				f, line := p.locate(at(path, "recipients", i, "hosts", j))
				p.Errorf(line, f, "%s", msg)
			}
		}
		for j, k := range rc.Categories {
			f, line := p.locate(at(path, "recipients", i, "categories", j))
			switch {
			case !isCategory(k):
				p.Errorf(line, f, "%q is not a data category of the taxonomy", k)
			case !a.CoversCategory(k):
				p.Errorf(line, f, "%q is not among the activity's data_categories; add it there", k)
			}
		}
	}
}
