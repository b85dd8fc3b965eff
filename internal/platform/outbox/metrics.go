package outbox

import (
	"github.com/mint-wallet/mint/internal/platform/observe"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics of one relay. The vectors are shared by the relays of a process (one per collection), so
// registering again returns the already registered ones. A nil *metrics records nothing.
type metrics struct {
	publishedC prometheus.Counter
	errorsC    prometheus.Counter
	pendingG   prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, collection string) (*metrics, error) {
	published, err := observe.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "outbox_published_events_total",
		Help: "Outbox events published and confirmed by the broker.",
	}, []string{"collection"}))
	if err != nil {
		return nil, err
	}
	failed, err := observe.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "outbox_publish_errors_total",
		Help: "Outbox events whose publish failed (retried later) or that could not be encoded.",
	}, []string{"collection"}))
	if err != nil {
		return nil, err
	}
	pending, err := observe.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "outbox_pending_events",
		Help: "Events left in outboxes longer than the sweep's minimum age, at the last sweep (capped by the sweep limit).",
	}, []string{"collection"}))
	if err != nil {
		return nil, err
	}
	return &metrics{
		publishedC: published.WithLabelValues(collection),
		errorsC:    failed.WithLabelValues(collection),
		pendingG:   pending.WithLabelValues(collection),
	}, nil
}

func (m *metrics) published() {
	if m != nil {
		m.publishedC.Inc()
	}
}

func (m *metrics) publishError() {
	if m != nil {
		m.errorsC.Inc()
	}
}

func (m *metrics) setPending(n int) {
	if m != nil {
		m.pendingG.Set(float64(n))
	}
}
