package report

import (
	"slices"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/registry"
)

// Attribution says which declared activity an observation is evidence of.
// An observation belongs to the activity whose systems contain its system
// and whose purposes contain its purpose; when several do, to the one that
// declares the most of its category, data subject, legal basis and
// recipient (the first in file order on a tie). Erasures carry no purpose
// and match on system and category. Activity is nil when nothing matches:
// undeclared processing.
type Attribution struct {
	Observation
	Activity *registry.Activity
}

// Attribute assigns each observation to a declared activity.
func Attribute(reg *registry.Registry, obs []Observation) []Attribution {
	acts := reg.AllActivities()
	out := make([]Attribution, len(obs))
	for i, o := range obs {
		out[i] = Attribution{Observation: o, Activity: bestActivity(acts, o)}
	}
	return out
}

func bestActivity(acts []*registry.Activity, o Observation) *registry.Activity {
	var best *registry.Activity
	bestScore := -1
	for _, a := range acts {
		if !slices.Contains(a.Systems, o.System) {
			continue
		}
		if o.Kind == string(events.KindErased) {
			if a.CoversCategory(o.Category) {
				return a
			}
			continue
		}
		if !slices.Contains(a.Purposes, o.Purpose) {
			continue
		}
		if s := score(a, o); s > bestScore {
			best, bestScore = a, s
		}
	}
	return best
}

// score counts how many of the observation's attributes the activity
// declares.
func score(a *registry.Activity, o Observation) int {
	s := 0
	if a.CoversCategory(o.Category) {
		s++
	}
	if slices.Contains(a.DataSubjects, o.DataSubject) {
		s++
	}
	if len(a.LegalBases) == 0 || slices.Contains(a.LegalBases, o.LegalBasis) {
		s++
	}
	if o.Recipient != "" {
		if r, ok := a.Recipient(o.Recipient); ok {
			s++
			if len(r.Categories) == 0 || slices.ContainsFunc(r.Categories, func(k string) bool { return under(o.Category, k) }) {
				s++
			}
		}
	}
	return s
}

func under(key, prefix string) bool {
	return key == prefix || (len(key) > len(prefix) && key[:len(prefix)] == prefix && key[len(prefix)] == '.')
}
