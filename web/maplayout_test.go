package web_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

type point struct{ X, Y float64 }

// waitMap waits, after logging in, for the map the login leads to: the
// login page says it is ready too, and navigating away before its form
// has gone through would abort the login.
func waitMap(tb testing.TB, f *fixture, tab context.Context) {
	tb.Helper()
	f.do(tb, tab, "open the map", chromedp.WaitVisible(chromedp.CSS(`body[data-page="map"][data-state="ready"]`)))
}

// TestMapLayout checks the map's layout in Chromium against a real serve
// with the demo's events: a filter or as-of change that only takes nodes
// away, or gives them back, keeps every node where it was without laying
// the graph out again; and laid-out graphs of 50 and 300 nodes read left to
// right with no two nodes on top of each other; and a map of 300 nodes, as
// the page draws it, is grouped so that it reads at its initial fit.
func TestMapLayout(t *testing.T) {
	f := startFixture(t)
	tab := f.tab(t, false)
	f.login(t, tab, readToken, "/")
	waitMap(t, f, tab)

	layouts := func(t *testing.T) string {
		return get(t, tab, "layouts", js[string](`document.getElementById('graph').dataset.layouts`))
	}
	positions := func(t *testing.T) map[string]point {
		return get(t, tab, "positions", js[map[string]point](`import('/assets/map.js').then(m => m.nodePositions())`))
	}
	change := func(t *testing.T, control, value string) {
		f.do(t, tab, "change "+control,
			chromedp.SetValue(chromedp.CSS("#"+control), value), // fires change
			waitReady())
	}
	samePlaces := func(t *testing.T, what string, before, after map[string]point) {
		t.Helper()
		for id, p := range after {
			q, ok := before[id]
			if !ok {
				t.Errorf("%s: node %q was not on the map before", what, id)
			} else if p != q {
				t.Errorf("%s: node %q moved from %v to %v", what, id, q, p)
			}
		}
	}

	t.Run("a filter or as-of change keeps the layout", func(t *testing.T) {
		first, all := layouts(t), positions(t)
		for _, c := range []struct{ control, value string }{
			{"f-category", "billing"}, {"f-category", ""}, {"f-as_of", pastDate}, {"f-as_of", ""},
		} {
			change(t, c.control, c.value)
			what := fmt.Sprintf("%s=%q", c.control, c.value)
			now := positions(t)
			if c.value != "" && len(now) >= len(all) {
				t.Errorf("%s: %d nodes, want fewer than the %d of the whole map", what, len(now), len(all))
			}
			if c.value == "" && len(now) != len(all) {
				t.Errorf("%s: %d nodes, want the whole map's %d back", what, len(now), len(all))
			}
			samePlaces(t, what, all, now)
			if got := layouts(t); got != first {
				t.Errorf("%s: the map was laid out again (%s layouts, was %s)", what, got, first)
			}
		}
		// Grouping draws other shapes: that is laid out anew.
		change(t, "group-by", "country")
		if got := layouts(t); got == first {
			t.Errorf("grouping by country kept the old layout (%s layouts)", got)
		}
	})

	for _, n := range []int{50, 300} {
		t.Run(fmt.Sprintf("%d nodes left to right without overlaps", n), func(t *testing.T) {
			type box struct {
				ID             string
				X1, Y1, X2, Y2 float64
			}
			type geometry struct {
				Nodes []box
				Edges []struct{ Source, Target string }
			}
			g := get(t, tab, "layout", js[geometry](fmt.Sprintf(`import('/assets/map.js').then(m => m.layoutGeometry(%d))`, n)))
			if len(g.Nodes) != n {
				t.Fatalf("laid out %d nodes, want %d", len(g.Nodes), n)
			}
			overlaps := 0
			for i, a := range g.Nodes {
				for _, b := range g.Nodes[i+1:] {
					if a.X1 < b.X2 && b.X1 < a.X2 && a.Y1 < b.Y2 && b.Y1 < a.Y2 {
						if overlaps++; overlaps <= 5 {
							t.Errorf("%s (%v,%v–%v,%v) overlaps %s (%v,%v–%v,%v)", a.ID, a.X1, a.Y1, a.X2, a.Y2, b.ID, b.X1, b.Y1, b.X2, b.Y2)
						}
					}
				}
			}
			at := map[string]box{}
			for _, b := range g.Nodes {
				at[b.ID] = b
			}
			for _, e := range g.Edges {
				if s, d := at[e.Source], at[e.Target]; s.X2 >= d.X1 {
					t.Errorf("flow %s → %s does not go left to right (%v ≥ %v)", e.Source, e.Target, s.X2, d.X1)
				}
			}
			if overlaps > 0 || len(g.Edges) < n {
				t.Errorf("%d overlapping pairs of nodes, %d flows", overlaps, len(g.Edges))
			}
		})
	}

	t.Run("300 nodes are grouped to read at the initial fit", func(t *testing.T) {
		// A map nobody grouped by hand.
		f.do(t, tab, "open the map", chromedp.Navigate(f.base+"/"), waitReady())
		g := get(t, tab, "grouped map", js[labelGeometry](`import('/assets/map.js').then(m => m.groupedGeometry(300))`))
		group := get(t, tab, "grouping", js[string](`document.getElementById('group-by').value + ' ' + document.querySelectorAll('#node-list [data-group], #node-list [data-node^="group:"]').length`))
		if len(g.Nodes) >= 300 || len(g.Nodes) == 0 {
			t.Fatalf("%d nodes drawn for a map of 300 (grouping %q), want them grouped", len(g.Nodes), group)
		}
		for _, n := range g.Nodes {
			if n.Font < 11 {
				t.Errorf("node %s: label drawn at %.1f px, want at least 11", n.ID, n.Font)
			}
		}
		overlaps := 0
		for i, a := range g.Edges {
			if a.Font < 11 {
				t.Errorf("edge %s: label drawn at %.1f px, want at least 11", a.ID, a.Font)
			}
			for _, b := range g.Edges[i+1:] {
				if a.overlaps(b) {
					overlaps++
				}
			}
			for _, n := range g.Nodes {
				if a.overlaps(n) {
					t.Errorf("edge label %q overlaps node %s", a.Label, n.ID)
				}
			}
		}
		if overlaps > 0 || len(g.Edges) == 0 {
			t.Errorf("%d overlapping pairs among %d edge labels drawn", overlaps, len(g.Edges))
		}
		t.Logf("300 nodes drawn as %d (%s), zoom %.2f; %d of %d edge labels drawn", len(g.Nodes), group, g.Zoom, len(g.Edges), g.AllEdges)
	})
}
