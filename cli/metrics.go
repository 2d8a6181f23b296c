package cli

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/back-trace/datamap/catalog/consumer"
	"github.com/back-trace/datamap/catalog/rollup"
)

// metrics are the OpenTelemetry instruments of a serve process.
type metrics struct {
	consumer *consumer.Metrics
	rollup   *rollup.Metrics
}

// newMetrics creates the consumer's and the rollups' OpenTelemetry
// instruments, exported in Prometheus format by the returned handler
// (served on /metrics). The registry is private to this process: no
// global state is touched.
func newMetrics() (metrics, http.Handler, error) {
	registry := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(registry))
	if err != nil {
		return metrics{}, nil, err
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	var m metrics
	if m.consumer, err = consumer.NewMetrics(provider); err != nil {
		return metrics{}, nil, err
	}
	if m.rollup, err = rollup.NewMetrics(provider); err != nil {
		return metrics{}, nil, err
	}
	return m, promhttp.HandlerFor(registry, promhttp.HandlerOpts{}), nil
}
