// Package fileerr is the error of a configuration file that people write by
// hand (a taxonomy, a registry): one problem, at a line, in a field, with
// what to do — printed the way compilers print, so editors can jump to it —
// and the List a parser collects them in.
package fileerr

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is one problem in a file. Parsers return all of them joined with
// errors.Join, in line order.
type Error struct {
	File  string // the path, or the name the parser was given
	Line  int    // 1-based; 0 when the problem is not tied to a line
	Field string // e.g. "activities[2].recipients[0].country"
	Msg   string // what is wrong and what to do
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// List collects every problem found in one file, so that one run reports
// them all. Parsers embed it.
type List struct {
	File string // prefixes every problem
	errs []*Error
}

// Errorf records a problem at line (0 when it is not tied to one) in field.
func (l *List) Errorf(line int, field, format string, args ...any) {
	l.errs = append(l.errs, &Error{File: l.File, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// ReadYAML parses a hand-written YAML document of at most limit bytes and
// returns its root node, or nil after recording why not: too large (a
// wrong path, a log file), not YAML (at the line the parser names), or
// empty — then the problem is needs, which says what the document must
// hold.
func (l *List) ReadYAML(data []byte, limit int, needs string) *yaml.Node {
	if len(data) > limit {
		l.Errorf(0, "", "document is %d bytes, over the %d byte limit; is it the right file?", len(data), limit)
		return nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		l.yamlError(err)
		return nil
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		l.Errorf(0, "", "empty document; %s", needs)
		return nil
	}
	return doc.Content[0]
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// yamlError records a YAML syntax error. "yaml: line 3: did not find
// expected key" becomes a problem on line 3, so that it reads like the
// others.
func (l *List) yamlError(err error) {
	msg, line := err.Error(), 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	l.Errorf(line, "", "invalid YAML: %s", msg)
}

// Err returns the problems joined with errors.Join, in line order (which
// is how people fix them), or nil when there are none.
func (l *List) Err() error {
	if len(l.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(l.errs, func(a, b *Error) int { return a.Line - b.Line })
	errs := make([]error, len(l.errs))
	for i, e := range l.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}
