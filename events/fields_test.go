package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/back-trace/datamap/schemas"
)

// TestFieldList holds everything that reads or writes the payload to
// Fields, the one description of its members. When it fails after a field
// was added, the message says which place disagrees; docs/architecture.md
// ("Adding a payload field") lists them. The columns of the catalog's
// events table are checked against the writer, which follows Fields, by
// the tests of package sinks/clickhouse.
func TestFieldList(t *testing.T) {
	t.Run("names", func(t *testing.T) {
		plain := regexp.MustCompile(`^[a-z_]+$`) // written unescaped by AppendEvent
		seen := map[string]bool{}
		for _, f := range Fields {
			if seen[f.Key] {
				t.Errorf("%s: described twice", f.Key)
			}
			seen[f.Key] = true
			if !plain.MatchString(f.Name()) {
				t.Errorf("%s: name %q is not lowercase letters and _", f.Key, f.Name())
			}
			// The decoders and the encoder have code for count (absent
			// means 1) and recipient (an object of string members); any
			// other integer or object field needs code there first.
			switch {
			case f.Type == Integer && (f.Key != "count" || f.num == nil):
				t.Errorf("%s: the only integer field the decoders know is count", f.Key)
			case f.Type == Object && f.Key != "recipient":
				t.Errorf("%s: the only object field the decoders know is recipient", f.Key)
			case f.Type == String && (f.str == nil) == (f.recipient == nil):
				t.Errorf("%s: a string field needs exactly one accessor, str or recipient", f.Key)
			}
			if (f.Column == "") != (f.Type == Object || f.SubjectOnly) {
				t.Errorf("%s: column %q; every field but the recipient object and what only the subject table holds has one column", f.Key, f.Column)
			}
		}
		strs := 0
		for _, f := range Fields {
			if f.Type == String {
				strs++
			}
		}
		if max := len(scanner{}.vals); len(envelopeTypes)-1+strs > max {
			t.Errorf("the fast decoder keeps at most %d strings; raise scanner.vals to %d", max, len(envelopeTypes)-1+strs)
		}
	})

	t.Run("Go types", func(t *testing.T) {
		var d Data
		var r Recipient
		checkStruct(t, reflect.ValueOf(&d).Elem(), dataFields, func(f *Field) any {
			switch {
			case f.str != nil:
				return f.str(&d)
			case f.num != nil:
				return f.num(&d)
			}
			return &d.Recipient
		})
		checkStruct(t, reflect.ValueOf(&r).Elem(), recipientFields, func(f *Field) any { return f.recipient(&r) })
	})

	t.Run("encoders and decoders", func(t *testing.T) {
		for _, k := range Kinds {
			// Every field, whatever the kind: encoders and decoders do not
			// know which kinds allow what.
			ev := eventWithEvery(k, func(f *Field) string { return "v-" + f.Name() })
			ev.Data.Recipient = new(Recipient)
			for _, f := range Fields {
				switch {
				case f.str != nil:
					*f.str(&ev.Data) = "v-" + f.Name()
				case f.recipient != nil:
					*f.recipient(ev.Data.Recipient) = "v-" + f.Name()
				}
			}
			want := ev.Data
			for name, raw := range encodings(t, &ev) {
				got, ok := fastDecode(raw)
				if !ok {
					t.Fatalf("%s %s: the fast decoder refuses %s", k, name, raw)
				}
				var ref wireEventDecoded
				if err := strictUnmarshal(raw, &ref); err != nil {
					t.Fatalf("%s %s: encoding/json refuses %s: %v", k, name, raw, err)
				}
				for path, w := range map[string]*wireEventDecoded{"fast decoder": &got, "encoding/json decoder": &ref} {
					var back Event
					var ps problems
					setData(&back, w.Data, &ps)
					for _, f := range Fields {
						if got, want := valueOf(&f, &back.Data), valueOf(&f, &want); got != want {
							t.Errorf("%s: %s then %s: data.%s is %s, want %s", k, name, path, f.Key, got, want)
						}
					}
				}
			}
		}
	})

	t.Run("JSON Schemas", func(t *testing.T) {
		for _, k := range Kinds {
			raw, err := schemas.EventSchema(string(k))
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Properties struct {
					Data schemaObject `json:"data"`
				} `json:"properties"`
			}
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			name := "schemas/" + string(k) + ".v1.json"
			data := doc.Properties.Data
			checkSchema(t, name, "data", data, dataFields, k)
			if r, ok := data.Properties["recipient"]; ok {
				var rec schemaObject
				if err := json.Unmarshal(r, &rec); err != nil {
					t.Fatal(err)
				}
				checkSchema(t, name, "data.recipient", rec, recipientFields, k)
			}
		}
	})

	t.Run("validation", func(t *testing.T) {
		v := NewValidator(sampleVocabulary{})
		for _, k := range Kinds {
			valid := eventWithEvery(k, func(f *Field) string {
				if f.In(k) != Required {
					return ""
				}
				return validSample(t, f)
			})
			if valid.Data.SubjectRef != "" {
				valid.Data.Count = 1
			}
			if err := v.Validate(&valid); err != nil {
				t.Fatalf("%s: an event with every required field set is refused: %v", k, err)
			}
			for i := range Fields {
				f := &Fields[i]
				if f.Type == Integer {
					continue // count: any event may carry one; Validate checks its value
				}
				ev := eventWithEvery(k, func(g *Field) string {
					if g.In(k) == Required && g != f || g == f && f.In(k) != Required {
						return validSample(t, g)
					}
					return ""
				})
				if f.In(k) == Refused && f.str != nil {
					*f.str(&ev.Data) = validSample(t, f)
				}
				if ev.Data.SubjectRef != "" {
					ev.Data.Count = 1 // an event about one person
				}
				if f.Key == "special_condition" && f.In(k) == Optional {
					ev.Data.Category = "billing.health" // special: the condition is allowed
				}
				if f.Type == Object {
					ev.Data.Recipient = valid.Data.Recipient
					if f.In(k) == Required {
						ev.Data.Recipient = nil
					} else if ev.Data.Recipient == nil {
						ev.Data.Recipient = &Recipient{Name: "n", Role: RoleProcessor, Country: "DE"}
					}
				}
				err := v.Validate(&ev)
				var ve *ValidationError
				problem := ""
				if err != nil {
					if !errors.As(err, &ve) {
						t.Fatalf("%s: %v", k, err)
					}
					problem = ve.Field("data." + f.Key)
				}
				switch p := f.In(k); {
				case p == Required && problem == "":
					t.Errorf("%s: data.%s is Required in Fields, but Validate accepts the event without it", k, f.Key)
				case p == Refused && problem == "" && !f.InRecipient():
					t.Errorf("%s: data.%s is Refused in Fields, but Validate accepts it; say so in validate.go", k, f.Key)
				case p == Optional && err != nil:
					t.Errorf("%s: data.%s is Optional in Fields, but Validate refuses %q: %v", k, f.Key, f.Text(&ev.Data), err)
				}
			}
		}
	})
}

// checkStruct checks that the JSON tags of a Go struct are the names of
// fs, in order, that omitempty is on exactly the fields not Always
// written, and that each field's accessor reaches the Go field of its name.
func checkStruct(t *testing.T, base reflect.Value, fs []*Field, access func(*Field) any) {
	t.Helper()
	typ := base.Type()
	var tags, names []string
	for i := range typ.NumField() {
		tag := typ.Field(i).Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		tags = append(tags, name)
		f := fieldNamed(fs, name)
		if f == nil {
			continue
		}
		if f.Always == strings.Contains(opts, "omitempty") {
			t.Errorf("%s.%s: json tag %q, but Fields says Always: %v", typ.Name(), typ.Field(i).Name, tag, f.Always)
		}
		if reflect.ValueOf(access(f)).Pointer() != base.Field(i).Addr().Pointer() {
			t.Errorf("%s: the accessor in Fields does not reach %s.%s", f.Key, typ.Name(), typ.Field(i).Name)
		}
	}
	for _, f := range fs {
		names = append(names, f.Name())
	}
	if !slices.Equal(tags, names) {
		t.Errorf("%s has the JSON fields %v; Fields describes %v, in that order", typ.Name(), tags, names)
	}
}

// valueOf is the value of a string or integer field in d, quoted.
func valueOf(f *Field, d *Data) string {
	if f.Type == Integer {
		return fmt.Sprint(f.Number(d))
	}
	return fmt.Sprintf("%q", f.Text(d))
}

func fieldNamed(fs []*Field, name string) *Field {
	if i := fieldIndex(fs, name); i >= 0 {
		return fs[i]
	}
	return nil
}

// eventWithEvery is an event of kind k whose string fields are value(f)
// wherever k does not refuse them, with a recipient where k takes one.
func eventWithEvery(k Kind, value func(*Field) string) Event {
	ev := Event{ID: "01934f7e-7c1a-7b3e-9d2a-5f0c8e1b2a43", Source: "billing-api", Kind: k,
		Time: time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC), Data: Data{Count: 7}}
	for _, f := range dataFields {
		if f.In(k) == Refused {
			continue
		}
		switch {
		case f.Type == Object:
			ev.Data.Recipient = new(Recipient)
		case f.str != nil:
			*f.str(&ev.Data) = value(f)
		}
	}
	for _, f := range recipientFields {
		if ev.Data.Recipient != nil && f.In(k) != Refused {
			*f.recipient(ev.Data.Recipient) = value(f)
		}
	}
	return ev
}

// encodings are ev's wire forms, from each encoder.
func encodings(t *testing.T, ev *Event) map[string][]byte {
	t.Helper()
	viaSDK, err := Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{"AppendEvent": AppendEvent(nil, ev, trace.SpanContext{}), "Encode": viaSDK}
}

type schemaObject struct {
	Required   []string                   `json:"required"`
	Properties map[string]json.RawMessage `json:"properties"`
}

// checkSchema compares the members an object schema allows and requires
// with the fields of fs that kind k allows and requires.
func checkSchema(t *testing.T, file, path string, obj schemaObject, fs []*Field, k Kind) {
	t.Helper()
	var allowed, required, described, wantRequired []string
	for _, f := range fs {
		if f.In(k) == Refused {
			continue
		}
		allowed = append(allowed, f.Name())
		if f.In(k) == Required {
			wantRequired = append(wantRequired, f.Name())
		}
		var prop struct {
			Type string `json:"type"`
		}
		if raw, ok := obj.Properties[f.Name()]; ok {
			if err := json.Unmarshal(raw, &prop); err != nil {
				t.Fatal(err)
			}
			if want := map[FieldType]string{String: "string", Integer: "integer", Object: "object"}[f.Type]; prop.Type != want {
				t.Errorf("%s: %s.%s has type %q; Fields says %s", file, path, f.Name(), prop.Type, want)
			}
		}
	}
	for name := range obj.Properties {
		described = append(described, name)
	}
	required = obj.Required
	slices.Sort(allowed)
	slices.Sort(described)
	slices.Sort(required)
	slices.Sort(wantRequired)
	if !slices.Equal(allowed, described) {
		t.Errorf("%s: %s has the properties %v; Fields allows %v in %s events", file, path, described, allowed, k)
	}
	if !slices.Equal(required, wantRequired) {
		t.Errorf("%s: %s requires %v; Fields requires %v in %s events", file, path, required, wantRequired, k)
	}
}

// validSample is a valid value of a string field, for the validation
// check: a new field needs one here.
func validSample(t *testing.T, f *Field) string {
	samples := map[string]string{"category": "billing.invoice", "data_subject": "customer", "purpose": "invoicing",
		"legal_basis": LegalBasisContract, "special_condition": "employment", "retention": "P7Y",
		"origin": OriginDataSubject, "location": "DE", "activity": "billing", "reason": ReasonRetention,
		"recipient.name": "Stripe", "recipient.role": RoleProcessor, "recipient.country": "US",
		"recipient.safeguard": SafeguardSCC, "recipient.contract": "DPA-17",
		"subject_ref": "sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a", "right": RightErasure,
		"channel": ChannelSMSStop, "grounds": "legal_obligation"}
	if f.Type != String {
		return ""
	}
	v, ok := samples[f.Key]
	if !ok {
		t.Fatalf("no valid sample value of data.%s: add one to validSample in fields_test.go", f.Key)
	}
	return v
}

// sampleVocabulary knows the keys of validSample, and billing.health, a
// special category, where special_condition is allowed.
type sampleVocabulary struct{}

func (sampleVocabulary) IsCategory(key string) (known, special bool) {
	return key == "billing.invoice" || key == "billing.health", key == "billing.health"
}
func (sampleVocabulary) IsPurpose(key string) bool     { return key == "invoicing" }
func (sampleVocabulary) IsDataSubject(key string) bool { return key == "customer" }
