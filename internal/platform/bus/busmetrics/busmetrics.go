// Package busmetrics counts, for Prometheus, what the consumers of a bus handle: once for every
// adapter, as a wrapper of the bus whose Consume knows the queue (a bus.Middleware sees only the
// handler).
package busmetrics

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/internal/policy"
)

// Outcomes, the values of the outcome label.
const (
	OK    = "ok"    // the handler returned nil: the message is acknowledged
	Error = "error" // the handler failed or panicked: the message is retried or dead-lettered
)

// CountHandled registers bus_messages_handled_total{queue, outcome} on reg and returns b whose every
// consumer counts there each delivery it finished. Wrap the adapter itself, before any
// bus.WithMiddleware, so that the count sees what the adapter settles: every middleware's error and
// panic, and the consumer's own context.
//
// Published to a queue minus handled ok by its consumers is what the queue (with its retry queue)
// holds. So a delivery cut short by its consumer stopping is not counted — the adapter hands it back
// for redelivery — and a redelivered message counts again (at-least-once). Each queue a consumer
// starts on is exported at once with both outcomes at 0, so that a rate has data before the first
// message and an error rate before the first error. Queue names come from the topology: the
// cardinality is bounded.
func CountHandled(b bus.Bus, reg prometheus.Registerer) (bus.Bus, error) {
	handled := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bus_messages_handled_total",
		Help: "Deliveries the consumers of each queue finished: outcome ok (acknowledged) or error (retried or dead-lettered). A redelivered message counts again.",
	}, []string{"queue", "outcome"})
	if err := reg.Register(handled); err != nil {
		return nil, err
	}
	return countingBus{Bus: b, handled: handled}, nil
}

type countingBus struct {
	bus.Bus
	handled *prometheus.CounterVec
}

func (c countingBus) Consume(ctx context.Context, queue string, h bus.Handler) error {
	ok, failed := c.handled.WithLabelValues(queue, OK), c.handled.WithLabelValues(queue, Error)
	return c.Bus.Consume(ctx, queue, func(ctx context.Context, msg bus.Message) error {
		// A panic is counted as the error the adapter would make of it (its own Invoke then sees
		// an error, with the same stack), rather than passing by uncounted.
		err := policy.Invoke(ctx, h, msg)
		switch {
		case ctx.Err() != nil: // the consumer stopped: not finished, the message goes back
		case err == nil:
			ok.Inc()
		default:
			failed.Inc()
		}
		return err
	})
}
