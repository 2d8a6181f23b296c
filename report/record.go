package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/sortedset"
	"github.com/back-trace/datamap/people"
	"github.com/back-trace/datamap/registry"
)

// FormatID names the JSON schema of Record; it changes only when a field's
// meaning changes, so other tools can rely on it.
const FormatID = "datamap.article30.v1"

// Roles a record can be generated for.
const (
	RoleAll        = "all"        // Art. 30(1) and 30(2)
	RoleController = "controller" // Art. 30(1) only
	RoleProcessor  = "processor"  // Art. 30(2) only
)

// Record is the Article 30 record of processing activities as of a date:
// what is declared, the evidence for each activity, the processing no
// activity declares, and the drift findings. Its JSON encoding is the
// stable "datamap.article30.v1" format.
type Record struct {
	Format string `json:"format"`
	// AsOf is the instant the evidence runs to (inclusive).
	AsOf time.Time `json:"as_of"`
	// GeneratedAt is when the record was generated, RFC 3339; it is not
	// covered by ContentSHA256 (see Seal).
	GeneratedAt    string `json:"generated_at"`
	DatamapVersion string `json:"datamap_version"`
	Role           string `json:"role"`
	// CountryListAsOf dates the EEA/adequacy list transfer findings rely on.
	CountryListAsOf  string                     `json:"country_list_as_of"`
	StaleAfterDays   int                        `json:"stale_after_days"`
	Controller       registry.Party             `json:"controller"`
	JointControllers []registry.JointController `json:"joint_controllers"`
	// Activities are the controller's own (Art. 30(1)); empty for role
	// processor.
	Activities []ActivityRecord `json:"activities"`
	// Processor is the Art. 30(2) part, per client controller; empty for
	// role controller.
	Processor []ClientRecord `json:"processor"`
	// Undeclared is observed processing no activity declares.
	Undeclared []Observation `json:"undeclared"`
	Findings   []Finding     `json:"findings"`
	// Warnings are what keeps the record from being complete: the
	// registry's placeholders and missing mandatory fields, and a country
	// list older than a year at the as-of date.
	Warnings []string `json:"warnings"`
	Summary  Summary  `json:"summary"`
	// PurposeNames are the taxonomy's names of the purposes the record
	// mentions: the tabular formats print them, the rest of the JSON keeps
	// the keys. They are part of the content, so a verifier can render
	// every format again from the JSON alone.
	PurposeNames map[string]string `json:"purpose_names"`
	// CategoryNames and DataSubjectNames are the taxonomy's names of the
	// data categories and data subjects the record mentions, for the same
	// reason.
	CategoryNames    map[string]string `json:"category_names"`
	DataSubjectNames map[string]string `json:"data_subject_names"`
	// ContentSHA256 is the SHA-256 of the record's canonical JSON with
	// GeneratedAt and ContentSHA256 empty; see Seal.
	ContentSHA256 string `json:"content_sha256"`
}

// Summary counts what the record contains.
type Summary struct {
	Activities         int            `json:"activities"`
	ObservedEvents     uint64         `json:"observed_events"`
	ObservedRecords    uint64         `json:"observed_records"`
	UndeclaredEvents   uint64         `json:"undeclared_events"`
	FindingsBySeverity map[string]int `json:"findings_by_severity"`
}

// ActivityRecord is a declared activity with its evidence.
type ActivityRecord struct {
	registry.Activity
	// ThirdCountries are the recipient countries outside the EEA
	// (Art. 30(1)(e)), sorted.
	ThirdCountries []string `json:"third_countries"`
	Evidence       Evidence `json:"evidence"`
}

// ClientRecord is a client controller and the processing done for it.
type ClientRecord struct {
	registry.Party
	Contract   string           `json:"contract,omitempty"`
	Activities []ActivityRecord `json:"activities"`
}

// Evidence is what was observed for one activity.
type Evidence struct {
	Events     uint64              `json:"events"`
	Records    uint64              `json:"records"`
	Erased     uint64              `json:"erased_records"`
	FirstSeen  *time.Time          `json:"first_seen"`
	LastSeen   *time.Time          `json:"last_seen"`
	Systems    []SystemEvidence    `json:"systems"`
	Recipients []RecipientEvidence `json:"recipients"`
	Categories []CategoryEvidence  `json:"categories"`
}

// SystemEvidence is one system's part in an activity.
type SystemEvidence struct {
	System string `json:"system"`
	Span
}

// RecipientEvidence is one observed recipient of an activity's data.
type RecipientEvidence struct {
	Name      string `json:"name"`
	Role      string `json:"role"`
	Country   string `json:"country"`
	Safeguard string `json:"safeguard"`
	Declared  bool   `json:"declared"`
	Span
}

// CategoryEvidence is one observed category of an activity.
type CategoryEvidence struct {
	Category  string `json:"category"`
	Retention string `json:"retention,omitempty"` // the longest the events declared
	Span
}

// Span counts events and records and when they were first and last seen.
type Span struct {
	Events    uint64    `json:"events"`
	Records   uint64    `json:"records"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

func (s *Span) add(o Observation) {
	if s.Events == 0 || o.FirstSeen.Before(s.FirstSeen) {
		s.FirstSeen = o.FirstSeen
	}
	if o.LastSeen.After(s.LastSeen) {
		s.LastSeen = o.LastSeen
	}
	s.Events += o.Events
	s.Records += o.Records
}

// Options say what to build.
type Options struct {
	AsOf        time.Time
	Role        string // RoleAll when empty
	GeneratedAt time.Time
	Version     string // datamap version
	StaleAfter  time.Duration
	// Rights are the findings about people's rights as of AsOf (see
	// DriftOptions.Rights).
	Rights []people.Finding
	// Traffic is the observed destinations (see DriftOptions.Traffic).
	Traffic []Traffic
}

// Build makes the record from the registry and the observations up to
// opts.AsOf, and seals it. It is a pure function of its inputs.
func Build(reg *registry.Registry, tax *taxonomy.Taxonomy, obs []Observation, opts Options) (*Record, error) {
	role := opts.Role
	if role == "" {
		role = RoleAll
	}
	if role != RoleAll && role != RoleController && role != RoleProcessor {
		return nil, fmt.Errorf("report: role %q: use controller, processor or all", role)
	}
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = DefaultStaleAfter
	}
	asOf := opts.AsOf.UTC()
	var kept []Observation
	for _, o := range obs {
		if !o.FirstSeen.After(asOf) {
			kept = append(kept, o)
		}
	}
	countriesAsOf, _ := events.CountriesAsOf()
	rec := &Record{
		Format: FormatID, AsOf: asOf, DatamapVersion: opts.Version, Role: role,
		CountryListAsOf: countriesAsOf, StaleAfterDays: int(opts.StaleAfter / (24 * time.Hour)),
		Controller: reg.Controller, JointControllers: reg.JointControllers,
		Activities: []ActivityRecord{}, Processor: []ClientRecord{}, Undeclared: []Observation{},
		PurposeNames: map[string]string{}, CategoryNames: map[string]string{}, DataSubjectNames: map[string]string{},
	}
	rec.nameTerms(reg, tax, kept)
	if rec.JointControllers == nil {
		rec.JointControllers = []registry.JointController{}
	}
	byActivity := map[*registry.Activity][]Observation{}
	for _, at := range Attribute(reg, kept) {
		if at.Activity == nil {
			rec.Undeclared = append(rec.Undeclared, at.Observation)
			continue
		}
		byActivity[at.Activity] = append(byActivity[at.Activity], at.Observation)
	}
	if role != RoleProcessor {
		for i := range reg.Activities {
			a := &reg.Activities[i]
			rec.Activities = append(rec.Activities, activityRecord(a, byActivity[a]))
		}
	}
	if role != RoleController && reg.Processor != nil {
		for i := range reg.Processor.Controllers {
			c := &reg.Processor.Controllers[i]
			cr := ClientRecord{Party: c.Party, Contract: c.Contract, Activities: []ActivityRecord{}}
			for j := range c.Activities {
				a := &c.Activities[j]
				cr.Activities = append(cr.Activities, activityRecord(a, byActivity[a]))
			}
			rec.Processor = append(rec.Processor, cr)
		}
	}
	findings := Drift(reg, tax, kept, asOf, DriftOptions{StaleAfter: opts.StaleAfter, Rights: opts.Rights, Traffic: opts.Traffic})
	rec.Findings = filterFindings(findings, reg, role)
	rec.Warnings = warnings(reg, tax, countriesAsOf, asOf)
	rec.Summary = summarize(rec, kept)
	if !opts.GeneratedAt.IsZero() {
		rec.GeneratedAt = opts.GeneratedAt.UTC().Format(time.RFC3339)
	}
	if err := rec.Seal(); err != nil {
		return nil, err
	}
	return rec, nil
}

// nameTerms keeps the taxonomy's names of the purposes, categories and
// data subjects the registry and the observations mention.
func (rec *Record) nameTerms(reg *registry.Registry, tax *taxonomy.Taxonomy, obs []Observation) {
	if tax == nil {
		return
	}
	name := func(m map[string]string, key string, lookup func(string) (string, bool)) {
		if n, ok := lookup(key); ok && n != "" && n != key {
			m[key] = n
		}
	}
	purpose := func(k string) (string, bool) { p, ok := tax.Purpose(k); return p.Name, ok }
	category := func(k string) (string, bool) { c, ok := tax.Category(k); return c.Name, ok }
	subject := func(k string) (string, bool) { d, ok := tax.DataSubject(k); return d.Name, ok }
	for _, a := range reg.AllActivities() {
		for _, k := range a.Purposes {
			name(rec.PurposeNames, k, purpose)
		}
		for _, k := range a.DataCategories {
			name(rec.CategoryNames, k, category)
		}
		for _, r := range a.Retention {
			name(rec.CategoryNames, r.Category, category)
		}
		for _, r := range a.Recipients {
			for _, k := range r.Categories {
				name(rec.CategoryNames, k, category)
			}
		}
		for _, k := range a.DataSubjects {
			name(rec.DataSubjectNames, k, subject)
		}
	}
	for _, o := range obs {
		name(rec.PurposeNames, o.Purpose, purpose)
		name(rec.CategoryNames, o.Category, category)
		name(rec.DataSubjectNames, o.DataSubject, subject)
	}
}

// countryListAge is how old the EEA/adequacy list may be at the as-of
// date before the record warns: adequacy decisions are reviewed and new
// ones adopted, so a year-old list may be wrong.
const countryListAge = 365 * 24 * time.Hour

func warnings(reg *registry.Registry, tax *taxonomy.Taxonomy, countriesAsOf string, asOf time.Time) []string {
	out := []string{}
	for _, w := range reg.Warnings(tax) {
		out = append(out, "registry "+w.String())
	}
	if listed, err := time.Parse(time.DateOnly, countriesAsOf); err == nil && asOf.Sub(listed) > countryListAge {
		out = append(out, fmt.Sprintf("the country list (EEA, adequacy decisions) is dated %s, more than a year before this record's as-of date; "+
			"check the transfers against the current adequacy decisions, and update datamap", countriesAsOf))
	}
	return out
}

// filterFindings keeps the findings of the role's activities, and the
// undeclared ones, which belong to no role until someone declares them.
func filterFindings(fs []Finding, reg *registry.Registry, role string) []Finding {
	out := []Finding{}
	clientOf := map[string]string{}
	for _, a := range reg.AllActivities() {
		clientOf[a.ID] = a.Client
	}
	for _, f := range fs {
		processor := f.Activity != "" && clientOf[f.Activity] != ""
		if f.Activity == "" || role == RoleAll || (role == RoleProcessor) == processor {
			out = append(out, f)
		}
	}
	return out
}

func summarize(rec *Record, obs []Observation) Summary {
	s := Summary{Activities: len(rec.Activities), FindingsBySeverity: map[string]int{"high": 0, "medium": 0, "low": 0}}
	for _, c := range rec.Processor {
		s.Activities += len(c.Activities)
	}
	for _, o := range obs {
		s.ObservedEvents += o.Events
		s.ObservedRecords += o.Records
	}
	for _, o := range rec.Undeclared {
		s.UndeclaredEvents += o.Events
	}
	for _, f := range rec.Findings {
		s.FindingsBySeverity[f.Severity.String()]++
	}
	return s
}

func activityRecord(a *registry.Activity, obs []Observation) ActivityRecord {
	ar := ActivityRecord{Activity: *a, ThirdCountries: []string{}}
	for _, r := range a.Recipients {
		if c, ok := events.LookupCountry(r.Country); !ok || !c.EEA {
			ar.ThirdCountries = sortedset.Add(ar.ThirdCountries, r.Country)
		}
	}
	ev := Evidence{Systems: []SystemEvidence{}, Recipients: []RecipientEvidence{}, Categories: []CategoryEvidence{}}
	systems := map[string]*SystemEvidence{}
	recipients := map[string]*RecipientEvidence{}
	categories := map[string]*CategoryEvidence{}
	var span Span
	for _, o := range obs {
		if o.Kind == string(events.KindErased) {
			ev.Erased += o.Records
			continue
		}
		span.add(o)
		if systems[o.System] == nil {
			systems[o.System] = &SystemEvidence{System: o.System}
		}
		systems[o.System].add(o)
		if categories[o.Category] == nil {
			categories[o.Category] = &CategoryEvidence{Category: o.Category}
		}
		c := categories[o.Category]
		c.add(o)
		if o.Retention != "" && (c.Retention == "" || events.RetentionLength(o.Retention) > events.RetentionLength(c.Retention)) {
			c.Retention = o.Retention
		}
		if o.Recipient != "" {
			k := strings.Join([]string{o.Recipient, o.Role, o.Country, o.Safeguard}, "\x00")
			if recipients[k] == nil {
				_, declared := a.Recipient(o.Recipient)
				recipients[k] = &RecipientEvidence{Name: o.Recipient, Role: o.Role, Country: o.Country, Safeguard: o.Safeguard, Declared: declared}
			}
			recipients[k].add(o)
		}
	}
	ev.Events, ev.Records = span.Events, span.Records
	if span.Events > 0 {
		first, last := span.FirstSeen, span.LastSeen
		ev.FirstSeen, ev.LastSeen = &first, &last
	}
	for _, k := range slices.Sorted(maps.Keys(systems)) {
		ev.Systems = append(ev.Systems, *systems[k])
	}
	for _, k := range slices.Sorted(maps.Keys(recipients)) {
		ev.Recipients = append(ev.Recipients, *recipients[k])
	}
	for _, k := range slices.Sorted(maps.Keys(categories)) {
		ev.Categories = append(ev.Categories, *categories[k])
	}
	ar.Evidence = ev
	return ar
}

// Seal sets ContentSHA256: the SHA-256 of the record's JSON encoding
// (MarshalJSONCanonical) with GeneratedAt and ContentSHA256 empty. The hash
// therefore covers every declared and observed fact, the as-of date and
// the datamap version, but not the wall-clock time of generation, so the
// same data and as-of date give the same hash at any time and in every
// output format. To verify a JSON report: blank both fields, re-encode
// with two-space indentation, and hash (`datamap report verify` does this).
func (r *Record) Seal() error {
	sum, err := r.contentHash()
	if err != nil {
		return err
	}
	r.ContentSHA256 = sum
	return nil
}

// Verify reports whether ContentSHA256 matches the content.
func (r *Record) Verify() (bool, error) {
	sum, err := r.contentHash()
	return sum == r.ContentSHA256, err
}

func (r *Record) contentHash() (string, error) {
	c := *r
	c.GeneratedAt, c.ContentSHA256 = "", ""
	b, err := c.MarshalJSONCanonical()
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}

// MarshalJSONCanonical is the record's JSON: two-space indentation, fields
// in declaration order, maps sorted by key, no HTML escaping, a final
// newline. It is the JSON output format and the input of the hash.
func (r *Record) MarshalJSONCanonical() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("report: encode record: %w", err)
	}
	return buf.Bytes(), nil
}

// VerifyJSON checks the content hash of a record in the JSON format.
func VerifyJSON(data []byte) (bool, error) {
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return false, fmt.Errorf("report: not a datamap record: %w", err)
	}
	if r.Format != FormatID {
		return false, fmt.Errorf("report: format %q is not %q", r.Format, FormatID)
	}
	return r.Verify()
}
