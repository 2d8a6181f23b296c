package query

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
)

// Filter narrows catalog queries. Empty fields match everything. A filter
// that a query cannot use (Recipient on the inventory) is ignored by it.
type Filter struct {
	System    string // emitting system, exact
	Category  string // a category key and its subtree: "billing" matches billing.*
	Recipient string // recipient name, exact (flows only)
	Country   string // recipient country, ISO 3166-1 alpha-2 (flows only)

	DataSubject string // data-subject category, exact
	Purpose     string // purpose, exact
	LegalBasis  string // GDPR Art. 6 legal basis, exact
	Activity    string // processing activity, exact
	Role        string // recipient role (flows only)
	Safeguard   string // transfer safeguard (flows only)

	// Since and Until bound the event time, both inclusive; zero means
	// unbounded.
	Since, Until time.Time
	// AsOf answers from the events up to this instant, and is the "now" of
	// retention findings. Zero means now.
	AsOf time.Time
}

// Params are the names of the filter's query parameters, as the HTTP API
// spells them; the CLI spells them as flags with dashes (data_subject is
// --data-subject).
var Params = []string{"system", "category", "data_subject", "purpose", "legal_basis", "activity",
	"recipient", "role", "country", "safeguard", "since", "until", "as_of"}

// FlowParams are the Params that only flow queries use.
var FlowParams = []string{"recipient", "role", "country", "safeguard"}

// InputError is a filter value that can never match or cannot be parsed:
// the caller's mistake (CLI exit 2, HTTP 400). Param is the parameter as
// named in Params.
type InputError struct {
	Param string
	Value string
	Msg   string // what is wrong and what to write instead
}

func (e *InputError) Error() string { return fmt.Sprintf("%s %q: %s", e.Param, e.Value, e.Msg) }

// DateFormat is what date parameters accept, for error messages and help.
const DateFormat = "a date YYYY-MM-DD (UTC; --until and --as-of mean the end of that day) or an RFC 3339 timestamp such as 2026-10-01T12:00:00Z"

// ParseFilter builds a Filter from parameter values keyed as in Params,
// refusing unknown parameters, values outside the taxonomy or the fixed GDPR
// lists, and malformed dates. Every surface (CLI, API) goes through it, so
// they accept and refuse the same things.
func ParseFilter(values map[string]string, tax *taxonomy.Taxonomy) (Filter, error) {
	var f Filter
	for name, v := range values {
		if v == "" {
			continue
		}
		var err error
		switch name {
		case "system":
			f.System = v
		case "recipient":
			f.Recipient = v
		case "activity":
			f.Activity = v
		case "category":
			f.Category = v
			if len(tax.Subtree(v)) == 0 {
				err = &InputError{name, v, "not a category of the taxonomy; 'datamap taxonomy' lists them"}
			}
		case "data_subject":
			f.DataSubject = v
			if _, ok := tax.DataSubject(v); !ok {
				err = &InputError{name, v, "not a data subject of the taxonomy; 'datamap taxonomy' lists them"}
			}
		case "purpose":
			f.Purpose = v
			if _, ok := tax.Purpose(v); !ok {
				err = &InputError{name, v, "not a purpose of the taxonomy; 'datamap taxonomy' lists them"}
			}
		case "legal_basis":
			f.LegalBasis, err = oneOf(name, v, events.LegalBases)
		case "role":
			f.Role, err = oneOf(name, v, events.Roles)
		case "safeguard":
			f.Safeguard, err = oneOf(name, v, events.Safeguards)
		case "country":
			f.Country = v
			if _, ok := events.LookupCountry(v); !ok {
				err = &InputError{name, v, "not an ISO 3166-1 alpha-2 code such as DE or US"}
			}
		case "since":
			f.Since, err = ParseTime(name, v, false)
		case "until":
			f.Until, err = ParseTime(name, v, true)
		case "as_of":
			f.AsOf, err = ParseTime(name, v, true)
		default:
			err = &InputError{name, v, "unknown parameter; known: " + strings.Join(Params, ", ")}
		}
		if err != nil {
			return f, err
		}
	}
	if !f.Since.IsZero() && !f.upper().IsZero() && f.Since.After(f.upper()) {
		return f, &InputError{"since", values["since"], "is after until/as_of, so nothing can match"}
	}
	return f, nil
}

func oneOf(name, v string, allowed []string) (string, error) {
	if slices.Contains(allowed, v) {
		return v, nil
	}
	return v, &InputError{name, v, "must be one of " + strings.Join(allowed, ", ")}
}

// ParseTime reads a date parameter: an RFC 3339 timestamp, or a date
// YYYY-MM-DD in UTC that means the start of the day, or its end (the last
// millisecond, the catalog's time resolution) when endOfDay is set: "as of
// 2026-10-01" includes everything that happened on October 1st.
func ParseTime(name, v string, endOfDay bool) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err == nil {
		t = t.UTC()
	} else if t, err = time.Parse(time.DateOnly, v); err != nil {
		return time.Time{}, &InputError{name, v, "not " + DateFormat}
	} else if endOfDay {
		t = t.AddDate(0, 0, 1).Add(-time.Millisecond)
	}
	// The catalog holds no other times; a zero one (0001-01-01) would
	// read as "not set", i.e. now.
	if t.Before(events.MinTime) || t.After(events.MaxTime) {
		return time.Time{}, &InputError{name, v, fmt.Sprintf("outside the times the catalog holds, %s to %s",
			events.MinTime.Format(time.DateOnly), events.MaxTime.Format(time.DateOnly))}
	}
	return t, nil
}

// upper is the effective upper bound of event time: the earlier of Until
// and AsOf, zero when neither is set.
func (f Filter) upper() time.Time {
	switch {
	case f.AsOf.IsZero():
		return f.Until
	case f.Until.IsZero() || f.AsOf.Before(f.Until):
		return f.AsOf
	}
	return f.Until
}

// now is the instant retention is judged at: AsOf, or the wall clock.
func (f Filter) now() time.Time {
	if f.AsOf.IsZero() {
		return time.Now().UTC()
	}
	return f.AsOf
}

// dimConds renders the filter's conditions on what events are about (not
// on their time, which a plan splits), on columns that the events and
// the rollups both have. Conditions on recipients are included only for
// flow queries.
func (f Filter) dimConds(flows bool) ([]string, []any) {
	var conds []string
	var args []any
	add := func(cond string, vals ...any) { conds, args = append(conds, cond), append(args, vals...) }
	if f.System != "" {
		add("source = ?", f.System)
	}
	if f.Category != "" {
		add("(category = ? OR startsWith(category, ?))", f.Category, f.Category+".")
	}
	if f.DataSubject != "" {
		add("data_subject = ?", f.DataSubject)
	}
	if f.Purpose != "" {
		add("purpose = ?", f.Purpose)
	}
	if f.LegalBasis != "" {
		add("legal_basis = ?", f.LegalBasis)
	}
	if f.Activity != "" {
		add("activity = ?", f.Activity)
	}
	if flows {
		if f.Recipient != "" {
			add("recipient_name = ?", f.Recipient)
		}
		if f.Role != "" {
			add("recipient_role = ?", f.Role)
		}
		if f.Country != "" {
			add("recipient_country = ?", f.Country)
		}
		if f.Safeguard != "" {
			add("recipient_safeguard = ?", f.Safeguard)
		}
	}
	return conds, args
}

// chTime renders an instant at the catalog's millisecond resolution; the
// driver would bind a time.Time as whole seconds.
func chTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") }

// and joins conditions for a WHERE clause that already has one condition.
func and(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " AND " + strings.Join(conds, " AND ")
}
