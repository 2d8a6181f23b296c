package questions

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/back-trace/datamap/catalog/query"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
	"github.com/back-trace/datamap/lineage"
	"github.com/back-trace/datamap/report"
)

// Param is one parameter a question accepts, described once for every
// surface: the CLI's flag help, the OpenAPI document and the checks of
// Parse all read it.
type Param struct {
	// Name is the API's spelling (data_subject); the CLI writes it as a
	// flag with dashes (--data-subject).
	Name string
	// Usage is the CLI flag's help line; Doc the OpenAPI description.
	Usage, Doc string
	// Values are the only values allowed, nil for any. They are the
	// OpenAPI enum; Parse refuses anything else.
	Values []string
	// Integer is set for a whole-number parameter.
	Integer  bool
	Required bool
}

// FlagName spells the parameter as a CLI flag: data_subject is
// data-subject.
func (p Param) FlagName() string { return strings.ReplaceAll(p.Name, "_", "-") }

// InputError is a parameter value that can never match or cannot be
// parsed: the caller's mistake (CLI exit 2, HTTP 400). Param is the
// parameter as the API names it; Value is left empty when the value may
// itself be personal data.
type InputError struct {
	Param string
	Value string
	Msg   string // what is wrong and what to write instead
}

func (e *InputError) Error() string { return fmt.Sprintf("%s %q: %s", e.Param, e.Value, e.Msg) }

// asInputError turns the catalog's refusal of a value (a system no event
// names, an instant inside a day only rollups still hold) into the
// caller's mistake it is.
func asInputError(err error) error {
	var ve *query.ValueError
	if errors.As(err, &ve) {
		return &InputError{Param: ve.Param, Value: ve.Value, Msg: ve.Msg}
	}
	return err
}

// DateFormat is what date parameters accept, for error messages and help.
const DateFormat = "a date YYYY-MM-DD (UTC; --until and --as-of mean the end of that day) or an RFC 3339 timestamp such as 2026-10-01T12:00:00Z"

// ParseTime reads a date parameter: an RFC 3339 timestamp, or a date
// YYYY-MM-DD in UTC that means the start of the day, or its end (the last
// millisecond, the catalog's time resolution) when endOfDay is set: "as of
// 2026-10-01" includes everything that happened on October 1st. Every
// date a person types — filters, drift, the record, a registry draft — is
// read here.
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

// filterParams are the catalog filters, in the order the CLI and the API
// list them.
var filterParams = []Param{
	{Name: "system", Usage: "only this system (the event source), e.g. billing-api",
		Doc: "Only this system (the event source), e.g. billing-api."},
	{Name: "category", Usage: "only this category and its subtree, e.g. billing matches billing.*",
		Doc: "Only this category and its subtree: billing matches billing.*."},
	{Name: "data_subject", Usage: "only this data-subject category, e.g. customer",
		Doc: "Only this data-subject category, e.g. customer."},
	{Name: "purpose", Usage: "only this purpose, e.g. payment_processing",
		Doc: "Only this purpose, e.g. payment_processing."},
	{Name: "legal_basis", Usage: "only this legal basis: " + strings.Join(events.LegalBases, ", "),
		Doc: "Only this legal basis.", Values: events.LegalBases},
	{Name: "activity", Usage: "only this processing activity, e.g. \"monthly invoice run\"",
		Doc: "Only this processing activity."},
	{Name: "recipient", Usage: "only this recipient, e.g. Stripe",
		Doc: "Only this recipient, e.g. Stripe."},
	{Name: "role", Usage: "only recipients in this role: " + strings.Join(events.Roles, ", "),
		Doc: "Only recipients in this role.", Values: events.Roles},
	{Name: "country", Usage: "only recipients in this country (ISO 3166-1 alpha-2), e.g. US",
		Doc: "Only recipients in this country, ISO 3166-1 alpha-2, e.g. US."},
	{Name: "safeguard", Usage: "only flows under this safeguard: " + strings.Join(events.Safeguards, ", "),
		Doc: "Only flows under this transfer safeguard.", Values: events.Safeguards},
	{Name: "since", Usage: "only events at or after this time: YYYY-MM-DD (start of day, UTC) or RFC 3339",
		Doc: "Only events at or after this time: YYYY-MM-DD (start of that day, UTC) or RFC 3339."},
	{Name: "until", Usage: "only events at or before this time: YYYY-MM-DD (end of day, UTC) or RFC 3339",
		Doc: "Only events at or before this time: YYYY-MM-DD (end of that day, UTC) or RFC 3339."},
	{Name: "as_of", Usage: "answer from the events up to this time, as if asked then: YYYY-MM-DD (end of that day, UTC) or RFC 3339",
		Doc: "Answer from the events up to this time: YYYY-MM-DD (end of that day, UTC) or RFC 3339."},
}

// The parameters of single questions.
var (
	groupByParam = Param{Name: "group_by", Usage: "summarise by recipient, country or safeguard",
		Doc: "Summarise flows per recipient, country or safeguard.", Values: query.GroupBy}
	fromParam = Param{Name: "from", Usage: "the system the data leaves from, e.g. support-desk",
		Doc: "The system the data leaves from."}
	formatParam = Param{Name: "format", Usage: "export format: " + strings.Join(lineage.Formats, ", "),
		Doc: "Export format.", Values: lineage.Formats}
	classParam = Param{Name: "class", Usage: "only destinations of this class: " + strings.Join(query.TrafficClasses, ", "),
		Doc: "Only destinations of this class: internal, recipient (the registry's hosts: match), vendor (the vendor catalogue's) or unknown.", Values: query.TrafficClasses}
	textParam = Param{Name: "q", Doc: "Text to look for, case-insensitive."}
	refParam  = Param{Name: "ref", Doc: "A subject reference (sr1: and 52 base32 characters), computed by the caller with the subject key; never an identifier."}
	allParam  = Param{Name: "all", Doc: "true lists answered and refused requests too."}
	whoParam  = Param{Name: "who", Doc: "Only this subject token name or CLI user."}

	evidenceAsOf = Param{Name: "as_of", Usage: "evidence up to this date (YYYY-MM-DD, through the end of the day UTC) or RFC 3339 instant; default now", Doc: "Evidence up to this time: YYYY-MM-DD (end of that day, UTC) or RFC 3339; default now."}
	staleDays    = Param{Name: "stale_days", Integer: true, Usage: "a declared activity, system or recipient unobserved this many days is a stale-record finding",
		Doc: "A declared activity, system or recipient unobserved this many days is a stale-record finding (default 90)."}
	recordRole = Param{Name: "role", Usage: "controller (Art. 30(1)), processor (Art. 30(2)) or all", Doc: "controller (Art. 30(1)), processor (Art. 30(2)) or all.",
		Values: []string{report.RoleAll, report.RoleController, report.RoleProcessor}}
)

// filters returns the filter parameters of these names, in filterParams'
// order.
func filters(names ...string) []Param {
	var out []Param
	for _, p := range filterParams {
		if slices.Contains(names, p.Name) {
			out = append(out, p)
		}
	}
	return out
}

// allFilters are every filter's parameter.
func allFilters() []Param { return slices.Clone(filterParams) }

// required marks p as required.
func required(p Param) Param {
	p.Required = true
	return p
}

// parseFilter builds the catalog filter from values already checked to
// be parameters of the question, refusing values outside the taxonomy or
// the fixed GDPR lists, and malformed dates.
func parseFilter(values map[string]string, tax *taxonomy.Taxonomy) (query.Filter, error) {
	var f query.Filter
	for _, p := range filterParams {
		v := values[p.Name]
		if v == "" {
			continue
		}
		if p.Values != nil && !slices.Contains(p.Values, v) {
			return f, &InputError{p.Name, v, "must be one of " + strings.Join(p.Values, ", ")}
		}
		var err error
		switch p.Name {
		case "system":
			f.System = v
		case "recipient":
			f.Recipient = v
		case "activity":
			f.Activity = v
		case "legal_basis":
			f.LegalBasis = v
		case "role":
			f.Role = v
		case "safeguard":
			f.Safeguard = v
		case "category":
			f.Category = v
			if len(tax.Subtree(v)) == 0 {
				err = &InputError{p.Name, v, "not a category of the taxonomy; 'datamap taxonomy' lists them"}
			}
		case "data_subject":
			f.DataSubject = v
			if _, ok := tax.DataSubject(v); !ok {
				err = &InputError{p.Name, v, "not a data subject of the taxonomy; 'datamap taxonomy' lists them"}
			}
		case "purpose":
			f.Purpose = v
			if _, ok := tax.Purpose(v); !ok {
				err = &InputError{p.Name, v, "not a purpose of the taxonomy; 'datamap taxonomy' lists them"}
			}
		case "country":
			f.Country = v
			if _, ok := events.LookupCountry(v); !ok {
				err = &InputError{p.Name, v, "not an ISO 3166-1 alpha-2 code such as DE or US"}
			}
		case "since":
			f.Since, err = ParseTime(p.Name, v, false)
		case "until":
			f.Until, err = ParseTime(p.Name, v, true)
		case "as_of":
			f.AsOf, err = ParseTime(p.Name, v, true)
		}
		if err != nil {
			return f, err
		}
	}
	if upper := earliest(f.Until, f.AsOf); !f.Since.IsZero() && !upper.IsZero() && f.Since.After(upper) {
		return f, &InputError{"since", values["since"], "is after until/as_of, so nothing can match"}
	}
	return f, nil
}

// earliest is the earlier of two instants, zero meaning unbounded.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// parseOthers checks the values of the parameters that are not filters:
// allowed values, whole numbers, subject references.
func parseOthers(params []Param, values map[string]string) error {
	for _, p := range params {
		v := values[p.Name]
		if v == "" || slices.ContainsFunc(filterParams, func(f Param) bool { return f.Name == p.Name }) {
			continue
		}
		if p.Values != nil && !slices.Contains(p.Values, v) {
			return &InputError{p.Name, v, "must be one of " + strings.Join(p.Values, ", ")}
		}
	}
	return nil
}

// staleAfter reads stale_days.
func staleAfter(v string) (time.Duration, error) {
	days, err := strconv.Atoi(v)
	if err != nil || days < 1 || days > 36600 {
		return 0, &InputError{"stale_days", v, "must be a whole number of days from 1 to 36600"}
	}
	return time.Duration(days) * 24 * time.Hour, nil
}
