package query

import (
	"fmt"
	"sort"
	"time"

	"github.com/back-trace/datamap/internal/sortedset"
)

// GroupBy values for GroupFlows.
var GroupBy = []string{"recipient", "country", "safeguard"}

// FlowGroup summarises the flows that share a recipient, a country or a
// safeguard: "what does Stripe hold?", "what goes to the US?".
type FlowGroup struct {
	Key        string    `json:"key"`
	Recipients []string  `json:"recipients"`
	Countries  []string  `json:"countries"`
	Safeguards []string  `json:"safeguards"`
	Systems    []string  `json:"systems"`
	Categories []string  `json:"categories"`
	Subjects   []string  `json:"data_subjects"`
	Flows      int       `json:"flows"`
	Events     uint64    `json:"events"`
	Records    uint64    `json:"records"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
}

// GroupFlows groups flow rows by recipient, country or safeguard. Sums are
// exact: every event belongs to exactly one flow row. A missing safeguard
// groups under "(none given)".
func GroupFlows(rows []FlowRow, by string) ([]FlowGroup, error) {
	key := map[string]func(FlowRow) string{
		"recipient": func(r FlowRow) string { return r.Recipient },
		"country":   func(r FlowRow) string { return r.Country },
		"safeguard": func(r FlowRow) string {
			if r.Safeguard == "" {
				return "(none given)"
			}
			return r.Safeguard
		},
	}[by]
	if key == nil {
		return nil, &ValueError{"group_by", by, fmt.Sprintf("must be one of %v", GroupBy)}
	}
	groups := map[string]*FlowGroup{}
	for _, r := range rows {
		k := key(r)
		g := groups[k]
		if g == nil {
			g = &FlowGroup{Key: k, FirstSeen: r.FirstSeen, LastSeen: r.LastSeen}
			groups[k] = g
		}
		g.Recipients = sortedset.Add(g.Recipients, r.Recipient)
		g.Countries = sortedset.Add(g.Countries, r.Country)
		g.Safeguards = sortedset.Add(g.Safeguards, r.Safeguard)
		g.Systems = sortedset.Add(g.Systems, r.System)
		g.Categories = sortedset.Add(g.Categories, r.Category)
		g.Subjects = sortedset.Add(g.Subjects, r.DataSubject)
		g.Flows++
		g.Events += r.Events
		g.Records += r.Records
		if r.FirstSeen.Before(g.FirstSeen) {
			g.FirstSeen = r.FirstSeen
		}
		if r.LastSeen.After(g.LastSeen) {
			g.LastSeen = r.LastSeen
		}
	}
	out := make([]FlowGroup, 0, len(groups))
	for _, g := range groups {
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}
