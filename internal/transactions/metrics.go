package transactions

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mint-wallet/mint/internal/platform/observe"
)

// metrics are the transaction metrics. Each is recorded right after the write that made it true
// (the guarded update matched), so a redelivered event never counts twice.
type metrics struct {
	total    *prometheus.CounterVec   // transactions_total{type,status}
	amount   *prometheus.HistogramVec // transaction_amount{type}, currency units
	duration *prometheus.HistogramVec // transaction_processing_duration_seconds{type,status}
	redriven *prometheus.CounterVec   // transactions_redriven_total{status}
	deferred *prometheus.CounterVec   // transactions_redrive_deferred_total{status}
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	total, err := observe.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "transactions_total",
		Help: "Transactions created (status pending) and finished (completed or failed), by type and status.",
	}, []string{"type", "status"}))
	if err != nil {
		return nil, err
	}
	amount, err := observe.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "transaction_amount",
		Help:    "Amounts of created transactions, in currency units.",
		Buckets: []float64{1, 5, 10, 50, 100, 500, 1_000, 5_000, 10_000, 100_000, 1_000_000},
	}, []string{"type"}))
	if err != nil {
		return nil, err
	}
	duration, err := observe.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "transaction_processing_duration_seconds",
		Help:    "Time from creation to the terminal state, by type and terminal status.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
	}, []string{"type", "status"}))
	if err != nil {
		return nil, err
	}
	redriven, err := observe.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "transactions_redriven_total",
		Help: "Events of a stuck transaction's state owed again by the sweeper, by the state re-driven.",
	}, []string{"status"}))
	if err != nil {
		return nil, err
	}
	deferred, err := observe.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "transactions_redrive_deferred_total",
		Help: "Re-drives of stuck transactions the sweeper put off because messages waited in the queues on their path (or could not be counted), by the state; one per transaction per sweep.",
	}, []string{"status"}))
	if err != nil {
		return nil, err
	}
	return &metrics{total: total, amount: amount, duration: duration, redriven: redriven, deferred: deferred}, nil
}

func (m *metrics) created(d txDoc) {
	m.total.WithLabelValues(d.Type, d.Status).Inc()
	m.amount.WithLabelValues(d.Type).Observe(float64(d.Amount) / 100)
}

func (m *metrics) finished(d txDoc) {
	if !isTerminal(d.Status) {
		return
	}
	m.total.WithLabelValues(d.Type, d.Status).Inc()
	m.duration.WithLabelValues(d.Type, d.Status).Observe(max(d.UpdatedAt.Sub(d.CreatedAt), 0).Seconds())
}

func (m *metrics) redrove(d txDoc) { m.redriven.WithLabelValues(d.Status).Inc() }

func (m *metrics) deferredRedrive(d txDoc) { m.deferred.WithLabelValues(d.Status).Inc() }
