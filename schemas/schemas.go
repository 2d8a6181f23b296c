// Package schemas holds the datamap contract files, embedded so that every
// binary carries the exact version it validates against:
//
//   - collected.v1.json, shared.v1.json, erased.v1.json, and for events
//     about one person consent_given, consent_withdrawn, request_received,
//     request_completed and request_refused (.v1.json): JSON Schemas
//     (draft 2020-12) of the whole structured-mode CloudEvent of each type;
//   - taxonomy.yaml: the default taxonomy, derived from the BackTrace privacy
//     policy (parsed by taxonomy.Default);
//   - countries.yaml: ISO 3166-1 codes with EEA membership and EU adequacy
//     (parsed by events.LookupCountry);
//   - vendors.yaml: the vendor catalogue, processors and the hosts they
//     use, dated (parsed by traffic/vendors);
//   - registry.v1.json: JSON Schema of the declared registry (datamap.yaml),
//     and backtrace-registry.yaml, BackTrace's registry written from its
//     privacy policy (parsed by package registry).
//
// The files are also the documentation for people who write events by hand;
// keep them readable.
package schemas

import (
	"embed"
	"fmt"
	"strings"
)

// FS holds every schema and data file of this directory.
//
//go:embed *.json *.yaml
var FS embed.FS

// typePrefix is the reverse-DNS prefix of the v1 event types; EventSchema
// accepts full types so callers can pass a CloudEvent's type unchanged.
const typePrefix = "com.back-trace.datamap.data."

// Taxonomy returns the default taxonomy YAML.
func Taxonomy() []byte { return mustRead("taxonomy.yaml") }

// Registry returns the JSON Schema of the declared registry (datamap.yaml).
func Registry() []byte { return mustRead("registry.v1.json") }

// BackTraceRegistry returns BackTrace's declared registry, the demo's.
func BackTraceRegistry() []byte { return mustRead("backtrace-registry.yaml") }

// Countries returns the country list YAML.
func Countries() []byte { return mustRead("countries.yaml") }

// EventSchema returns the JSON Schema of an event kind. kind is "collected",
// "shared" or "erased" (meaning v1), "collected.v1", …, or a full CloudEvents
// type such as "com.back-trace.datamap.data.collected.v1".
func EventSchema(kind string) ([]byte, error) {
	name := strings.TrimPrefix(kind, typePrefix)
	if !strings.Contains(name, ".") {
		name += ".v1"
	}
	switch name {
	case "collected.v1", "shared.v1", "erased.v1", "consent_given.v1", "consent_withdrawn.v1",
		"request_received.v1", "request_completed.v1", "request_refused.v1":
		return mustRead(name + ".json"), nil
	}
	return nil, fmt.Errorf("schemas: no schema for event kind %q; use collected, shared, erased, consent_given, consent_withdrawn, request_received, request_completed or request_refused (v1)", kind)
}

// mustRead panics because a missing embedded file is a build defect, not a
// runtime condition; the package tests read every file.
func mustRead(name string) []byte {
	b, err := FS.ReadFile(name)
	if err != nil {
		panic("schemas: embedded file missing: " + err.Error())
	}
	return b
}

// Vendors returns the built-in vendor catalogue YAML: the processors most
// often named in sub-processor lists and the hosts they use (parsed by
// package traffic/vendors).
func Vendors() []byte { return mustRead("vendors.yaml") }
