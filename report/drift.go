package report

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/internal/sortedset"
	"github.com/back-trace/datamap/people"
	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/words"
)

// Severity ranks findings; a deploy gate fails at or above a threshold.
type Severity int

// Severities, lowest first.
const (
	Low Severity = iota + 1
	Medium
	High
)

var severityNames = map[Severity]string{Low: "low", Medium: "medium", High: "high"}

func (s Severity) String() string { return severityNames[s] }

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads the severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	*s = v
	return err
}

// ParseSeverity reads "low", "medium" or "high".
func ParseSeverity(s string) (Severity, error) {
	for k, v := range severityNames {
		if v == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("severity %q: use low, medium or high", s)
}

// The kinds of drift, each a way observed processing departs from the
// declared registry.
const (
	KindUndeclaredSystem      = "undeclared_system"
	KindUndeclaredPurpose     = "undeclared_purpose"
	KindUndeclaredCategory    = "undeclared_category"
	KindUndeclaredDataSubject = "undeclared_data_subject"
	KindUndeclaredRecipient   = "undeclared_recipient"
	KindLegalBasisMismatch    = "legal_basis_mismatch"
	KindTransferNoSafeguard   = "transfer_without_safeguard"
	KindTransferMismatch      = "transfer_safeguard_mismatch"
	KindSpecialNoCondition    = "special_category_without_condition"
	KindRetentionExceeded     = "retention_exceeded"
	KindStaleRecord           = "stale_record"
	// KindChildrenData: a data-subject category the taxonomy marks as
	// children (child: true) observed in a system none of whose activities
	// declares it (GDPR Art. 8; BackTrace's policy §10).
	KindChildrenData = "children_data"
)

// Finding is one disagreement between the registry and what was observed.
type Finding struct {
	Kind     string   `json:"kind"`
	Severity Severity `json:"severity"`
	// Activity is the declared activity concerned, "" for processing that
	// no activity declares.
	Activity string `json:"activity,omitempty"`
	// About names what the finding is about, e.g. "voip-platform → Mixpanel (US)".
	About   string `json:"subject"`
	Message string `json:"message"` // what was observed against what was declared
	Action  string `json:"action"`  // what to do about it, in words (no commands)
	// Command is the datamap command that helps with Action, for the CLI
	// to print after it; "" when there is none.
	Command string `json:"command,omitempty"`
	// Proposal is the registry lines that would settle the finding, to be
	// completed and reviewed ("" when there are none to propose).
	Proposal string           `json:"proposal,omitempty"`
	Evidence *FindingEvidence `json:"evidence,omitempty"`
}

// FindingEvidence sums the observations behind a finding.
type FindingEvidence struct {
	Events     uint64     `json:"events"`
	Records    uint64     `json:"records"`
	FirstSeen  *time.Time `json:"first_seen,omitempty"`
	LastSeen   *time.Time `json:"last_seen,omitempty"`
	Systems    []string   `json:"systems,omitempty"`
	Categories []string   `json:"categories,omitempty"`
	// Spans and Hosts are the traffic behind a finding drawn from traces:
	// the calls seen (at least once) and the hosts called.
	Spans uint64   `json:"spans,omitempty"`
	Hosts []string `json:"hosts,omitempty"`
}

func (e *FindingEvidence) add(o Observation) {
	e.Events += o.Events
	e.Records += o.Records
	if e.FirstSeen == nil || o.FirstSeen.Before(*e.FirstSeen) {
		t := o.FirstSeen
		e.FirstSeen = &t
	}
	if e.LastSeen == nil || o.LastSeen.After(*e.LastSeen) {
		t := o.LastSeen
		e.LastSeen = &t
	}
	e.Systems = sortedset.Add(e.Systems, o.System)
	e.Categories = sortedset.Add(e.Categories, o.Category)
}

// DriftOptions tune Drift.
type DriftOptions struct {
	// StaleAfter is how long a declared activity, system or recipient may
	// go unobserved before the record is called stale; 0 means
	// DefaultStaleAfter.
	StaleAfter time.Duration
	// Rights are the findings about people's rights (people.Findings over
	// the catalog's subject facts), judged by the caller, who has read
	// them; they join the drift findings, naming no one.
	Rights []people.Finding
	// Traffic is each system's observed destinations up to asOf (the
	// traffic table, query.TrafficObservations); traffic that departs
	// from what is declared and reported is a finding.
	Traffic []Traffic
}

// DefaultStaleAfter is the default window of the stale-record check.
const DefaultStaleAfter = 90 * 24 * time.Hour

// Drift compares the registry with the observations up to asOf and returns
// the findings, most severe first, in a stable order. It is a pure
// function: the same inputs give the same findings.
func Drift(reg *registry.Registry, tax *taxonomy.Taxonomy, obs []Observation, asOf time.Time, o DriftOptions) []Finding {
	if tax == nil {
		tax = taxonomy.Default()
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = DefaultStaleAfter
	}
	d := &drift{reg: reg, tax: tax, say: words.Of(tax), byKey: map[string]*Finding{}}
	for _, at := range Attribute(reg, obs) {
		if at.FirstSeen.After(asOf) {
			continue // the loader filters already; a caller's rows may not be
		}
		if at.Kind == string(events.KindErased) {
			continue // erasing is never drift; it is counted as evidence
		}
		d.children(at.Observation)
		if at.Activity == nil {
			d.undeclared(at.Observation)
		} else {
			d.declared(at.Activity, at.Observation)
		}
	}
	d.stale(Attribute(reg, obs), asOf, o.StaleAfter)
	d.traffic(o.Traffic, obs, asOf)
	out := make([]Finding, 0, len(d.order)+len(o.Rights))
	for _, k := range d.order {
		out = append(out, *d.byKey[k])
	}
	for _, f := range o.Rights {
		out = append(out, rightsFinding(f, d.say))
	}
	slices.SortStableFunc(out, func(a, b Finding) int {
		if a.Severity != b.Severity {
			return int(b.Severity - a.Severity)
		}
		return strings.Compare(a.Kind+"\x00"+a.Activity+"\x00"+a.About, b.Kind+"\x00"+b.Activity+"\x00"+b.About)
	})
	return out
}

type drift struct {
	reg   *registry.Registry
	tax   *taxonomy.Taxonomy
	say   words.Names // the messages name what the keys are; actions keep the keys to write in the registry
	byKey map[string]*Finding
	order []string
}

// childOutsideDeclarations reports whether o is about children that no
// activity of its system declares: a children_data finding, which replaces
// the undeclared data subject one.
func (d *drift) childOutsideDeclarations(o Observation) bool {
	s, ok := d.tax.DataSubject(o.DataSubject)
	if !ok || !s.Child {
		return false
	}
	for _, a := range d.reg.AllActivities() {
		if slices.Contains(a.Systems, o.System) && slices.Contains(a.DataSubjects, o.DataSubject) {
			return false
		}
	}
	return true
}

// children reports data about children where no activity declares them.
func (d *drift) children(o Observation) {
	if !d.childOutsideDeclarations(o) {
		return
	}
	d.add(Finding{Kind: KindChildrenData, Severity: High, About: o.System + ": " + o.DataSubject,
		Message: fmt.Sprintf("%q processes %q about %q, a category of children, and none of its activities declares children", o.System, d.say.Category(o.Category), d.say.DataSubject(o.DataSubject)),
		Action:  "find out how children's data got in (an age gate, a form) and erase it, or declare the processing with its Art. 8 parental consent; the privacy policy may promise none is collected"}, &o)
}

// add records a finding, merging the evidence of findings with the same
// kind, activity and subject: one undeclared recipient is one finding
// however many categories it received.
func (d *drift) add(f Finding, o *Observation) {
	key := f.Kind + "\x00" + f.Activity + "\x00" + f.About
	have, ok := d.byKey[key]
	if !ok {
		have = &f
		d.byKey[key] = have
		d.order = append(d.order, key)
	}
	if o != nil {
		if have.Evidence == nil {
			have.Evidence = &FindingEvidence{}
		}
		have.Evidence.add(*o)
	}
}

func recipientLabel(o Observation) string {
	return fmt.Sprintf("%s (%s, %s)", o.Recipient, o.Role, o.Country)
}

// recipientWords is recipientLabel in words, for messages.
func recipientWords(o Observation) string {
	return fmt.Sprintf("%s (%s, %s)", o.Recipient, strings.ToLower(words.Role(o.Role)), o.Country)
}

// quoted names the keys in words, each in quotes, joined by ", ".
func quoted(keys []string, name func(string) string) string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = strconv.Quote(name(k))
	}
	return strings.Join(out, ", ")
}

// undeclared handles an observation that no activity declares.
func (d *drift) undeclared(o Observation) {
	declaresSystem := slices.ContainsFunc(d.reg.AllActivities(), func(a *registry.Activity) bool {
		return slices.Contains(a.Systems, o.System)
	})
	if !declaresSystem {
		d.add(Finding{Kind: KindUndeclaredSystem, Severity: Medium, About: o.System,
			Message: fmt.Sprintf("system %q processes personal data but no activity lists it in systems", o.System),
			Action:  fmt.Sprintf("add %q to the systems of the activity it serves (or declare a new activity), or stop the processing", o.System)}, &o)
	} else {
		d.add(Finding{Kind: KindUndeclaredPurpose, Severity: High, About: o.System + ": " + o.Purpose,
			Message: fmt.Sprintf("system %q processes personal data for purpose %q, which none of its activities declares", o.System, d.say.Purpose(o.Purpose)),
			Action:  fmt.Sprintf("declare purpose %q (with its legal basis) on an activity of %q after checking it is compatible, or stop the processing", o.Purpose, o.System)}, &o)
	}
	if c, ok := d.tax.Category(o.Category); ok && c.Special {
		d.add(Finding{Kind: KindSpecialNoCondition, Severity: High, About: o.System + ": " + o.Category,
			Message: fmt.Sprintf("special category %q (Art. 9) is processed by %q outside any declared activity, so no Art. 9 condition is declared", d.say.Category(o.Category), o.System),
			Action:  "declare the activity with its Art. 9(2) condition (special_condition), or stop the processing"}, &o)
	}
	if o.Recipient != "" {
		var declared *registry.Recipient
		for _, a := range d.reg.AllActivities() {
			if r, ok := a.Recipient(o.Recipient); ok {
				declared = &r
				break
			}
		}
		if declared == nil {
			d.add(Finding{Kind: KindUndeclaredRecipient, Severity: High, About: o.System + " → " + recipientLabel(o),
				Message: fmt.Sprintf("%q discloses personal data to %s, a recipient no activity declares", o.System, recipientWords(o)),
				Action:  "declare the recipient on the activity it serves, with its role, country, safeguard and contract, or stop the disclosure"}, &o)
		}
		d.transfer("", declared, o)
	}
}

// declared checks an observation against the activity it was attributed to.
func (d *drift) declared(a *registry.Activity, o Observation) {
	if !a.CoversCategory(o.Category) {
		d.add(Finding{Kind: KindUndeclaredCategory, Severity: Medium, Activity: a.ID, About: o.Category,
			Message: fmt.Sprintf("%q processes %q for %q, a category activity %q does not declare (declared: %s)", o.System, d.say.Category(o.Category), d.say.Purpose(o.Purpose), a.ID, quoted(a.DataCategories, d.say.Category)),
			Action:  fmt.Sprintf("add %q to data_categories of %q, or stop collecting it", o.Category, a.ID)}, &o)
	}
	if !slices.Contains(a.DataSubjects, o.DataSubject) && !d.childOutsideDeclarations(o) {
		d.add(Finding{Kind: KindUndeclaredDataSubject, Severity: Medium, Activity: a.ID, About: o.DataSubject,
			Message: fmt.Sprintf("%q processes data about %q, a category of data subjects activity %q does not declare (declared: %s)", o.System, d.say.DataSubject(o.DataSubject), a.ID, quoted(a.DataSubjects, d.say.DataSubject)),
			Action:  fmt.Sprintf("add %q to data_subjects of %q, or stop the processing", o.DataSubject, a.ID)}, &o)
	}
	if len(a.LegalBases) > 0 && !slices.Contains(a.LegalBases, o.LegalBasis) {
		d.add(Finding{Kind: KindLegalBasisMismatch, Severity: High, Activity: a.ID, About: o.System + ": " + o.LegalBasis,
			Message: fmt.Sprintf("%q processes for %q on the legal basis %q; activity %q declares %s", o.System, d.say.Purpose(o.Purpose), words.LegalBasisCited(o.LegalBasis), a.ID, quoted(a.LegalBases, words.LegalBasisCited)),
			Action:  "correct the basis the service reports, or, if the processing really rests on it, declare it (a basis cannot be swapped after the fact: check with the DPO)"}, &o)
	}
	if c, ok := d.tax.Category(o.Category); ok && c.Special && a.Client == "" {
		switch {
		case a.SpecialCondition == "":
			d.add(Finding{Kind: KindSpecialNoCondition, Severity: High, Activity: a.ID, About: o.Category,
				Message: fmt.Sprintf("special category %q (Art. 9) is processed by %q but activity %q declares no Art. 9 condition", d.say.Category(o.Category), o.System, a.ID),
				Action:  fmt.Sprintf("set special_condition on %q, or stop processing the special category", a.ID)}, &o)
		case o.SpecialCondition != "" && o.SpecialCondition != a.SpecialCondition:
			d.add(Finding{Kind: KindSpecialNoCondition, Severity: High, Activity: a.ID, About: o.Category + ": " + o.SpecialCondition,
				Message: fmt.Sprintf("special category %q is processed under the Art. 9 condition %q; activity %q declares %q", d.say.Category(o.Category), words.SpecialCondition(o.SpecialCondition), a.ID, words.SpecialCondition(a.SpecialCondition)),
				Action:  "make the service report the declared condition, or declare the one it relies on"}, &o)
		}
	}
	if o.Kind == string(events.KindCollected) && o.RetentionDays > 0 {
		if rt, ok := a.RetentionFor(o.Category); ok {
			if p, err := events.ParseISODuration(rt.Period); err == nil {
				if limit := uint32(p.Approx() / (24 * time.Hour)); o.RetentionDays > limit {
					d.add(Finding{Kind: KindRetentionExceeded, Severity: Medium, Activity: a.ID, About: o.System + ": " + o.Category,
						Message: fmt.Sprintf("%q keeps %q for %s; activity %q declares %s for %q", o.System, d.say.Category(o.Category), words.DurationOr(o.Retention), a.ID, words.DurationOr(rt.Period), d.say.Category(rt.Category)),
						Action:  fmt.Sprintf("shorten the retention of %q in %q to %s, or, if the longer period is justified, declare it", d.say.Category(o.Category), o.System, words.DurationOr(rt.Period))}, &o)
				}
			}
		}
	}
	if o.Recipient == "" {
		return
	}
	r, ok := a.Recipient(o.Recipient)
	switch {
	case !ok:
		d.add(Finding{Kind: KindUndeclaredRecipient, Severity: High, Activity: a.ID, About: o.System + " → " + recipientLabel(o),
			Message: fmt.Sprintf("%q discloses personal data to %s, which activity %q does not list as a recipient", o.System, recipientWords(o), a.ID),
			Action:  fmt.Sprintf("add the recipient to %q with its role, country, safeguard and contract, or stop the disclosure", a.ID)}, &o)
	case len(r.Categories) > 0 && !slices.ContainsFunc(r.Categories, func(k string) bool { return under(o.Category, k) }):
		d.add(Finding{Kind: KindUndeclaredRecipient, Severity: Medium, Activity: a.ID, About: o.Recipient + ": " + o.Category,
			Message: fmt.Sprintf("%q receives %q, a category not declared for it in %q (declared: %s)", o.Recipient, d.say.Category(o.Category), a.ID, quoted(r.Categories, d.say.Category)),
			Action:  fmt.Sprintf("add %q to the recipient's categories, or stop sending it", o.Category)}, &o)
	}
	var declared *registry.Recipient
	if ok {
		declared = &r
	}
	d.transfer(a.ID, declared, o)
}

// transfer checks a disclosure against Chapter V: a third country without
// adequacy needs a safeguard, and the one used must be the one declared.
func (d *drift) transfer(activity string, declared *registry.Recipient, o Observation) {
	c, known := events.LookupCountry(o.Country)
	if known && !c.SafeguardRequired() {
		return
	}
	name := o.Country
	if known {
		name = c.Name
	}
	if o.Safeguard == "" || o.Safeguard == events.SafeguardNone {
		d.add(Finding{Kind: KindTransferNoSafeguard, Severity: High, Activity: activity, About: o.System + " → " + recipientLabel(o),
			Message: fmt.Sprintf("%q transfers personal data to %s in %s, %s: the safeguard is missing", o.System, o.Recipient, name, words.Adequacy(o.Country)),
			Action:  "stop the transfer until SCCs (or BCR, DPF certification, an Art. 49 derogation) are in place, then declare the safeguard"}, &o)
		return
	}
	if declared == nil {
		return // reported as an undeclared recipient already
	}
	if declared.Country != o.Country {
		d.add(Finding{Kind: KindTransferMismatch, Severity: Medium, Activity: activity, About: o.System + " → " + recipientLabel(o),
			Message: fmt.Sprintf("%q sends data to %s in %s; the registry declares it in %s", o.System, o.Recipient, o.Country, declared.Country),
			Action:  "find out where the recipient processes the data, then correct the declared country and safeguard"}, &o)
		return
	}
	if declared.Safeguard != o.Safeguard {
		d.add(Finding{Kind: KindTransferMismatch, Severity: Medium, Activity: activity, About: o.System + " → " + recipientLabel(o),
			Message: fmt.Sprintf("%q transfers data to %s in %s under %q; the registry declares %q", o.System, o.Recipient, name, words.SafeguardIn(o.Country, o.Safeguard), words.SafeguardIn(declared.Country, declared.Safeguard)),
			Action:  "check which safeguard the contract actually provides, then correct the service or the registry"}, &o)
	}
}

// stale reports declared activities, systems and recipients not observed
// within the window before asOf: a record that describes processing that
// may no longer happen, or that is not instrumented.
func (d *drift) stale(ats []Attribution, asOf time.Time, window time.Duration) {
	since := asOf.Add(-window)
	type key struct{ activity, what string }
	last := map[key]time.Time{}
	for _, at := range ats {
		if at.Activity == nil || at.FirstSeen.After(asOf) {
			continue
		}
		for _, k := range []key{{at.Activity.ID, ""}, {at.Activity.ID, "system:" + at.System}, {at.Activity.ID, "recipient:" + at.Recipient}} {
			if at.LastSeen.After(last[k]) {
				last[k] = at.LastSeen
			}
		}
	}
	days := int(window / (24 * time.Hour))
	seen := func(k key) string {
		if t, ok := last[k]; ok {
			return "last observed " + t.UTC().Format(time.DateOnly)
		}
		return "never observed"
	}
	for _, a := range d.reg.AllActivities() {
		whole := key{a.ID, ""}
		if t, ok := last[whole]; !ok || t.Before(since) {
			d.add(Finding{Kind: KindStaleRecord, Severity: Low, Activity: a.ID, About: "activity " + a.ID,
				Message: fmt.Sprintf("no processing observed for activity %q in the %d days to %s (%s)", a.ID, days, asOf.UTC().Format(time.DateOnly), seen(whole)),
				Action:  "if the activity has ended, retire it from the registry; if not, instrument its systems so the record is backed by evidence"}, nil)
			continue // its systems and recipients are stale by implication
		}
		for _, s := range a.Systems {
			k := key{a.ID, "system:" + s}
			if t, ok := last[k]; !ok || t.Before(since) {
				d.add(Finding{Kind: KindStaleRecord, Severity: Low, Activity: a.ID, About: "system " + s,
					Message: fmt.Sprintf("system %q is declared for %q but no processing by it was observed in the %d days to %s (%s)", s, a.ID, days, asOf.UTC().Format(time.DateOnly), seen(k)),
					Action:  "remove the system from the activity if it no longer takes part, or instrument it"}, nil)
			}
		}
		for _, r := range a.Recipients {
			k := key{a.ID, "recipient:" + r.Name}
			if t, ok := last[k]; !ok || t.Before(since) {
				d.add(Finding{Kind: KindStaleRecord, Severity: Low, Activity: a.ID, About: "recipient " + r.Name,
					Message: fmt.Sprintf("recipient %q is declared for %q but no disclosure to it was observed in the %d days to %s (%s)", r.Name, a.ID, days, asOf.UTC().Format(time.DateOnly), seen(k)),
					Action:  "remove the recipient if the disclosure has ended (and end its contract), or instrument the flow"}, nil)
			}
		}
	}
}

// MaxSeverity returns the highest severity among findings, 0 for none.
func MaxSeverity(fs []Finding) Severity {
	var m Severity
	for _, f := range fs {
		m = max(m, f.Severity)
	}
	return m
}

// requires reports whether a transfer to country needs a safeguard; an
// unknown code is treated as a third country.
func requires(country string) bool {
	c, ok := events.LookupCountry(country)
	return !ok || c.SafeguardRequired()
}
