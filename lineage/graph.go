// Package lineage is the flow graph of personal data: nodes are systems
// and recipients, edges are observed flows (category, purpose, data
// subject, counts). A recipient that is itself instrumented — its systems
// emit events under the same name, as the demo's Zendesk does — is one node
// with the system, so its own flows continue the chain and sub-processors
// appear as further hops.
//
// The graph is built from aggregated flows (query.Flows), never from
// events: systems × recipients is small, so traversal happens in Go.
package lineage

import (
	"cmp"
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/catalog/query"
)

// Node is a system, a recipient, or both (an instrumented recipient).
type Node struct {
	Name      string `json:"name"`
	System    bool   `json:"system"`    // emits events
	Recipient bool   `json:"recipient"` // receives data from a system
	// Role, Country and Safeguard describe the node as a recipient, from
	// the latest flow into it; empty for systems that receive nothing.
	Role    string `json:"role,omitempty"`
	Country string `json:"country,omitempty"`
}

// Edge is data of one category, for one purpose, about one kind of data
// subject, flowing from one node to another.
type Edge struct {
	From        string    `json:"from"`
	To          string    `json:"to"`
	Category    string    `json:"category"`
	Purpose     string    `json:"purpose"`
	DataSubject string    `json:"data_subject"`
	Role        string    `json:"role"`
	Country     string    `json:"country"`
	Safeguard   string    `json:"safeguard"`
	Contract    string    `json:"contract,omitempty"`
	Events      uint64    `json:"events"`
	Records     uint64    `json:"records"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
}

// Graph is the lineage graph: nodes sorted by name, edges by (from, to,
// category, purpose, data subject).
type Graph struct {
	Nodes []Node `json:"nodes"`
	Edges []Edge `json:"edges"`
}

// Load builds the graph from the catalog's flows under a filter (as of a
// date, for a category subtree…).
//
// The flows and the systems are independent questions, asked at once on
// two of conn's connections: the graph waits for the slower of the two,
// not for both in turn.
func Load(ctx context.Context, conn driver.Conn, f query.Filter) (*Graph, error) {
	var flows []query.FlowRow
	var systems []string
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { flows, err = query.Flows(ctx, conn, f); return err })
	g.Go(func() (err error) { systems, err = query.Systems(ctx, conn); return err })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return Build(flows, systems), nil
}

// Build makes the graph from flow rows and the names of the instrumented
// systems. Flow rows that differ only in legal basis, role, country or
// safeguard merge into one edge (counts add up; the latest row's recipient
// details win).
func Build(flows []query.FlowRow, systems []string) *Graph {
	nodes := map[string]*Node{}
	node := func(name string) *Node {
		n := nodes[name]
		if n == nil {
			n = &Node{Name: name}
			nodes[name] = n
		}
		return n
	}
	for _, s := range systems {
		node(s).System = true
	}
	type key struct{ from, to, category, purpose, subject string }
	edges := map[key]*Edge{}
	latest := map[string]time.Time{}
	for _, f := range flows {
		node(f.System).System = true
		to := node(f.Recipient)
		to.Recipient = true
		if f.LastSeen.After(latest[f.Recipient]) || latest[f.Recipient].IsZero() {
			latest[f.Recipient], to.Role, to.Country = f.LastSeen, f.Role, f.Country
		}
		k := key{f.System, f.Recipient, f.Category, f.Purpose, f.DataSubject}
		e := edges[k]
		if e == nil {
			e = &Edge{From: f.System, To: f.Recipient, Category: f.Category, Purpose: f.Purpose, DataSubject: f.DataSubject,
				FirstSeen: f.FirstSeen}
			edges[k] = e
		}
		if !f.LastSeen.Before(e.LastSeen) {
			e.Role, e.Country, e.Safeguard, e.Contract, e.LastSeen = f.Role, f.Country, f.Safeguard, f.Contract, f.LastSeen
		}
		if f.FirstSeen.Before(e.FirstSeen) {
			e.FirstSeen = f.FirstSeen
		}
		e.Events += f.Events
		e.Records += f.Records
	}
	g := &Graph{Nodes: make([]Node, 0, len(nodes)), Edges: make([]Edge, 0, len(edges))}
	for _, n := range nodes {
		g.Nodes = append(g.Nodes, *n)
	}
	sort.Slice(g.Nodes, func(i, j int) bool { return g.Nodes[i].Name < g.Nodes[j].Name })
	for _, e := range edges {
		g.Edges = append(g.Edges, *e)
	}
	slices.SortFunc(g.Edges, func(a, b Edge) int {
		return cmp.Or(strings.Compare(a.From, b.From), strings.Compare(a.To, b.To), strings.Compare(a.Category, b.Category),
			strings.Compare(a.Purpose, b.Purpose), strings.Compare(a.DataSubject, b.DataSubject))
	})
	return g
}

// Node returns the node with this name.
func (g *Graph) Node(name string) (Node, bool) {
	i := sort.Search(len(g.Nodes), func(i int) bool { return g.Nodes[i].Name >= name })
	if i < len(g.Nodes) && g.Nodes[i].Name == name {
		return g.Nodes[i], true
	}
	return Node{}, false
}

// out returns the edges leaving a node.
func (g *Graph) out(name string) []Edge {
	var out []Edge
	for _, e := range g.Edges {
		if e.From == name {
			out = append(out, e)
		}
	}
	return out
}

// in returns the edges entering a node.
func (g *Graph) in(name string) []Edge {
	var in []Edge
	for _, e := range g.Edges {
		if e.To == name {
			in = append(in, e)
		}
	}
	return in
}

// inSubtree reports whether category is key or below it.
func inSubtree(category, key string) bool {
	return key == "" || category == key || strings.HasPrefix(category, key+".")
}
