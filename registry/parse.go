package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/fileerr"
	"github.com/back-trace/datamap/internal/suggest"
	"github.com/back-trace/datamap/schemas"
)

// Error is one problem in a registry file, at a line and field. Parse
// returns all of them joined with errors.Join, in line order.
type Error = fileerr.Error

// maxSize bounds the input so that a wrong file fails fast; a registry of
// a few hundred activities is well under a megabyte.
const maxSize = 8 << 20

// Builtin names the registry embedded in datamap, BackTrace's, which the
// demo's data is declared in: `--registry backtrace`, DATAMAP_REGISTRY=backtrace.
const Builtin = "backtrace"

// Open loads the registry a name points to: Builtin, or a file path.
func Open(name string, tax *taxonomy.Taxonomy) (*Registry, error) {
	if name == Builtin {
		return Parse(schemas.BackTraceRegistry(), "schemas/backtrace-registry.yaml", tax)
	}
	return Load(name, tax)
}

// Load reads and parses a registry file; see Parse.
func Load(path string, tax *taxonomy.Taxonomy) (*Registry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("registry: %w (pass the path of a datamap.yaml; `datamap registry init` drafts one)", err)
	}
	return Parse(data, path, tax)
}

// Parse parses a datamap.yaml document; name (usually the path) prefixes
// errors. The structure is checked against schemas/registry.v1.json (unknown
// fields, wrong types, missing fields, enum values), then the meaning
// against tax and the law: taxonomy keys exist, activity ids are unique,
// countries are ISO codes, durations parse, legitimate interests are
// explained, special categories have an Art. 9 condition, third-country
// recipients name a safeguard. Every problem is reported, each an *Error
// with file, line and field.
func Parse(data []byte, name string, tax *taxonomy.Taxonomy) (*Registry, error) {
	if tax == nil {
		tax = taxonomy.Default()
	}
	p := &parser{List: fileerr.List{File: name}}
	if p.root = p.ReadYAML(data, maxSize, "a registry needs version, controller and activities (see schemas/backtrace-registry.yaml)"); p.root == nil {
		return nil, p.Err()
	}
	inst := p.value(p.root, nil)
	if err := p.Err(); err != nil {
		return nil, err
	}
	if err := registrySchema().Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return nil, fmt.Errorf("registry: schema validation: %w", err)
		}
		p.schemaErrors(ve)
		return nil, p.Err()
	}
	var r Registry
	if err := p.root.Decode(&r); err != nil {
		// The schema admits only what decodes; this is a defect, not input.
		p.Errorf(0, "", "cannot decode: %v", err)
		return nil, p.Err()
	}
	p.check(&r, tax)
	if err := p.Err(); err != nil {
		return nil, err
	}
	return &r, nil
}

var registrySchema = sync.OnceValue(func() *jsonschema.Schema {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemas.Registry()))
	if err != nil {
		panic("registry: embedded schema is not JSON: " + err.Error())
	}
	c := jsonschema.NewCompiler()
	const url = "registry.v1.json"
	if err := c.AddResource(url, doc); err != nil {
		panic("registry: embedded schema: " + err.Error())
	}
	s, err := c.Compile(url)
	if err != nil {
		panic("registry: embedded schema does not compile: " + err.Error())
	}
	return s
})

type parser struct {
	fileerr.List
	root *yaml.Node
}

// value converts a YAML node to the JSON data model the schema validator
// reads. It refuses what JSON cannot say (aliases, non-string keys) and
// duplicate keys, which YAML parsers disagree on. Timestamps and other
// scalars that YAML would type are kept as written, so that "2024-01-01"
// is a string, as in JSON.
func (p *parser) value(n *yaml.Node, path []string) any {
	switch n.Kind {
	case yaml.AliasNode:
		p.Errorf(n.Line, fieldOf(path), "YAML aliases are not supported in a registry; write the value out")
		return nil
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		lines := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				p.Errorf(k.Line, fieldOf(path), "field names must be plain strings")
				continue
			}
			if first, dup := lines[k.Value]; dup {
				p.Errorf(k.Line, fieldOf(append(path, k.Value)), "set twice (first on line %d); keep one", first)
				continue
			}
			lines[k.Value] = k.Line
			m[k.Value] = p.value(v, append(path, k.Value))
		}
		return m
	case yaml.SequenceNode:
		a := make([]any, len(n.Content))
		for i, c := range n.Content {
			a[i] = p.value(c, append(path, strconv.Itoa(i)))
		}
		return a
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil
		case "!!bool":
			var b bool
			_ = n.Decode(&b)
			return b
		case "!!int", "!!float":
			if _, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64); err == nil {
				return json.Number(strings.ReplaceAll(n.Value, "_", ""))
			}
		}
		return n.Value
	}
	return nil
}

// locate walks path (JSON pointer tokens) through the YAML tree and returns
// the dotted field name and the line: of the key for a mapping entry, of
// the item for a list entry, of the nearest existing parent otherwise.
func (p *parser) locate(path []string) (string, int) {
	n, line := p.root, p.root.Line
	for _, tok := range path {
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == tok {
					line, next = n.Content[i].Line, n.Content[i+1]
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(n.Content) {
				next = n.Content[i]
				line = next.Line
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return fieldOf(path), line
}

// fieldOf renders pointer tokens as a field name: activities[2].name.
func fieldOf(path []string) string {
	var b strings.Builder
	for _, tok := range path {
		if _, err := strconv.Atoi(tok); err == nil {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

var printer = message.NewPrinter(language.English)

// schemaErrors reports the leaves of a validation error tree, where the
// actual problems are, in words a person editing YAML understands.
func (p *parser) schemaErrors(ve *jsonschema.ValidationError) {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			p.schemaErrors(c)
		}
		return
	}
	loc := ve.InstanceLocation
	switch k := ve.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		for _, prop := range k.Properties {
			field, line := p.locate(append(slices.Clone(loc), prop))
			p.Errorf(line, field, "unknown field%s; check the spelling against schemas/registry.v1.json", suggestField(prop))
		}
	case *kind.Required:
		field, line := p.locate(loc)
		for _, m := range k.Missing {
			p.Errorf(line, joinField(field, m), "missing; it is required here")
		}
	case *kind.Type:
		field, line := p.locate(loc)
		p.Errorf(line, field, "must be %s, not %s", strings.Join(k.Want, " or "), k.Got)
	case *kind.Enum:
		field, line := p.locate(loc)
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = fmt.Sprint(w)
		}
		p.Errorf(line, field, "%q is not allowed; use one of %s", fmt.Sprint(k.Got), strings.Join(want, ", "))
	case *kind.Pattern:
		field, line := p.locate(loc)
		p.Errorf(line, field, "%q %s", k.Got, patternHint(k.Want))
	case *kind.MinItems:
		field, line := p.locate(loc)
		p.Errorf(line, field, "empty; list at least %d", k.Want)
	case *kind.MinLength:
		field, line := p.locate(loc)
		p.Errorf(line, field, "empty; write a value or leave the field out")
	case *kind.Const:
		field, line := p.locate(loc)
		p.Errorf(line, field, "must be %v (the registry format version this datamap reads)", k.Want)
	default:
		field, line := p.locate(loc)
		p.Errorf(line, field, "%s", ve.ErrorKind.LocalizedString(printer))
	}
}

func joinField(field, name string) string {
	if field == "" {
		return name
	}
	return field + "." + name
}

func patternHint(pattern string) string {
	switch {
	case strings.Contains(pattern, "[A-Z]{2}"):
		return "is not a country code; use ISO 3166-1 alpha-2 in upper case, e.g. DE or US"
	case strings.HasPrefix(pattern, "^P"):
		return "is not an ISO 8601 duration; write e.g. P7Y, P18M or P30D"
	case strings.Contains(pattern, "_-"):
		return "is not a valid id; use lowercase letters, digits, - and _, e.g. billing-payments"
	}
	return "is not a valid taxonomy key; use lowercase [a-z0-9_] segments joined by \".\", e.g. billing.invoice"
}

// commonFields are the field names whose typos are worth a suggestion.
var commonFields = []string{"activities", "business_function", "purposes", "legal_bases", "legitimate_interest",
	"special_condition", "data_subjects", "data_categories", "systems", "recipients", "retention", "sources",
	"security_measures", "dpia", "automated_decision_making", "representative", "contact", "controller",
	"joint_controllers", "processor", "controllers", "country", "safeguard", "contract", "period", "category",
	"description", "address", "email", "phone", "name", "role", "locations", "source_note", "lia_reference"}

func suggestField(name string) string {
	best := suggest.Closest(name, commonFields, 3)
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" %q; did you mean %q?", name, best)
}
