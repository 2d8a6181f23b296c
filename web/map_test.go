package web_test

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/back-trace/datamap/lineage"
)

// rendered is an element of the map as drawn, in screen pixels.
type rendered struct {
	ID, Label      string
	Font           float64
	X1, Y1, X2, Y2 float64
	OnLine         bool `json:"on_line"` // an edge label: lies on its own line
}

func (a rendered) overlaps(b rendered) bool {
	// Half a pixel of contact is not an overlap a reader sees.
	return a.X1+0.5 < b.X2 && b.X1+0.5 < a.X2 && a.Y1+0.5 < b.Y2 && b.Y1+0.5 < a.Y2
}

type labelGeometry struct {
	Zoom     float64
	Edges    []rendered
	Nodes    []rendered
	Kinds    []string // of the edges drawn
	LeftOut  int      `json:"left_out"` // labels with no room, shown on hover
	AllEdges int      `json:"all_edges"`
}

// TestMapReadable checks the map in Chromium at 1366×768 against a real
// serve with the demo's events, as first drawn (the initial fit): every
// edge label is at least 11 px and overlaps no other edge label and no
// node; the legend names every kind of edge drawn; and a category filter
// leaves only the nodes that hold or pass on data of that category. With
// DATAMAP_WEB_SCREENSHOTS=DIR it saves each view as DIR/map*.png.
func TestMapReadable(t *testing.T) {
	f := startFixture(t)
	tab := f.tab(t, false)
	f.login(t, tab, readToken, "/")
	waitMap(t, f, tab)

	for _, v := range []struct{ name, path string }{
		{"map-overview", "/"}, {"map", "/?node=Zendesk"}, {"map-billing", "/?category=billing"},
	} {
		t.Run(v.name, func(t *testing.T) {
			f.do(t, tab, "open "+v.path, chromedp.Navigate(f.base+v.path), waitReady())
			if strings.Contains(v.path, "node=") {
				f.do(t, tab, "panel", chromedp.WaitVisible(chromedp.CSS(`#panel table`)), waitReady())
			}
			g := get(t, tab, "label geometry", js[labelGeometry](`import('/assets/map.js').then(m => m.labelGeometry())`))
			if len(g.Edges) == 0 {
				t.Fatal("no edge label is drawn")
			}
			minFont := math.Inf(1)
			for _, e := range g.Edges {
				minFont = min(minFont, e.Font)
				if e.Font < 11 {
					t.Errorf("edge %s: label %q drawn at %.1f px, want at least 11", e.ID, e.Label, e.Font)
				}
				if !e.OnLine {
					t.Errorf("edge %s: label %q is off its line", e.ID, e.Label)
				}
			}
			overlaps := 0
			for i, a := range g.Edges {
				for _, b := range g.Edges[i+1:] {
					if a.overlaps(b) {
						if overlaps++; overlaps <= 5 {
							t.Errorf("edge labels overlap: %q (%.0f,%.0f–%.0f,%.0f) and %q (%.0f,%.0f–%.0f,%.0f)",
								a.Label, a.X1, a.Y1, a.X2, a.Y2, b.Label, b.X1, b.Y1, b.X2, b.Y2)
						}
					}
				}
			}
			onNodes := 0
			for _, e := range g.Edges {
				for _, n := range g.Nodes {
					if e.overlaps(n) {
						if onNodes++; onNodes <= 5 {
							t.Errorf("edge label %q overlaps node %s", e.Label, n.ID)
						}
					}
				}
			}
			minNode := math.Inf(1)
			for _, n := range g.Nodes {
				minNode = min(minNode, n.Font)
			}
			if minNode < 11 {
				t.Errorf("a node label is drawn at %.1f px, want at least 11", minNode)
			}
			// Each kind of line drawn is in the legend.
			legend := get(t, tab, "legend", js[[]string](`[...document.querySelectorAll('.legend [data-edge]')].map(li => li.dataset.edge)`))
			for _, k := range g.Kinds {
				if !slices.Contains(legend, k) {
					t.Errorf("edges of kind %s are drawn; the legend (%v) does not say what they are", k, legend)
				}
			}
			t.Logf("%s: zoom %.2f; %d of %d edge labels drawn, smallest %.1f px; %d overlapping pairs of edge labels, %d edge labels on nodes; %d nodes, smallest label %.1f px; kinds %v",
				v.path, g.Zoom, len(g.Edges), g.AllEdges, minFont, overlaps, onNodes, len(g.Nodes), minNode, g.Kinds)
			if dir := os.Getenv("DATAMAP_WEB_SCREENSHOTS"); dir != "" {
				png := get(t, tab, "screenshot", chromedp.CaptureScreenshot())
				if err := os.WriteFile(filepath.Join(dir, v.name+".png"), png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}

	t.Run("pointing at a flow shows its details; selecting it lists its rows", func(t *testing.T) {
		f.do(t, tab, "open the map", chromedp.Navigate(f.base+"/"), waitReady())
		g := get(t, tab, "label geometry", js[labelGeometry](`import('/assets/map.js').then(m => m.labelGeometry())`))
		at := get(t, tab, "graph", js[point](`(() => { const r = document.getElementById('graph').getBoundingClientRect(); return { X: r.left, Y: r.top }; })()`))
		i := slices.IndexFunc(g.Edges, func(e rendered) bool { return e.ID == "e:voip-platform\u0000Mixpanel" })
		if i < 0 {
			t.Fatalf("the flow voip-platform → Mixpanel (a transfer without a needed safeguard) has no label drawn")
		}
		e := g.Edges[i]
		x, y := at.X+(e.X1+e.X2)/2, at.Y+(e.Y1+e.Y2)/2
		f.do(t, tab, "point at it", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, y), chromedp.WaitVisible(chromedp.CSS(`#edge-tip`)))
		tip := get(t, tab, "tip", chromedp.Text(chromedp.CSS(`#edge-tip`)))
		if !strings.Contains(tip, "voip-platform → Mixpanel") || !strings.Contains(tip, "(device.identifiers)") || !strings.Contains(tip, "record") {
			t.Errorf("pointing at the flow shows %q, want its ends, its category with the key and its records", tip)
		}
		if dir := os.Getenv("DATAMAP_WEB_SCREENSHOTS"); dir != "" {
			png := get(t, tab, "screenshot", chromedp.CaptureScreenshot())
			if err := os.WriteFile(filepath.Join(dir, "map-flow.png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		f.do(t, tab, "select it", chromedp.MouseClickXY(x, y), chromedp.WaitVisible(chromedp.CSS(`#panel table`)))
		title := get(t, tab, "panel title", chromedp.Text(chromedp.CSS(`#panel h2`)))
		kind := get(t, tab, "panel kind", chromedp.Text(chromedp.CSS(`#panel h2 + p`)))
		keys := get(t, tab, "panel categories", js[[]string](`[...document.querySelectorAll('#panel tbody tr')].map(tr => tr.cells[0].title)`))
		if title != "voip-platform → Mixpanel" || !strings.Contains(kind, "without a needed safeguard") || !slices.Contains(keys, "device.identifiers") {
			t.Errorf("selecting the flow shows %q (%q) with categories %v", title, kind, keys)
		}
	})

	t.Run("the blast radius says what its count counts and names the onward hops", func(t *testing.T) {
		var b struct {
			Records  uint64
			PassedOn []struct{ Node string } `json:"passed_on"`
		}
		f.apiGet(t, "/api/v1/lineage/blast?recipient=Zendesk", &b)
		f.do(t, tab, "blast", chromedp.Navigate(f.base+"/"), waitReady(),
			chromedp.SetValue(chromedp.CSS(`#blast-recipient`), "Zendesk"),
			chromedp.Click(chromedp.CSS(`#blast-go`)), waitReady())
		summary := get(t, tab, "summary", chromedp.Text(chromedp.CSS(`#summary`)))
		if strings.Contains(summary, "exposes") || !strings.Contains(summary, "received") || len(b.PassedOn) == 0 {
			t.Errorf("blast summary %q: want what Zendesk received, not a total it exposes", summary)
		}
		for _, r := range b.PassedOn {
			if !strings.Contains(summary, r.Node) {
				t.Errorf("blast summary %q does not name %s, where Zendesk passed data on", summary, r.Node)
			}
		}
		if dir := os.Getenv("DATAMAP_WEB_SCREENSHOTS"); dir != "" {
			png := get(t, tab, "screenshot", chromedp.CaptureScreenshot())
			if err := os.WriteFile(filepath.Join(dir, "map-blast.png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("a notch of the mouse wheel zooms by a useful step", func(t *testing.T) {
		f.do(t, tab, "open the map", chromedp.Navigate(f.base+"/"), waitReady())
		// Three notches of a common mouse wheel (120 each), at the map's middle.
		ratio := get(t, tab, "wheel", js[float64](`import('/assets/map.js').then(async (m) => {
			const before = m.labelGeometry().zoom;
			const g = document.getElementById('graph');
			const r = g.getBoundingClientRect();
			for (let i = 0; i < 3; i++) {
				g.querySelector('canvas:last-of-type').dispatchEvent(new WheelEvent('wheel', { deltaY: -120, deltaMode: 0,
					clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, bubbles: true, cancelable: true }));
				await new Promise((ok) => setTimeout(ok, 50));
			}
			return m.labelGeometry().zoom / before;
		})`))
		t.Logf("three wheel notches zoom by %.2f×", ratio)
		if ratio < 1.5 || ratio > 8 {
			t.Errorf("three wheel notches zoom by %.2f×, want between 1.5× and 8×", ratio)
		}
	})

	t.Run("category=billing shows only what relates to billing", func(t *testing.T) {
		var flows, held struct {
			Items []struct{ System, Recipient, Category string }
		}
		f.apiGet(t, "/api/v1/flows?category=billing&limit=10000", &flows)
		f.apiGet(t, "/api/v1/inventory?category=billing&limit=10000", &held)
		related := map[string]bool{}
		for _, r := range flows.Items {
			related[r.System], related[r.Recipient] = true, true
		}
		for _, r := range held.Items {
			related[r.System] = true
		}
		got := f.nodeList(t, tab, "/?category=billing")
		for _, n := range got {
			if !related[n] {
				t.Errorf("%s is on the map under category=billing: it neither holds nor passes on billing data", n)
			}
		}
		if len(got) == 0 || len(got) != len(related) {
			t.Errorf("the map shows %v under category=billing, want the %d nodes that hold or pass on billing data", got, len(related))
		}
		// The side panel of a node lists billing rows only.
		f.do(t, tab, "open billing-api",
			chromedp.Click(chromedp.CSS(`#node-list [data-node="billing-api"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#panel table`)), waitReady())
		keys := get(t, tab, "panel categories", js[[]string](`[...document.querySelectorAll('#panel tbody tr')].map(tr => tr.cells[tr.closest('table').querySelector('caption').textContent === 'Holds' ? 0 : 1].title)`))
		if len(keys) == 0 {
			t.Error("billing-api's panel lists no rows under category=billing")
		}
		for _, k := range keys {
			if k != "billing" && !strings.HasPrefix(k, "billing.") {
				t.Errorf("the panel lists a %q row under category=billing", k)
			}
		}
	})
}

// relatedNames are the nodes of a graph exported under a filter that the
// map keeps under it: those a flow of the graph touches, and the systems
// the inventory under the same filter says hold such data.
func (f *fixture) relatedNames(t *testing.T, g lineage.Graph, filter string) []string {
	t.Helper()
	var held struct{ Items []struct{ System string } }
	f.apiGet(t, "/api/v1/inventory?limit=10000&"+filter, &held)
	keep := map[string]bool{}
	for _, e := range g.Edges {
		keep[e.From], keep[e.To] = true, true
	}
	for _, r := range held.Items {
		keep[r.System] = true
	}
	var out []string
	for _, n := range g.Nodes {
		if keep[n.Name] {
			out = append(out, n.Name)
		}
	}
	return sorted(out)
}
