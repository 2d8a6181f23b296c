package report

import (
	"slices"
	"strings"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/words"
)

// What the GDPR gives individuals, by lawful basis. The names of the bases
// and conditions are in package words.

// nameOr returns names[key], or the key when it has no name.
func nameOr(names map[string]string, key string) string {
	if n, ok := names[key]; ok {
		return n
	}
	return key
}

// conditionalRights are the rights that depend on the lawful basis, in
// the order the ICO's guidance lists them, with the bases that give each:
// erasure is excluded where processing is required by law or a public task
// (Art. 17(3)(b)); portability needs consent or contract (Art. 20(1)(a));
// the right to object applies to public task and legitimate interests
// (Art. 21(1)); consent can be withdrawn (Art. 7(3)).
var conditionalRights = []struct {
	right string
	bases []string
}{
	{"erasure (Art. 17)", []string{events.LegalBasisConsent, events.LegalBasisContract, events.LegalBasisVitalInterests, events.LegalBasisLegitimateInterests}},
	{"data portability (Art. 20)", []string{events.LegalBasisConsent, events.LegalBasisContract}},
	{"object (Art. 21)", []string{events.LegalBasisPublicTask, events.LegalBasisLegitimateInterests}},
	{"withdraw consent (Art. 7(3))", []string{events.LegalBasisConsent}},
}

// rightsFor says which rights individuals have over an activity's data,
// following from its lawful bases: the rights every basis gives, then each
// basis-dependent right, naming the bases that give it when the activity
// has several; and the Art. 22 right when it involves automated decisions.
func rightsFor(bases []string, automatedDecisions bool) string {
	if len(bases) == 0 {
		return notDeclared
	}
	parts := []string{"Be informed, access, rectification, restriction (Arts. 13–16, 18)"}
	for _, c := range conditionalRights {
		var from []string
		for _, b := range bases {
			if slices.Contains(c.bases, b) {
				from = append(from, words.LegalBasis(b))
			}
		}
		switch {
		case len(from) == 0:
		case len(from) == len(bases):
			parts = append(parts, c.right)
		default:
			parts = append(parts, c.right+" where based on "+strings.ToLower(strings.Join(from, ", ")))
		}
	}
	if automatedDecisions {
		parts = append(parts, "not to be subject to solely automated decisions (Art. 22)")
	}
	return strings.Join(parts, "; ")
}
