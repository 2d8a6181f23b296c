package report

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/registry"
	"github.com/back-trace/datamap/words"
)

// The tabular formats (CSV, Markdown, HTML, XLSX) share one layout: a
// header block, then one row per activity in the column order of the UK
// ICO's documentation templates for controllers and processors, each
// followed by datamap's evidence columns, then the undeclared processing
// and the findings.

// say is how a format shows the record's values: in words for people
// (HTML, PDF, XLSX, Markdown: the taxonomy's names, legal bases, roles and
// safeguards in words, durations such as "24 months", dates to the day),
// or as the keys and instants the JSON holds, for machines (CSV).
type say struct {
	r    *Record
	keys bool
}

// forPeople and forMachines are the two ways a record is shown.
func (r *Record) forPeople() say   { return say{r: r} }
func (r *Record) forMachines() say { return say{r: r, keys: true} }

func (s say) each(keys []string, word func(string) string) string {
	if s.keys {
		return list(keys)
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = word(k)
	}
	return list(out)
}

func (s say) purposes(keys []string) string {
	return s.each(keys, func(k string) string { return nameOr(s.r.PurposeNames, k) })
}

func (s say) categories(keys []string) string {
	return s.each(keys, func(k string) string { return nameOr(s.r.CategoryNames, k) })
}

func (s say) dataSubjects(keys []string) string {
	return s.each(keys, func(k string) string { return nameOr(s.r.DataSubjectNames, k) })
}

func (s say) bases(keys []string) string { return s.each(keys, words.LegalBasisCited) }

func (s say) condition(key string) string {
	if key == "" {
		return ""
	}
	return s.each([]string{key}, words.SpecialCondition)
}

func (s say) role(key string) string { return s.each([]string{key}, words.Role) }

func (s say) duration(iso string) string { return s.each([]string{iso}, words.DurationOr) }

// transfer is where a recipient's country stands and what covers the
// transfer: words.Transfer, or for machines the country's status and the
// safeguard's keys ("third_country/scc", "eea/none").
func (s say) transfer(country, safeguard string) string {
	if s.keys {
		return words.CountryStatus(country) + "/" + cmp.Or(safeguard, events.SafeguardNone)
	}
	return words.Transfer(country, safeguard)
}

// time is an instant: to the day for people, RFC 3339 for machines.
func (s say) time(t time.Time) string {
	if s.keys {
		return ts(t)
	}
	return words.Date(t)
}

func (s say) timep(t *time.Time) string {
	if t == nil {
		return ""
	}
	return s.time(*t)
}

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
	kindTime             // a day, say.time (an RFC 3339 instant for machines)
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

// ControllerRows are the Art. 30(1) rows, in words for people.
func (r *Record) ControllerRows() [][]string { return r.forPeople().controllerRows() }

func (s say) controllerRows() [][]string {
	r := s.r
	rows := make([][]string, 0, len(r.Activities))
	for i := range r.Activities {
		a := &r.Activities[i]
		adm := a.AutomatedDecisions != "" && !strings.EqualFold(a.AutomatedDecisions, "none")
		rows = append(rows, append([]string{
			a.ID, a.Name, orNot(a.BusinessFunction), s.purposes(a.Purposes), r.jointFor(a.ID),
			s.dataSubjects(a.DataSubjects), s.categories(a.DataCategories), s.recipients(a.Recipients, a.DataCategories), contracts(a.Recipients),
			orNone(list(a.ThirdCountries)), s.safeguards(a), s.retention(a.Retention), orNot(list(a.SecurityMeasures)),
			orNot(s.bases(a.LegalBases)), orNone(s.condition(a.SpecialCondition)),
			a.LegitimateInterest, a.LIAReference, rightsFor(a.LegalBases, adm),
			orNone(a.AutomatedDecisions), s.sources(a.Activity), consentRecord(&a.Activity), list(a.Locations),
			yesNo(a.DPIARequired), dpiaProgress(&a.Activity), dpiaLink(&a.Activity),
			yesNo(a.BreachOccurred), breachRecord(&a.Activity), list(a.Systems),
		}, s.evidenceCells(a)...))
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

// CNILRows are the controller's activities in the CNIL's order, in
// words for people.
func (r *Record) CNILRows() [][]string { return r.forPeople().cnilRows() }

func (s say) cnilRows() [][]string {
	r := s.r
	rows := make([][]string, 0, len(r.Activities))
	for i := range r.Activities {
		a := &r.Activities[i]
		var transfers, docs, history []string
		for _, rc := range a.Recipients {
			if requires(rc.Country) {
				transfers = append(transfers, fmt.Sprintf("%s (%s): %s", rc.Name, rc.Country, s.transfer(rc.Country, rc.Safeguard)))
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
			r.Controller.Name, orNot(r.Controller.DPO.String()), s.purposes(a.Purposes), orNot(a.Description),
			s.dataSubjects(a.DataSubjects), s.categories(a.DataCategories), orNone(s.condition(a.SpecialCondition)),
			s.retention(a.Retention), s.recipients(a.Recipients, a.DataCategories), orNone(list(transfers)), orNone(list(docs))}
		for _, g := range a.Security.Groups() {
			row = append(row, orNot(list(g.Measures)))
		}
		rows = append(rows, append(row, orNot(list(history))))
	}
	return rows
}

// ProcessorRows are the Art. 30(2) rows, in words for people.
func (r *Record) ProcessorRows() [][]string { return r.forPeople().processorRows() }

func (s say) processorRows() [][]string {
	r := s.r
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
				s.dataSubjects(a.DataSubjects), s.categories(a.DataCategories), s.recipients(a.Recipients, a.DataCategories),
				orNone(list(a.ThirdCountries)), s.safeguards(a), s.retention(a.Retention), orNot(list(a.SecurityMeasures)),
				list(a.Locations), list(a.Systems),
			}, s.evidenceCells(a)...))
		}
	}
	return rows
}

// UndeclaredRows are the observed processing no activity declares, in
// words for people.
func (r *Record) UndeclaredRows() [][]string { return r.forPeople().undeclaredRows() }

func (s say) undeclaredRows() [][]string {
	r := s.r
	rows := make([][]string, 0, len(r.Undeclared))
	for _, o := range r.Undeclared {
		kind, basis, role := o.Kind, o.LegalBasis, o.Role
		if !s.keys {
			kind, basis, role = words.Kind(kind), words.LegalBasisCited(basis), words.Role(role)
		}
		rows = append(rows, []string{kind, o.System, s.categories([]string{o.Category}), s.dataSubjects([]string{o.DataSubject}),
			s.purposes([]string{o.Purpose}), basis, o.Recipient, role, o.Country, s.undeclaredSafeguard(o), s.duration(o.Retention),
			u(o.Events), u(o.Records), s.time(o.FirstSeen), s.time(o.LastSeen)})
	}
	return rows
}

// undeclaredSafeguard is the safeguard of an observed disclosure; a
// collection has no recipient and no safeguard.
func (s say) undeclaredSafeguard(o Observation) string {
	if o.Recipient == "" {
		return ""
	}
	return s.transfer(o.Country, o.Safeguard)
}

// FindingRows are the drift findings, in words for people.
func (r *Record) FindingRows() [][]string { return r.forPeople().findingRows(r.Findings) }

// FindingRows renders findings as table rows, as the record's JSON keeps
// them (keys, RFC 3339 instants): for CSV and the CLI.
func FindingRows(fs []Finding) [][]string { return say{r: &Record{}, keys: true}.findingRows(fs) }

func (s say) findingRows(fs []Finding) [][]string {
	rows := make([][]string, 0, len(fs))
	for _, f := range fs {
		row := []string{f.Severity.String(), f.Kind, f.Activity, f.About, f.Message, f.Action}
		if !s.keys {
			row[1], row[3] = strings.ReplaceAll(f.Kind, "_", " "), s.about(f.About)
		}
		if e := f.Evidence; e != nil {
			row = append(row, u(e.Events), u(e.Records), s.timep(e.FirstSeen), s.timep(e.LastSeen), list(e.Systems), s.categories(e.Categories))
		} else {
			row = append(row, "0", "0", "", "", "", "")
		}
		rows = append(rows, row)
	}
	return rows
}

// about is what a finding is about, with the key after "system: " in
// words: "voip-platform: Call detail records".
func (s say) about(about string) string {
	i := strings.LastIndex(about, ": ")
	if i < 0 {
		return about
	}
	k := about[i+2:]
	for _, m := range []map[string]string{s.r.CategoryNames, s.r.PurposeNames, s.r.DataSubjectNames} {
		if n, ok := m[k]; ok {
			return about[:i+2] + n
		}
	}
	return about
}

func (s say) evidenceCells(a *ActivityRecord) []string {
	r := s.r
	e := a.Evidence
	var systems, recips []string
	for _, s := range e.Systems {
		systems = append(systems, fmt.Sprintf("%s (%s)", s.System, words.Count(int(s.Events), "event", "events")))
	}
	for _, rc := range e.Recipients {
		line := fmt.Sprintf("%s (%s, %s, %s; %s)", rc.Name, s.role(rc.Role), rc.Country, s.transfer(rc.Country, rc.Safeguard), words.Count(int(rc.Events), "event", "events"))
		if !rc.Declared {
			line += " UNDECLARED"
		}
		recips = append(recips, line)
	}
	return []string{u(e.Events), u(e.Records), u(e.Erased), s.timep(e.FirstSeen), s.timep(e.LastSeen),
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

// recipients lists an activity's recipients with what each receives. A
// recipient that names no categories receives all the activity's
// (registry.Recipient.Categories), so those are listed: a recipient shown
// without categories would read as one that receives nothing.
func (s say) recipients(rs []registry.Recipient, activityCategories []string) string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		line := fmt.Sprintf("%s (%s, %s)", r.Name, s.role(r.Role), r.Country)
		received := r.Categories
		if len(received) == 0 {
			received = activityCategories
		}
		if len(received) > 0 {
			line += ": " + strings.ReplaceAll(s.categories(received), "; ", ", ")
		}
		out = append(out, line)
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

func (s say) safeguards(a *ActivityRecord) string {
	var out []string
	for _, r := range a.Recipients {
		if requires(r.Country) {
			out = append(out, fmt.Sprintf("%s (%s): %s", r.Name, r.Country, s.transfer(r.Country, r.Safeguard)))
		}
	}
	return orNone(list(out))
}

func (s say) retention(rs []registry.Retention) string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		line := s.categories([]string{r.Category}) + ": " + s.duration(r.Period)
		if r.Note != "" {
			line += " (" + r.Note + ")"
		}
		out = append(out, line)
	}
	return orNot(list(out))
}

// sources says where an activity's data comes from: "from the person",
// "from a third party" (the keys for machines), then the registry's note.
func (s say) sources(a registry.Activity) string {
	out := s.each(a.Sources, words.Origin)
	if a.SourceNote != "" {
		out = strings.TrimPrefix(out+"; "+a.SourceNote, "; ")
	}
	return out
}

func u(n uint64) string { return strconv.FormatUint(n, 10) }

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }
