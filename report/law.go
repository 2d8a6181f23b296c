package report

import (
	"slices"
	"strings"

	"github.com/back-trace/datamap/events"
)

// What the GDPR fixes, in the words the record prints: the names of the
// lawful bases and Art. 9 conditions (the JSON keeps their keys), and the
// rights of individuals each basis gives.

// legalBasisNames name the Art. 6(1) bases.
var legalBasisNames = map[string]string{
	events.LegalBasisConsent:             "Consent (Art. 6(1)(a))",
	events.LegalBasisContract:            "Contract (Art. 6(1)(b))",
	events.LegalBasisLegalObligation:     "Legal obligation (Art. 6(1)(c))",
	events.LegalBasisVitalInterests:      "Vital interests (Art. 6(1)(d))",
	events.LegalBasisPublicTask:          "Public task (Art. 6(1)(e))",
	events.LegalBasisLegitimateInterests: "Legitimate interests (Art. 6(1)(f))",
}

// specialConditionNames name the Art. 9(2) conditions.
var specialConditionNames = map[string]string{
	"explicit_consent":            "Explicit consent (Art. 9(2)(a))",
	"employment":                  "Employment and social security law (Art. 9(2)(b))",
	"vital_interests":             "Vital interests (Art. 9(2)(c))",
	"nonprofit":                   "Not-for-profit body (Art. 9(2)(d))",
	"made_public":                 "Made public by the data subject (Art. 9(2)(e))",
	"legal_claims":                "Legal claims (Art. 9(2)(f))",
	"substantial_public_interest": "Substantial public interest (Art. 9(2)(g))",
	"health_care":                 "Health or social care (Art. 9(2)(h))",
	"public_health":               "Public health (Art. 9(2)(i))",
	"archiving":                   "Archiving, research or statistics (Art. 9(2)(j))",
}

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
				from = append(from, strings.SplitN(nameOr(legalBasisNames, b), " (", 2)[0])
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
