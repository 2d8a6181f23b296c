package events_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
)

// collected is a valid collected event with data members replaced or added.
func collected(members string) string {
	return `{"specversion":"1.0","id":"m-1","source":"billing-api","type":"com.back-trace.datamap.data.collected.v1","time":"2026-11-01T10:00:00Z",` +
		`"data":{"category":"billing.payment_token","data_subject":"customer","purpose":"payment_processing","legal_basis":"contract","retention":"P7Y"` + members + `}}`
}

// TestOneMessagePerMistake: a mistake in one field is said once, and a
// mistyped taxonomy key comes with the key that was probably meant.
func TestOneMessagePerMistake(t *testing.T) {
	v := events.NewValidator(taxonomy.Default())
	for _, c := range []struct {
		name, doc, field, mention string
	}{
		{"count as a string", collected(`,"count":"3"`), "data.count", "must be an integer"},
		{"IP address as location", collected(`,"location":"10.0.0.1"`), "data.location", "looks like an IP address"},
		{"mistyped category", strings.Replace(collected(""), `"billing.payment_token"`, `"billing.paymnet_token"`, 1), "data.category", `did you mean "billing.payment_token"?`},
		{"capitalised data subject", strings.Replace(collected(""), `"customer"`, `"Customer"`, 1), "data.data_subject", `did you mean "customer"?`},
		{"mistyped purpose", strings.Replace(collected(""), `"payment_processing"`, `"payment_procesing"`, 1), "data.purpose", `did you mean "payment_processing"?`},
	} {
		_, err := v.Decode([]byte(c.doc))
		var ve *events.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: %v, want a ValidationError", c.name, err)
			continue
		}
		if len(ve.Problems) != 1 || ve.Problems[0].Field != c.field || !strings.Contains(ve.Problems[0].Message, c.mention) {
			t.Errorf("%s: %v; want one problem of %s mentioning %q", c.name, ve.Problems, c.field, c.mention)
		}
	}
	// A key far from every key gets no guess.
	_, err := v.Decode([]byte(strings.Replace(collected(""), `"billing.payment_token"`, `"zzz"`, 1)))
	if err == nil || strings.Contains(err.Error(), "did you mean") {
		t.Errorf("a key far from every key: %v, want no suggestion", err)
	}
}
