package lineage

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Formats the graph exports to.
var Formats = []string{"json", "dot", "mermaid", "openlineage"}

// Export writes the graph in one of Formats: JSON (this package's Graph),
// Graphviz DOT, a Mermaid flowchart, or OpenLineage run events (one JSON
// object per line, one event per sending system) for lineage tools such as
// Marquez. The output is deterministic, so it can be diffed and
// golden-tested.
func (g *Graph) Export(w io.Writer, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(g)
	case "dot":
		return g.dot(w)
	case "mermaid":
		return g.mermaid(w)
	case "openlineage":
		return g.openLineage(w)
	}
	return fmt.Errorf("lineage: unknown export format %q; use one of %s", format, strings.Join(Formats, ", "))
}

// label is an edge's caption: category, purpose and records.
func (e Edge) label() string {
	return fmt.Sprintf("%s\n%s, %d records", e.Category, e.Purpose, e.Records)
}

func (g *Graph) dot(w io.Writer) error {
	var b strings.Builder
	b.WriteString("digraph datamap {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n")
	for _, n := range g.Nodes {
		shape, tip := "box", "system"
		switch {
		case n.System && n.Recipient:
			shape, tip = "box3d", "instrumented recipient"
		case n.Recipient:
			shape, tip = "ellipse", "recipient"
		}
		if n.Country != "" {
			tip += ", " + n.Role + ", " + n.Country
		}
		fmt.Fprintf(&b, "  %s [shape=%s, tooltip=%s];\n", strconv.Quote(n.Name), shape, strconv.Quote(tip))
	}
	for _, e := range g.Edges {
		fmt.Fprintf(&b, "  %s -> %s [label=%s];\n", strconv.Quote(e.From), strconv.Quote(e.To), strconv.Quote(e.label()))
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func (g *Graph) mermaid(w io.Writer) error {
	ids := map[string]string{}
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	for i, n := range g.Nodes {
		id := "n" + strconv.Itoa(i)
		ids[n.Name] = id
		open, close := "[", "]"
		if !n.System {
			open, close = "([", "])"
		}
		fmt.Fprintf(&b, "  %s%s\"%s\"%s\n", id, open, mermaidText(n.Name), close)
	}
	for _, e := range g.Edges {
		fmt.Fprintf(&b, "  %s -->|\"%s\"| %s\n", ids[e.From], mermaidText(strings.ReplaceAll(e.label(), "\n", "<br/>")), ids[e.To])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mermaidText escapes what would end a quoted Mermaid label.
func mermaidText(s string) string { return strings.ReplaceAll(s, `"`, "#quot;") }

// OpenLineage identifiers. Datasets are "what a node holds of a
// category": namespace datamap://<node>, name <category>.
const (
	openLineageProducer  = "https://github.com/back-trace/datamap"
	openLineageSchemaURL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
	openLineageFacetURL  = "https://github.com/back-trace/datamap/blob/main/docs/lineage.md#the-datamap_flow-facet"
)

type olDataset struct {
	Namespace string         `json:"namespace"`
	Name      string         `json:"name"`
	Facets    map[string]any `json:"facets,omitempty"`
}

type olEvent struct {
	EventType string `json:"eventType"`
	EventTime string `json:"eventTime"`
	Run       struct {
		RunID string `json:"runId"`
	} `json:"run"`
	Job struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"job"`
	Inputs    []olDataset `json:"inputs"`
	Outputs   []olDataset `json:"outputs"`
	Producer  string      `json:"producer"`
	SchemaURL string      `json:"schemaURL"`
}

// openLineage writes one COMPLETE run event per sending node: the job is
// the node's sharing, its inputs the categories it holds, its outputs the
// same categories at each recipient, with a facet naming the recipient's
// role, country, safeguard and counts. Run ids are derived from the content
// (UUID-shaped), so re-exporting the same graph gives the same events.
func (g *Graph) openLineage(w io.Writer) error {
	enc := json.NewEncoder(w)
	var from string
	var ev *olEvent
	var last time.Time
	flush := func() error {
		if ev == nil {
			return nil
		}
		ev.EventTime = last.UTC().Format(time.RFC3339Nano)
		sum := sha256.Sum256(fmt.Appendf(nil, "%s|%d|%s", from, len(ev.Outputs), ev.EventTime))
		sum[6] = sum[6]&0x0f | 0x50 // version 5 shape: name-based
		sum[8] = sum[8]&0x3f | 0x80
		ev.Run.RunID = fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
		return enc.Encode(ev)
	}
	inputs := map[string]bool{}
	for _, e := range g.Edges {
		if ev == nil || e.From != from {
			if err := flush(); err != nil {
				return err
			}
			from, last, inputs = e.From, time.Time{}, map[string]bool{}
			ev = &olEvent{EventType: "COMPLETE", Producer: openLineageProducer, SchemaURL: openLineageSchemaURL}
			ev.Job.Namespace, ev.Job.Name = "datamap", "share:"+e.From
		}
		if !inputs[e.Category] {
			inputs[e.Category] = true
			ev.Inputs = append(ev.Inputs, olDataset{Namespace: "datamap://" + e.From, Name: e.Category})
		}
		ev.Outputs = append(ev.Outputs, olDataset{Namespace: "datamap://" + e.To, Name: e.Category, Facets: map[string]any{
			"datamap_flow": map[string]any{
				"_producer": openLineageProducer, "_schemaURL": openLineageFacetURL,
				"purpose": e.Purpose, "dataSubject": e.DataSubject, "role": e.Role, "country": e.Country,
				"safeguard": e.Safeguard, "contract": e.Contract, "events": e.Events, "records": e.Records,
			},
		}})
		if e.LastSeen.After(last) {
			last = e.LastSeen
		}
	}
	return flush()
}
