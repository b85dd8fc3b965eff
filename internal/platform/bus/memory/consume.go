package memory

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/internal/policy"
)

// Consume implements bus.Subscriber. Handlers of one Consume call run one at a time; several calls on
// the same queue compete for its messages. queue may also name a dead-letter queue (bus.DeadLetterQueue)
// to inspect or replay poison messages; a failure there requeues the message after a back-off.
func (b *Bus) Consume(ctx context.Context, queue string, h bus.Handler) error {
	b.mu.RLock()
	q, ok := b.queues[queue]
	b.mu.RUnlock()
	if !ok {
		return fmt.Errorf("consume %s: queue does not exist", queue)
	}
	for {
		d, err := q.pop(ctx, b.closed)
		if err != nil {
			return err
		}
		err = policy.Invoke(ctx, h, d.Message)
		if ctx.Err() != nil {
			// The consumer stopped while the handler ran: the handler may not have finished its
			// work, so the message goes back for the next consumer (at-least-once).
			q.pushFront(d)
			return ctx.Err()
		}
		b.settle(q, d, err)
	}
}

// settle applies the retry policy to a handled message.
func (b *Bus) settle(q *queue, d delivery, err error) {
	if err == nil {
		return
	}
	if q.dlq {
		b.log.Warn("dead-lettered message failed again; requeued", "queue", q.name, "id", d.ID, "err", err)
		b.later(b.policy.Delay(1), q, d)
		return
	}
	decision := b.policy.Decide(policy.Delivery{Attempt: d.Attempt, Outages: d.outages}, err)
	switch decision.Outcome {
	case policy.Retry:
		b.log.Warn("message failed; retrying", "queue", q.name, "id", d.ID, "attempt", d.Attempt, "outages", d.outages,
			"delay", decision.Delay, "err", err)
		d.Attempt, d.outages = decision.Next.Attempt, decision.Next.Outages
		b.later(decision.Delay, q, d)
	case policy.DeadLetter:
		b.log.Error("message dead-lettered", "queue", q.name, "id", d.ID, "attempt", d.Attempt, "err", err)
		d.Headers = maps.Clone(d.Headers)
		if d.Headers == nil {
			d.Headers = map[string]string{}
		}
		d.Headers[policy.ErrorHeader] = policy.ErrorText(err)
		b.mu.RLock()
		dlq := b.queues[bus.DeadLetterQueue(q.name)]
		b.mu.RUnlock()
		dlq.push(d)
	}
}

// later pushes d onto q after delay, unless the bus closes first. Other messages of q flow meanwhile,
// so a failing message never blocks the ones behind it. The message leaves timers and enters q under
// b.mu, so that Backlog always finds it in one of them.
func (b *Bus) later(delay time.Duration, q *queue, d delivery) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.isClosed() {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(delay, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.timers, t)
		if !b.isClosed() {
			q.push(d)
		}
	})
	b.timers[t] = q
}
