package events

import (
	"net/url"
	"strings"
	"time"
)

// The times the catalog can store: its columns are DateTime64(3), which
// hold 1900-01-01 to 2299-12-31; a time outside them would be stored as
// another one. An event reports what happened, so a time more than
// MaxClockSkew ahead of now is a clock or a unit gone wrong.
var (
	MinTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(2299, 12, 31, 23, 59, 59, 999_000_000, time.UTC)
)

// MaxClockSkew is how far ahead of the receiver's clock an event's time
// may be.
const MaxClockSkew = 24 * time.Hour

// checkTime refuses a time the catalog cannot store or that has not
// happened yet.
func checkTime(ps *problems, t, now time.Time) {
	switch {
	case t.Before(MinTime) || t.After(MaxTime):
		ps.add("time", "%s is outside the times the catalog stores (%s to %s); send when the data was processed",
			t.UTC().Format(time.RFC3339), MinTime.Format(time.DateOnly), MaxTime.Format(time.DateOnly))
	case t.After(now.Add(MaxClockSkew)):
		ps.add("time", "%s is more than %v ahead of the receiver's clock; an event reports what happened — check the sender's clock and time zone",
			t.UTC().Format(time.RFC3339), MaxClockSkew)
	}
}

// W3C Trace Context limits (https://www.w3.org/TR/trace-context/).
const (
	maxTraceParent       = 256 // version 00 is 55 bytes; later versions may append fields
	maxTraceState        = 512 // what every vendor must propagate
	maxTraceStateMembers = 32
)

// checkTraceContext checks traceparent and tracestate against the W3C
// Trace Context syntax, and tracestate's values for personal data: a
// vendor's value is free text, and a trace state is stored with the event.
func checkTraceContext(ps *problems, parent, state string) {
	if parent != "" {
		if problem := traceParentProblem(parent); problem != "" {
			ps.add("traceparent", "%s; send the W3C traceparent of the caller's span (version-traceid-parentid-flags, e.g. 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01), or none", problem)
		}
	}
	if state == "" {
		return
	}
	if problem := traceStateProblem(state); problem != "" {
		ps.add("tracestate", "%s; send the W3C tracestate of the caller's span (key=value pairs separated by commas), or none", problem)
		return
	}
	for _, member := range strings.Split(state, ",") {
		key, value, _ := strings.Cut(strings.TrimSpace(member), "=")
		before := len(*ps)
		lookPersonal(ps, "tracestate", key)
		if len(*ps) == before {
			lookPersonal(ps, "tracestate", value)
		}
		if len(*ps) > before {
			return
		}
	}
}

func traceParentProblem(s string) string {
	if len(s) > maxTraceParent {
		return "longer than a trace context"
	}
	// version "-" trace-id "-" parent-id "-" flags, lowercase hex.
	if len(s) < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-' || len(s) > 55 && s[55] != '-' {
		return "not a W3C traceparent"
	}
	for i := 0; i < 55; i++ {
		if i == 2 || i == 35 || i == 52 {
			continue
		}
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "not a W3C traceparent (lowercase hex digits)"
		}
	}
	switch {
	case s[:2] == "ff":
		return "version ff is invalid"
	case s[:2] == "00" && len(s) != 55:
		return "version 00 has no fields after the flags"
	case s[3:35] == strings.Repeat("0", 32):
		return "the trace id is all zeros"
	case s[36:52] == strings.Repeat("0", 16):
		return "the parent id is all zeros"
	}
	for i := 55; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e {
			return "not a W3C traceparent (printable ASCII only)"
		}
	}
	return ""
}

func traceStateProblem(s string) string {
	if len(s) > maxTraceState {
		return "longer than a trace state is propagated"
	}
	members := strings.Split(s, ",")
	if len(members) > maxTraceStateMembers {
		return "more than 32 members"
	}
	for _, m := range members {
		m = strings.Trim(m, " \t")
		if m == "" {
			continue // empty members are allowed
		}
		key, value, ok := strings.Cut(m, "=")
		if !ok || !isTraceStateKey(key) {
			return "a member is not key=value with a lowercase key"
		}
		if value == "" || len(value) > 256 || value[len(value)-1] == ' ' {
			return "a member's value is empty, too long or ends in a space"
		}
		for i := 0; i < len(value); i++ {
			if c := value[i]; c < 0x20 || c > 0x7e || c == ',' || c == '=' {
				return "a member's value holds a character outside printable ASCII, or a comma or '='"
			}
		}
	}
	return ""
}

// isTraceStateKey: simple-key, or tenant-id@system-id.
func isTraceStateKey(k string) bool {
	tenant, system, multi := strings.Cut(k, "@")
	keyChar := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '*' || c == '/'
	}
	part := func(p string, max int, firstDigitOK bool) bool {
		if p == "" || len(p) > max || !(p[0] >= 'a' && p[0] <= 'z' || firstDigitOK && p[0] >= '0' && p[0] <= '9') {
			return false
		}
		for i := 1; i < len(p); i++ {
			if !keyChar(p[i]) {
				return false
			}
		}
		return true
	}
	if !multi {
		return part(k, 256, true)
	}
	return part(tenant, 241, true) && part(system, 14, false)
}

// checkDataSchema checks dataschema: a URI, bounded, with no personal
// value in it.
func checkDataSchema(ps *problems, s string) {
	if s == "" {
		return
	}
	before := len(*ps)
	checkText(ps, "dataschema", s, false)
	if len(*ps) > before {
		return
	}
	if u, err := url.Parse(s); err != nil || u.Scheme == "" {
		ps.add("dataschema", "not an absolute URI; name the JSON Schema of the event, e.g. https://schemas.back-trace.com/datamap/collected.v1.json, or none")
		return
	}
	lookPersonal(ps, "dataschema", s)
}

// checkSubject checks the CloudEvents subject as free text: the data
// category in events about data, and in consent and request events, which
// have none, nothing the catalog keeps — but it is scanned all the same,
// since a refused event is kept as a dead letter.
func checkSubject(ps *problems, s string) {
	if s == "" {
		return
	}
	checkText(ps, "subject", s, false)
	lookPersonal(ps, "subject", s)
}
