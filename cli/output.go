package cli

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"text/tabwriter"
	"time"
)

// formats a query result can be printed in.
var formats = []string{"table", "json", "csv"}

func checkFormat(f string) error {
	for _, ok := range formats {
		if f == ok {
			return nil
		}
	}
	return usagef("--format %q is not supported; use table, json or csv", f)
}

// render prints rows (a slice of structs with json tags) as an aligned
// table, a JSON array or CSV with a header line.
func render[T any](w io.Writer, format string, rows []T) error {
	switch format {
	case "json":
		if rows == nil {
			rows = []T{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write(header[T]())
		for _, r := range rows {
			_ = cw.Write(cells(r))
		}
		cw.Flush()
		return cw.Error()
	default:
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		h := header[T]()
		for i := range h {
			h[i] = strings.ToUpper(h[i])
		}
		fmt.Fprintln(tw, strings.Join(h, "\t"))
		for _, r := range rows {
			fmt.Fprintln(tw, strings.Join(cells(r), "\t"))
		}
		return tw.Flush()
	}
}

func header[T any]() []string {
	t := reflect.TypeFor[T]()
	out := make([]string, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out = append(out, name)
	}
	return out
}

func cells(row any) []string {
	v := reflect.ValueOf(row)
	out := make([]string, 0, v.NumField())
	for i := 0; i < v.NumField(); i++ {
		switch x := v.Field(i).Interface().(type) {
		case time.Time:
			out = append(out, timeCell(x))
		case *time.Time:
			if x == nil {
				out = append(out, "")
			} else {
				out = append(out, timeCell(*x))
			}
		case []string:
			out = append(out, strings.Join(x, ", "))
		default:
			out = append(out, fmt.Sprint(x))
		}
	}
	return out
}

func timeCell(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// renderValue prints one JSON document.
func renderValue(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
