package ingest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/back-trace/datamap/ingest"
)

// What an adversarial test sent over HTTP and saw stored: personal values
// in the attributes nobody scanned, times the catalog stores as other
// times (or answers 503 to, forever). Each is a 400 naming the field.
func TestIngestRefusesPersonalAttributesAndImpossibleTimes(t *testing.T) {
	s := start(t, 0)
	structured := map[string]string{"Content-Type": ingest.ContentTypeStructured}
	with := func(old, new string) string { return strings.Replace(event("p"), old, new, 1) }
	for name, c := range map[string]struct{ body, field string }{
		"time 2300":            {with(`"time":"2026-11-01T10:00:00Z"`, `"time":"2300-01-01T00:00:00Z"`), "time"},
		"time 0001":            {with(`"time":"2026-11-01T10:00:00Z"`, `"time":"0001-01-01T00:00:00Z"`), "time"},
		"time 9999":            {with(`"time":"2026-11-01T10:00:00Z"`, `"time":"9999-12-31T23:59:59Z"`), "time"},
		"tracestate":           {with(`"datacontenttype"`, `"tracestate":"user=ann@example.org,tel=+31201234567","datacontenttype"`), "tracestate"},
		"traceparent":          {with(`"datacontenttype"`, `"traceparent":"ann@example.org","datacontenttype"`), "traceparent"},
		"dataschema":           {with(`"datacontenttype"`, `"dataschema":"mailto:ann@example.org","datacontenttype"`), "dataschema"},
		"national phone":       {with(`"source":"php-shop"`, `"source":"020 123 4567"`), "source"},
		"zero-width source":    {with(`"source":"php-shop"`, `"source":"php-shop\u200b"`), "source"},
		"cyrillic look-alike":  {with(`"source":"php-shop"`, `"source":"php-sh\u043ep"`), "source"},
		"IBAN in an extension": {with(`"datacontenttype"`, `"account":"DE89 3704 0044 0532 0130 00","datacontenttype"`), "account"},
	} {
		status, r := post(t, s, ingestToken, structured, c.body)
		if status != http.StatusBadRequest {
			t.Errorf("%s: status %d (%+v), want 400", name, status, r)
			continue
		}
		if !strings.Contains(r.Error+strings.Join(fieldsOf(r), " "), c.field) {
			t.Errorf("%s: the answer does not name %s: %+v", name, c.field, r)
		}
		answer := r.Error + strings.Join(fieldsOf(r), " ")
		for _, leak := range []string{"ann@example.org", "31201234567", "123 4567", "0532 0130"} {
			if strings.Contains(answer, leak) {
				t.Errorf("%s: the answer repeats the value: %q", name, answer)
			}
		}
	}
}

// fieldsOf lists the fields the results' problems name, and their
// messages, which must not repeat a value either.
func fieldsOf(r ingest.Response) []string {
	var out []string
	for _, res := range r.Results {
		for _, p := range res.Problems {
			out = append(out, p.Field, p.Message)
		}
	}
	return out
}
