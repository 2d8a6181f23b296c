// Package taxonomy is the configured vocabulary of datamap events: the
// personal-data categories, purposes and data-subject categories a
// deployment names in a YAML file (schemas/taxonomy.yaml is the default,
// derived from the BackTrace privacy policy), with example recipients.
//
// Values fixed by law or by standards — legal bases, recipient roles,
// transfer safeguards, ISO country codes, ISO 8601 durations — belong to
// the event contract (package events), which a Taxonomy's example
// recipients are checked against. An *events.Validator checks events
// against a Taxonomy through the events.Vocabulary it implements.
package taxonomy

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/internal/fileerr"
	"github.com/back-trace/datamap/internal/suggest"
	"github.com/back-trace/datamap/schemas"
)

// Taxonomy names the personal-data categories, purposes and data-subject
// categories that events may use. Categories are hierarchical: "billing" is
// the parent of "billing.payment_token", and a question about "billing"
// covers both (see Subtree).
//
// Legal bases, recipient roles and transfer safeguards are fixed by the GDPR
// and are deliberately not part of the taxonomy.
//
// A Taxonomy is read-only once parsed and safe for concurrent use; callers
// must not modify its slices (Default is shared by the process).
type Taxonomy struct {
	Version      string
	Categories   []Category // in file order, parents before children
	Purposes     []Term
	DataSubjects []Term
	// Recipients are example recipients (datacenters, carriers, payment
	// processors…) for demos and `datamap emit`; events are not checked
	// against them.
	Recipients []KnownRecipient

	categories   map[string]int
	purposes     map[string]int
	dataSubjects map[string]int
}

// Category is a category of personal data, e.g. "billing.invoice".
type Category struct {
	Key         string
	Name        string
	Description string
	// Retention is the suggested maximum retention, an ISO 8601 duration,
	// or "" when the taxonomy suggests none. Events carry their own.
	Retention string
	// Special marks a GDPR Art. 9 special category: events about it need a
	// special_condition. True when the category or any ancestor says so.
	Special bool
}

// Term is a purpose or a data-subject category.
type Term struct {
	Key         string
	Name        string
	Description string
	// Child marks a data-subject category of children (GDPR Art. 8):
	// observing it in a system whose activities do not declare it is a
	// children_data finding. Only data subjects say it.
	Child bool
}

// KnownRecipient is an example recipient from the taxonomy file.
type KnownRecipient struct {
	Name        string
	Kind        string // e.g. "payment_processor", "carrier"
	Role        string // one of events.Roles
	Country     string // ISO 3166-1 alpha-2, or "" when it depends
	Safeguard   string // one of events.Safeguards, or ""
	Description string
}

// Error is one problem in a taxonomy file. Parse returns
// all of them joined with errors.Join; use errors.As to inspect the first,
// or iterate with the Unwrap() []error of the joined error.
type Error = fileerr.Error

// maxTaxonomySize bounds the input so a wrong path (a log file, a binary)
// fails fast instead of being parsed; real taxonomies are a few KB.
const maxTaxonomySize = 4 << 20

// maxKeyLen matches the maxLength of keys in the JSON Schemas.
const maxKeyLen = 200

var keyPattern = regexp.MustCompile(`^[a-z0-9_]+(\.[a-z0-9_]+)*$`)

// Default returns the taxonomy embedded in package schemas, derived
// from the BackTrace privacy policy. It is parsed once; it panics only if
// the embedded file is broken, which the package tests rule out.
func Default() *Taxonomy { return defaultTaxonomy() }

var defaultTaxonomy = sync.OnceValue(func() *Taxonomy {
	t, err := Parse(schemas.Taxonomy(), "schemas/taxonomy.yaml")
	if err != nil {
		panic("taxonomy: embedded default taxonomy is invalid: " + err.Error())
	}
	return t
})

// Load reads and parses a taxonomy file; see Parse.
func Load(path string) (*Taxonomy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("taxonomy: %w (pass the path of a taxonomy YAML file; schemas/taxonomy.yaml is the template)", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("taxonomy: %s: %w", path, err)
	}
	if st.Size() > maxTaxonomySize {
		return nil, fmt.Errorf("taxonomy: %s is %d bytes, over the %d byte limit; is it the right file?", path, st.Size(), maxTaxonomySize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("taxonomy: %w", err)
	}
	return Parse(data, path)
}

// Parse parses a taxonomy YAML document; name (usually the file
// path) prefixes the errors. Decoding is strict, because a typo such as
// "retenion" would otherwise drop a value silently. It reports every problem
// it finds, each a *Error with file, line and field, joined with
// errors.Join: unknown or duplicate fields, duplicate keys, keys that are not
// lowercase [a-z0-9_] segments joined by ".", dotted keys whose parent is
// missing, empty names, retentions that are not ISO 8601 durations, and
// recipients with an unknown role, safeguard or country.
func Parse(data []byte, name string) (*Taxonomy, error) {
	p := &taxonomyParser{List: fileerr.List{File: name}}
	root := p.ReadYAML(data, maxTaxonomySize, "a taxonomy needs categories, purposes and data_subjects (see schemas/taxonomy.yaml)")
	if root == nil {
		return nil, p.Err()
	}
	t := &Taxonomy{
		categories:   map[string]int{},
		purposes:     map[string]int{},
		dataSubjects: map[string]int{},
	}
	if root.Kind != yaml.MappingNode {
		p.Errorf(root.Line, "", "the document must be a mapping with categories, purposes and data_subjects, not a %s", kindName(root))
		return nil, p.Err()
	}
	seen := p.fields(root, "", map[string]func(k, v *yaml.Node){
		"version": func(_, v *yaml.Node) { t.Version, _ = p.str(v, "version") },
		"categories": func(_, v *yaml.Node) {
			p.list(v, "categories", func(n *yaml.Node, field string) { p.category(t, n, field) })
		},
		"purposes": func(_, v *yaml.Node) {
			p.list(v, "purposes", func(n *yaml.Node, field string) { p.term(&t.Purposes, t.purposes, n, field) })
		},
		"data_subjects": func(_, v *yaml.Node) {
			p.list(v, "data_subjects", func(n *yaml.Node, field string) { p.dataSubject(t, n, field) })
		},
		"recipients": func(_, v *yaml.Node) {
			p.list(v, "recipients", func(n *yaml.Node, field string) { p.recipient(t, n, field) })
		},
	})
	for _, f := range []struct{ list, field string }{{"categories", "category"}, {"purposes", "purpose"}, {"data_subjects", "data_subject"}} {
		if _, ok := seen[f.list]; !ok {
			p.Errorf(root.Line, f.list, "missing; events must name a %s from the taxonomy, so list at least one", f.field)
		}
	}
	p.checkParents()
	if err := p.Err(); err != nil {
		return nil, err
	}
	t.inheritSpecial()
	return t, nil
}

// Category returns the category with this exact key.
func (t *Taxonomy) Category(key string) (Category, bool) {
	i, ok := t.categories[key]
	if !ok {
		return Category{}, false
	}
	return t.Categories[i], true
}

// Purpose returns the purpose with this key.
func (t *Taxonomy) Purpose(key string) (Term, bool) {
	i, ok := t.purposes[key]
	if !ok {
		return Term{}, false
	}
	return t.Purposes[i], true
}

// DataSubject returns the data-subject category with this key.
func (t *Taxonomy) DataSubject(key string) (Term, bool) {
	i, ok := t.dataSubjects[key]
	if !ok {
		return Term{}, false
	}
	return t.DataSubjects[i], true
}

// The events.Vocabulary of a Taxonomy: what a Validator looks up per event.
var _ events.Vocabulary = (*Taxonomy)(nil)

// RetentionOf is the suggested retention of a category: its own, else its
// nearest ancestor's; "" when none suggests one.
func (t *Taxonomy) RetentionOf(key string) string {
	for k := key; k != ""; k = parentKey(k) {
		if c, ok := t.Category(k); ok && c.Retention != "" {
			return c.Retention
		}
	}
	return ""
}

// IsCategory reports whether key is a category, and whether it is special
// (GDPR Art. 9, inherited from its ancestors).
func (t *Taxonomy) IsCategory(key string) (known, special bool) {
	i, ok := t.categories[key]
	if !ok {
		return false, false
	}
	return true, t.Categories[i].Special
}

// IsPurpose reports whether key is a purpose.
func (t *Taxonomy) IsPurpose(key string) bool {
	_, ok := t.purposes[key]
	return ok
}

// IsDataSubject reports whether key is a data-subject category.
func (t *Taxonomy) IsDataSubject(key string) bool {
	_, ok := t.dataSubjects[key]
	return ok
}

// Nearest returns the key of the taxonomy nearest to a mistyped one — a
// category, purpose or data subject, as field says ("category", "purpose"
// or "data_subject") — or "" when none is near.
func (t *Taxonomy) Nearest(field, key string) string {
	var keys []string
	switch field {
	case "category":
		for _, c := range t.Categories {
			keys = append(keys, c.Key)
		}
	case "purpose":
		for _, p := range t.Purposes {
			keys = append(keys, p.Key)
		}
	case "data_subject":
		for _, p := range t.DataSubjects {
			keys = append(keys, p.Key)
		}
	}
	for _, k := range keys {
		if strings.EqualFold(k, key) {
			return k
		}
	}
	return suggest.Closest(key, keys, 3)
}

// Subtree returns the category key prefix and the keys of all its
// descendants, in file order: "billing" matches "billing" and
// "billing.invoice" but never "billingx". It returns nil when no category
// matches, so a query on an unknown prefix can say so.
func (t *Taxonomy) Subtree(prefix string) []string {
	var keys []string
	for _, c := range t.Categories {
		if isUnder(c.Key, prefix) {
			keys = append(keys, c.Key)
		}
	}
	return keys
}

// isUnder reports whether key is prefix or one of its descendants.
func isUnder(key, prefix string) bool {
	return key == prefix || (strings.HasPrefix(key, prefix) && len(key) > len(prefix) && key[len(prefix)] == '.')
}

// parentKey returns the key one level up, or "" for a top-level key.
func parentKey(key string) string {
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		return key[:i]
	}
	return ""
}

// inheritSpecial marks the descendants of special categories as special:
// health data stays health data however finely it is subdivided, and
// forgetting the flag on a child must not drop the Art. 9 check.
func (t *Taxonomy) inheritSpecial() {
	for i := range t.Categories {
		c := &t.Categories[i]
		for k := parentKey(c.Key); k != "" && !c.Special; k = parentKey(k) {
			if j, ok := t.categories[k]; ok && t.Categories[j].Special {
				c.Special = true
			}
		}
	}
}

// taxonomyParser walks the YAML node tree by hand rather than decoding into
// structs, so that every error carries the line of the offending node and
// all problems are collected in one pass.
type taxonomyParser struct {
	fileerr.List
	// keys remembers where each key was defined, per list, for the
	// duplicate and missing-parent messages.
	keys map[string]map[string]keyDef
}

type keyDef struct {
	line  int
	field string
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "scalar " + strconv.Quote(n.Value)
	case yaml.AliasNode:
		return "alias"
	}
	return "document"
}

// fields calls handle[key] for each key of mapping m, reporting unknown,
// duplicate and non-scalar keys. It returns the keys seen.
func (p *taxonomyParser) fields(m *yaml.Node, path string, handle map[string]func(k, v *yaml.Node)) map[string]*yaml.Node {
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		field := k.Value
		if path != "" {
			field = path + "." + k.Value
		}
		if k.Kind != yaml.ScalarNode {
			p.Errorf(k.Line, path, "field names must be plain strings, not a %s", kindName(k))
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			p.Errorf(k.Line, field, "set twice (first on line %d); keep one", prev.Line)
			continue
		}
		seen[k.Value] = k
		h, ok := handle[k.Value]
		if !ok {
			known := make([]string, 0, len(handle))
			for name := range handle {
				known = append(known, name)
			}
			slices.Sort(known)
			p.Errorf(k.Line, field, "unknown field; allowed here: %s", strings.Join(known, ", "))
			continue
		}
		if v.Kind == yaml.AliasNode {
			p.Errorf(v.Line, field, "YAML aliases are not supported in a taxonomy; write the value out")
			continue
		}
		h(k, v)
	}
	return seen
}

// str returns the value of a scalar, or reports that it is not one.
func (p *taxonomyParser) str(v *yaml.Node, field string) (string, bool) {
	if v.Kind != yaml.ScalarNode {
		p.Errorf(v.Line, field, "must be a string, not a %s", kindName(v))
		return "", false
	}
	if v.Tag == "!!null" {
		return "", true
	}
	return v.Value, true
}

func (p *taxonomyParser) list(v *yaml.Node, field string, item func(n *yaml.Node, field string)) {
	if v.Kind != yaml.SequenceNode {
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			p.Errorf(v.Line, field, "empty; list at least one entry with key and name")
			return
		}
		p.Errorf(v.Line, field, "must be a list of entries (\"- key: …\"), not a %s", kindName(v))
		return
	}
	if len(v.Content) == 0 {
		p.Errorf(v.Line, field, "empty; list at least one entry")
	}
	for i, n := range v.Content {
		f := fmt.Sprintf("%s[%d]", field, i)
		if n.Kind != yaml.MappingNode {
			p.Errorf(n.Line, f, "must be a mapping with key and name, not a %s", kindName(n))
			continue
		}
		item(n, f)
	}
}

// entry holds the common fields of categories and terms.
type entry struct {
	key, name, description string
	keyNode                *yaml.Node
}

// entryFields returns handlers for key, name and description, plus extra.
func (p *taxonomyParser) entryFields(e *entry, field string, extra map[string]func(k, v *yaml.Node)) map[string]func(k, v *yaml.Node) {
	h := map[string]func(k, v *yaml.Node){
		"key": func(_, v *yaml.Node) {
			e.keyNode = v
			e.key, _ = p.str(v, field+".key")
		},
		"name":        func(_, v *yaml.Node) { e.name, _ = p.str(v, field+".name") },
		"description": func(_, v *yaml.Node) { e.description, _ = p.str(v, field+".description") },
	}
	for k, f := range extra {
		h[k] = f
	}
	return h
}

// checkEntry validates the key and name of an entry of list and remembers
// where its key was defined. It reports whether the entry is valid.
func (p *taxonomyParser) checkEntry(list string, e *entry, m *yaml.Node, field string) bool {
	ok := true
	if strings.TrimSpace(e.name) == "" {
		p.Errorf(m.Line, field+".name", "missing or empty; give the entry a human-readable name")
		ok = false
	}
	if e.keyNode == nil || e.key == "" {
		p.Errorf(m.Line, field+".key", "missing or empty; give the entry a key such as \"billing.invoice\"")
		return false
	}
	line := e.keyNode.Line
	if len(e.key) > maxKeyLen || !keyPattern.MatchString(e.key) {
		p.Errorf(line, field+".key", "%q is not a valid key; use lowercase [a-z0-9_] segments joined by \".\", at most %d characters, e.g. \"billing.payment_token\"", e.key, maxKeyLen)
		return false
	}
	if prev, dup := p.firstLine(list, e.key, line, field+".key"); dup {
		p.Errorf(line, field+".key", "%q is defined twice (first on line %d); keys must be unique", e.key, prev)
		return false
	}
	return ok
}

// firstLine records that key of list is defined on line by field, unless
// it was already; then it returns the earlier line and true.
func (p *taxonomyParser) firstLine(list, key string, line int, field string) (int, bool) {
	if p.keys == nil {
		p.keys = map[string]map[string]keyDef{}
	}
	if p.keys[list] == nil {
		p.keys[list] = map[string]keyDef{}
	}
	if prev, dup := p.keys[list][key]; dup {
		return prev.line, true
	}
	p.keys[list][key] = keyDef{line, field}
	return 0, false
}

func (p *taxonomyParser) category(t *Taxonomy, m *yaml.Node, field string) {
	var e entry
	var c Category
	p.fields(m, field, p.entryFields(&e, field, map[string]func(k, v *yaml.Node){
		"retention": func(_, v *yaml.Node) {
			s, ok := p.str(v, field+".retention")
			if !ok || s == "" {
				return
			}
			if _, err := events.ParseISODuration(s); err != nil {
				p.Errorf(v.Line, field+".retention", "%v", err)
				return
			}
			c.Retention = s
		},
		"special": func(_, v *yaml.Node) {
			if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
				p.Errorf(v.Line, field+".special", "must be true or false, not %s", kindName(v))
				return
			}
			_ = v.Decode(&c.Special)
		},
	}))
	if !p.checkEntry("categories", &e, m, field) {
		return
	}
	c.Key, c.Name, c.Description = e.key, e.name, e.description
	t.categories[c.Key] = len(t.Categories)
	t.Categories = append(t.Categories, c)
}

// dataSubject reads a data-subject category: a term that may say
// `child: true`.
func (p *taxonomyParser) dataSubject(t *Taxonomy, m *yaml.Node, field string) {
	var child bool
	before := len(t.DataSubjects)
	p.term(&t.DataSubjects, t.dataSubjects, m, field, map[string]func(k, v *yaml.Node){
		"child": func(_, v *yaml.Node) {
			if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
				p.Errorf(v.Line, field+".child", "must be true or false, not %s", kindName(v))
				return
			}
			_ = v.Decode(&child)
		},
	})
	if len(t.DataSubjects) > before { // the entry was valid and added
		t.DataSubjects[before].Child = child
	}
}

func (p *taxonomyParser) term(list *[]Term, index map[string]int, m *yaml.Node, field string, extra ...map[string]func(k, v *yaml.Node)) {
	var e entry
	var more map[string]func(k, v *yaml.Node)
	if len(extra) > 0 {
		more = extra[0]
	}
	p.fields(m, field, p.entryFields(&e, field, more))
	name := field[:strings.IndexByte(field, '[')]
	if !p.checkEntry(name, &e, m, field) {
		return
	}
	index[e.key] = len(*list)
	*list = append(*list, Term{Key: e.key, Name: e.name, Description: e.description})
}

func (p *taxonomyParser) recipient(t *Taxonomy, m *yaml.Node, field string) {
	var r KnownRecipient
	lines := map[string]int{}
	scalar := func(dst *string, name string) func(k, v *yaml.Node) {
		return func(_, v *yaml.Node) {
			*dst, _ = p.str(v, field+"."+name)
			lines[name] = v.Line
		}
	}
	p.fields(m, field, map[string]func(k, v *yaml.Node){
		"name":        scalar(&r.Name, "name"),
		"kind":        scalar(&r.Kind, "kind"),
		"role":        scalar(&r.Role, "role"),
		"country":     scalar(&r.Country, "country"),
		"safeguard":   scalar(&r.Safeguard, "safeguard"),
		"description": scalar(&r.Description, "description"),
	})
	line := func(name string) int {
		if l, ok := lines[name]; ok {
			return l
		}
		return m.Line
	}
	ok := true
	if strings.TrimSpace(r.Name) == "" {
		p.Errorf(line("name"), field+".name", "missing or empty; name the recipient, e.g. \"Stripe\"")
		ok = false
	} else if prev, dup := p.firstLine("recipients", r.Name, line("name"), field+".name"); dup {
		p.Errorf(line("name"), field+".name", "%q is listed twice (first on line %d)", r.Name, prev)
		ok = false
	}
	if r.Kind != "" && !keyPattern.MatchString(r.Kind) {
		p.Errorf(line("kind"), field+".kind", "%q is not a valid kind; use lowercase [a-z0-9_], e.g. \"payment_processor\"", r.Kind)
		ok = false
	}
	if !slices.Contains(events.Roles, r.Role) {
		p.Errorf(line("role"), field+".role", "%q is not a recipient role; use one of %s", r.Role, strings.Join(events.Roles, ", "))
		ok = false
	}
	if r.Country != "" {
		if _, known := events.LookupCountry(r.Country); !known {
			p.Errorf(line("country"), field+".country", "%q is not an ISO 3166-1 alpha-2 code; use two upper-case letters such as \"US\", or leave it out when it varies", r.Country)
			ok = false
		}
	}
	if r.Safeguard != "" && !slices.Contains(events.Safeguards, r.Safeguard) {
		p.Errorf(line("safeguard"), field+".safeguard", "%q is not a transfer safeguard; use one of %s", r.Safeguard, strings.Join(events.Safeguards, ", "))
		ok = false
	}
	if ok {
		t.Recipients = append(t.Recipients, r)
	}
}

// checkParents requires every dotted key to have its parent in the same
// list, so that Subtree and the data map never show orphans. It checks every
// key with valid syntax, even of entries rejected for other reasons, so one
// run reports everything; the error is at the child, the line to fix.
func (p *taxonomyParser) checkParents() {
	for _, list := range []string{"categories", "purposes", "data_subjects"} {
		keys := p.keys[list]
		children := make([]string, 0, len(keys))
		for k := range keys {
			if parentKey(k) != "" {
				children = append(children, k)
			}
		}
		slices.SortFunc(children, func(a, b string) int { return keys[a].line - keys[b].line })
		for _, k := range children {
			if _, ok := keys[parentKey(k)]; !ok {
				p.Errorf(keys[k].line, keys[k].field, "%q has no parent: add an entry with key %q, or rename it", k, parentKey(k))
			}
		}
	}
}
