package api

import (
	"reflect"

	"github.com/back-trace/datamap/ingest"
)

// The OpenAPI description of the routes that are not questions: event
// ingest (package ingest), health, readiness and metrics. They are added
// to the document OpenAPI generates, so one document describes every route
// `datamap serve` answers.

// servicePaths adds those routes and the schemas they use.
func servicePaths(paths, schemas map[string]any) {
	schemas["CloudEvent"] = cloudEventSchema()
	result := schemaOf(reflect.TypeFor[ingest.Result]())
	result["properties"].(map[string]any)["status"] = map[string]any{"type": "string",
		"enum":        []string{ingest.StatusAccepted, ingest.StatusRejected, ingest.StatusForbidden, ingest.StatusFailed},
		"description": "accepted: queued for the catalog; rejected: invalid, see problems (do not retry as is); forbidden: the token may not speak for the event's source (see error); failed: could not be queued, retry later with the same id"}
	response := schemaOf(reflect.TypeFor[ingest.Response]())
	response["properties"].(map[string]any)["results"] = map[string]any{"type": "array", "items": map[string]any{"$ref": "#/components/schemas/IngestResult"},
		"description": "one per event, by its index in the request"}
	schemas["IngestResult"] = result
	schemas["IngestResponse"] = response
	ingestAnswer := func(description string) map[string]any {
		return withDescription(content("application/json", map[string]any{"$ref": "#/components/schemas/IngestResponse"}), description)
	}
	event := map[string]any{"$ref": "#/components/schemas/CloudEvent"}
	binaryHeader := func(name, description string) map[string]any {
		return map[string]any{"name": name, "in": "header", "required": false, "schema": str(),
			"description": "Binary mode: " + description}
	}
	paths[ingest.Path] = map[string]any{"post": map[string]any{
		"operationId": "ingest_events",
		"summary":     "send datamap events (CloudEvents over HTTP: binary, structured or batch mode)",
		"description": "Every event is validated like the catalog's consumer validates it; the valid ones are queued for the catalog " +
			"even when others in the same request are rejected. The answer lists the outcome of each event by index. " +
			"Retrying with the same ids is safe: events are deduplicated by source and id. " +
			"Authenticate with one of DATAMAP_INGEST_TOKENS, which sends events only for the sources it names, or the API token.",
		"security": []any{map[string]any{"bearer": []any{}}},
		"parameters": []any{
			binaryHeader("ce-specversion", "1.0; its presence selects binary mode, with the event's data as the JSON body."),
			binaryHeader("ce-id", "the event id, unique per source."),
			binaryHeader("ce-source", "the system that emits the event."),
			binaryHeader("ce-type", "the event type, e.g. com.back-trace.datamap.data.collected.v1."),
			binaryHeader("ce-subject", "the data category, e.g. billing.payment_token."),
			binaryHeader("ce-time", "when it happened, RFC 3339."),
			binaryHeader("ce-dataschema", "the URI of the data's schema (optional)."),
			map[string]any{"name": "traceparent", "in": "header", "required": false, "schema": str(),
				"description": "W3C trace context of the sender (any mode); kept with the event."},
		},
		"requestBody": map[string]any{"required": true, "content": map[string]any{
			ingest.ContentTypeStructured: map[string]any{"schema": event},
			ingest.ContentTypeBatch:      map[string]any{"schema": map[string]any{"type": "array", "items": event, "minItems": 1, "maxItems": ingest.DefaultMaxBatch}},
			"application/json": map[string]any{"schema": map[string]any{"type": "object",
				"description": "Binary mode: the event's data, with its attributes in the ce-* headers."}},
		}},
		"responses": map[string]any{
			"202": ingestAnswer("every event was accepted"),
			"400": ingestAnswer("some events were invalid (see results; the valid ones were accepted), or the request is malformed (see error)"),
			"401": ingestAnswer("missing or wrong bearer token"),
			"403": ingestAnswer("the token may not speak for the source of some events (see results; the others were accepted): each ingest token names its sources in DATAMAP_INGEST_TOKENS"),
			"413": ingestAnswer("the body or the batch is too large; send smaller batches"),
			"415": ingestAnswer("not a CloudEvents content type, and no ce-specversion header"),
			"503": withHeaders(ingestAnswer("some events could not be queued (see results): retry them after Retry-After seconds; their ids make the retry safe"),
				map[string]any{"Retry-After": map[string]any{"schema": map[string]any{"type": "integer"}, "description": "seconds to wait before retrying"}}),
		},
	}}
	noToken := []any{}
	paths["/healthz"] = map[string]any{"get": map[string]any{
		"operationId": "healthz", "summary": "liveness: the process answers", "security": noToken,
		"responses": map[string]any{"200": content("application/json", obj(map[string]any{"status": map[string]any{"type": "string", "enum": []string{"ok"}}}, "status"))},
	}}
	paths["/readyz"] = map[string]any{"get": map[string]any{
		"operationId": "readyz", "summary": "readiness: the catalog answers and the consumer is consuming", "security": noToken,
		"responses": map[string]any{
			"200": content("application/json", obj(map[string]any{"status": map[string]any{"type": "string", "enum": []string{"ready"}}}, "status")),
			"503": withDescription(content("application/json", obj(map[string]any{
				"status":   map[string]any{"type": "string", "enum": []string{"not ready"}},
				"problems": map[string]any{"type": "object", "additionalProperties": str(), "description": "what is not ready (clickhouse, consumer) and why"},
			}, "status", "problems")), "not ready; see problems"),
		},
	}}
	paths["/metrics"] = map[string]any{"get": map[string]any{
		"operationId": "metrics",
		"summary":     "OpenTelemetry metrics in the Prometheus text format",
		"description": "Ingest, consumer, dead-letter and SDK publisher metrics (docs/metrics.md lists them). " +
			"Open by default, on the loopback address datamap listens on; set DATAMAP_METRICS_TOKEN to require it as a bearer token.",
		"security": []any{map[string]any{}, map[string]any{"metricsBearer": []any{}}},
		"responses": map[string]any{
			"200": map[string]any{"description": "the metrics", "content": map[string]any{"text/plain": map[string]any{"schema": str()}}},
			"401": map[string]any{"description": "DATAMAP_METRICS_TOKEN is set and the request does not carry it"},
		},
	}}
}

func withHeaders(m map[string]any, headers map[string]any) map[string]any {
	m["headers"] = headers
	return m
}

// cloudEventSchema describes a datamap event in the CloudEvents structured
// format; its data is described per type by schemas/*.v1.json.
func cloudEventSchema() map[string]any {
	s := obj(map[string]any{
		"specversion":     map[string]any{"type": "string", "enum": []string{"1.0"}},
		"id":              map[string]any{"type": "string", "description": "unique per source, e.g. a UUIDv7"},
		"source":          map[string]any{"type": "string", "description": "the system that emits the event, e.g. billing-api"},
		"type":            map[string]any{"type": "string", "description": "com.back-trace.datamap.data.collected.v1, …shared.v1 or …erased.v1"},
		"subject":         map[string]any{"type": "string", "description": "the data category, e.g. billing.payment_token"},
		"time":            map[string]any{"type": "string", "format": "date-time"},
		"datacontenttype": map[string]any{"type": "string", "enum": []string{"application/json"}},
		"dataschema":      map[string]any{"type": "string", "format": "uri"},
		"traceparent":     str(),
		"tracestate":      str(),
		"data": map[string]any{"type": "object", "description": "what was collected, shared or erased: category, data_subject, purpose, " +
			"legal_basis, retention, … as in schemas/collected.v1.json, shared.v1.json and erased.v1.json; metadata about personal data, never the data"},
	}, "specversion", "id", "source", "type", "subject", "time", "data")
	s["description"] = "A datamap event in the CloudEvents 1.0 structured format (docs/instrumenting.md)."
	return s
}
