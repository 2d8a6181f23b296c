package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/sortedset"
	"github.com/back-trace/datamap/registry"
)

// DraftRegistry drafts a registry from what has been observed: one activity
// per purpose, with the systems, data subjects, categories, legal bases,
// recipients and the longest retention seen for it. It is a starting
// point for `datamap registry init`: the controller's details, business
// functions, security measures and the reasoning behind legitimate
// interests are marked TODO, because no event can say them.
func DraftRegistry(obs []Observation, tax *taxonomy.Taxonomy) *registry.Registry {
	if tax == nil {
		tax = taxonomy.Default()
	}
	const todo = "TODO"
	reg := &registry.Registry{Version: 1, Controller: registry.Party{
		Name: todo + ": legal name of the controller", Address: todo,
		Contact: registry.Contact{Name: todo + ": privacy contact", Email: todo}}}
	byPurpose := map[string]*registry.Activity{}
	var order []string
	retention := map[string]map[string]Observation{} // purpose → category → longest
	for _, o := range obs {
		if o.Kind == string(events.KindErased) || o.Purpose == "" {
			continue
		}
		a := byPurpose[o.Purpose]
		if a == nil {
			name := o.Purpose
			if p, ok := tax.Purpose(o.Purpose); ok {
				name = p.Name
			}
			a = &registry.Activity{ID: strings.ReplaceAll(o.Purpose, "_", "-"), Name: name,
				BusinessFunction: todo, Purposes: []string{o.Purpose},
				SecurityMeasures: []string{todo + ": describe the technical and organisational measures"},
				DPIA:             todo + ": DPIA reference, or why none is needed"}
			byPurpose[o.Purpose] = a
			order = append(order, o.Purpose)
			retention[o.Purpose] = map[string]Observation{}
		}
		a.Systems = sortedset.Add(a.Systems, o.System)
		a.DataSubjects = sortedset.Add(a.DataSubjects, o.DataSubject)
		a.DataCategories = sortedset.Add(a.DataCategories, o.Category)
		if o.LegalBasis != "" {
			a.LegalBases = sortedset.Add(a.LegalBases, o.LegalBasis)
		}
		if o.LegalBasis == events.LegalBasisLegitimateInterests {
			a.LegitimateInterest = todo + ": the interest pursued (Art. 6(1)(f))"
		}
		if o.SpecialCondition != "" {
			a.SpecialCondition = o.SpecialCondition
		}
		if o.Kind == string(events.KindCollected) && o.Retention != "" {
			if prev, ok := retention[o.Purpose][o.Category]; !ok || o.RetentionDays > prev.RetentionDays {
				retention[o.Purpose][o.Category] = o
			}
		}
		if o.Recipient != "" {
			i := slices.IndexFunc(a.Recipients, func(r registry.Recipient) bool { return r.Name == o.Recipient })
			if i < 0 {
				safeguard := o.Safeguard
				if safeguard == "" && requires(o.Country) {
					safeguard = events.SafeguardNone
				}
				a.Recipients = append(a.Recipients, registry.Recipient{Name: o.Recipient, Role: o.Role,
					Country: o.Country, Safeguard: safeguard, Contract: o.Contract})
			}
		}
	}
	slices.Sort(order)
	for _, p := range order {
		a := byPurpose[p]
		for _, c := range slices.Sorted(maps.Keys(retention[p])) {
			a.Retention = append(a.Retention, registry.Retention{Category: c, Period: retention[p][c].Retention,
				Note: "longest retention the services declared"})
		}
		slices.SortFunc(a.Recipients, func(x, y registry.Recipient) int { return strings.Compare(x.Name, y.Name) })
		if len(a.LegalBases) == 0 {
			a.LegalBases = []string{events.LegalBasisContract}
			a.Description = todo + ": no legal basis was observed; contract is a placeholder"
		}
		reg.Activities = append(reg.Activities, *a)
	}
	if len(reg.Activities) == 0 {
		reg.Activities = []registry.Activity{}
	}
	return reg
}

// DraftHeader is the comment datamap writes above a drafted registry.
func DraftHeader(events, activities int) string {
	return fmt.Sprintf(`# datamap.yaml drafted by `+"`datamap registry init`"+` from %d observed events.
#
# One activity per observed purpose. Review every activity: merge or split
# them as your organisation thinks of its processing, replace each TODO, and
# remove recipients or categories that should not be there (a draft records
# what happened, not what is allowed). Validate with
# `+"`datamap registry validate datamap.yaml`"+`; format: schemas/registry.v1.json.
# %d activities.
`, events, activities)
}
