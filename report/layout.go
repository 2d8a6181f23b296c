package report

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/registry"
)

// The tabular formats (CSV, Markdown, HTML, XLSX) share one layout: a
// header block, then one row per activity in the column order of the UK
// ICO's documentation templates for controllers and processors, each
// followed by datamap's evidence columns, then the undeclared processing
// and the findings.

// notDeclared fills a required Art. 30 field the registry leaves empty, so
// the gap is visible on paper rather than a blank cell.
const notDeclared = "not declared"

// Field is one line of the header block.
type Field struct{ Name, Value string }

// HeaderBlock is the record's identification: who, as of when, and its hash.
func (r *Record) HeaderBlock() []Field {
	c := r.Controller
	joint := make([]string, 0, len(r.JointControllers))
	for _, j := range r.JointControllers {
		s := j.Name + " (" + j.Contact.String() + ")"
		if j.Responsibilities != "" {
			s += ": " + j.Responsibilities
		}
		joint = append(joint, s)
	}
	return []Field{
		{"Controller", c.Name},
		{"Controller address", orNot(c.Address)},
		{"Controller contact", orNot(c.Contact.String())},
		{"Representative (Art. 27)", orNot(c.Representative.String())},
		{"Data protection officer", orNot(c.DPO.String())},
		{"Joint controllers (Art. 26)", orNone(strings.Join(joint, "; "))},
		{"Role", roleLabel(r.Role)},
		{"As of", r.AsOf.Format(time.RFC3339Nano)},
		{"Generated at", orNone(r.GeneratedAt)},
		{"datamap version", r.DatamapVersion},
		{"Country list (EEA, adequacy) as of", r.CountryListAsOf},
		{"Stale after (days)", strconv.Itoa(r.StaleAfterDays)},
		{"Content SHA-256", r.ContentSHA256},
		{"Warnings", orNone(strings.Join(r.Warnings, "; "))},
	}
}

func roleLabel(role string) string {
	switch role {
	case RoleController:
		return "controller (Art. 30(1))"
	case RoleProcessor:
		return "processor (Art. 30(2))"
	}
	return "controller and processor (Art. 30(1) and 30(2))"
}

func orNot(s string) string {
	if strings.TrimSpace(s) == "" {
		return notDeclared
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// columnKind says what a column holds, for the formats that type their
// cells: the XLSX writes counts as numbers and times as dates, the HTML
// never breaks them across lines.
type columnKind int

const (
	kindText  columnKind = iota
	kindCount            // a non-negative integer, u()
	kindTime             // an RFC 3339 instant, ts()
)

// columnKinds lists the columns that are not text, by title; a title means
// the same in every table.
var columnKinds = map[string]columnKind{
	"Observed events": kindCount, "Observed records": kindCount, "Erased records": kindCount,
	"Events": kindCount, "Records": kindCount, "First seen": kindTime, "Last seen": kindTime,
}

func columnKindOf(title string) columnKind { return columnKinds[title] }

// ControllerColumns are the activity's id and name, the columns of the
// ICO controller template's record of processing in its order (without
// its "(if applicable)" qualifiers), then datamap's systems and evidence.
var ControllerColumns = []string{
	"Activity ID", "Processing activity",
	"Business function", "Purpose of processing", "Name and contact details of joint controller",
	"Categories of individuals", "Categories of personal data", "Categories of recipients",
	"Link to contract with processor",
	"Names of third countries or international organisations that personal data are transferred to",
	"Safeguards for exceptional transfers of personal data to third countries or international organisations",
	"Retention schedule", "General description of technical and organisational security measures",
	"Article 6 lawful basis for processing personal data", "Article 9 condition for processing special category data",
	"Legitimate interests for the processing", "Link to record of legitimate interests assessment",
	"Rights available to individuals", "Existence of automated decision-making, including profiling",
	"The source of the personal data", "Link to record of consent", "Location of personal data",
	"Data Protection Impact Assessment required?", "Data Protection Impact Assessment progress",
	"Link to Data Protection Impact Assessment", "Has a personal data breach occurred?",
	"Link to record of personal data breach",
	"Systems", "Observed events", "Observed records", "Erased records", "First seen", "Last seen",
	"Systems observed", "Recipients observed", "Findings",
}

// ProcessorColumns follow the ICO processor template, then evidence.
var ProcessorColumns = []string{
	"Name and contact details of controller", "Controller representative", "Controller data protection officer",
	"Contract with controller", "Activity ID", "Categories of processing carried out on behalf of the controller",
	"Categories of individuals", "Categories of personal data", "Sub-processors and other recipients",
	"Names of third countries or international organisations that personal data are transferred to",
	"Safeguards for exceptional transfers of personal data to third countries or international organisations",
	"Retention schedule", "General description of technical and organisational security measures",
	"Location of personal data", "Systems",
	"Observed events", "Observed records", "Erased records", "First seen", "Last seen",
	"Systems observed", "Recipients observed", "Findings",
}

// UndeclaredColumns describe observed processing no activity declares.
var UndeclaredColumns = []string{"Kind", "System", "Category", "Data subject", "Purpose", "Legal basis",
	"Recipient", "Role", "Country", "Safeguard", "Retention", "Events", "Records", "First seen", "Last seen"}

// FindingColumns describe drift findings.
var FindingColumns = []string{"Severity", "Kind", "Activity", "Subject", "Finding", "What to do",
	"Events", "Records", "First seen", "Last seen", "Systems", "Categories"}

// ControllerRows are the Art. 30(1) rows.
func (r *Record) ControllerRows() [][]string {
	rows := make([][]string, 0, len(r.Activities))
	for i := range r.Activities {
		a := &r.Activities[i]
		adm := a.AutomatedDecisions != "" && !strings.EqualFold(a.AutomatedDecisions, "none")
		rows = append(rows, append([]string{
			a.ID, a.Name, orNot(a.BusinessFunction), r.purposes(a.Purposes), r.jointFor(a.ID),
			list(a.DataSubjects), list(a.DataCategories), recipients(a.Recipients), contracts(a.Recipients),
			orNone(list(a.ThirdCountries)), safeguards(a), retention(a.Retention), orNot(list(a.SecurityMeasures)),
			orNot(names(legalBasisNames, a.LegalBases)), orNone(nameOr(specialConditionNames, a.SpecialCondition)),
			a.LegitimateInterest, a.LIAReference, rightsFor(a.LegalBases, adm),
			orNone(a.AutomatedDecisions), sources(a.Activity), consentRecord(&a.Activity), list(a.Locations),
			yesNo(a.DPIARequired), dpiaProgress(&a.Activity), dpiaLink(&a.Activity),
			yesNo(a.BreachOccurred), breachRecord(&a.Activity), list(a.Systems),
		}, r.evidenceCells(a)...))
	}
	return rows
}

// CNILColumns are the fields of the CNIL's register template, in its
// order, for the controller's activities.
var CNILColumns = []string{"Reference", "Processing activity", "Created", "Last updated", "Owner",
	"Controller", "Data protection officer", "Purposes", "Description", "Data subjects", "Data categories",
	"Special categories (Art. 9)", "Retention", "Recipients", "Transfers outside the EU",
	"Transfer safeguard documentation", "User access control", "Traceability", "Software protection",
	"Data backup", "Encryption", "Control of processors", "Other measures", "Change history"}

// CNILRows are the controller's activities in the CNIL's order.
func (r *Record) CNILRows() [][]string {
	rows := make([][]string, 0, len(r.Activities))
	for i := range r.Activities {
		a := &r.Activities[i]
		var transfers, docs, history []string
		for _, rc := range a.Recipients {
			if requires(rc.Country) {
				transfers = append(transfers, fmt.Sprintf("%s (%s): %s", rc.Name, rc.Country, registry.TransferStatus(rc.Country, rc.Safeguard)))
				docs = append(docs, rc.Name+": "+orNot(rc.SafeguardDocumentation))
			}
		}
		for _, c := range a.Changes {
			h := c.Date + ": " + c.Change
			if c.By != "" {
				h += " (" + c.By + ")"
			}
			history = append(history, h)
		}
		row := []string{a.ID, a.Name, orNot(a.Created), orNot(a.Updated), orNot(a.Owner),
			r.Controller.Name, orNot(r.Controller.DPO.String()), r.purposes(a.Purposes), orNot(a.Description),
			list(a.DataSubjects), list(a.DataCategories), orNone(nameOr(specialConditionNames, a.SpecialCondition)),
			retention(a.Retention), recipients(a.Recipients), orNone(list(transfers)), orNone(list(docs))}
		for _, g := range a.Security.Groups() {
			row = append(row, orNot(list(g.Measures)))
		}
		rows = append(rows, append(row, orNot(list(history))))
	}
	return rows
}

// ProcessorRows are the Art. 30(2) rows.
func (r *Record) ProcessorRows() [][]string {
	var rows [][]string
	for _, c := range r.Processor {
		contact := c.Name
		if s := c.Contact.String(); s != "" {
			contact += " (" + s + ")"
		}
		if c.Address != "" {
			contact += ", " + c.Address
		}
		for i := range c.Activities {
			a := &c.Activities[i]
			desc := a.Name
			if a.Description != "" {
				desc += ": " + a.Description
			}
			rows = append(rows, append([]string{
				contact, orNot(c.Representative.String()), orNot(c.DPO.String()), orNot(c.Contract), a.ID, desc,
				list(a.DataSubjects), list(a.DataCategories), recipients(a.Recipients),
				orNone(list(a.ThirdCountries)), safeguards(a), retention(a.Retention), orNot(list(a.SecurityMeasures)),
				list(a.Locations), list(a.Systems),
			}, r.evidenceCells(a)...))
		}
	}
	return rows
}

// UndeclaredRows are the observed processing no activity declares.
func (r *Record) UndeclaredRows() [][]string {
	rows := make([][]string, 0, len(r.Undeclared))
	for _, o := range r.Undeclared {
		rows = append(rows, []string{o.Kind, o.System, o.Category, o.DataSubject, r.purposes([]string{o.Purpose}), nameOr(legalBasisNames, o.LegalBasis),
			o.Recipient, o.Role, o.Country, undeclaredSafeguard(o), o.Retention, u(o.Events), u(o.Records), ts(o.FirstSeen), ts(o.LastSeen)})
	}
	return rows
}

// undeclaredSafeguard is the safeguard of an observed disclosure in words;
// a collection has no recipient and no safeguard.
func undeclaredSafeguard(o Observation) string {
	if o.Recipient == "" {
		return ""
	}
	return registry.TransferStatus(o.Country, o.Safeguard)
}

// FindingRows are the drift findings.
func (r *Record) FindingRows() [][]string { return FindingRows(r.Findings) }

// FindingRows renders findings as table rows.
func FindingRows(fs []Finding) [][]string {
	rows := make([][]string, 0, len(fs))
	for _, f := range fs {
		row := []string{f.Severity.String(), f.Kind, f.Activity, f.About, f.Message, f.Action}
		if e := f.Evidence; e != nil {
			row = append(row, u(e.Events), u(e.Records), tsp(e.FirstSeen), tsp(e.LastSeen), list(e.Systems), list(e.Categories))
		} else {
			row = append(row, "0", "0", "", "", "", "")
		}
		rows = append(rows, row)
	}
	return rows
}

func (r *Record) evidenceCells(a *ActivityRecord) []string {
	e := a.Evidence
	var systems, recips []string
	for _, s := range e.Systems {
		systems = append(systems, fmt.Sprintf("%s (%d events)", s.System, s.Events))
	}
	for _, rc := range e.Recipients {
		s := fmt.Sprintf("%s (%s, %s, %s; %d events)", rc.Name, rc.Role, rc.Country, registry.TransferStatus(rc.Country, rc.Safeguard), rc.Events)
		if !rc.Declared {
			s += " UNDECLARED"
		}
		recips = append(recips, s)
	}
	return []string{u(e.Events), u(e.Records), u(e.Erased), tsp(e.FirstSeen), tsp(e.LastSeen),
		list(systems), list(recips), r.findingCount(a.ID)}
}

func (r *Record) findingCount(activity string) string {
	n := map[Severity]int{}
	for _, f := range r.Findings {
		if f.Activity == activity {
			n[f.Severity]++
		}
	}
	var parts []string
	for _, s := range []Severity{High, Medium, Low} {
		if n[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[s], s))
		}
	}
	return orNone(strings.Join(parts, ", "))
}

func (r *Record) jointFor(id string) string {
	var names []string
	for _, j := range r.JointControllers {
		for _, a := range j.Activities {
			if a == id {
				names = append(names, j.Name+" ("+j.Contact.String()+")")
			}
		}
	}
	return list(names)
}

func list(s []string) string { return strings.Join(s, "; ") }

// names lists the names of keys.
func names(m map[string]string, keys []string) string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = nameOr(m, k)
	}
	return list(out)
}

// purposes lists purposes by their taxonomy names.
func (r *Record) purposes(keys []string) string { return names(r.PurposeNames, keys) }

// notApplicable fills a template column that does not apply to the
// activity, so that it is not mistaken for a gap.
const notApplicable = "not applicable"

func yesNo(b *bool) string {
	switch {
	case b == nil:
		return notDeclared
	case *b:
		return "yes"
	}
	return "no"
}

var dpiaProgressLabels = map[string]string{registry.DPIANotStarted: "not started",
	registry.DPIAInProgress: "in progress", registry.DPIACompleted: "completed"}

func dpiaProgress(a *registry.Activity) string {
	if a.DPIARequired != nil && !*a.DPIARequired {
		return notApplicable
	}
	return orNot(nameOr(dpiaProgressLabels, a.DPIAProgress))
}

func dpiaLink(a *registry.Activity) string {
	if a.DPIARequired != nil && !*a.DPIARequired && a.DPIA == "" {
		return notApplicable
	}
	return orNot(a.DPIA)
}

func consentRecord(a *registry.Activity) string {
	if !slices.Contains(a.LegalBases, events.LegalBasisConsent) && a.SpecialCondition != "explicit_consent" {
		return notApplicable
	}
	return orNot(a.ConsentRecord)
}

func breachRecord(a *registry.Activity) string {
	if a.BreachOccurred == nil || !*a.BreachOccurred {
		return notApplicable
	}
	return orNot(a.BreachRecord)
}

func recipients(rs []registry.Recipient) string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		s := fmt.Sprintf("%s (%s, %s)", r.Name, strings.ReplaceAll(r.Role, "_", "-"), r.Country)
		if len(r.Categories) > 0 {
			s += ": " + strings.Join(r.Categories, ", ")
		}
		out = append(out, s)
	}
	return orNone(list(out))
}

func contracts(rs []registry.Recipient) string {
	var out []string
	for _, r := range rs {
		if r.Contract != "" {
			out = append(out, r.Name+": "+r.Contract)
		}
	}
	return list(out)
}

func safeguards(a *ActivityRecord) string {
	var out []string
	for _, r := range a.Recipients {
		if requires(r.Country) {
			out = append(out, fmt.Sprintf("%s (%s): %s", r.Name, r.Country, registry.TransferStatus(r.Country, r.Safeguard)))
		}
	}
	return orNone(list(out))
}

func retention(rs []registry.Retention) string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		s := r.Category + ": " + r.Period
		if r.Note != "" {
			s += " (" + r.Note + ")"
		}
		out = append(out, s)
	}
	return orNot(list(out))
}

func sources(a registry.Activity) string {
	s := list(a.Sources)
	if a.SourceNote != "" {
		s = strings.TrimPrefix(s+"; "+a.SourceNote, "; ")
	}
	return s
}

func u(n uint64) string { return strconv.FormatUint(n, 10) }

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func tsp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return ts(*t)
}
