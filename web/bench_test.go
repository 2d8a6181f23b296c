package web_test

import (
	"os"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
)

// The web data map's speed, measured in Chromium against a real serve with
// the demo's events (docs/benchmarks.md, "Web data map"). Each iteration is
// one page load or one redraw; the metrics are medians and 95th
// percentiles of what the page itself measured (performance marks), so
// Go's and the DevTools protocol's overhead is not counted:
//
//	go test ./web -run '^$' -bench Web -benchtime 20x

// BenchmarkWebFirstRender is the time from navigation start until a page
// has drawn its answer (body[data-state=ready]).
func BenchmarkWebFirstRender(b *testing.B) {
	f := startFixture(b)
	tab := f.tab(b, false)
	f.login(b, tab, readToken, "/")
	waitMap(b, f, tab)
	logLoad(b)
	for _, p := range pagesUnderTest {
		b.Run(p.name, func(b *testing.B) {
			var ms []float64
			for range b.N {
				f.do(b, tab, p.name, chromedp.Navigate(f.base+p.path), waitReady())
				ms = append(ms, get(b, tab, "mark", js[float64](`performance.getEntriesByName('datamap:ready')[0].startTime`)))
			}
			reportMS(b, ms)
		})
	}
}

// BenchmarkWebFilterRedraw is the time from a filter change (category, or
// the as-of date) until the page has drawn the new answer.
func BenchmarkWebFilterRedraw(b *testing.B) {
	f := startFixture(b)
	tab := f.tab(b, false)
	f.login(b, tab, readToken, "/")
	waitMap(b, f, tab)
	logLoad(b)
	for _, c := range []struct{ name, path, control, value string }{
		{"map category", "/", "f-category", "billing"},
		{"map as-of", "/", "f-as_of", pastDate},
		{"flows category", "/flows", "f-category", "billing"},
		{"inventory as-of", "/inventory", "f-as_of", pastDate},
	} {
		b.Run(c.name, func(b *testing.B) {
			f.do(b, tab, c.path, chromedp.Navigate(f.base+c.path), waitReady())
			var ms, api []float64
			for i := range b.N {
				value := c.value
				if i%2 == 1 {
					value = "" // and back
				}
				f.do(b, tab, "change "+c.control,
					// SetValue fires the control's input and change events itself.
					chromedp.SetValue(chromedp.CSS("#"+c.control), value),
					waitReady())
				ms = append(ms, get(b, tab, "marks", js[float64](`performance.getEntriesByName('datamap:ready').at(-1).startTime - performance.getEntriesByName('datamap:filters').at(-1).startTime`)))
				// The API's share: from the change to the last answer in.
				api = append(api, get(b, tab, "api", js[float64](`(() => { const t0 = performance.getEntriesByName('datamap:filters').at(-1).startTime;
					return Math.max(0, ...performance.getEntriesByType('resource').filter(e => e.name.includes('/api/v1/') && e.startTime >= t0).map(e => e.responseEnd - t0)); })()`)))
			}
			reportMS(b, ms)
			slices.Sort(api)
			b.ReportMetric(api[len(api)/2], "ms-api-median")
		})
	}
}

// BenchmarkWebMapRedrawWork is the page's own work of a map redraw that
// takes a third of the recipients away (no API call): keeping the layout,
// as the map does, against laying the smaller map out again, in the same
// page and run.
func BenchmarkWebMapRedrawWork(b *testing.B) {
	f := startFixture(b)
	tab := f.tab(b, false)
	f.login(b, tab, readToken, "/")
	waitMap(b, f, tab)
	logLoad(b)
	for _, n := range []string{"50", "300"} {
		for _, c := range []struct{ name, relayout string }{{"kept layout", "false"}, {"laid out again", "true"}} {
			b.Run(n+" nodes "+c.name, func(b *testing.B) {
				var ms []float64
				for range b.N {
					ms = append(ms, get(b, tab, "redraw", js[float64](`import('/assets/map.js').then(m => m.redrawBench(`+n+`, `+c.relayout+`))`)))
				}
				reportMS(b, ms)
			})
		}
	}
}

// BenchmarkWebLayout lays out generated graphs in the map's Cytoscape
// (dagre, left to right) and reports what the layout alone took.
func BenchmarkWebLayout(b *testing.B) {
	f := startFixture(b)
	tab := f.tab(b, false)
	f.login(b, tab, readToken, "/")
	waitMap(b, f, tab)
	logLoad(b)
	// A fixed loop in the same page, as a yardstick of how fast this
	// machine ran at the time: on a shared machine the layout times scale
	// with it.
	b.Run("yardstick 1e8-step loop", func(b *testing.B) {
		var ms []float64
		for range b.N {
			ms = append(ms, get(b, tab, "loop", js[float64](`(() => { const t0 = performance.now(); let x = 0; for (let i = 0; i < 1e8; i++) x += i % 7; return x > 0 ? performance.now() - t0 : 0; })()`)))
		}
		reportMS(b, ms)
	})
	// The map's own choice of ranker, then the one it used before at this
	// size, in the same page and run, so the two compare on equal terms.
	for _, c := range []struct{ name, n, ranker string }{
		{"50 nodes", "50", ""},
		{"300 nodes", "300", ""},
		{"300 nodes longest-path ranker", "300", "longest-path"},
	} {
		b.Run(c.name, func(b *testing.B) {
			var ms []float64
			for range b.N {
				ms = append(ms, get(b, tab, "layout", js[float64](`import('/assets/map.js').then(m => m.layoutBench(`+c.n+`, '`+c.ranker+`'))`)))
			}
			reportMS(b, ms)
		})
	}
}

func reportMS(b *testing.B, ms []float64) {
	slices.Sort(ms)
	b.ReportMetric(ms[len(ms)/2], "ms-median")
	b.ReportMetric(ms[(len(ms)*95+99)/100-1], "ms-p95")
	b.ReportMetric(0, "ns/op") // the wall time per iteration includes the test's own waiting
}

func logLoad(b *testing.B) {
	load, _ := os.ReadFile("/proc/loadavg")
	b.Logf("load average: %s", load)
}
