package auth

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mint-wallet/mint/internal/platform/observe"
)

// Results of a login attempt, the label of auth_login_attempts_total.
const (
	loginSucceeded = "succeeded"
	loginFailed    = "failed"
	loginThrottled = "throttled"
)

// metrics counts login attempts by result. A nil *metrics counts nothing.
type metrics struct {
	logins *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	logins, err := observe.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "auth_login_attempts_total",
		Help: "Login attempts by result (succeeded, failed, throttled: refused before the password was checked)."}, []string{"result"}))
	if err != nil {
		return nil, err
	}
	return &metrics{logins: logins}, nil
}

func (m *metrics) login(result string) {
	if m != nil {
		m.logins.WithLabelValues(result).Inc()
	}
}
