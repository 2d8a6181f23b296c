package people

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/internal/sortedset"
)

// Request states.
const (
	StateOpen      = "open"
	StateCompleted = "completed"
	StateRefused   = "refused"
)

// Request is one data-subject request and what became of it.
type Request struct {
	Ref         string    `json:"subject_ref"`
	Right       string    `json:"right"`
	DataSubject string    `json:"data_subject"`
	Received    time.Time `json:"received"`
	ReceivedBy  string    `json:"received_by"` // the system that logged it
	Channel     string    `json:"channel,omitempty"`
	Deadline    time.Time `json:"deadline"` // Art. 12(3): one month from receipt
	State       string    `json:"state"`    // open, completed or refused
	// Overdue is set when the request was not answered by its deadline:
	// still open after it, or closed after it.
	Overdue bool `json:"overdue"`
	// DaysLeft is the whole days from the as-of time to the deadline,
	// negative once it passed; only for open requests.
	DaysLeft int       `json:"days_left,omitempty"`
	Closed   time.Time `json:"closed,omitzero"`
	ClosedBy string    `json:"closed_by,omitempty"`
	Grounds  string    `json:"grounds,omitempty"`
	// For an erasure: every system observed holding the person's data
	// before the request, with its erasure evidence or without, and every
	// recipient that received it and must be told (Art. 17(2), 19).
	Holders    []Holder    `json:"holders,omitempty"`
	Recipients []Recipient `json:"recipients,omitempty"`
}

// Holder is a system that held a person's data when they asked for its
// erasure.
type Holder struct {
	System     string   `json:"system"`
	Categories []string `json:"categories"`
	// LastCollected is the system's last observed collection of the
	// person's data before the request.
	LastCollected time.Time `json:"last_collected"`
	// Erased is when the system reported the erasure (an erased event with
	// reason subject_request, later than LastCollected); zero when it has
	// not.
	Erased time.Time `json:"erased,omitzero"`
}

// HasEvidence reports whether the holder reported the erasure.
func (h Holder) HasEvidence() bool { return !h.Erased.IsZero() }

// Due says where a request stands against its deadline, in the words
// every surface shows: "OVERDUE 3 days", "12 days left", "answered late"
// or "answered in time".
func (r Request) Due() string {
	switch {
	case r.State == StateOpen && r.Overdue:
		return fmt.Sprintf("OVERDUE %d days", -r.DaysLeft)
	case r.State == StateOpen:
		return fmt.Sprintf("%d days left", r.DaysLeft)
	case r.Overdue:
		return "answered late"
	}
	return "answered in time"
}

// Day is how a person's tables show a date: the day in UTC, or "—" when
// there is none (a request not closed, a holding not erased).
func Day(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format(time.DateOnly)
}

// Recipient is a third party a person's data was disclosed to.
type Recipient struct {
	Name       string   `json:"name"`
	Role       string   `json:"role"`
	Country    string   `json:"country"`
	Categories []string `json:"categories"`
	Systems    []string `json:"systems"` // the systems that disclosed it
}

// Requests returns every request in facts (of any number of people) with
// its state as of asOf. Open requests come first, overdue ones first among
// them, each group by deadline; closed ones follow, newest first.
func Requests(facts []Fact, asOf time.Time) []Request {
	var out []Request
	for _, person := range groupByRef(facts) {
		out = append(out, requestsOf(person, asOf)...)
	}
	slices.SortFunc(out, requestOrder)
	return out
}

// Open returns the open requests, overdue ones first.
func Open(rs []Request) []Request {
	return slices.DeleteFunc(slices.Clone(rs), func(r Request) bool { return r.State != StateOpen })
}

func requestOrder(a, b Request) int {
	rank := func(r Request) int {
		switch {
		case r.State == StateOpen && r.Overdue:
			return 0
		case r.State == StateOpen:
			return 1
		}
		return 2
	}
	if c := cmp.Compare(rank(a), rank(b)); c != 0 {
		return c
	}
	if rank(a) < 2 {
		if c := a.Deadline.Compare(b.Deadline); c != 0 {
			return c
		}
	} else if c := b.Received.Compare(a.Received); c != 0 {
		return c
	}
	return cmp.Compare(a.Ref, b.Ref)
}

// requestsOf pairs one person's requests with their answers: a completed
// or refused event closes the oldest open request of the same right
// received before it. person is sorted by time.
func requestsOf(person []Fact, asOf time.Time) []Request {
	var rs []Request
	for _, f := range person {
		switch f.Kind {
		case KindRequestReceived:
			rs = append(rs, Request{Ref: f.Ref, Right: f.Right, DataSubject: f.DataSubject, Received: f.Time,
				ReceivedBy: f.Source, Channel: f.Channel, Deadline: Deadline(f.Time), State: StateOpen})
		case KindRequestCompleted, KindRequestRefused:
			for i := range rs {
				r := &rs[i]
				if r.State != StateOpen || r.Right != f.Right || r.Received.After(f.Time) {
					continue
				}
				r.State, r.Closed, r.ClosedBy, r.Grounds = StateCompleted, f.Time, f.Source, f.Grounds
				if f.Kind == KindRequestRefused {
					r.State = StateRefused
				}
				break
			}
		}
	}
	for i := range rs {
		r := &rs[i]
		if r.State == StateOpen {
			r.Overdue = asOf.After(r.Deadline)
			r.DaysLeft = int(r.Deadline.Sub(asOf).Hours() / 24)
		} else {
			r.Overdue = r.Closed.After(r.Deadline)
		}
		if r.Right == events.RightErasure {
			r.Holders, r.Recipients = erasureScope(person, r.Received)
		}
	}
	return rs
}

// erasureScope is what an erasure requested at received must reach: each
// system that collected or disclosed the person's data before then, with
// its evidence, and each recipient of it.
func erasureScope(person []Fact, received time.Time) ([]Holder, []Recipient) {
	holders := map[string]*Holder{}
	recipients := map[[3]string]*Recipient{}
	for _, f := range person {
		if f.Time.After(received) {
			break
		}
		switch f.Kind {
		case KindCollected, KindShared:
			h := holders[f.Source]
			if h == nil {
				h = &Holder{System: f.Source}
				holders[f.Source] = h
			}
			h.Categories = sortedset.Add(h.Categories, f.Category)
			if f.Kind == KindCollected {
				h.LastCollected = f.Time
			}
			if f.Kind == KindShared {
				k := [3]string{f.RecipientName, f.RecipientRole, f.RecipientCountry}
				r := recipients[k]
				if r == nil {
					r = &Recipient{Name: k[0], Role: k[1], Country: k[2]}
					recipients[k] = r
				}
				r.Categories = sortedset.Add(r.Categories, f.Category)
				r.Systems = sortedset.Add(r.Systems, f.Source)
			}
		}
	}
	for _, f := range person {
		h := holders[f.Source]
		if h != nil && f.Kind == KindErased && f.Reason == events.ReasonSubjectRequest && !f.Time.Before(h.LastCollected) {
			h.Erased = f.Time
		}
	}
	hs := make([]Holder, 0, len(holders))
	for _, h := range holders {
		hs = append(hs, *h)
	}
	slices.SortFunc(hs, func(a, b Holder) int { return cmp.Compare(a.System, b.System) })
	rs := make([]Recipient, 0, len(recipients))
	for _, r := range recipients {
		rs = append(rs, *r)
	}
	slices.SortFunc(rs, func(a, b Recipient) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Country, b.Country), cmp.Compare(a.Role, b.Role))
	})
	return hs, rs
}
