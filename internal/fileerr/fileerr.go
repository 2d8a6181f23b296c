// Package fileerr is the error of a configuration file that people write by
// hand (a taxonomy, a registry): one problem, at a line, in a field, with
// what to do — printed the way compilers print, so editors can jump to it.
package fileerr

import (
	"strconv"
	"strings"
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
