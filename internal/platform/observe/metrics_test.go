package observe_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mint-wallet/mint/internal/platform/observe"
)

func familyNames(t *testing.T, reg prometheus.Gatherer) []string {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(families))
	for _, f := range families {
		names = append(names, f.GetName())
	}
	return names
}

func TestNewRegistry(t *testing.T) {
	names := familyNames(t, observe.NewRegistry())
	for _, want := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_cpu_seconds_total", "process_open_fds"} {
		if !slices.Contains(names, want) {
			t.Errorf("registry lacks %s; has %v", want, names)
		}
	}
}

func TestMetricsHandler(t *testing.T) {
	reg := observe.NewRegistry()
	m := observe.NewHTTPMetrics(reg)
	m.Requests.WithLabelValues("GET", "GET /health", "200").Inc()

	srv := httptest.NewServer(observe.MetricsHandler(reg))
	defer srv.Close()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		"# TYPE go_goroutines gauge",
		"process_cpu_seconds_total",
		`http_requests_total{method="GET",route="GET /health",status_code="200"} 1`,
		"active_connections 0",
		"promhttp_metric_handler_errors_total", // HandlerOpts.Registry: the handler's own errors are counted
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestNewHTTPMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := observe.NewHTTPMetrics(reg)
	m.Requests.WithLabelValues("GET", "GET /items/{id}", "200").Inc()
	m.Duration.WithLabelValues("GET", "GET /items/{id}", "200").Observe(0.003)
	m.ActiveConnections.Inc()
	m.Connections.Inc()

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		kind   string
		labels []string
	}
	wants := map[string]want{
		"http_requests_total":           {"COUNTER", []string{"method", "route", "status_code"}},
		"http_request_duration_seconds": {"HISTOGRAM", []string{"method", "route", "status_code"}},
		"active_connections":            {"GAUGE", nil},
		"http_connections_total":        {"COUNTER", nil},
	}
	if len(families) != len(wants) {
		t.Errorf("families = %v, want exactly %d", familyNames(t, reg), len(wants))
	}
	for _, f := range families {
		w, ok := wants[f.GetName()]
		if !ok {
			t.Errorf("unexpected metric %s", f.GetName())
			continue
		}
		if f.GetType().String() != w.kind || f.GetHelp() == "" {
			t.Errorf("%s: type %s help %q, want %s with help", f.GetName(), f.GetType(), f.GetHelp(), w.kind)
		}
		var labels []string
		for _, l := range f.GetMetric()[0].GetLabel() {
			labels = append(labels, l.GetName())
		}
		if !slices.Equal(labels, w.labels) {
			t.Errorf("%s labels = %v, want %v", f.GetName(), labels, w.labels)
		}
		if h := f.GetMetric()[0].GetHistogram(); h != nil {
			if len(h.GetBucket()) == 0 || h.GetSampleCount() != 1 || h.GetBucket()[len(h.GetBucket())-1].GetUpperBound() < 10 {
				t.Errorf("histogram = %v, want buckets up to 10 s and one sample", h)
			}
		}
	}

	// The metrics are registered, not just created: a second set on the same registry conflicts.
	defer func() {
		if recover() == nil {
			t.Error("registering the HTTP metrics twice on one registry did not panic")
		}
	}()
	observe.NewHTTPMetrics(reg)
}

func TestRegisterReusesTheRegisteredCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	newVec := func() *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "things_total", Help: "Things."}, []string{"kind"})
	}
	first, err := observe.Register(reg, newVec())
	if err != nil {
		t.Fatal(err)
	}
	second, err := observe.Register(reg, newVec())
	if err != nil {
		t.Fatalf("second registration: %v", err)
	}
	if first != second {
		t.Fatal("the second registration did not return the collector already registered")
	}
	// Same name, other type: an error, not a silent second series.
	if _, err := observe.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{Name: "things_total", Help: "Things."})); err == nil {
		t.Fatal("registering a gauge under a counter's name succeeded")
	}
}

func TestDefaults(t *testing.T) {
	logger, reg := observe.Defaults(nil, nil)
	if logger == nil || reg == nil {
		t.Fatalf("Defaults(nil, nil) = %v, %v", logger, reg)
	}
	logger.Warn("goes nowhere") // usable, not a nil logger
	if _, err := observe.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{Name: "x_total"})); err != nil {
		t.Fatal(err)
	}
	given, mine := slog.New(slog.DiscardHandler), prometheus.NewRegistry()
	if l, r := observe.Defaults(given, mine); l != given || r != mine {
		t.Error("Defaults replaced what it was given")
	}
}
