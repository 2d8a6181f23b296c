package cli

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/back-trace/datamap/catalog/consumer"
)

// newMetrics creates the consumer's OpenTelemetry instruments, exported in
// Prometheus format by the returned handler (served on /metrics). The
// registry is private to this process: no global state is touched.
func newMetrics() (*consumer.Metrics, http.Handler, error) {
	registry := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(registry))
	if err != nil {
		return nil, nil, err
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	m, err := consumer.NewMetrics(provider)
	if err != nil {
		return nil, nil, err
	}
	return m, promhttp.HandlerFor(registry, promhttp.HandlerOpts{}), nil
}
