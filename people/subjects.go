// Package people answers questions about one person from the facts the
// catalog holds about their subject reference: what is held about them and
// where it went (Profile), which of their requests are open and what an
// erasure still needs (Requests), and where processing ignored their
// choices (Findings).
//
// It is pure: it reads Facts, as the catalog's subject_refs table stores
// them, and never touches the catalog itself, so every rule here is tested
// without a server. docs/subjects.md explains the rules to privacy
// officers.
package people

import (
	"cmp"
	"slices"
	"time"

	"github.com/back-trace/datamap/events"
)

// The kinds of fact: events.Kind's, as a Fact holds them.
const (
	KindCollected        = string(events.KindCollected)
	KindShared           = string(events.KindShared)
	KindErased           = string(events.KindErased)
	KindConsentGiven     = string(events.KindConsentGiven)
	KindConsentWithdrawn = string(events.KindConsentWithdrawn)
	KindRequestReceived  = string(events.KindRequestReceived)
	KindRequestCompleted = string(events.KindRequestCompleted)
	KindRequestRefused   = string(events.KindRequestRefused)
)

// Fact is one event about one person: an event that carried their subject
// reference, without anything else about them.
type Fact struct {
	Ref              string
	Source           string // the system that sent the event
	ID               string
	Kind             string
	Time             time.Time
	Category         string
	DataSubject      string
	Purpose          string
	LegalBasis       string
	RecipientName    string
	RecipientRole    string
	RecipientCountry string
	Reason           string // erased: why
	Right            string // requests: which right
	Channel          string // consent and requests: how
	Grounds          string // refused requests: why
}

// byTime orders facts by time, then by identity, so that every answer is
// the same however the catalog returned them.
func byTime(a, b Fact) int {
	if c := a.Time.Compare(b.Time); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Source, b.Source); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// ByRefAndTime orders facts by reference, then as byTime: the order the
// catalog's fact queries return them in (ORDER BY ref, time, source, id),
// and the one groupByRef groups fastest.
func ByRefAndTime(a, b Fact) int {
	if c := cmp.Compare(a.Ref, b.Ref); c != 0 {
		return c
	}
	return byTime(a, b)
}

// groupByRef returns the facts of each reference, each group sorted by
// time, the groups in reference order. Facts read so sorted (the
// catalog's fact queries order them so) are grouped where they are, as
// parts of facts: a copy of thousands of facts costs more than grouping.
func groupByRef(facts []Fact) [][]Fact {
	sorted := facts
	if !slices.IsSortedFunc(facts, ByRefAndTime) {
		sorted = slices.Clone(facts)
		slices.SortFunc(sorted, ByRefAndTime)
	}
	var groups [][]Fact
	for start := 0; start < len(sorted); {
		end := start + 1
		for end < len(sorted) && sorted[end].Ref == sorted[start].Ref {
			end++
		}
		groups = append(groups, sorted[start:end:end])
		start = end
	}
	return groups
}

// Deadline is when an answer to a request received at received is due:
// one month later (GDPR Art. 12(3)). A month ends on the same day of the
// next month or, when that month is shorter, on its last day (Regulation
// 1182/71, Art. 3(2)(c)): 31 January → 28 (or 29) February. The
// extension by two further months that Art. 12(3) allows is not assumed.
func Deadline(received time.Time) time.Time {
	y, m, d := received.Date()
	h, mi, s := received.Clock()
	first := time.Date(y, m+1, 1, h, mi, s, received.Nanosecond(), received.Location())
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(d, last), h, mi, s, received.Nanosecond(), received.Location())
}
