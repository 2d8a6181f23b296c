package web

import (
	"strings"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/words"
)

// filter is one of the shared filters every page keeps in its URL.
type filter struct {
	Name    string // the API's parameter
	Label   string
	Kind    string // select, text or date
	Options []option
	Hint    string
	Applies bool // to the page being shown
}

type option struct{ Value, Label string }

// filters are the shared filters, with the choices the taxonomy and the
// law allow, in words (the address keeps the keys). as_of is the time
// control and is drawn apart.
func filters(tax *taxonomy.Taxonomy) []filter {
	names := words.Of(tax)
	var cats, subjects, purposes []option
	for _, c := range tax.Categories {
		depth := strings.Count(c.Key, ".")
		cats = append(cats, option{c.Key, strings.Repeat("\u00a0\u00a0", depth) + names.Category(c.Key)})
	}
	for _, t := range tax.DataSubjects {
		subjects = append(subjects, option{t.Key, names.DataSubject(t.Key)})
	}
	for _, t := range tax.Purposes {
		purposes = append(purposes, option{t.Key, names.Purpose(t.Key)})
	}
	plain := func(vs []string, word func(string) string) []option {
		out := make([]option, len(vs))
		for i, v := range vs {
			out[i] = option{v, word(v)}
		}
		return out
	}
	safeguard := func(k string) string {
		if k == events.SafeguardNone {
			return "none given"
		}
		return words.Safeguard(k)
	}
	return []filter{
		{Name: "as_of", Label: "As of", Kind: "date"},
		{Name: "category", Label: "Category (with its subtree)", Kind: "select", Options: cats},
		{Name: "data_subject", Label: "Data subject", Kind: "select", Options: subjects},
		{Name: "purpose", Label: "Purpose", Kind: "select", Options: purposes},
		{Name: "legal_basis", Label: "Legal basis", Kind: "select", Options: plain(events.LegalBases, words.LegalBasis)},
		{Name: "system", Label: "System", Kind: "text", Hint: "e.g. billing-api"},
		{Name: "recipient", Label: "Recipient", Kind: "text", Hint: "e.g. Stripe"},
		{Name: "role", Label: "Recipient role", Kind: "select", Options: plain(events.Roles, words.Role)},
		{Name: "country", Label: "Country", Kind: "text", Hint: "ISO code, e.g. US"},
		{Name: "safeguard", Label: "Safeguard", Kind: "select", Options: plain(events.Safeguards, safeguard)},
	}
}
