package server

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"

	"github.com/back-trace/datamap/access"
)

// telemetry is a process's OpenTelemetry metrics: the provider the
// consumer, the rollup folder, the HTTP ingest and its SDK publisher
// record into, and the handler that exports them on /metrics in the
// Prometheus text format. The Prometheus registry is private to the
// process: no global state is touched.
type telemetry struct {
	provider *sdkmetric.MeterProvider
	handler  http.Handler
}

// newTelemetry names the service datamap (service.name, service.version;
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override them). With a
// metrics credential among creds (DATAMAP_METRICS_TOKEN), /metrics answers
// only requests that carry one as a bearer token; no other role opens it.
func newTelemetry(ctx context.Context, version string, creds access.Credentials) (*telemetry, error) {
	registry := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(registry))
	if err != nil {
		return nil, err
	}
	res, err := resource.New(ctx, resource.WithTelemetrySDK(),
		resource.WithAttributes(semconv.ServiceName("datamap"), semconv.ServiceVersion(version)),
		resource.WithFromEnv())
	if err != nil {
		return nil, err
	}
	t := &telemetry{provider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter), sdkmetric.WithResource(res)),
		handler: promhttp.HandlerFor(registry, promhttp.HandlerOpts{})}
	if metrics := creds.Only(access.Metrics); metrics.Has(access.Metrics) {
		t.handler = requireMetricsRole(metrics, t.handler)
	}
	return t, nil
}

// requireMetricsRole admits only requests that carry one of creds, the
// metrics role's, as a bearer token.
func requireMetricsRole(creds access.Credentials, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := creds.Bearer(r); !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="datamap-metrics"`)
			http.Error(w, "missing or wrong bearer token; send 'Authorization: Bearer <DATAMAP_METRICS_TOKEN>'", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
