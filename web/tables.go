package web

import (
	"reflect"
	"strings"
	"time"
)

// column is one column of a table page, as the CLI prints it: named by the
// answer's json tag, in struct order, so a CSV download has the CLI's
// header and cells.
type column struct {
	Name  string // json name: the CSV header
	Label string
	Kind  string // text, number, time, list or bool: how cells print and sort
}

// columnsOf lists a row type's columns.
func columnsOf(t reflect.Type) []column {
	var out []column
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		out = append(out, column{Name: name, Label: strings.ReplaceAll(name, "_", " "), Kind: kindOf(f.Type)})
	}
	return out
}

func kindOf(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeFor[time.Time]():
		return "time"
	case t.Kind() == reflect.Slice:
		return "list"
	case t.Kind() == reflect.Bool:
		return "bool"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Float64:
		return "number"
	}
	return "text"
}
