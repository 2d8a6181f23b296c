package events

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrInvalid matches every validation error: errors.Is(err, ErrInvalid).
var ErrInvalid = errors.New("invalid event")

// Problem is one thing wrong with an event, keyed by the field it concerns
// ("id", "data.recipient.country", or "" for the event as a whole).
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	if p.Field == "" {
		return p.Message
	}
	return p.Field + ": " + p.Message
}

// ValidationError lists every problem found in one event, so that a sender
// can fix them all at once instead of one per round trip.
type ValidationError struct {
	ID       string // the event id, when it could be read
	Problems []Problem
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	prefix := "invalid event"
	if e.ID != "" {
		prefix = fmt.Sprintf("invalid event %q", e.ID)
	}
	return prefix + ": " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Field returns the message for a field, or "" if that field has none.
func (e *ValidationError) Field(name string) string {
	for _, p := range e.Problems {
		if p.Field == name {
			return p.Message
		}
	}
	return ""
}

// problems accumulates problems while validating.
type problems []Problem

func (ps *problems) add(field, format string, args ...any) {
	*ps = append(*ps, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
}

// has reports whether a problem concerns field.
func (ps problems) has(field string) bool {
	for _, p := range ps {
		if p.Field == field {
			return true
		}
	}
	return false
}

// drop removes the problems of field.
func (ps *problems) drop(field string) {
	*ps = slices.DeleteFunc(*ps, func(p Problem) bool { return p.Field == field })
}

// err is the ValidationError of ps, or nil. Messages quote the values
// they refuse, and a refused value may be personal data: every personal
// value in them is redacted, so an error can be logged, answered and kept
// in a dead letter.
func (ps problems) err(id string) error {
	if len(ps) == 0 {
		return nil
	}
	for i := range ps {
		ps[i].Field = RedactText(ps[i].Field)
		ps[i].Message = RedactText(ps[i].Message)
	}
	return &ValidationError{ID: RedactText(id), Problems: ps}
}

// withoutEchoes drops the problems after the first n that concern a field
// the first n already have a problem with, and every problem of a payload
// field when the first n say the payload itself ("data") is wrong.
func (ps problems) withoutEchoes(n int) problems {
	if n == 0 || n == len(ps) {
		return ps
	}
	seen := map[string]bool{}
	for _, p := range ps[:n] {
		seen[p.Field] = true
	}
	out := ps[:n]
	for _, p := range ps[n:] {
		if seen[p.Field] || seen["data"] && strings.HasPrefix(p.Field, "data.") {
			continue
		}
		out = append(out, p)
	}
	return out
}
