package observe

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry returns a registry with the Go runtime and process collectors. Each process has one; in
// `mint dev` every service shares it.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// MetricsHandler serves reg in the Prometheus text format.
func MetricsHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// HTTPMetrics are the HTTP metrics. Every label comes from a closed set, never from the
// client's bytes, so the series stay bounded: route is a route pattern (never a raw path), method a
// standard method or "other", status_code the status the server chose.
type HTTPMetrics struct {
	Requests          *prometheus.CounterVec
	Duration          *prometheus.HistogramVec
	ActiveConnections prometheus.Gauge
	Connections       prometheus.Counter // accepted: with Requests, it shows whether clients keep connections alive
}

// NewHTTPMetrics registers the HTTP metrics on reg.
func NewHTTPMetrics(reg prometheus.Registerer) *HTTPMetrics {
	m := &HTTPMetrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests by method, route pattern and status code.",
		}, []string{"method", "route", "status_code"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "HTTP request duration by method, route pattern and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status_code"}),
		ActiveConnections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "active_connections",
			Help: "Open client connections to the HTTP server.",
		}),
		Connections: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "http_connections_total",
			Help: "Client connections the HTTP server accepted.",
		}),
	}
	reg.MustRegister(m.Requests, m.Duration, m.ActiveConnections, m.Connections)
	return m
}

// Register registers c on reg, or returns the collector of the same type already registered under its
// name: `mint dev` runs every service on one registry, and tests build modules more than once.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, fmt.Errorf("register metric: %w", err)
	}
	return c, nil
}

// Defaults returns logger and reg as given or, each when nil, a logger that discards and a registry of
// its own: what a service module logs and counts with when its caller passes none (a test, a tool).
func Defaults(logger *slog.Logger, reg prometheus.Registerer) (*slog.Logger, prometheus.Registerer) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	return logger, reg
}
