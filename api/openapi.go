package api

import (
	"encoding/json"
	"reflect"
	"strings"
	"time"

	"github.com/back-trace/datamap/questions"
)

// OpenAPI returns the OpenAPI 3 document of every route `datamap serve`
// answers: the query routes, generated from the questions and the Go types
// of their answers, so it cannot drift from the code, and ingest, health,
// readiness and metrics (servicePaths). api/openapi.json is this output,
// checked by a golden test (go test ./api -update rewrites it), linted by
// Redocly (TestOpenAPILint) and served at /api/v1/openapi.json.
func OpenAPI() []byte {
	schemas := map[string]any{
		"Error": obj(map[string]any{"error": str(), "parameter": str()}, "error"),
	}
	paths := map[string]any{}
	for _, q := range questions.All() {
		if q.Shape == questions.Record {
			continue // recordPaths
		}
		var params []any
		for _, p := range q.Params {
			params = append(params, map[string]any{"name": p.Name, "in": "query", "required": p.Required,
				"description": p.Doc, "schema": paramSchema(p)})
		}
		name := q.Row.Name()
		schemas[name] = schemaOf(q.Row)
		ref := map[string]any{"$ref": "#/components/schemas/" + name}
		var ok map[string]any
		switch q.Shape {
		case questions.Document:
			ok = content("application/json", ref)
		case questions.Export:
			ok = map[string]any{"description": "the graph in the asked format", "content": map[string]any{
				"application/json":     map[string]any{"schema": ref},
				"text/vnd.graphviz":    map[string]any{"schema": str()},
				"text/plain":           map[string]any{"schema": str()},
				"application/x-ndjson": map[string]any{"schema": str()},
			}}
		default:
			params = append(params,
				map[string]any{"name": "limit", "in": "query", "description": "Rows per page (default 500).",
					"schema": map[string]any{"type": "integer", "minimum": 1, "maximum": maxLimit}},
				map[string]any{"name": "cursor", "in": "query", "description": "next_cursor of the previous page.", "schema": str()})
			items := map[string]any{"type": "array", "items": ref}
			if q.AltRow != nil {
				alt := q.AltRow.Name()
				schemas[alt] = schemaOf(q.AltRow)
				items["items"] = map[string]any{"oneOf": []any{ref, map[string]any{"$ref": "#/components/schemas/" + alt}}}
			}
			props := map[string]any{"items": items, "total": map[string]any{"type": "integer"},
				"next_cursor": str(), "next": str()}
			if q.Findings {
				props["findings"] = map[string]any{"type": "integer"}
			}
			if q.Countries {
				props["countries_as_of"], props["countries_source"] = str(), str()
			}
			ok = content("application/json", obj(props, "items", "total"))
		}
		paths[q.Path()] = map[string]any{"get": map[string]any{
			"operationId": strings.ReplaceAll(q.Name, " ", "_"),
			"summary":     q.Summary,
			"parameters":  params,
			"responses": map[string]any{
				"200": ok,
				"400": withDescription(content("application/json", map[string]any{"$ref": "#/components/schemas/Error"}), "bad parameter: unknown, malformed, or a value that can never match"),
				"401": map[string]any{"description": "missing or wrong bearer token"},
				"403": map[string]any{"description": "a token of another role: subject questions need a subject token, the others a read token"},
				"503": map[string]any{"description": "the catalog could not answer"},
			},
		}}
		if q.Role == questions.RoleSubject {
			get := paths[q.Path()].(map[string]any)["get"].(map[string]any)
			get["description"] = "Subject role only (DATAMAP_SUBJECT_TOKENS): the answer holds subject references, which are personal data. Every call is recorded in the audit trail under the token's name."
		}
	}
	servicePaths(paths, schemas)
	recordPaths(paths, schemas)
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "datamap API", "version": "1",
			"description": "The data map questions of `datamap` (inventory, flows, transfers, retention, lineage, search) over HTTP, the subject questions (a person's data, open requests, the audit trail; only with one of DATAMAP_SUBJECT_TOKENS), event ingest for services in any language, health, readiness and metrics. Counts are over distinct events. Authenticate the questions with DATAMAP_API_TOKEN or one of DATAMAP_READ_TOKENS.",
			"license":     map[string]any{"name": "Proprietary (BackTrace); no licence is granted beyond your agreement with BackTrace"}},
		"servers": []any{map[string]any{"url": "http://127.0.0.1:8470",
			"description": "datamap serve on its default address; DATAMAP_HTTP_ADDR sets another"}},
		"security": []any{map[string]any{"bearer": []any{}}},
		"paths":    paths,
		"components": map[string]any{"schemas": schemas, "securitySchemes": map[string]any{
			"bearer":        map[string]any{"type": "http", "scheme": "bearer"},
			"metricsBearer": map[string]any{"type": "http", "scheme": "bearer", "description": "DATAMAP_METRICS_TOKEN, when set"}}},
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(err) // maps of strings and slices always marshal
	}
	return append(out, '\n')
}

func str() map[string]any { return map[string]any{"type": "string"} }

func obj(props map[string]any, required ...string) map[string]any {
	return map[string]any{"type": "object", "properties": props, "required": required}
}

func content(mime string, schema any) map[string]any {
	return map[string]any{"description": "the answer", "content": map[string]any{mime: map[string]any{"schema": schema}}}
}

func withDescription(m map[string]any, d string) map[string]any {
	m["description"] = d
	return m
}

// paramSchema is a query parameter's schema: a string, with its allowed
// values when it has some, or a whole number.
func paramSchema(p questions.Param) map[string]any {
	if p.Integer {
		return map[string]any{"type": "integer", "minimum": 1}
	}
	s := str()
	if p.Values != nil {
		s["enum"] = p.Values
	}
	return s
}

// schemaOf describes a Go answer type as a JSON Schema, from its json tags.
func schemaOf(t reflect.Type) map[string]any {
	switch {
	case t == reflect.TypeFor[time.Time]():
		return map[string]any{"type": "string", "format": "date-time"}
	case t.Kind() == reflect.Pointer:
		s := schemaOf(t.Elem())
		s["nullable"] = true
		return s
	}
	switch t.Kind() {
	case reflect.String:
		return str()
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int64, reflect.Uint64, reflect.Uint32:
		return map[string]any{"type": "integer"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem())}
	case reflect.Struct:
		props := map[string]any{}
		var required []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			props[name] = schemaOf(f.Type)
			// A field left out when empty or zero is not required.
			if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
				required = append(required, name)
			}
		}
		return obj(props, required...)
	}
	return map[string]any{}
}
