// Package registry is the declared side of the Article 30 record: the
// processing a controller says it does, written as code (datamap.yaml) and
// validated against schemas/registry.v1.json and the taxonomy.
//
// What services actually do is observed from events (package report); the
// report puts the two side by side and lists where they disagree.
package registry

import (
	"slices"
	"strings"

	"github.com/back-trace/datamap/events"
)

// Registry is a parsed, valid datamap.yaml. It is read-only once parsed.
type Registry struct {
	Version          int               `yaml:"version,omitempty" json:"version"`
	Controller       Party             `yaml:"controller,omitempty" json:"controller"`
	JointControllers []JointController `yaml:"joint_controllers,omitempty" json:"joint_controllers"`
	Activities       []Activity        `yaml:"activities,omitempty" json:"activities"`
	Processor        *Processor        `yaml:"processor,omitempty" json:"processor,omitempty"`
}

// Contact is a person or office and how to reach it.
type Contact struct {
	Name    string `yaml:"name,omitempty" json:"name"`
	Address string `yaml:"address,omitempty" json:"address,omitempty"`
	Email   string `yaml:"email,omitempty" json:"email,omitempty"`
	Phone   string `yaml:"phone,omitempty" json:"phone,omitempty"`
}

// String renders the contact on one line, for table cells.
func (c *Contact) String() string {
	if c == nil {
		return ""
	}
	var parts []string
	for _, s := range []string{c.Name, c.Address, c.Email, c.Phone} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}

// Party is a controller (Art. 30(1)(a)) or a client controller of a
// processor (Art. 30(2)(a)).
type Party struct {
	Name           string   `yaml:"name,omitempty" json:"name"`
	Address        string   `yaml:"address,omitempty" json:"address,omitempty"`
	Contact        Contact  `yaml:"contact,omitempty" json:"contact"`
	Representative *Contact `yaml:"representative,omitempty" json:"representative,omitempty"`
	DPO            *Contact `yaml:"dpo,omitempty" json:"dpo,omitempty"`
	// Country is the country of establishment (ISO 3166-1); outside the
	// EEA an Art. 27 representative is expected.
	Country string `yaml:"country,omitempty" json:"country,omitempty"`
	// DPORequired says whether Art. 37(1) requires a DPO; nil means
	// "required if any activity processes a special category" (see
	// Registry.DPORequired).
	DPORequired *bool `yaml:"dpo_required,omitempty" json:"dpo_required,omitempty"`
}

// JointController is an Art. 26 joint controller.
type JointController struct {
	Name             string   `yaml:"name,omitempty" json:"name"`
	Address          string   `yaml:"address,omitempty" json:"address,omitempty"`
	Contact          Contact  `yaml:"contact,omitempty" json:"contact"`
	Responsibilities string   `yaml:"responsibilities,omitempty" json:"responsibilities,omitempty"`
	Activities       []string `yaml:"activities,omitempty" json:"activities,omitempty"`
}

// Recipient is a declared recipient of an activity's data.
type Recipient struct {
	Name      string `yaml:"name,omitempty" json:"name"`
	Role      string `yaml:"role,omitempty" json:"role"`
	Country   string `yaml:"country,omitempty" json:"country"`
	Safeguard string `yaml:"safeguard,omitempty" json:"safeguard,omitempty"`
	Contract  string `yaml:"contract,omitempty" json:"contract,omitempty"`
	// Categories it receives; empty means all of the activity's.
	Categories []string `yaml:"categories,omitempty" json:"categories,omitempty"`
	// Hosts are the host patterns of its endpoints ("api.example.com", or
	// "*.example.com" for every host below example.com): traffic a service
	// sends to one of them is traffic to this recipient (docs/traffic.md).
	Hosts []string `yaml:"hosts,omitempty" json:"hosts,omitempty"`
	// SafeguardDocumentation links to the safeguard's documentation (the
	// signed SCC, a BCR approval, the DPF listing, a transfer impact
	// assessment).
	SafeguardDocumentation string `yaml:"safeguard_documentation,omitempty" json:"safeguard_documentation,omitempty"`
}

// Retention is how long one category (and its subtree) is kept.
type Retention struct {
	Category string `yaml:"category,omitempty" json:"category"`
	Period   string `yaml:"period,omitempty" json:"period"` // ISO 8601 duration
	Note     string `yaml:"note,omitempty" json:"note,omitempty"`
}

// Activity is one processing activity. The same shape serves controller
// activities and, under Processor, the processing done for a client; the
// report picks the fields Art. 30(1) or 30(2) asks for.
type Activity struct {
	ID                 string      `yaml:"id,omitempty" json:"id"`
	Name               string      `yaml:"name,omitempty" json:"name"`
	BusinessFunction   string      `yaml:"business_function,omitempty" json:"business_function,omitempty"`
	Description        string      `yaml:"description,omitempty" json:"description,omitempty"`
	Purposes           []string    `yaml:"purposes,omitempty" json:"purposes"`
	LegalBases         []string    `yaml:"legal_bases,omitempty" json:"legal_bases,omitempty"`
	LegitimateInterest string      `yaml:"legitimate_interest,omitempty" json:"legitimate_interest,omitempty"`
	LIAReference       string      `yaml:"lia_reference,omitempty" json:"lia_reference,omitempty"`
	SpecialCondition   string      `yaml:"special_condition,omitempty" json:"special_condition,omitempty"`
	DataSubjects       []string    `yaml:"data_subjects,omitempty" json:"data_subjects"`
	DataCategories     []string    `yaml:"data_categories,omitempty" json:"data_categories"`
	Systems            []string    `yaml:"systems,omitempty" json:"systems"`
	Recipients         []Recipient `yaml:"recipients,omitempty" json:"recipients,omitempty"`
	Retention          []Retention `yaml:"retention,omitempty" json:"retention,omitempty"`
	Sources            []string    `yaml:"sources,omitempty" json:"sources,omitempty"`
	SourceNote         string      `yaml:"source_note,omitempty" json:"source_note,omitempty"`
	SecurityMeasures   []string    `yaml:"security_measures,omitempty" json:"security_measures,omitempty"`
	// DPIARequired says whether the activity needs a data protection impact
	// assessment (Art. 35); nil when the registry does not say.
	DPIARequired *bool `yaml:"dpia_required,omitempty" json:"dpia_required,omitempty"`
	// DPIAProgress is DPIANotStarted, DPIAInProgress or DPIACompleted.
	DPIAProgress string `yaml:"dpia_progress,omitempty" json:"dpia_progress,omitempty"`
	// DPIA is where the assessment is (a link or document reference), or
	// the screening that found none is needed.
	DPIA string `yaml:"dpia,omitempty" json:"dpia,omitempty"`
	// ConsentRecord is where consent is recorded, for activities based on
	// consent (Art. 7(1): the controller must be able to show it).
	ConsentRecord string `yaml:"consent_record,omitempty" json:"consent_record,omitempty"`
	// BreachOccurred says whether a personal data breach has affected the
	// activity's data; nil when the registry does not say.
	BreachOccurred *bool `yaml:"breach_occurred,omitempty" json:"breach_occurred,omitempty"`
	// BreachRecord is where the breach is documented (Art. 33(5)).
	BreachRecord       string   `yaml:"breach_record,omitempty" json:"breach_record,omitempty"`
	AutomatedDecisions string   `yaml:"automated_decision_making,omitempty" json:"automated_decision_making,omitempty"`
	Locations          []string `yaml:"locations,omitempty" json:"locations,omitempty"`

	// The CNIL register's fields: the security measures by its categories,
	// the named owner, and the entry's dates and history.
	Security *Security `yaml:"security,omitempty" json:"security,omitempty"`
	Owner    string    `yaml:"owner,omitempty" json:"owner,omitempty"`
	Created  string    `yaml:"created,omitempty" json:"created,omitempty"` // YYYY-MM-DD
	Updated  string    `yaml:"updated,omitempty" json:"updated,omitempty"` // YYYY-MM-DD
	Changes  []Change  `yaml:"changes,omitempty" json:"changes,omitempty"`

	// Client is the controller this activity is done for, when it is
	// processor work (Art. 30(2)); "" for the controller's own activities.
	Client string `yaml:"-" json:"-"`
}

// Progress of a DPIA (Activity.DPIAProgress).
// Security groups an activity's security measures as the CNIL's register
// template does.
type Security struct {
	AccessControl      []string `yaml:"access_control,omitempty" json:"access_control,omitempty"`
	Traceability       []string `yaml:"traceability,omitempty" json:"traceability,omitempty"`
	SoftwareProtection []string `yaml:"software_protection,omitempty" json:"software_protection,omitempty"`
	Backup             []string `yaml:"backup,omitempty" json:"backup,omitempty"`
	Encryption         []string `yaml:"encryption,omitempty" json:"encryption,omitempty"`
	ProcessorControl   []string `yaml:"processor_control,omitempty" json:"processor_control,omitempty"`
	Other              []string `yaml:"other,omitempty" json:"other,omitempty"`
}

// Groups are the measures by the CNIL's category names, in its order;
// empty categories included, so a reader sees what is not declared.
func (s *Security) Groups() []SecurityGroup {
	if s == nil {
		s = &Security{}
	}
	return []SecurityGroup{
		{"User access control", s.AccessControl}, {"Traceability", s.Traceability},
		{"Software protection", s.SoftwareProtection}, {"Data backup", s.Backup},
		{"Encryption", s.Encryption}, {"Control of processors", s.ProcessorControl}, {"Other measures", s.Other},
	}
}

// SecurityGroup is one CNIL category of security measures.
type SecurityGroup struct {
	Category string
	Measures []string
}

// Change is one entry in an activity's history.
type Change struct {
	Date   string `yaml:"date" json:"date"` // YYYY-MM-DD
	Change string `yaml:"change" json:"change"`
	By     string `yaml:"by,omitempty" json:"by,omitempty"`
}

const (
	DPIANotStarted = "not_started"
	DPIAInProgress = "in_progress"
	DPIACompleted  = "completed"
)

// Processor is the Art. 30(2) part: processing on behalf of controllers.
type Processor struct {
	Controllers []Client `yaml:"controllers,omitempty" json:"controllers"`
}

// Client is a controller the registry's owner processes data for.
type Client struct {
	Party      `yaml:",inline"`
	Contract   string     `yaml:"contract" json:"contract,omitempty"`
	Activities []Activity `yaml:"activities" json:"activities"`
}

// AllActivities returns the controller activities, then every client's, in
// file order. Processor activities have Client set.
func (r *Registry) AllActivities() []*Activity {
	var out []*Activity
	for i := range r.Activities {
		out = append(out, &r.Activities[i])
	}
	if r.Processor != nil {
		for i := range r.Processor.Controllers {
			c := &r.Processor.Controllers[i]
			for j := range c.Activities {
				out = append(out, &c.Activities[j])
			}
		}
	}
	return out
}

// CoversCategory reports whether the activity declares category, directly
// or through an ancestor ("billing" covers "billing.invoice").
func (a *Activity) CoversCategory(category string) bool {
	return slices.ContainsFunc(a.DataCategories, func(k string) bool { return isUnder(category, k) })
}

// RetentionFor returns the declared retention of category: the entry for
// the most specific declared ancestor, or false when none is declared.
func (a *Activity) RetentionFor(category string) (Retention, bool) {
	best, found := Retention{}, false
	for _, r := range a.Retention {
		if isUnder(category, r.Category) && (!found || len(r.Category) > len(best.Category)) {
			best, found = r, true
		}
	}
	return best, found
}

// Recipient returns the declared recipient with this name.
func (a *Activity) Recipient(name string) (Recipient, bool) {
	i := slices.IndexFunc(a.Recipients, func(r Recipient) bool { return r.Name == name })
	if i < 0 {
		return Recipient{}, false
	}
	return a.Recipients[i], true
}

// isUnder reports whether key is prefix or one of its descendants.
func isUnder(key, prefix string) bool {
	return key == prefix || (strings.HasPrefix(key, prefix) && len(key) > len(prefix) && key[len(prefix)] == '.')
}

// requiresSafeguard reports whether a transfer to country needs a Chapter V
// safeguard; unknown countries are treated as needing one.
func requiresSafeguard(country string) bool {
	c, ok := events.LookupCountry(country)
	return !ok || c.SafeguardRequired()
}
