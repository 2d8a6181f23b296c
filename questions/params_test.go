package questions_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/questions"
)

// A value that can never match, a malformed date or an unknown parameter
// is the caller's mistake, named by its parameter, before the catalog is
// asked anything.
func TestBadValuesAreInputErrors(t *testing.T) {
	tax := taxonomy.Default()
	for _, c := range []struct {
		q                     questions.Question
		param, value, mention string
	}{
		{questions.Inventory, "category", "billing.cvv", "taxonomy"},
		{questions.Inventory, "purpose", "world_domination", "purpose"},
		{questions.Inventory, "data_subject", "martian", "data subject"},
		{questions.Inventory, "legal_basis", "because", "consent"},
		{questions.Flows, "safeguard", "pinky_promise", "scc"},
		{questions.Flows, "role", "friend", "processor"},
		{questions.Flows, "country", "Germany", "ISO 3166-1"},
		{questions.Flows, "group_by", "colour", "recipient, country, safeguard"},
		{questions.Inventory, "as_of", "01/10/2026", "YYYY-MM-DD"},
		{questions.Inventory, "since", "2026-13-01", "RFC 3339"},
		{questions.Inventory, "colour", "blue", "not a parameter of inventory; it takes system, category"},
		{questions.Inventory, "recipient", "Stripe", "not a parameter of inventory"},
		{questions.LineageExport, "format", "svg", "json, dot, mermaid, openlineage"},
		{questions.SubjectRequests, "all", "maybe", "true or false"},
	} {
		_, err := c.q.Parse(map[string]string{c.param: c.value}, tax)
		var ie *questions.InputError
		if !errors.As(err, &ie) || ie.Param != c.param || !strings.Contains(err.Error(), c.mention) {
			t.Errorf("%s %s=%s: %v, want an InputError mentioning %q", c.q.Name, c.param, c.value, err, c.mention)
		}
	}
	_, err := questions.Inventory.Parse(map[string]string{"since": "2026-10-02", "until": "2026-10-01"}, tax)
	if ie := (*questions.InputError)(nil); !errors.As(err, &ie) || ie.Param != "since" {
		t.Errorf("since after until: %v, want an InputError on since", err)
	}
	_, err = questions.LineageReach.Parse(map[string]string{"from": "billing-api"}, tax)
	if ie := (*questions.InputError)(nil); !errors.As(err, &ie) || ie.Param != "category" || ie.Msg != "required by lineage reach" {
		t.Errorf("reach without category: %v, want category required", err)
	}
	if _, err := questions.Flows.Parse(map[string]string{"recipient": "Stripe", "group_by": "country", "as_of": "2026-10-01"}, tax); err != nil {
		t.Errorf("good flows parameters: %v", err)
	}
}

// Every date a person types is read one way: a day means its start, or
// with endOfDay its last millisecond; an instant is taken as is, in UTC.
func TestParseTime(t *testing.T) {
	for _, c := range []struct {
		v        string
		endOfDay bool
		want     time.Time
	}{
		{"2026-11-30", true, time.Date(2026, 11, 30, 23, 59, 59, 999e6, time.UTC)},
		{"2026-11-30", false, time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)},
		{"2026-11-30T12:00:00+01:00", true, time.Date(2026, 11, 30, 11, 0, 0, 0, time.UTC)},
	} {
		got, err := questions.ParseTime("as_of", c.v, c.endOfDay)
		if err != nil || !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q, %v) = %v, %v; want %v", c.v, c.endOfDay, got, err, c.want)
		}
	}
	_, err := questions.ParseTime("as_of", "30/11/2026", true)
	if ie := (*questions.InputError)(nil); !errors.As(err, &ie) || ie.Param != "as_of" || !strings.Contains(ie.Msg, "YYYY-MM-DD") {
		t.Errorf("30/11/2026: %v, want an InputError on as_of", err)
	}
}

// Drift and the record read their parameters from the same table: the
// record takes a role, drift does not, and both refuse a stale_days
// outside 1..36600.
func TestParseEvidence(t *testing.T) {
	r, err := questions.Article30.ParseEvidence(map[string]string{"as_of": "2026-11-30", "role": "processor", "stale_days": "30"})
	if err != nil || r.Role != "processor" || r.StaleAfter != 30*24*time.Hour || r.AsOf.Day() != 30 {
		t.Errorf("record request = %+v, %v", r, err)
	}
	for _, c := range []struct {
		q            questions.Question
		param, value string
	}{
		{questions.Drift, "role", "processor"},
		{questions.Article30, "role", "auditor"},
		{questions.Drift, "stale_days", "0"},
		{questions.Drift, "as_of", "yesterday"},
	} {
		_, err := c.q.ParseEvidence(map[string]string{c.param: c.value})
		if ie := (*questions.InputError)(nil); !errors.As(err, &ie) || ie.Param != c.param {
			t.Errorf("%s %s=%s: %v, want an InputError on %s", c.q.Name, c.param, c.value, err, c.param)
		}
	}
}

// The table is complete: every entry says what it is, documents every
// parameter for the API (and, where the CLI makes its flags from the
// table, for the CLI), and names its answer's type.
func TestEveryQuestionIsDescribed(t *testing.T) {
	names := map[string]bool{}
	for _, q := range questions.All() {
		if names[q.Name] {
			t.Errorf("%s: twice in the table", q.Name)
		}
		names[q.Name] = true
		if q.Summary == "" || q.Row == nil {
			t.Errorf("%s: no summary or no row type", q.Name)
		}
		flagsFromTable := q.Command.Synopsis != ""
		for _, p := range q.Params {
			if p.Doc == "" {
				t.Errorf("%s: parameter %s has no API description", q.Name, p.Name)
			}
			if flagsFromTable && p.Usage == "" && p.Name != q.Command.Positional {
				t.Errorf("%s: parameter %s has no flag help", q.Name, p.Name)
			}
		}
		if q.Shape == questions.List && q.Role != questions.RoleSubject && !flagsFromTable {
			t.Errorf("%s: a list question without CLI help (Command.Synopsis, Description)", q.Name)
		}
	}
}
