package notifications

import (
	"time"

	"github.com/mint-wallet/mint/internal/platform/observe"
	"github.com/prometheus/client_golang/prometheus"
)

// Results of one send attempt, the result label of emails_sent_total.
const (
	resultSent  = "sent"  // the server accepted it
	resultRetry = "retry" // the attempt failed; the mail will be tried again
	resultDead  = "dead"  // the attempt failed and was the last one
)

// metrics counts send attempts. A nil *metrics counts nothing.
type metrics struct {
	sent     *prometheus.CounterVec
	duration prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	sent := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "emails_sent_total",
		Help: "Mail send attempts, by template and result (sent, retry, dead)."}, []string{"template", "result"})
	sent, err := observe.Register(reg, sent)
	if err != nil {
		return nil, err
	}
	dur := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "email_send_duration_seconds",
		Help: "Time to hand one mail to the SMTP server (or the catcher), successful or not.", Buckets: prometheus.DefBuckets})
	dur, err = observe.Register(reg, dur)
	if err != nil {
		return nil, err
	}
	// Every series from the start, so dashboards and alerts see zeros rather than nothing.
	for _, t := range Templates {
		for _, r := range []string{resultSent, resultRetry, resultDead} {
			sent.WithLabelValues(t, r)
		}
	}
	return &metrics{sent: sent, duration: dur}, nil
}

func (m *metrics) attempt(template, result string, took time.Duration) {
	if m != nil {
		m.sent.WithLabelValues(template, result).Inc()
		m.duration.Observe(took.Seconds())
	}
}
