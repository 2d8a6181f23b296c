package report_test

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/back-trace/datamap/report"
)

// TestRecordShowsWordsKeepsKeys: the formats people read (HTML,
// Markdown) show the taxonomy's names, roles, safeguards and durations in
// words and dates to the day; the JSON and the CSV, for machines, keep
// the keys.
func TestRecordShowsWordsKeepsKeys(t *testing.T) {
	rec := fixtureRecord(t, report.RoleAll)
	write := func(format string) string {
		var b bytes.Buffer
		if err := report.Write(&b, rec, format); err != nil {
			t.Fatal(err)
		}
		s := strings.ReplaceAll(b.String(), "\u2060", "") // the HTML's word joiners in citations
		// The embedded copy of the JSON is for the verifier, not the reader.
		for _, open := range []string{`<script type="application/json"`, "<!-- datamap-record", "Canonical record (base64"} {
			if i := strings.Index(s, open); i >= 0 {
				s = s[:i]
			}
		}
		return s
	}
	words := []string{"Payment method token", "Customer contacts", "Processor", "7 years", "24 months",
		"Legitimate interests (Art. 6(1)(f))", "standard contractual clauses", "safeguard missing"}
	keys := []string{"billing.payment_token", "legitimate_interests", "sub_processor", "P24M", "P7Y"}
	instant := regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)
	for _, format := range []string{"html", "md"} {
		s := write(format)
		for _, w := range words {
			if !strings.Contains(s, w) {
				t.Errorf("%s: %q is not shown", format, w)
			}
		}
		for _, k := range keys {
			if strings.Contains(s, k) {
				t.Errorf("%s shows the key %q where its words belong", format, k)
			}
		}
		// One instant stays exact: the as-of date the hash covers.
		if n := len(instant.FindAllString(s, -1)); n > 2 {
			t.Errorf("%s shows %d instants to the second; dates are to the day", format, n)
		}
		if strings.Contains(s, "`datamap") {
			t.Errorf("%s: a finding's advice holds a command", format)
		}
	}
	var doc map[string]any
	js := write("json")
	if err := json.Unmarshal([]byte(js), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"billing.payment_token"`, `"legitimate_interests"`, `"P24M"`, `"processor"`} {
		if !strings.Contains(js, k) {
			t.Errorf("json lost the key %s", k)
		}
	}
	csv := write("csv")
	for _, k := range []string{"billing.payment_token", "legitimate_interests", "P24M", "2026-09-01T00:00:00Z"} {
		if !strings.Contains(csv, k) {
			t.Errorf("csv lost the key %s", k)
		}
	}
}

// TestRecipientWithoutCategoriesShowsTheActivitys: a recipient declared
// without categories receives all of its activity's, and the record says
// which, rather than showing it as receiving nothing.
func TestRecipientWithoutCategoriesShowsTheActivitys(t *testing.T) {
	rec := fixtureRecord(t, report.RoleAll)
	for _, row := range rec.ControllerRows() {
		if row[0] != "support" {
			continue
		}
		if got := row[7]; !strings.Contains(got, "Zendesk (Processor, US): Support and communications") {
			t.Errorf("recipients of support: %q", got)
		}
		return
	}
	t.Fatal("no support activity in the fixture")
}
