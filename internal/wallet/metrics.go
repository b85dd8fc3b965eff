package wallet

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
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
	legs, err := registerCounter(reg, "wallet_legs_applied_total",
		"Ledger entries written, by leg (credit, debit, opening, credit.reversal, debit.reversal).", "leg")
	if err != nil {
		return nil, err
	}
	fin, err := registerCounter(reg, "wallet_finalizations_total",
		"Transactions the wallet decided, by outcome (applied, rejected).", "outcome")
	if err != nil {
		return nil, err
	}
	return &metrics{legs: legs, finalizations: fin}, nil
}

// registerCounter registers a counter vector, or returns the one already registered under that name
// (a second Module in one process, as in tests).
func registerCounter(reg prometheus.Registerer, name, help, label string) (*prometheus.CounterVec, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{label})
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				return existing, nil
			}
		}
		return nil, fmt.Errorf("register %s: %w", name, err)
	}
	return c, nil
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
