package people

import (
	"slices"
	"strings"
	"time"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/sortedset"
	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/words"
)

// StatementFormat names the JSON schema of Statement.
const StatementFormat = "datamap.statement.v1"

// Statement is what a person is told when they ask for access (GDPR
// Art. 15(1)(a)–(h) and 15(2)), in plain words, from the evidence about
// them and the declared registry. It holds no identity and no reference:
// the privacy officer adds the person's name when sending it.
type Statement struct {
	Format string `json:"format"`
	// Date is the day the statement speaks for.
	Date string `json:"date"`
	// Controller is who answers, and how to reach them and their DPO.
	Controller StatementParty `json:"controller"`
	// Purposes are why the data is used, each with its legal basis and
	// the rights that basis gives (Art. 15(1)(a), (e)).
	Purposes []StatementPurpose `json:"purposes"`
	// Categories are the kinds of data concerned (Art. 15(1)(b)): those
	// held, and those disclosed to a recipient even when no system reports
	// holding them.
	Categories []Named `json:"categories"`
	// Recipients are the named recipients the data was disclosed to, with
	// the country and what covers a transfer (Art. 15(1)(c), 15(2)).
	Recipients []StatementRecipient `json:"recipients"`
	// Retention is how long each category is kept (Art. 15(1)(d)).
	Retention []StatementRetention `json:"retention"`
	// Sources say where data did not come from the person (Art. 15(1)(g)).
	Sources []string `json:"sources"`
	// AutomatedDecisions are those the registry declares (Art. 15(1)(h)).
	AutomatedDecisions []string `json:"automated_decisions"`
	// Rights are the rights the person always has (Art. 15(1)(e)).
	Rights []string `json:"rights"`
	// Complaint is the right to complain to a supervisory authority
	// (Art. 15(1)(f)).
	Complaint string `json:"complaint"`
}

// StatementParty is how to reach the controller.
type StatementParty struct {
	Name    string `json:"name"`
	Address string `json:"address,omitempty"`
	Contact string `json:"contact,omitempty"`
	DPO     string `json:"dpo,omitempty"`
}

// Named is a taxonomy key with its name.
type Named struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

// StatementPurpose is one purpose, its legal basis and the rights it gives.
type StatementPurpose struct {
	Named
	LegalBases []string `json:"legal_bases"` // in words
	Rights     []string `json:"rights"`      // those that depend on the basis
}

// StatementRecipient is one recipient of the person's data.
type StatementRecipient struct {
	Name    string `json:"name"`
	Role    string `json:"role"` // in words
	Country string `json:"country"`
	// Categories are the kinds of the person's data it received.
	Categories []Named `json:"categories"`
	Transfer   string  `json:"transfer"` // words.Transfer
	Documents  string  `json:"safeguard_documentation,omitempty"`
}

// StatementRetention is how long one category is kept.
type StatementRetention struct {
	Named
	Period string `json:"period"` // in words, or the criteria
}

// StatementOf builds the statement for a profile. reg may be nil: then
// the statement says what the evidence shows and leaves the declared
// parts (legal bases, retention criteria, sources, decisions) out.
func StatementOf(p Profile, reg *registry.Registry, tax *taxonomy.Taxonomy, asOf time.Time) Statement {
	st := Statement{Format: StatementFormat, Date: asOf.UTC().Format(time.DateOnly),
		Purposes: []StatementPurpose{}, Categories: []Named{}, Recipients: []StatementRecipient{},
		Retention: []StatementRetention{}, Sources: []string{}, AutomatedDecisions: []string{},
		Rights: generalRights, Complaint: complaint}
	if reg != nil {
		c := reg.Controller
		st.Controller = StatementParty{Name: c.Name, Address: c.Address, Contact: c.Contact.String(), DPO: c.DPO.String()}
	}
	names := words.Of(tax)
	var purposes, categories []string
	systemsOf := map[string][]string{} // category → systems holding it
	for _, h := range p.Holdings {
		if !h.Erased.IsZero() {
			continue
		}
		categories = sortedset.Add(categories, h.Category)
		systemsOf[h.Category] = sortedset.Add(systemsOf[h.Category], h.System)
		for _, k := range h.Purposes {
			purposes = sortedset.Add(purposes, k)
		}
	}
	// What was disclosed concerns the person as much as what is held, and
	// its sender is a system of the activity that covers it; a category
	// only ever disclosed is still one of theirs.
	for _, d := range p.Disclosures {
		purposes = sortedset.Add(purposes, d.Purpose)
		categories = sortedset.Add(categories, d.Category)
		systemsOf[d.Category] = sortedset.Add(systemsOf[d.Category], d.From)
		if len(d.Path) > 0 {
			systemsOf[d.Category] = sortedset.Add(systemsOf[d.Category], d.Path[0])
		}
	}
	// The activities that cover what is held: their legal bases, retention,
	// sources and decisions are what the registry declares for it.
	var activities []*registry.Activity
	if reg != nil {
		for i := range reg.Activities {
			a := &reg.Activities[i]
			if slices.ContainsFunc(categories, func(c string) bool { return a.CoversCategory(c) && hasAny(a.Systems, systemsOf[c]) }) {
				activities = append(activities, a)
			}
		}
	}
	for _, k := range purposes {
		sp := StatementPurpose{Named: Named{k, names.Purpose(k)}, LegalBases: []string{}, Rights: []string{}}
		var bases []string
		for _, a := range activities {
			if slices.Contains(a.Purposes, k) {
				for _, b := range a.LegalBases {
					bases = sortedset.Add(bases, b)
				}
			}
		}
		for _, b := range bases {
			sp.LegalBases = append(sp.LegalBases, basisWords[b])
			for _, r := range basisRights[b] {
				if !slices.Contains(sp.Rights, r) {
					sp.Rights = append(sp.Rights, r)
				}
			}
		}
		st.Purposes = append(st.Purposes, sp)
	}
	for _, k := range categories {
		st.Categories = append(st.Categories, Named{k, names.Category(k)})
		period := "not declared; ask us how long it is kept"
		for _, a := range activities {
			if r, ok := a.RetentionFor(k); ok {
				period = words.DurationOr(r.Period)
				if r.Note != "" {
					period += " (" + r.Note + ")"
				}
				break
			}
		}
		st.Retention = append(st.Retention, StatementRetention{Named{k, names.Category(k)}, period})
	}
	received := map[string][]string{} // recipient → categories
	for _, d := range p.Disclosures {
		received[d.To] = sortedset.Add(received[d.To], d.Category)
	}
	seen := map[string]bool{}
	for _, d := range p.Disclosures {
		if seen[d.To] {
			continue
		}
		seen[d.To] = true
		r := StatementRecipient{Name: d.To, Role: roleWords[d.Role], Country: d.Country, Categories: []Named{}}
		for _, k := range received[d.To] {
			r.Categories = append(r.Categories, Named{k, names.Category(k)})
		}
		declared := registry.Recipient{Country: d.Country}
		for _, a := range activities {
			if rc, ok := a.Recipient(d.To); ok {
				declared = rc
				break
			}
		}
		r.Transfer = words.Transfer(d.Country, declared.Safeguard)
		r.Documents = declared.SafeguardDocumentation
		st.Recipients = append(st.Recipients, r)
	}
	slices.SortFunc(st.Recipients, func(a, b StatementRecipient) int { return strings.Compare(a.Name, b.Name) })
	for _, a := range activities {
		for _, s := range a.Sources {
			if w, ok := sourceWords[s]; ok && !slices.Contains(st.Sources, w) {
				st.Sources = append(st.Sources, w)
			}
		}
		if a.SourceNote != "" && !slices.Contains(st.Sources, a.SourceNote) && slices.ContainsFunc(a.Sources, func(s string) bool { return s != events.OriginDataSubject }) {
			st.Sources = append(st.Sources, a.SourceNote)
		}
		if adm := strings.TrimSpace(a.AutomatedDecisions); adm != "" && !strings.EqualFold(adm, "none") {
			st.AutomatedDecisions = append(st.AutomatedDecisions, a.Name+": "+adm)
		}
	}
	return st
}

func hasAny(set, of []string) bool {
	return slices.ContainsFunc(of, func(s string) bool { return slices.Contains(set, s) })
}

// What the GDPR gives a person, in words for them.
var (
	basisWords = map[string]string{
		events.LegalBasisConsent:             "your consent (Art. 6(1)(a))",
		events.LegalBasisContract:            "our contract with you (Art. 6(1)(b))",
		events.LegalBasisLegalObligation:     "a legal obligation (Art. 6(1)(c))",
		events.LegalBasisVitalInterests:      "to protect someone's life (Art. 6(1)(d))",
		events.LegalBasisPublicTask:          "a task in the public interest (Art. 6(1)(e))",
		events.LegalBasisLegitimateInterests: "our legitimate interests (Art. 6(1)(f))",
	}
	// basisRights are the rights that depend on the legal basis
	// (Arts. 7(3), 17(3)(b), 20(1)(a), 21(1)).
	basisRights = map[string][]string{
		events.LegalBasisConsent:             {"withdraw your consent at any time (Art. 7(3))", "have the data erased (Art. 17)", "receive the data to take elsewhere (Art. 20)"},
		events.LegalBasisContract:            {"have the data erased once no longer needed (Art. 17)", "receive the data to take elsewhere (Art. 20)"},
		events.LegalBasisLegalObligation:     {},
		events.LegalBasisVitalInterests:      {"have the data erased once no longer needed (Art. 17)"},
		events.LegalBasisPublicTask:          {"object to this use (Art. 21)"},
		events.LegalBasisLegitimateInterests: {"object to this use (Art. 21)", "have the data erased (Art. 17)"},
	}
	generalRights = []string{
		"have inaccurate data corrected (Art. 16)",
		"have the use of the data restricted (Art. 18)",
		"receive a copy of the data (Art. 15(3))",
	}
	complaint = "You may complain to a data protection supervisory authority, in particular in the EU country where you live, work, or where you think the law was broken (Art. 77)."
	roleWords = map[string]string{
		events.RoleProcessor: "processes it for us", events.RoleSubProcessor: "processes it for our processor",
		events.RoleController: "uses it for its own purposes", events.RoleJointController: "decides with us how it is used",
		events.RoleAuthority: "a public authority",
	}
	sourceWords = map[string]string{
		events.OriginThirdParty: "from other organisations, not from you",
		events.OriginObserved:   "observed from your use of our services",
	}
)
