package wallet

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mint-wallet/mint/internal/platform/observe"
)

// metrics counts what the ledger did. A nil *metrics counts nothing.
type metrics struct {
	legs          *prometheus.CounterVec
	finalizations *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	legs, err := observe.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wallet_legs_applied_total",
		Help: "Ledger entries written, by leg (credit, debit, opening, credit.reversal, debit.reversal)."}, []string{"leg"}))
	if err != nil {
		return nil, err
	}
	fin, err := observe.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wallet_finalizations_total",
		Help: "Transactions the wallet decided, by outcome (applied, rejected)."}, []string{"outcome"}))
	if err != nil {
		return nil, err
	}
	return &metrics{legs: legs, finalizations: fin}, nil
}

func (m *metrics) legApplied(leg string) {
	if m != nil {
		m.legs.WithLabelValues(leg).Inc()
	}
}

func (m *metrics) finalized(outcome string) {
	if m != nil {
		m.finalizations.WithLabelValues(outcome).Inc()
	}
}
