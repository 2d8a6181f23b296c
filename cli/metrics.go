package cli

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"

	"github.com/back-trace/datamap/internal/bearer"
)

// telemetry is a process's OpenTelemetry metrics: the provider the
// consumer, the HTTP ingest and its SDK publisher record into, and the
// handler that exports them on /metrics in the Prometheus text format. The
// Prometheus registry is private to the process: no global state is
// touched.
type telemetry struct {
	provider *sdkmetric.MeterProvider
	handler  http.Handler
}

// newTelemetry names the service datamap (service.name, service.version;
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override them). With a
// token, /metrics answers only requests that carry it as a bearer token.
func newTelemetry(ctx context.Context, token string) (*telemetry, error) {
	registry := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(registry))
	if err != nil {
		return nil, err
	}
	res, err := resource.New(ctx, resource.WithTelemetrySDK(),
		resource.WithAttributes(semconv.ServiceName("datamap"), semconv.ServiceVersion(Version)),
		resource.WithFromEnv())
	if err != nil {
		return nil, err
	}
	t := &telemetry{provider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter), sdkmetric.WithResource(res)),
		handler: promhttp.HandlerFor(registry, promhttp.HandlerOpts{})}
	if token != "" {
		t.handler = requireBearer(token, "datamap-metrics", t.handler)
	}
	return t, nil
}

// requireBearer admits only requests that carry token as a bearer token
// (compared in constant time by package bearer).
func requireBearer(token, realm string, h http.Handler) http.Handler {
	tokens := bearer.New(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !tokens.Allows(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`"`)
			http.Error(w, "missing or wrong bearer token; send 'Authorization: Bearer <DATAMAP_METRICS_TOKEN>'", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
