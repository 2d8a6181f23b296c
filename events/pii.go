package events

import "github.com/back-trace/datamap/events/personal"

// lookPersonal adds a problem to field when value holds a personal value
// (package personal): events describe personal data and must not carry
// it. The message says what was found and what to write instead, never the
// value.
func lookPersonal(ps *problems, field, value string) {
	if kind := personal.Find(value); kind != "" {
		ps.add(field, "looks like %s; events describe personal data and must not contain it: %s", kind.Describe(), kind.Advice())
	}
}
