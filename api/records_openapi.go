package api

import (
	"reflect"
	"strings"

	"github.com/back-trace/datamap/catalog/deadletter"
	"github.com/back-trace/datamap/questions"
	"github.com/back-trace/datamap/report"
)

// recordPaths adds the drift, Article 30 and dead-letter routes to the
// OpenAPI document.
func recordPaths(paths, schemas map[string]any) {
	schemas["Finding"] = schemaOf(reflect.TypeFor[report.Finding]())
	schemas["DeadLetter"] = schemaOf(reflect.TypeFor[deadletter.Summary]())
	schemas["Finding"].(map[string]any)["properties"].(map[string]any)["severity"] = map[string]any{"type": "string", "enum": []string{"low", "medium", "high"}}
	ref := func(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
	params := func(q questions.Question) []any {
		var out []any
		for _, p := range q.Params {
			out = append(out, map[string]any{"name": p.Name, "in": "query", "description": p.Doc, "schema": paramSchema(p)})
		}
		return out
	}
	errors := map[string]any{
		"400": withDescription(content("application/json", ref("Error")), "bad parameter"),
		"401": map[string]any{"description": "missing or wrong bearer token"},
		"404": withDescription(content("application/json", ref("Error")), "no declared registry: serve runs without DATAMAP_REGISTRY"),
		"503": map[string]any{"description": "the catalog could not answer"},
	}
	responses := func(ok map[string]any, extra map[string]any) map[string]any {
		out := map[string]any{"200": ok}
		for k, v := range errors {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	paths[questions.Drift.Path()] = map[string]any{"get": map[string]any{
		"operationId": questions.Drift.Name,
		"summary":     questions.Drift.Summary,
		"parameters":  params(questions.Drift),
		"responses": responses(content("application/json", obj(map[string]any{
			"registry": str(), "as_of": map[string]any{"type": "string", "format": "date-time"},
			"total": map[string]any{"type": "integer"}, "items": map[string]any{"type": "array", "items": ref("Finding")},
		}, "registry", "as_of", "total", "items")), nil),
	}}
	formats := map[string]any{}
	for _, f := range RecordFormats {
		mime, _, _ := strings.Cut(recordMIME[f], ";")
		formats[mime] = map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}
	}
	formats["application/json"] = map[string]any{"schema": map[string]any{"type": "object", "description": "the datamap.article30.v1 record"}}
	formatParam := map[string]any{"name": "format", "in": "query", "description": "Record format (default json); pdf needs Chromium on the server.",
		"schema": map[string]any{"type": "string", "enum": RecordFormats}}
	paths[questions.Article30.Path()] = map[string]any{"get": map[string]any{
		"operationId": questions.Article30.Name,
		"summary":     questions.Article30.Summary + "; the " + ContentSHA256Header + " header carries its content SHA-256",
		"parameters":  append([]any{formatParam}, params(questions.Article30)...),
		"responses": responses(map[string]any{"description": "the record, as an attachment", "content": formats,
			"headers": map[string]any{ContentSHA256Header: map[string]any{"description": "the record's content SHA-256 (datamap report verify checks it)", "schema": str()}}},
			map[string]any{"501": withDescription(content("application/json", ref("Error")), "format pdf, but no Chromium on the server")}),
	}}
	paths[DeadLettersPath] = map[string]any{"get": map[string]any{
		"operationId": "deadletters",
		"summary":     "how many dead letters there are, and the latest ones with their reasons, newest first",
		"parameters": []any{map[string]any{"name": "limit", "in": "query", "description": "How many of the latest to list (default 20).",
			"schema": map[string]any{"type": "integer", "minimum": 1, "maximum": maxDeadLetters}}},
		"responses": map[string]any{
			"200": content("application/json", obj(map[string]any{"total": map[string]any{"type": "integer"},
				"items": map[string]any{"type": "array", "items": ref("DeadLetter")}}, "total", "items")),
			"400": errors["400"], "401": errors["401"], "503": errors["503"],
		},
	}}
}
