// Package vendors is the vendor catalogue: the processors companies most
// often name in their sub-processor lists, each with its default role, its
// country and the host patterns its APIs use, region-bound endpoints with
// their own country. The built-in catalogue is schemas/vendors.yaml; a
// deployment replaces it with its own file (DATAMAP_VENDORS).
package vendors

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/schemas"
	"github.com/back-trace/datamap/traffic/hostpattern"
)

// maxFileSize bounds a catalogue file; the built-in one is about 25 kB.
const maxFileSize = 4 << 20

// Vendor is one entry of the catalogue.
type Vendor struct {
	Name    string   `yaml:"name"`
	Kind    string   `yaml:"kind"`
	Role    string   `yaml:"role"`
	Country string   `yaml:"country"`
	Hosts   []string `yaml:"hosts"`
	Regions []Region `yaml:"regions"`
}

// Region is a set of region-bound hosts of a vendor and where they are.
type Region struct {
	Country string   `yaml:"country"`
	Hosts   []string `yaml:"hosts"`
}

// Match is what a host resolves to: the vendor, and the country of the
// endpoint (a region's, or the vendor's).
type Match struct {
	Vendor  *Vendor
	Country string
}

// Catalogue is a parsed, valid catalogue. It is read-only once built and
// safe for concurrent use.
type Catalogue struct {
	AsOf    string   `yaml:"as_of"`
	Source  string   `yaml:"source"`
	Vendors []Vendor `yaml:"vendors"`
	hosts   hostpattern.Table[Match]
}

// Lookup returns the vendor whose most specific host pattern matches host
// (lower case, without port or trailing dot).
func (c *Catalogue) Lookup(host string) (Match, bool) { return c.hosts.Lookup(host) }

// Default returns the built-in catalogue, schemas/vendors.yaml, parsed
// once.
var Default = sync.OnceValue(func() *Catalogue {
	c, err := Parse(schemas.Vendors(), "schemas/vendors.yaml")
	if err != nil {
		panic("vendors: the built-in catalogue is invalid: " + err.Error())
	}
	return c
})

// Load reads a catalogue file; an empty path is the built-in catalogue.
func Load(path string) (*Catalogue, error) {
	if path == "" {
		return Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("vendor catalogue: %w (DATAMAP_VENDORS names a YAML file in the format of schemas/vendors.yaml)", err)
	}
	return Parse(data, path)
}

// Parse parses a catalogue; name prefixes errors. Every problem is
// reported, each keyed by the vendor and field.
func Parse(data []byte, name string) (*Catalogue, error) {
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%s: %d bytes is more than a vendor catalogue may hold (%d)", name, len(data), maxFileSize)
	}
	var c Catalogue
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w (see schemas/vendors.yaml for the format)", name, err)
	}
	var problems []string
	bad := func(i int, field, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("%s: vendors[%d].%s: %s", name, i, field, fmt.Sprintf(format, args...)))
	}
	if c.AsOf == "" {
		problems = append(problems, name+": as_of: say when the catalogue was last checked, as YYYY-MM-DD")
	}
	seen := map[string]bool{}
	for i := range c.Vendors {
		v := &c.Vendors[i]
		switch {
		case strings.TrimSpace(v.Name) == "":
			bad(i, "name", "is empty")
		case seen[v.Name]:
			bad(i, "name", "%q is listed twice", v.Name)
		}
		seen[v.Name] = true
		if !validRole(v.Role) {
			bad(i, "role", "%q is not processor, sub_processor, controller, joint_controller or authority", v.Role)
		}
		if _, ok := events.LookupCountry(v.Country); !ok {
			bad(i, "country", "%q is not an ISO 3166-1 alpha-2 code", v.Country)
		}
		if len(v.Hosts) == 0 && len(v.Regions) == 0 {
			bad(i, "hosts", "list at least one host pattern")
		}
		for j, r := range v.Regions {
			if _, ok := events.LookupCountry(r.Country); !ok {
				bad(i, fmt.Sprintf("regions[%d].country", j), "%q is not an ISO 3166-1 alpha-2 code", r.Country)
			}
			for k, h := range r.Hosts {
				if msg := hostpattern.Check(h); msg != "" {
					bad(i, fmt.Sprintf("regions[%d].hosts[%d]", j, k), "%s", msg)
				}
				// Regions first: an exact region host must not be shadowed
				// by the same pattern in the vendor's general list.
				c.hosts.Add(h, Match{Vendor: v, Country: r.Country})
			}
		}
		for j, h := range v.Hosts {
			if msg := hostpattern.Check(h); msg != "" {
				bad(i, fmt.Sprintf("hosts[%d]", j), "%s", msg)
			}
			c.hosts.Add(h, Match{Vendor: v, Country: v.Country})
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	return &c, nil
}

func validRole(role string) bool {
	switch role {
	case "processor", "sub_processor", "controller", "joint_controller", "authority":
		return true
	}
	return false
}
