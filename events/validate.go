package events

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/back-trace/datamap/events/personal"
	"github.com/back-trace/datamap/events/subjectref"
)

// Vocabulary is the configured part of the contract: the keys events may
// use for categories, purposes and data subjects. A *taxonomy.Taxonomy is
// one; the Validator looks up a few keys per event, so lookups must be
// cheap and safe for concurrent use.
type Vocabulary interface {
	// IsCategory reports whether key is a category and whether it is a
	// special category (GDPR Art. 9), whose events need a special_condition.
	IsCategory(key string) (known, special bool)
	IsPurpose(key string) bool
	IsDataSubject(key string) bool
}

// Validator checks events against the contract and a vocabulary. The SDK
// and the consumer use the same Validator, so an event the SDK accepts is
// one the catalog stores. It is safe for concurrent use.
type Validator struct {
	vocab   Vocabulary
	maxSize int
}

// NewValidator returns a Validator that checks keys against vocab,
// usually taxonomy.Default() or a taxonomy loaded with taxonomy.Load.
func NewValidator(vocab Vocabulary) *Validator {
	if vocab == nil {
		panic("events.NewValidator(nil): pass a vocabulary, e.g. taxonomy.Default()")
	}
	return &Validator{vocab: vocab, maxSize: MaxEventSize}
}

// Validate checks an event built in Go (by the SDK). The error, if any, is a
// *ValidationError listing every problem found.
func (v *Validator) Validate(ev *Event) error {
	var ps problems
	if _, ok := KindOfType(ev.Kind.Type()); !ok {
		ps.add("type", "unknown kind %q; one of %s", ev.Kind, strings.Join(typeNames(), ", "))
	}
	if ev.Time.IsZero() {
		ps.add("time", "required")
	}
	if ev.Data.Count < 1 && !ps.has("data.count") {
		ps.add("data.count", "%d records is not possible; count must be 1 or more", ev.Data.Count)
	}
	v.check(ev, &ps)
	return ps.err(ev.ID)
}

// maxText bounds free-text attributes; they name things, they don't describe them.
const maxText = 200

// check validates the attributes and the payload of a decoded event against
// the contract of its kind: Fields says which payload fields the kind
// requires, allows or refuses, and fieldChecks what a valid value of each
// is. Decoding problems are already in ps.
func (v *Validator) check(ev *Event, ps *problems) {
	checkText(ps, "id", ev.ID, true)
	checkName(ps, "source", ev.Source, true)
	if !ev.Time.IsZero() { // zero: "required", said by Validate; or 0001-01-01, said by decoded
		checkTime(ps, ev.Time, time.Now())
	}
	checkTraceContext(ps, ev.TraceParent, ev.TraceState)
	checkDataSchema(ps, ev.DataSchema)
	checkExtensions(ps, ev.Extensions)
	if !slices.Contains(Kinds, ev.Kind) {
		return // unknown type: its fields cannot be checked
	}
	d := &ev.Data
	for i := range Fields {
		f := &Fields[i]
		check := checkOfField[i]
		switch {
		case f.InRecipient() || check == nil:
			// Members of the recipient are checked with it; count by
			// Decode and Validate.
		case f.In(ev.Kind) == Refused:
			if f.Type == Object && d.Recipient != nil || f.Text(d) != "" {
				ps.add("data."+f.Key, "%s", refusal(f, ev.Kind))
			}
		default:
			check(v, ps, ev, f.In(ev.Kind) == Required)
		}
	}
	checkPersonalValues(ps, ev)
}

// refusal says why a kind of event cannot carry a field.
func refusal(f *Field, k Kind) string {
	if f.Key == "recipient" && k == KindCollected {
		return "not allowed in collected events; publish a shared event for the disclosure"
	}
	return "not allowed in " + string(k) + " events"
}

// fieldCheck checks the value of one payload field of an event whose kind
// allows it; required says whether the kind requires it.
type fieldCheck func(v *Validator, ps *problems, ev *Event, required bool)

// fieldChecks say what a valid value of each payload field is, by key. The
// special condition is checked with the category it depends on, the
// members of the recipient with the recipient.
var fieldChecks = map[string]fieldCheck{
	"category":          func(v *Validator, ps *problems, ev *Event, _ bool) { v.checkCategory(ps, &ev.Data) },
	"data_subject":      func(v *Validator, ps *problems, ev *Event, _ bool) { v.checkDataSubject(ps, &ev.Data) },
	"purpose":           (*Validator).checkPurpose,
	"legal_basis":       enumCheck("data.legal_basis", func(d *Data) string { return d.LegalBasis }, LegalBases),
	"special_condition": func(*Validator, *problems, *Event, bool) {},
	"retention":         checkRetention,
	"origin":            enumCheck("data.origin", func(d *Data) string { return d.Origin }, Origins),
	"location": func(_ *Validator, ps *problems, ev *Event, _ bool) {
		if ev.Data.Location != "" {
			checkCountry(ps, "data.location", ev.Data.Location)
		}
	},
	"activity": func(_ *Validator, ps *problems, ev *Event, _ bool) {
		checkName(ps, "data.activity", ev.Data.Activity, false)
	},
	"recipient":   func(_ *Validator, ps *problems, ev *Event, _ bool) { checkRecipient(ps, ev.Data.Recipient) },
	"reason":      enumCheck("data.reason", func(d *Data) string { return d.Reason }, Reasons),
	"subject_ref": func(v *Validator, ps *problems, ev *Event, _ bool) { v.checkSubjectRef(ps, ev) },
	"right":       enumCheck("data.right", func(d *Data) string { return d.Right }, Rights),
	"channel":     enumCheck("data.channel", func(d *Data) string { return d.Channel }, Channels),
	"grounds":     enumCheck("data.grounds", func(d *Data) string { return d.Grounds }, Grounds),
}

// checkOfField is fieldChecks in the order of Fields, so that validating
// an event looks nothing up.
var checkOfField = func() []fieldCheck {
	out := make([]fieldCheck, len(Fields))
	for i, f := range Fields {
		out[i] = fieldChecks[f.Key]
	}
	return out
}()

// enumCheck checks a field whose values are a fixed list.
func enumCheck(field string, value func(*Data) string, allowed []string) fieldCheck {
	return func(_ *Validator, ps *problems, ev *Event, required bool) {
		checkEnum(ps, field, value(&ev.Data), allowed, required)
	}
}

func checkRetention(_ *Validator, ps *problems, ev *Event, required bool) {
	d := &ev.Data
	if d.Retention == "" {
		if required {
			ps.add("data.retention", "required: how long the data is kept, as an ISO 8601 duration such as P7Y or P18M")
		}
	} else if err := checkDuration(d.Retention); err != nil {
		ps.add("data.retention", "%q is not an ISO 8601 duration such as P7Y, P18M or P30D", d.Retention)
	}
}

func (v *Validator) checkDataSubject(ps *problems, d *Data) {
	if d.DataSubject == "" {
		ps.add("data.data_subject", "required: whose data it is, e.g. customer")
	} else if !v.vocab.IsDataSubject(d.DataSubject) {
		ps.add("data.data_subject", "%q is not a data-subject category of the taxonomy%s", d.DataSubject, v.didYouMean("data_subject", d.DataSubject))
	}
}

// checkSubjectRef checks a subject reference: only a well-formed one, so
// that an e-mail address or a phone number can never travel in the field,
// and only on an event about one person. The error never repeats the value.
func (v *Validator) checkSubjectRef(ps *problems, ev *Event) {
	d := &ev.Data
	if d.SubjectRef == "" {
		if !ev.Kind.AboutData() {
			ps.add("data.subject_ref", "required: the subject reference (sr1:…) of the person the %s event is about; compute it with the subject key (docs/subjects.md)", ev.Kind)
		}
		return
	}
	if err := subjectref.Check(d.SubjectRef); err != nil {
		ps.add("data.subject_ref", "%v", err)
	}
	if d.Count > 1 {
		ps.add("data.subject_ref", "an event with a subject reference is about one person, but count is %d; publish one event per person, or none of them with a reference", d.Count)
	}
}

func (v *Validator) checkCategory(ps *problems, d *Data) {
	if d.Category == "" {
		ps.add("data.category", "required: a taxonomy category key such as billing.payment_token")
		return
	}
	known, special := v.vocab.IsCategory(d.Category)
	if !known {
		ps.add("data.category", "%q is not a category of the taxonomy; see `datamap taxonomy` for the keys%s", d.Category, v.didYouMean("category", d.Category))
		return
	}
	switch {
	case special && d.SpecialCondition == "" && d.Reason == "":
		ps.add("data.special_condition", "required: %q is a special category (GDPR Art. 9); name the Art. 9(2) condition, one of %s",
			d.Category, strings.Join(SpecialConditions, ", "))
	case d.SpecialCondition != "" && !special:
		ps.add("data.special_condition", "only for special categories (GDPR Art. 9); %q is not one", d.Category)
	case d.SpecialCondition != "":
		checkEnum(ps, "data.special_condition", d.SpecialCondition, SpecialConditions, true)
	}
}

// checkPurpose checks the purpose: of the processing, or, in a consent,
// the one the consent is for.
func (v *Validator) checkPurpose(ps *problems, ev *Event, required bool) {
	d := &ev.Data
	switch {
	case d.Purpose == "" && required && !ev.Kind.AboutData():
		ps.add("data.purpose", "required: the purpose the consent is for, a taxonomy purpose key such as marketing")
	case d.Purpose == "" && required:
		ps.add("data.purpose", "required: why the data is processed, a taxonomy purpose key such as payment_processing")
	case d.Purpose != "" && !v.vocab.IsPurpose(d.Purpose):
		ps.add("data.purpose", "%q is not a purpose of the taxonomy%s", d.Purpose, v.didYouMean("purpose", d.Purpose))
	}
}

// nearestKey is a Vocabulary that can name the key nearest to a mistyped
// one (*taxonomy.Taxonomy can).
type nearestKey interface {
	Nearest(field, key string) string
}

// didYouMean returns "; did you mean …?" naming the key of the vocabulary
// nearest to key, or "".
func (v *Validator) didYouMean(field, key string) string {
	n, ok := v.vocab.(nearestKey)
	if !ok {
		return ""
	}
	if best := n.Nearest(field, key); best != "" {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return ""
}

func checkRecipient(ps *problems, r *Recipient) {
	if r == nil {
		ps.add("data.recipient", "required: who received the data ({name, role, country, safeguard, contract})")
		return
	}
	checkName(ps, "data.recipient.name", r.Name, true)
	checkEnum(ps, "data.recipient.role", r.Role, Roles, true)
	if r.Country == "" {
		ps.add("data.recipient.country", "required: ISO 3166-1 alpha-2 code of where the recipient processes the data, e.g. DE")
	} else {
		checkCountry(ps, "data.recipient.country", r.Country)
	}
	checkEnum(ps, "data.recipient.safeguard", r.Safeguard, Safeguards, false)
	checkName(ps, "data.recipient.contract", r.Contract, false)
}

func checkCountry(ps *problems, field, code string) {
	if _, ok := LookupCountry(code); !ok {
		ps.add(field, "%q is not an ISO 3166-1 alpha-2 country code (two capital letters, e.g. DE, US)", code)
	}
}

func checkEnum(ps *problems, field, value string, allowed []string, required bool) {
	if value == "" {
		if required {
			ps.add(field, "required; one of %s", strings.Join(allowed, ", "))
		}
		return
	}
	if !slices.Contains(allowed, value) {
		ps.add(field, "%q is not allowed; one of %s", value, strings.Join(allowed, ", "))
	}
}

func checkText(ps *problems, field, value string, required bool) {
	switch {
	case value == "":
		if required {
			ps.add(field, "required")
		}
	case len(value) > maxText:
		ps.add(field, "is %d bytes; at most %d", len(value), maxText)
	case strings.IndexFunc(value, isHidden) >= 0:
		ps.add(field, "contains control characters or invisible formatting ones (a zero-width space, a right-to-left override); remove them")
	}
}

func checkDuration(s string) error {
	_, err := ParseISODuration(s)
	return err
}

// checkPersonalValues refuses events that carry personal data itself. Free
// text is always scanned. The other fields must match the taxonomy or a fixed
// list, so a personal value there is already an error: they are scanned only
// when something is wrong, to name the leak instead of "unknown key", without
// costing valid events anything.
func checkPersonalValues(ps *problems, ev *Event) {
	look := func(field, value string) { lookPersonal(ps, field, value) }
	// A key or code that is a personal value has one mistake, the leak: it
	// replaces what the field's check said (not a country code, not a key).
	lookKey := func(field, value string) {
		if personal.Find(value) != "" {
			ps.drop(field)
			lookPersonal(ps, field, value)
		}
	}
	d := &ev.Data
	look("id", ev.ID)
	look("source", ev.Source)
	look("data.activity", d.Activity)
	if r := d.Recipient; r != nil {
		look("data.recipient.name", r.Name)
		look("data.recipient.contract", r.Contract)
	}
	if len(*ps) == 0 {
		return
	}
	for _, f := range []struct{ field, value string }{{"data.category", d.Category},
		{"data.data_subject", d.DataSubject}, {"data.purpose", d.Purpose}, {"data.legal_basis", d.LegalBasis},
		{"data.special_condition", d.SpecialCondition}, {"data.retention", d.Retention},
		{"data.origin", d.Origin}, {"data.location", d.Location}, {"data.reason", d.Reason}} {
		lookKey(f.field, f.value)
	}
	if r := d.Recipient; r != nil {
		lookKey("data.recipient.role", r.Role)
		lookKey("data.recipient.country", r.Country)
		lookKey("data.recipient.safeguard", r.Safeguard)
	}
}

// CheckSource says what is wrong with the name of an emitting system, as
// Validate would of an event's source, or "" when nothing is: the SDK
// checks it once, when a publisher is created.
func CheckSource(name string) string {
	var ps problems
	checkName(&ps, "source", name, true)
	if len(ps) == 0 {
		return ""
	}
	return ps[0].Message
}
