package people

import (
	"cmp"
	"slices"
	"time"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/registry"
)

// The kinds of finding about people's rights.
const (
	// FindingProcessingAfterWithdrawal: a system collected or disclosed a
	// person's data for a purpose after they withdrew their consent to it
	// (Art. 7(3)) — whatever legal basis the event now claims, since a
	// controller may not swap to another basis after a withdrawal.
	FindingProcessingAfterWithdrawal = "processing_after_withdrawal"
	// FindingErasureIncomplete: an erasure request is completed or past its
	// deadline, and a system that held the person's data has not reported
	// erasing it (Art. 17).
	FindingErasureIncomplete = "erasure_incomplete"
	// FindingRequestOverdue: a request is still open past its deadline
	// (Art. 12(3)).
	FindingRequestOverdue = "request_overdue"
	// FindingProcessingAfterErasure: a system collected a person's data
	// again after reporting its erasure on their request.
	FindingProcessingAfterErasure = "processing_after_erasure"
	// FindingChildrenData: a system holds the person's data as a data
	// subject the taxonomy marks as a child, and none of the system's
	// activities in the registry declares children (Art. 8); the same
	// kind as the Article 30 record's drift finding.
	FindingChildrenData = "children_data"
)

// Finding is one way processing departed from people's choices, summed
// over the people it happened to. It names no one: who they are is a
// subject question (Requests, ProfileOf), behind the subject role.
type Finding struct {
	Kind   string `json:"kind"`
	System string `json:"system"`
	// Topic is the purpose (processing after withdrawal), the category
	// (processing after erasure, erasure incomplete) or the right (request
	// overdue) concerned.
	Topic  string    `json:"topic"`
	People int       `json:"people"`
	Events int       `json:"events"`
	First  time.Time `json:"first"`
	Last   time.Time `json:"last"`
}

// Findings returns the findings in facts (of any number of people) as of
// asOf, ordered by kind, system and topic.
func Findings(facts []Fact, asOf time.Time) []Finding {
	type key struct{ kind, system, topic string }
	found := map[key]*Finding{}
	people := map[key]map[string]bool{}
	add := func(kind, system, topic, ref string, at time.Time) {
		k := key{kind, system, topic}
		f := found[k]
		if f == nil {
			f = &Finding{Kind: kind, System: system, Topic: topic, First: at, Last: at}
			found[k] = f
			people[k] = map[string]bool{}
		}
		f.Events++
		f.First = minTime(f.First, at)
		f.Last = maxTime(f.Last, at)
		if !people[k][ref] {
			people[k][ref] = true
			f.People++
		}
	}
	for _, person := range groupByRef(facts) {
		withdrawn := map[string]bool{}
		erased := map[[2]string]bool{} // (system, category) erased on request
		for _, f := range person {
			switch f.Kind {
			case KindConsentWithdrawn:
				withdrawn[f.Purpose] = true
			case KindConsentGiven:
				withdrawn[f.Purpose] = false
			case KindErased:
				if f.Reason == events.ReasonSubjectRequest {
					erased[[2]string{f.Source, f.Category}] = true
				}
			case KindCollected, KindShared:
				if withdrawn[f.Purpose] {
					add(FindingProcessingAfterWithdrawal, f.Source, f.Purpose, f.Ref, f.Time)
				}
				if f.Kind == KindCollected && erased[[2]string{f.Source, f.Category}] {
					add(FindingProcessingAfterErasure, f.Source, f.Category, f.Ref, f.Time)
				}
			}
		}
		for _, r := range requestsOf(person, asOf) {
			if r.State == StateOpen && r.Overdue {
				add(FindingRequestOverdue, r.ReceivedBy, r.Right, r.Ref, r.Received)
			}
			if r.Right != events.RightErasure || r.State == StateRefused || (r.State == StateOpen && !r.Overdue) {
				continue
			}
			for _, h := range r.Holders {
				if !h.HasEvidence() {
					for _, c := range h.Categories {
						add(FindingErasureIncomplete, h.System, c, r.Ref, r.Received)
					}
				}
			}
		}
	}
	out := make([]Finding, 0, len(found))
	for _, f := range found {
		out = append(out, *f)
	}
	slices.SortFunc(out, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.System, b.System), cmp.Compare(a.Topic, b.Topic))
	})
	return out
}

// WithChildrenFindings returns p with a children_data finding for each
// system that holds the person's data as a child (tax) while none of its
// activities in reg declares that data subject. It needs the registry,
// which the person's facts alone do not carry; p is unchanged without one.
func WithChildrenFindings(p Profile, reg *registry.Registry, tax *taxonomy.Taxonomy) Profile {
	if reg == nil || tax == nil {
		return p
	}
	found := map[[2]string]*Finding{}
	for _, h := range p.Holdings {
		if s, ok := tax.DataSubject(h.DataSubject); !ok || !s.Child {
			continue
		}
		if slices.ContainsFunc(reg.AllActivities(), func(a *registry.Activity) bool {
			return slices.Contains(a.Systems, h.System) && slices.Contains(a.DataSubjects, h.DataSubject)
		}) {
			continue
		}
		k := [2]string{h.System, h.DataSubject}
		f := found[k]
		if f == nil {
			f = &Finding{Kind: FindingChildrenData, System: h.System, Topic: h.DataSubject, People: 1, First: h.FirstSeen, Last: h.LastSeen}
			found[k] = f
		}
		f.Events += h.Events
		f.First, f.Last = minTime(f.First, h.FirstSeen), maxTime(f.Last, h.LastSeen)
	}
	if len(found) == 0 {
		return p
	}
	out := slices.Clone(p.Findings)
	for _, f := range found {
		out = append(out, *f)
	}
	slices.SortFunc(out, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.System, b.System), cmp.Compare(a.Topic, b.Topic))
	})
	p.Findings = out
	return p
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
