package query

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/back-trace/datamap/events/taxonomy"
)

// SearchResult is one system, recipient, category or purpose that matches
// a free-text query, with how much the catalog has about it.
type SearchResult struct {
	Kind    string `json:"kind"` // system, recipient, category or purpose
	Name    string `json:"name"`
	Label   string `json:"label"` // the taxonomy's name for categories and purposes
	Events  uint64 `json:"events"`
	Records uint64 `json:"records"`
}

// Search finds systems, recipients, categories and purposes whose key, or
// taxonomy name or description, contains text (case-insensitive). Taxonomy
// entries match even when no event mentions them yet (with zero counts),
// so the officer learns the word is known but unobserved. One pass over
// the selection with GROUPING SETS gives every count.
func Search(ctx context.Context, conn driver.Conn, tax *taxonomy.Taxonomy, text string, f Filter) ([]SearchResult, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, &ValueError{"q", text, "give a word to look for, e.g. stripe or billing"}
	}
	labels := map[string]map[string]string{"category": {}, "purpose": {}}
	for _, c := range tax.Categories {
		if matches(text, c.Key, c.Name, c.Description) {
			labels["category"][c.Key] = c.Name
		}
	}
	for _, p := range tax.Purposes {
		if matches(text, p.Key, p.Name, p.Description) {
			labels["purpose"][p.Key] = p.Name
		}
	}
	from, args, err := selection{kinds: allKinds, cols: []string{"source", "recipient_name", "category", "purpose"}}.from(ctx, conn, f)
	if err != nil {
		return nil, err
	}
	query := `SELECT
		multiIf(grouping(source) = 0, 'system', grouping(recipient_name) = 0, 'recipient', grouping(category) = 0, 'category', 'purpose') AS kind,
		multiIf(kind = 'system', toString(source), kind = 'recipient', toString(recipient_name), kind = 'category', toString(category), toString(purpose)) AS name,
		` + sumEvents + `, ` + sumRecords + `
		FROM ` + from + `
		GROUP BY GROUPING SETS ((source), (recipient_name), (category), (purpose))
		HAVING name != '' AND (positionCaseInsensitiveUTF8(name, ?) > 0
			OR (kind = 'category' AND has(?, name)) OR (kind = 'purpose' AND has(?, name)))
		ORDER BY kind, name` + RollupSettings + `, group_by_use_nulls = 0`
	args = append(args, text, keys(labels["category"]), keys(labels["purpose"]))
	rows, err := conn.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("search query: %w", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	var out []SearchResult
	for rows.Next() {
		var r SearchResult
		if err := rows.Scan(&r.Kind, &r.Name, &r.Events, &r.Records); err != nil {
			return nil, err
		}
		r.Label = labels[r.Kind][r.Name]
		if r.Label == "" {
			r.Label = taxonomyLabel(tax, r.Kind, r.Name)
		}
		seen[r.Kind+"\x00"+r.Name] = true
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, kind := range []string{"category", "purpose"} {
		for _, k := range keys(labels[kind]) {
			if !seen[kind+"\x00"+k] {
				out = append(out, SearchResult{Kind: kind, Name: k, Label: labels[kind][k]})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

func matches(text string, fields ...string) bool {
	for _, f := range fields {
		if strings.Contains(strings.ToLower(f), strings.ToLower(text)) {
			return true
		}
	}
	return false
}

func taxonomyLabel(tax *taxonomy.Taxonomy, kind, key string) string {
	switch kind {
	case "category":
		c, _ := tax.Category(key)
		return c.Name
	case "purpose":
		p, _ := tax.Purpose(key)
		return p.Name
	}
	return ""
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
