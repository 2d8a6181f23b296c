package report

import "testing"

// TestRightsFollowTheLawfulBasis: the rights column follows the ICO's
// table of rights by lawful basis.
func TestRightsFollowTheLawfulBasis(t *testing.T) {
	const always = "Be informed, access, rectification, restriction (Arts. 13–16, 18)"
	for _, c := range []struct {
		bases []string
		adm   bool
		want  string
	}{
		{[]string{"legal_obligation"}, false, always},
		{[]string{"public_task"}, false, always + "; object (Art. 21)"},
		{[]string{"vital_interests"}, false, always + "; erasure (Art. 17)"},
		{[]string{"consent"}, true, always + "; erasure (Art. 17); data portability (Art. 20); withdraw consent (Art. 7(3)); not to be subject to solely automated decisions (Art. 22)"},
		{[]string{"contract", "legitimate_interests"}, false, always + "; erasure (Art. 17); data portability (Art. 20) where based on contract; object (Art. 21) where based on legitimate interests"},
		{nil, false, notDeclared},
	} {
		if got := rightsFor(c.bases, c.adm); got != c.want {
			t.Errorf("rightsFor(%v, %v) =\n  %s\nwant\n  %s", c.bases, c.adm, got, c.want)
		}
	}
}
