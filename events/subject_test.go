package events_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/subjectref"
	"github.com/back-trace/datamap/events/taxonomy"
)

const ref = "sr1:k2nac3jx5imyn7wdwie6u3ntmlps3w2skukb4xt6zzyvckwlkt3a"

// personEvent is a valid event of a kind about one person, with data
// members replaced by data (a JSON object body).
func personEvent(kind, data string) string {
	return `{"specversion":"1.0","id":"e-1","source":"sms-gateway","type":"com.back-trace.datamap.data.` + kind +
		`.v1","time":"2026-11-01T10:00:00Z","data":{` + data + `}}`
}

const collectedWithRef = `{"specversion":"1.0","id":"e-2","source":"crm","type":"com.back-trace.datamap.data.collected.v1",
 "time":"2026-11-01T10:00:00Z","data":{"category":"account.contact","data_subject":"customer","purpose":"service_delivery",
 "legal_basis":"contract","retention":"P3Y","subject_ref":"` + ref + `"}}`

func TestDecodeEventsAboutAPerson(t *testing.T) {
	v := events.NewValidator(taxonomy.Default())
	for kind, data := range map[string]string{
		"consent_given":     `"data_subject":"customer","subject_ref":"` + ref + `","purpose":"marketing","channel":"web_form"`,
		"consent_withdrawn": `"data_subject":"call_party","subject_ref":"` + ref + `","purpose":"marketing","channel":"sms_stop"`,
		"request_received":  `"data_subject":"customer","subject_ref":"` + ref + `","right":"erasure","channel":"email"`,
		"request_completed": `"data_subject":"customer","subject_ref":"` + ref + `","right":"erasure","count":1`,
		"request_refused":   `"data_subject":"customer","subject_ref":"` + ref + `","right":"access","grounds":"identity_not_verified"`,
	} {
		ev, err := v.Decode([]byte(personEvent(kind, data)))
		if err != nil {
			t.Errorf("%s: %v", kind, err)
			continue
		}
		if string(ev.Kind) != kind || ev.Data.SubjectRef != ref || ev.Data.Count != 1 {
			t.Errorf("%s decoded as %+v", kind, ev)
		}
		// The encoders write it back in a form the decoder accepts.
		raw, err := events.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Decode(raw); err != nil {
			t.Errorf("%s: its encoding is refused: %v\n%s", kind, err, raw)
		}
		if strings.Contains(string(raw), `"subject":`) || strings.Contains(string(raw), `"category"`) {
			t.Errorf("%s: encoded with a data category: %s", kind, raw)
		}
	}
	ev, err := v.Decode([]byte(collectedWithRef))
	if err != nil || ev.Data.SubjectRef != ref {
		t.Fatalf("collected with a ref: %+v, %v", ev, err)
	}
}

// TestDecodeRejectsBadSubjectInput: every new field and type refuses bad
// input with a problem on the field, and never repeats an identifier.
func TestDecodeRejectsBadSubjectInput(t *testing.T) {
	v := events.NewValidator(taxonomy.Default())
	withdrawn := `"data_subject":"call_party","subject_ref":"` + ref + `","purpose":"marketing","channel":"sms_stop"`
	cases := []struct {
		name, event, field, says string
	}{
		{"malformed ref", strings.Replace(collectedWithRef, ref, "sr1:abc", 1), "data.subject_ref", "characters long"},
		{"a ref that is an e-mail", strings.Replace(collectedWithRef, ref, "ann@example.org", 1), "data.subject_ref", "looks like an e-mail address"},
		{"a ref that is a phone number", strings.Replace(collectedWithRef, ref, "+31 20 123 4567", 1), "data.subject_ref", "phone or customer number"},
		{"a ref altered in its last character", strings.Replace(collectedWithRef, ref, ref[:len(ref)-1]+"b", 1), "data.subject_ref", "last character"},
		{"a ref with count > 1", strings.Replace(collectedWithRef, `"retention":"P3Y"`, `"retention":"P3Y","count":20`, 1), "data.subject_ref", "count is 20"},
		{"a ref of the wrong type", strings.Replace(collectedWithRef, `"`+ref+`"`, `42`, 1), "data.subject_ref", "string"},
		{"withdrawal without purpose", personEvent("consent_withdrawn", strings.Replace(withdrawn, `"purpose":"marketing",`, ``, 1)), "data.purpose", "required"},
		{"withdrawal for an unknown purpose", personEvent("consent_withdrawn", strings.Replace(withdrawn, `"marketing"`, `"spam"`, 1)), "data.purpose", "not a purpose"},
		{"withdrawal without ref", personEvent("consent_withdrawn", strings.Replace(withdrawn, `"subject_ref":"`+ref+`",`, ``, 1)), "data.subject_ref", "required"},
		{"unknown channel", personEvent("consent_withdrawn", strings.Replace(withdrawn, `"sms_stop"`, `"carrier_pigeon"`, 1)), "data.channel", "not allowed"},
		{"consent without channel", personEvent("consent_given", strings.Replace(withdrawn, `,"channel":"sms_stop"`, ``, 1)), "data.channel", "required"},
		{"consent with a category", personEvent("consent_given", withdrawn+`,"category":"billing"`), "data.category", "not allowed"},
		{"consent with a count of 3", personEvent("consent_given", withdrawn+`,"count":3`), "data.subject_ref", "count is 3"},
		{"request without ref", personEvent("request_received", `"data_subject":"customer","right":"erasure"`), "data.subject_ref", "required"},
		{"request with an e-mail for a ref", personEvent("request_received", `"data_subject":"customer","subject_ref":"ann@example.org","right":"erasure"`), "data.subject_ref", "e-mail"},
		{"unknown right", personEvent("request_received", `"data_subject":"customer","subject_ref":"`+ref+`","right":"to_be_forgotten_quickly"`), "data.right", "not allowed"},
		{"request without right", personEvent("request_completed", `"data_subject":"customer","subject_ref":"`+ref+`"`), "data.right", "required"},
		{"request with a purpose", personEvent("request_completed", `"data_subject":"customer","subject_ref":"`+ref+`","right":"access","purpose":"marketing"`), "data.purpose", "not allowed"},
		{"refusal without grounds", personEvent("request_refused", `"data_subject":"customer","subject_ref":"`+ref+`","right":"access"`), "data.grounds", "required"},
		{"unknown grounds", personEvent("request_refused", `"data_subject":"customer","subject_ref":"`+ref+`","right":"access","grounds":"busy"`), "data.grounds", "not allowed"},
		{"grounds on a completion", personEvent("request_completed", `"data_subject":"customer","subject_ref":"`+ref+`","right":"access","grounds":"excessive"`), "data.grounds", "not allowed"},
		{"right on a collection", strings.Replace(collectedWithRef, `"retention":"P3Y"`, `"retention":"P3Y","right":"erasure"`, 1), "data.right", "not allowed"},
		{"unknown data-subject", personEvent("request_received", `"data_subject":"martian","subject_ref":"`+ref+`","right":"access"`), "data.data_subject", "not a data-subject"},
	}
	for _, c := range cases {
		_, err := v.Decode([]byte(c.event))
		var ve *events.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: accepted or not a ValidationError: %v", c.name, err)
			continue
		}
		if msg := ve.Field(c.field); !strings.Contains(msg, c.says) {
			t.Errorf("%s: %s says %q; want %q (all: %v)", c.name, c.field, msg, c.says, err)
		}
		for _, id := range []string{"ann@example.org", "+31 20 123 4567"} {
			if strings.Contains(c.event, id) && strings.Contains(err.Error(), id) {
				t.Errorf("%s: the error repeats the identifier: %v", c.name, err)
			}
		}
	}
}

// FuzzDecodeAboutAPerson: whatever the bytes, Decode does not panic, and an
// accepted event's reference is well-formed and on an event about one
// person.
func FuzzDecodeAboutAPerson(f *testing.F) {
	f.Add([]byte(collectedWithRef))
	f.Add([]byte(personEvent("consent_withdrawn", `"data_subject":"call_party","subject_ref":"`+ref+`","purpose":"marketing","channel":"sms_stop"`)))
	f.Add([]byte(personEvent("request_refused", `"data_subject":"customer","subject_ref":"`+ref+`","right":"access","grounds":"excessive"`)))
	f.Add([]byte(personEvent("request_received", `"data_subject":"customer","subject_ref":"ann@example.org","right":"erasure"`)))
	v := events.NewValidator(taxonomy.Default())
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := v.Decode(raw)
		if err != nil {
			return
		}
		if ev.Data.SubjectRef != "" && (!subjectref.Valid(ev.Data.SubjectRef) || ev.Data.Count != 1) {
			t.Fatalf("accepted ref %q with count %d", ev.Data.SubjectRef, ev.Data.Count)
		}
		if !ev.Kind.AboutData() && ev.Data.SubjectRef == "" {
			t.Fatalf("accepted a %s event without a reference", ev.Kind)
		}
	})
}
