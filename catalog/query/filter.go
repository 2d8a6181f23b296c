package query

import (
	"fmt"
	"strings"
	"time"
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

// ValueError is a filter value the catalog cannot answer for: a system
// or recipient no event names, an instant inside a day only the rollups
// still hold. Param is the value's parameter as the API names it; package
// questions turns it into the caller's input error.
type ValueError struct {
	Param string
	Value string
	Msg   string // what is wrong and what to write instead
}

func (e *ValueError) Error() string { return fmt.Sprintf("%s %q: %s", e.Param, e.Value, e.Msg) }

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
