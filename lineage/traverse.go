package lineage

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/back-trace/datamap/internal/sortedset"
	"github.com/back-trace/datamap/words"
)

// Path is the chain of nodes data passed through, from the system it
// left to where it ended up.
type Path []string

func (p Path) String() string { return strings.Join(p, " → ") }

// ReachRow is one place data of one category can end up.
type ReachRow struct {
	Node      string   `json:"node"`
	Category  string   `json:"category"`
	Hops      int      `json:"hops"`
	Path      Path     `json:"path"`
	Role      string   `json:"role"`
	Country   string   `json:"country"`
	Safeguard string   `json:"safeguard"`
	Purposes  []string `json:"purposes"`
	Subjects  []string `json:"data_subjects"`
	Events    uint64   `json:"events"`  // on the last hop
	Records   uint64   `json:"records"` // on the last hop
}

// Reach answers "where can this data end up": every node that data of the
// category (and its subtree) leaving from can reach, following flows of the
// same category through instrumented recipients, with the shortest path.
// A node reached with several categories appears once per category.
func (g *Graph) Reach(from, category string) []ReachRow {
	type state struct{ node, category string }
	type item struct {
		state
		path Path
	}
	var queue []item
	seen := map[state]bool{}
	var out []ReachRow
	step := func(cur item, match func(Edge) bool) {
		// Edges to the same node with the same category (several purposes
		// or subjects) are one hop.
		byNext := map[state][]Edge{}
		var order []state
		for _, e := range g.out(cur.node) {
			if !match(e) {
				continue
			}
			s := state{e.To, e.Category}
			if seen[s] || e.To == from {
				continue
			}
			if _, ok := byNext[s]; !ok {
				order = append(order, s)
			}
			byNext[s] = append(byNext[s], e)
		}
		for _, s := range order {
			seen[s] = true
			path := append(slices.Clone(cur.path), s.node)
			row := ReachRow{Node: s.node, Category: s.category, Hops: len(path) - 1, Path: path}
			for _, e := range byNext[s] {
				row.Role, row.Country, row.Safeguard = e.Role, e.Country, e.Safeguard
				row.Purposes = sortedset.Add(row.Purposes, e.Purpose)
				row.Subjects = sortedset.Add(row.Subjects, e.DataSubject)
				row.Events += e.Events
				row.Records += e.Records
			}
			out = append(out, row)
			queue = append(queue, item{s, path})
		}
	}
	step(item{state{from, category}, Path{from}}, func(e Edge) bool { return inSubtree(e.Category, category) })
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		step(cur, func(e Edge) bool { return e.Category == cur.category })
	}
	sortReach(out)
	return out
}

// sortReach orders by hops, then node, then category: nearest first.
func sortReach(rows []ReachRow) {
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Hops != rows[j].Hops {
			return rows[i].Hops < rows[j].Hops
		}
		if rows[i].Node != rows[j].Node {
			return rows[i].Node < rows[j].Node
		}
		return rows[i].Category < rows[j].Category
	})
}

// Exposure is one category a breached recipient holds.
type Exposure struct {
	Category string   `json:"category"`
	Subjects []string `json:"data_subjects"`
	// Senders sent it to the recipient directly; Origins are the systems
	// where it was first collected, upstream of every sender.
	Senders []string `json:"senders"`
	Origins []string `json:"origins"`
	Events  uint64   `json:"events"`
	Records uint64   `json:"records"`
}

// BlastRadius is what a breach of one recipient exposes.
type BlastRadius struct {
	Recipient  string     `json:"recipient"`
	Role       string     `json:"role"`
	Country    string     `json:"country"`
	Categories []string   `json:"categories"`
	Subjects   []string   `json:"data_subjects"`
	Systems    []string   `json:"systems"` // every sender and origin
	Records    uint64     `json:"records"` // received by the recipient
	Exposed    []Exposure `json:"exposed"`
	// PassedOn is where the recipient sent what it received: also exposed
	// if the breach reaches its integrations.
	PassedOn []ReachRow `json:"passed_on"`
	// RecordsPassedOn is the records on every onward flow of PassedOn, all
	// hops together; Onward splits them by hop.
	RecordsPassedOn uint64      `json:"records_passed_on"`
	Onward          []OnwardHop `json:"onward"`
	// Summary says in words what is counted: the records received, then
	// hop by hop what was passed on.
	Summary string `json:"summary"`
}

// OnwardHop is one step of what a breached recipient passed on: hop 1 is
// what it sent itself, hop 2 what those recipients sent further, and so on.
// The same records may be counted again at each hop; the hops are
// reported apart, never added to what the recipient received.
type OnwardHop struct {
	Hop        int      `json:"hop"`
	Senders    []string `json:"senders"`
	Recipients []string `json:"recipients"`
	Records    uint64   `json:"records"`
}

// Blast answers "if this recipient is breached, what is exposed": the
// categories, data subjects, source systems and records it received, and
// what it passed on. ok is false when no flow reaches the recipient.
func (g *Graph) Blast(recipient string) (BlastRadius, bool) {
	n, ok := g.Node(recipient)
	if !ok || !n.Recipient {
		return BlastRadius{}, false
	}
	b := BlastRadius{Recipient: n.Name, Role: n.Role, Country: n.Country}
	byCategory := map[string]*Exposure{}
	for _, e := range g.in(recipient) {
		x := byCategory[e.Category]
		if x == nil {
			x = &Exposure{Category: e.Category}
			byCategory[e.Category] = x
		}
		x.Subjects = sortedset.Add(x.Subjects, e.DataSubject)
		x.Senders = sortedset.Add(x.Senders, e.From)
		x.Events += e.Events
		x.Records += e.Records
	}
	for _, x := range byCategory {
		x.Origins = g.origins(recipient, x.Category)
		b.Exposed = append(b.Exposed, *x)
		b.Categories = sortedset.Add(b.Categories, x.Category)
		for _, s := range x.Subjects {
			b.Subjects = sortedset.Add(b.Subjects, s)
		}
		for _, s := range append(slices.Clone(x.Senders), x.Origins...) {
			b.Systems = sortedset.Add(b.Systems, s)
		}
		b.Records += x.Records
	}
	sort.Slice(b.Exposed, func(i, j int) bool { return b.Exposed[i].Category < b.Exposed[j].Category })
	seen := map[string]bool{}
	for _, c := range b.Categories {
		for _, r := range g.Reach(recipient, c) {
			if k := r.Node + "\x00" + r.Category; !seen[k] {
				seen[k] = true
				b.PassedOn = append(b.PassedOn, r)
			}
		}
	}
	sortReach(b.PassedOn)
	b.Onward = []OnwardHop{}
	for _, r := range b.PassedOn {
		for len(b.Onward) < r.Hops {
			b.Onward = append(b.Onward, OnwardHop{Hop: len(b.Onward) + 1, Senders: []string{}, Recipients: []string{}})
		}
		h := &b.Onward[r.Hops-1]
		h.Senders = sortedset.Add(h.Senders, r.Path[len(r.Path)-2])
		h.Recipients = sortedset.Add(h.Recipients, r.Node)
		h.Records += r.Records
		b.RecordsPassedOn += r.Records
	}
	b.Summary = b.summary()
	return b, true
}

// summary says what the figures count, so that the records received and
// the records passed on are never mistaken for one another or added up:
// "Records received by Zendesk: 650; passed on by Zendesk to 2 further
// recipients: 8,941 records."
func (b BlastRadius) summary() string {
	s := fmt.Sprintf("Records received by %s: %s", b.Recipient, words.Number(b.Records))
	if len(b.Onward) == 0 {
		return s + "; passed on to no further recipient (as far as instrumented systems report)."
	}
	for _, h := range b.Onward {
		n := words.Count(len(h.Recipients), "further recipient", "further recipients")
		if h.Hop == 1 {
			s += fmt.Sprintf("; passed on by %s to %s: %s records", b.Recipient, n, words.Number(h.Records))
		} else {
			s += fmt.Sprintf("; then passed on by %s (hop %d) to %s: %s records", strings.Join(h.Senders, ", "), h.Hop, n, words.Number(h.Records))
		}
	}
	return s + "."
}

// origins walks upstream from a node along edges of one category and
// returns the nodes with no incoming edge of it: where it was collected.
func (g *Graph) origins(node, category string) []string {
	var out []string
	seen := map[string]bool{node: true}
	queue := []string{node}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, e := range g.in(cur) {
			if e.Category != category || seen[e.From] {
				continue
			}
			seen[e.From] = true
			queue = append(queue, e.From)
			if !slices.ContainsFunc(g.in(e.From), func(x Edge) bool { return x.Category == category }) {
				out = sortedset.Add(out, e.From)
			}
		}
	}
	return out
}
