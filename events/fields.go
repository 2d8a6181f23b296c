package events

// Fields is the one description of an event's payload: every member of
// data (and of data.recipient), in wire order, with the kinds that require,
// allow or refuse it and the catalog column it is stored in. What reads or
// writes the payload follows it:
//
//   - the decoders' key sets (the encoding/json path's field list and the
//     fast path's key lookup);
//   - the Validator: which fields each kind requires, allows or refuses
//     (the value each takes is its entry in fieldChecks, validate.go);
//   - the ClickHouse writer's columns (package sinks/clickhouse);
//   - checked against it by TestFieldList: the Data and Recipient structs'
//     JSON tags, the encoder AppendEvent (written out for speed), the JSON
//     Schemas in package schemas, and what the Validator accepts;
//     and by the writer's tests: the columns of the migrated events table.
//
// docs/architecture.md ("Adding a payload field") says what adding one
// takes.
var Fields = []Field{
	{Key: "category", Column: "category", Type: String,
		Collected: Required, Shared: Required, Erased: Required, str: func(d *Data) *string { return &d.Category }},
	{Key: "data_subject", Column: "data_subject", Type: String, Always: true,
		Collected: Required, Shared: Required, Erased: Required, Consent: Required, RequestReceived: Required, RequestCompleted: Required, RequestRefused: Required,
		str: func(d *Data) *string { return &d.DataSubject }},
	{Key: "purpose", Column: "purpose", Type: String,
		Collected: Required, Shared: Required, Consent: Required, str: func(d *Data) *string { return &d.Purpose }},
	{Key: "legal_basis", Column: "legal_basis", Type: String,
		Collected: Required, Shared: Required, str: func(d *Data) *string { return &d.LegalBasis }},
	// Required for special categories, which only the taxonomy knows.
	{Key: "special_condition", Column: "special_condition", Type: String,
		Collected: Optional, Shared: Optional, str: func(d *Data) *string { return &d.SpecialCondition }},
	{Key: "retention", Column: "retention", Type: String,
		Collected: Required, str: func(d *Data) *string { return &d.Retention }},
	{Key: "origin", Column: "origin", Type: String,
		Collected: Optional, str: func(d *Data) *string { return &d.Origin }},
	{Key: "location", Column: "location", Type: String,
		Collected: Optional, str: func(d *Data) *string { return &d.Location }},
	{Key: "activity", Column: "activity", Type: String,
		Collected: Optional, Shared: Optional, str: func(d *Data) *string { return &d.Activity }},
	{Key: "recipient", Type: Object, Shared: Required},
	{Key: "recipient.name", Column: "recipient_name", Type: String, Always: true,
		Shared: Required, recipient: func(r *Recipient) *string { return &r.Name }},
	{Key: "recipient.role", Column: "recipient_role", Type: String, Always: true,
		Shared: Required, recipient: func(r *Recipient) *string { return &r.Role }},
	{Key: "recipient.country", Column: "recipient_country", Type: String, Always: true,
		Shared: Required, recipient: func(r *Recipient) *string { return &r.Country }},
	{Key: "recipient.safeguard", Column: "recipient_safeguard", Type: String,
		Shared: Optional, recipient: func(r *Recipient) *string { return &r.Safeguard }},
	{Key: "recipient.contract", Column: "recipient_contract", Type: String,
		Shared: Optional, recipient: func(r *Recipient) *string { return &r.Contract }},
	{Key: "reason", Column: "reason", Type: String,
		Erased: Required, str: func(d *Data) *string { return &d.Reason }},
	// A subject reference is personal data: it has no column in the events
	// table. The writer stores it, with the event's facts, in subject_refs
	// (docs/subjects.md); so are consent and request events, whole.
	{Key: "subject_ref", Type: String, SubjectOnly: true,
		Collected: Optional, Shared: Optional, Erased: Optional, Consent: Required, RequestReceived: Required, RequestCompleted: Required, RequestRefused: Required,
		str: func(d *Data) *string { return &d.SubjectRef }},
	{Key: "right", Type: String, SubjectOnly: true,
		RequestReceived: Required, RequestCompleted: Required, RequestRefused: Required, str: func(d *Data) *string { return &d.Right }},
	{Key: "channel", Type: String, SubjectOnly: true,
		Consent: Required, RequestReceived: Optional, str: func(d *Data) *string { return &d.Channel }},
	{Key: "grounds", Type: String, SubjectOnly: true,
		RequestRefused: Required, str: func(d *Data) *string { return &d.Grounds }},
	// Absent means 1.
	{Key: "count", Column: "count", Type: Integer, Always: true,
		Collected: Optional, Shared: Optional, Erased: Optional, Consent: Optional, RequestReceived: Optional, RequestCompleted: Optional, RequestRefused: Optional,
		num: func(d *Data) *int64 { return &d.Count }},
}

// Field is one member of the payload; see Fields.
type Field struct {
	// Key is the JSON key in data; members of data.recipient are
	// "recipient.name", ….
	Key string
	// Column is the column of the catalog's events table that holds it;
	// "" for the recipient object, whose members have columns of their own,
	// and for what only the subject table holds (subject_ref, right,
	// channel, grounds).
	Column string
	Type   FieldType
	// SubjectOnly: personal, or only in events about one person; the
	// events table has no column for it, the subject table holds it.
	SubjectOnly bool
	// Always: the encoder writes it even when it is empty (no omitempty).
	Always bool
	// Whether each kind of event requires, allows or refuses it. Members
	// of the recipient: when the recipient is there.
	Collected, Shared, Erased Presence
	// The same for consents (given and withdrawn) and for requests
	// received, completed and refused.
	Consent, RequestReceived, RequestCompleted, RequestRefused Presence

	str       func(*Data) *string      // a string member of data
	num       func(*Data) *int64       // an integer member of data
	recipient func(*Recipient) *string // a string member of data.recipient
}

// FieldType is the JSON type of a field's value.
type FieldType uint8

// The JSON types of fields.
const (
	String FieldType = iota + 1
	Integer
	Object
)

func (t FieldType) String() string {
	switch t {
	case String:
		return "a string"
	case Integer:
		return "an integer"
	default:
		return "an object"
	}
}

// Presence says whether a kind of event requires, allows or refuses a
// field.
type Presence uint8

// Presences, the zero value refusing.
const (
	Refused Presence = iota
	Optional
	Required
)

// In is the presence of the field in events of kind k.
func (f *Field) In(k Kind) Presence {
	switch k {
	case KindCollected:
		return f.Collected
	case KindShared:
		return f.Shared
	case KindErased:
		return f.Erased
	case KindConsentGiven, KindConsentWithdrawn:
		return f.Consent
	case KindRequestReceived:
		return f.RequestReceived
	case KindRequestCompleted:
		return f.RequestCompleted
	case KindRequestRefused:
		return f.RequestRefused
	}
	return Refused
}

// Name is the key within its object: "name" for "recipient.name".
func (f *Field) Name() string {
	if f.recipient != nil {
		return f.Key[len("recipient."):]
	}
	return f.Key
}

// InRecipient reports whether the field is a member of data.recipient.
func (f *Field) InRecipient() bool { return f.recipient != nil }

// Text is the value of a string field in d; "" when d has no recipient
// and the field is one of its members, or when the field is not a string.
func (f *Field) Text(d *Data) string {
	switch {
	case f.str != nil:
		return *f.str(d)
	case f.recipient != nil && d.Recipient != nil:
		return *f.recipient(d.Recipient)
	}
	return ""
}

// SetText sets a string field of d to v, giving d a recipient first when
// the field is one of its members; it does nothing for other fields.
func (f *Field) SetText(d *Data, v string) {
	switch {
	case f.str != nil:
		*f.str(d) = v
	case f.recipient != nil:
		if d.Recipient == nil {
			d.Recipient = new(Recipient)
		}
		*f.recipient(d.Recipient) = v
	}
}

// SetNumber sets an integer field of d to n; it does nothing for other
// fields.
func (f *Field) SetNumber(d *Data, n int64) {
	if f.num != nil {
		*f.num(d) = n
	}
}

// Number is the value of an integer field in d; 0 for other fields.
func (f *Field) Number(d *Data) int64 {
	if f.num != nil {
		return *f.num(d)
	}
	return 0
}

// The fields of data and of data.recipient, each in wire order, for the
// decoders and the encoder.
var (
	dataFields      = fieldsWhere(func(f *Field) bool { return !f.InRecipient() })
	recipientFields = fieldsWhere((*Field).InRecipient)
	// The JSON type of each key, for the encoding/json path's problems.
	dataTypes      = typesOf(dataFields)
	recipientTypes = typesOf(recipientFields)
)

func fieldsWhere(keep func(*Field) bool) []*Field {
	var fs []*Field
	for i := range Fields {
		if keep(&Fields[i]) {
			fs = append(fs, &Fields[i])
		}
	}
	return fs
}

func typesOf(fs []*Field) map[string]FieldType {
	m := make(map[string]FieldType, len(fs))
	for _, f := range fs {
		m[f.Name()] = f.Type
	}
	return m
}
