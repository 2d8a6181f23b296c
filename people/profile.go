package people

import (
	"cmp"
	"slices"
	"time"

	"github.com/back-trace/datamap/internal/sortedset"
)

// Profile is everything the catalog knows about one person: where their
// data is held, where it went, their consents and their requests.
type Profile struct {
	Ref          string       `json:"subject_ref"`
	DataSubjects []string     `json:"data_subjects"` // the taxonomy categories they were seen as
	Holdings     []Holding    `json:"holdings"`
	Disclosures  []Disclosure `json:"disclosures"`
	Consents     []Consent    `json:"consents"`
	Requests     []Request    `json:"requests"`
	// Findings are the ways the processing of this person's data departed
	// from their choices (Findings, over their facts alone): the STOP that
	// did not stop the SMS, the erasure a holder never reported.
	Findings []Finding `json:"findings"`
}

// Empty reports whether nothing is known about the person.
func (p Profile) Empty() bool {
	return len(p.Holdings)+len(p.Disclosures)+len(p.Consents)+len(p.Requests) == 0
}

// Holding is a category of the person's data in one system.
type Holding struct {
	System      string    `json:"system"`
	Category    string    `json:"category"`
	DataSubject string    `json:"data_subject"`
	Purposes    []string  `json:"purposes"`
	Events      int       `json:"events"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	// Erased is the system's last reported erasure of the category for
	// this person after its last collection; zero while it holds it.
	Erased       time.Time `json:"erased,omitzero"`
	ErasedReason string    `json:"erased_reason,omitempty"`
}

// Disclosure is the person's data of one category sent from a system (or
// an instrumented recipient passing it on) to a recipient.
type Disclosure struct {
	From      string    `json:"from"`
	To        string    `json:"to"`
	Role      string    `json:"role"`
	Country   string    `json:"country"`
	Category  string    `json:"category"`
	Purpose   string    `json:"purpose"`
	Events    int       `json:"events"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Path is how the data got to To, from the system that first held it:
	// ["billing-api", "Zendesk", "Zendesk EU support"] for an onward hop
	// through an instrumented recipient; [From, To] for a direct one.
	Path []string `json:"path"`
}

// Consent is the person's current choice about one purpose.
type Consent struct {
	Purpose string    `json:"purpose"`
	State   string    `json:"state"` // given or withdrawn
	Since   time.Time `json:"since"`
	Channel string    `json:"channel"`
	Source  string    `json:"source"` // the system that recorded it
}

// Consent states.
const (
	ConsentGiven     = "given"
	ConsentWithdrawn = "withdrawn"
)

// ProfileOf builds the profile of ref from its facts (facts of other
// references are ignored) as of asOf.
func ProfileOf(ref string, facts []Fact, asOf time.Time) Profile {
	person := slices.DeleteFunc(slices.Clone(facts), func(f Fact) bool { return f.Ref != ref })
	slices.SortFunc(person, byTime)
	// Every list is [] when empty, never null: an unknown reference is a
	// profile with nothing in it.
	p := Profile{Ref: ref, DataSubjects: []string{}, Holdings: []Holding{}, Disclosures: []Disclosure{}, Consents: []Consent{}}
	holdings := map[[2]string]*Holding{}
	disclosures := map[[4]string]*Disclosure{}
	consents := map[string]*Consent{}
	for _, f := range person {
		if f.DataSubject != "" {
			p.DataSubjects = sortedset.Add(p.DataSubjects, f.DataSubject)
		}
		switch f.Kind {
		case KindCollected:
			k := [2]string{f.Source, f.Category}
			h := holdings[k]
			if h == nil {
				h = &Holding{System: f.Source, Category: f.Category, DataSubject: f.DataSubject, FirstSeen: f.Time}
				holdings[k] = h
			}
			h.Events++
			h.LastSeen = f.Time
			h.Purposes = sortedset.Add(h.Purposes, f.Purpose)
			h.Erased, h.ErasedReason = time.Time{}, "" // collected again: held again
		case KindErased:
			if h := holdings[[2]string{f.Source, f.Category}]; h != nil {
				h.Erased, h.ErasedReason = f.Time, f.Reason
			}
		case KindShared:
			k := [4]string{f.Source, f.RecipientName, f.Category, f.Purpose}
			d := disclosures[k]
			if d == nil {
				d = &Disclosure{From: f.Source, To: f.RecipientName, Role: f.RecipientRole, Country: f.RecipientCountry,
					Category: f.Category, Purpose: f.Purpose, FirstSeen: f.Time}
				disclosures[k] = d
			}
			d.Events++
			d.LastSeen = f.Time
		case KindConsentGiven, KindConsentWithdrawn:
			state := ConsentGiven
			if f.Kind == KindConsentWithdrawn {
				state = ConsentWithdrawn
			}
			consents[f.Purpose] = &Consent{Purpose: f.Purpose, State: state, Since: f.Time, Channel: f.Channel, Source: f.Source}
		}
	}
	for _, h := range holdings {
		p.Holdings = append(p.Holdings, *h)
	}
	slices.SortFunc(p.Holdings, func(a, b Holding) int {
		return cmp.Or(cmp.Compare(a.System, b.System), cmp.Compare(a.Category, b.Category))
	})
	for _, d := range disclosures {
		p.Disclosures = append(p.Disclosures, *d)
	}
	slices.SortFunc(p.Disclosures, func(a, b Disclosure) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To), cmp.Compare(a.Category, b.Category), cmp.Compare(a.Purpose, b.Purpose))
	})
	paths(p.Disclosures)
	for _, c := range consents {
		p.Consents = append(p.Consents, *c)
	}
	slices.SortFunc(p.Consents, func(a, b Consent) int { return cmp.Compare(a.Purpose, b.Purpose) })
	p.Requests = append([]Request{}, requestsOf(person, asOf)...)
	slices.SortFunc(p.Requests, func(a, b Request) int { return a.Received.Compare(b.Received) })
	p.Findings = append([]Finding{}, Findings(person, asOf)...)
	return p
}

// paths fills in each disclosure's Path: the chain of earlier disclosures
// of the same category that brought the data to its sender. A sender no
// earlier disclosure reaches is where the chain starts; a cycle stops it.
func paths(ds []Disclosure) {
	into := map[[2]string]*Disclosure{} // (recipient, category) → the earliest disclosure into it
	for i := range ds {
		k := [2]string{ds[i].To, ds[i].Category}
		if e := into[k]; e == nil || ds[i].FirstSeen.Before(e.FirstSeen) {
			into[k] = &ds[i]
		}
	}
	for i := range ds {
		path := []string{ds[i].To, ds[i].From}
		seen := map[string]bool{ds[i].From: true}
		for at, when := ds[i].From, ds[i].FirstSeen; ; {
			prev := into[[2]string{at, ds[i].Category}]
			if prev == nil || seen[prev.From] || !prev.FirstSeen.Before(when) {
				break
			}
			path = append(path, prev.From)
			seen[prev.From] = true
			at, when = prev.From, prev.FirstSeen
		}
		slices.Reverse(path)
		ds[i].Path = path
	}
}
