package events

import (
	"slices"
	"strings"
	"time"

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
	if ev.Data.Count < 1 {
		ps.add("data.count", "%d records is not possible; count must be 1 or more", ev.Data.Count)
	}
	v.check(ev, &ps)
	return ps.err(ev.ID)
}

// maxText bounds free-text attributes; they name things, they don't describe them.
const maxText = 200

// check validates the attributes and the payload of a decoded event against
// the contract of its kind. Decoding problems are already in ps.
func (v *Validator) check(ev *Event, ps *problems) {
	checkText(ps, "id", ev.ID, true)
	checkName(ps, "source", ev.Source, true)
	if !ev.Time.IsZero() { // zero: "required", said by Validate; or 0001-01-01, said by decoded
		checkTime(ps, ev.Time, time.Now())
	}
	checkTraceContext(ps, ev.TraceParent, ev.TraceState)
	checkDataSchema(ps, ev.DataSchema)
	checkExtensions(ps, ev.Extensions)
	d := &ev.Data
	if ev.Kind == "" {
		return // unknown type: its fields cannot be checked
	}
	v.checkDataSubject(ps, d)
	v.checkSubjectRef(ps, ev)
	if !ev.Kind.AboutData() {
		v.checkPersonEvent(ps, ev)
		checkPersonalValues(ps, ev)
		return
	}
	v.checkCategory(ps, d)
	notAllowed := func(field, value string) {
		if value != "" {
			ps.add("data."+field, "not allowed in %s events", ev.Kind)
		}
	}
	notAllowed("right", d.Right)
	notAllowed("channel", d.Channel)
	notAllowed("grounds", d.Grounds)
	switch ev.Kind {
	case KindCollected, KindShared:
		v.checkPurpose(ps, d)
		notAllowed("reason", d.Reason)
	case KindErased:
		notAllowed("purpose", d.Purpose)
		notAllowed("legal_basis", d.LegalBasis)
		notAllowed("special_condition", d.SpecialCondition)
		notAllowed("activity", d.Activity)
		checkEnum(ps, "data.reason", d.Reason, Reasons, true)
	}
	switch ev.Kind {
	case KindCollected:
		if d.Recipient != nil {
			ps.add("data.recipient", "not allowed in collected events; publish a shared event for the disclosure")
		}
		if d.Retention == "" {
			ps.add("data.retention", "required: how long the data is kept, as an ISO 8601 duration such as P7Y or P18M")
		} else if err := checkDuration(d.Retention); err != nil {
			ps.add("data.retention", "%q is not an ISO 8601 duration such as P7Y, P18M or P30D", d.Retention)
		}
		checkEnum(ps, "data.origin", d.Origin, Origins, false)
		if d.Location != "" {
			checkCountry(ps, "data.location", d.Location)
		}
	case KindShared:
		notAllowed("retention", d.Retention)
		notAllowed("origin", d.Origin)
		notAllowed("location", d.Location)
		checkRecipient(ps, d.Recipient)
	case KindErased:
		notAllowed("retention", d.Retention)
		notAllowed("origin", d.Origin)
		notAllowed("location", d.Location)
		if d.Recipient != nil {
			ps.add("data.recipient", "not allowed in erased events")
		}
	}
	checkPersonalValues(ps, ev)
}

func (v *Validator) checkDataSubject(ps *problems, d *Data) {
	if d.DataSubject == "" {
		ps.add("data.data_subject", "required: whose data it is, e.g. customer")
	} else if !v.vocab.IsDataSubject(d.DataSubject) {
		ps.add("data.data_subject", "%q is not a data-subject category of the taxonomy", d.DataSubject)
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

// checkPersonEvent checks the payload of a consent or request event.
func (v *Validator) checkPersonEvent(ps *problems, ev *Event) {
	d := &ev.Data
	notAllowed := func(field, value string) {
		if value != "" {
			ps.add("data."+field, "not allowed in %s events", ev.Kind)
		}
	}
	for _, f := range []struct{ field, value string }{{"category", d.Category}, {"legal_basis", d.LegalBasis},
		{"special_condition", d.SpecialCondition}, {"retention", d.Retention}, {"origin", d.Origin},
		{"location", d.Location}, {"activity", d.Activity}, {"reason", d.Reason}} {
		notAllowed(f.field, f.value)
	}
	if d.Recipient != nil {
		ps.add("data.recipient", "not allowed in %s events", ev.Kind)
	}
	switch ev.Kind {
	case KindConsentGiven, KindConsentWithdrawn:
		if d.Purpose == "" {
			ps.add("data.purpose", "required: the purpose the consent is for, a taxonomy purpose key such as marketing")
		} else if !v.vocab.IsPurpose(d.Purpose) {
			ps.add("data.purpose", "%q is not a purpose of the taxonomy", d.Purpose)
		}
		checkEnum(ps, "data.channel", d.Channel, Channels, true)
		notAllowed("right", d.Right)
		notAllowed("grounds", d.Grounds)
	default:
		notAllowed("purpose", d.Purpose)
		checkEnum(ps, "data.right", d.Right, Rights, true)
		if ev.Kind == KindRequestReceived {
			checkEnum(ps, "data.channel", d.Channel, Channels, false)
		} else {
			notAllowed("channel", d.Channel)
		}
		if ev.Kind == KindRequestRefused {
			checkEnum(ps, "data.grounds", d.Grounds, Grounds, true)
		} else {
			notAllowed("grounds", d.Grounds)
		}
	}
}

func (v *Validator) checkCategory(ps *problems, d *Data) {
	if d.Category == "" {
		ps.add("data.category", "required: a taxonomy category key such as billing.payment_token")
		return
	}
	known, special := v.vocab.IsCategory(d.Category)
	if !known {
		ps.add("data.category", "%q is not a category of the taxonomy; see `datamap taxonomy` for the keys", d.Category)
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

func (v *Validator) checkPurpose(ps *problems, d *Data) {
	if d.Purpose == "" {
		ps.add("data.purpose", "required: why the data is processed, a taxonomy purpose key such as payment_processing")
	} else if !v.vocab.IsPurpose(d.Purpose) {
		ps.add("data.purpose", "%q is not a purpose of the taxonomy", d.Purpose)
	}
	checkEnum(ps, "data.legal_basis", d.LegalBasis, LegalBases, true)
	checkName(ps, "data.activity", d.Activity, false)
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
		look(f.field, f.value)
	}
	if r := d.Recipient; r != nil {
		look("data.recipient.role", r.Role)
		look("data.recipient.country", r.Country)
		look("data.recipient.safeguard", r.Safeguard)
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
